"""The values made most recently, a bounded number: what publishing keeps of the articles it shows so
that each is made once, without its memory growing with the archive."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """A cache of at most `keep` values; the one used longest ago goes first."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._values: OrderedDict[K, V] = OrderedDict()

    def __contains__(self, key: K) -> bool:
        return key in self._values

    def __getitem__(self, key: K) -> V:
        value = self._values.pop(key)  # KeyError when it is not (or no longer) kept
        self._values[key] = value  # now the newest
        return value

    def get(self, key: K) -> V | None:
        return self[key] if key in self._values else None

    def put(self, key: K, value: V) -> None:
        self._values.pop(key, None)
        self._values[key] = value
        if len(self._values) > self.keep:
            self._values.popitem(last=False)

    def get_or_make(self, key: K, make: Callable[[K], V]) -> V:
        value = self.get(key)
        if value is None:
            value = make(key)
            self.put(key, value)
        return value
