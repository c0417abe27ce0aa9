"""itertools.batched, which Python 3.11 lacks: large inputs are handled a batch at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def batched(
    items: Iterable[T], size: int, weight: Callable[[T], int] | None = None, most: int = 0
) -> Iterator[list[T]]:
    """Batches of `size` items; with `weight`, a batch also ends once its items weigh `most` in all
    (what a batch holds in memory stays bounded when some items are much larger than others)."""
    batch: list[T] = []
    held = 0
    for item in items:
        batch.append(item)
        held += weight(item) if weight else 0
        if len(batch) == size or (weight and held >= most):
            yield batch
            batch, held = [], 0
    if batch:
        yield batch
