"""One error tree. Every error says what went wrong and what the user can do about it."""

from __future__ import annotations


class PanuiError(Exception):
    """Base of every error Pānui raises on purpose; `hint` tells the user what to check."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(PanuiError):
    """sources.yaml is unusable. Carries every problem found, each with its key path."""

    def __init__(self, path: str, problems: list[tuple[str, str, str]]) -> None:
        lines = [f"{key}: {message}" + (f" (hint: {hint})" if hint else "") for key, message, hint in problems]
        count = len(problems)
        keys = any(key != "(file)" for key, _, _ in problems)  # (a file not found or not YAML has no keys to fix)
        super().__init__(
            f"{path}: {count} problem{'s' if count != 1 else ''} in the configuration:\n  " + "\n  ".join(lines),
            "fix the keys named above; docs/configuration.md lists every key" if keys else "",
        )
        self.problems = problems


class StoreError(PanuiError):
    """The SQLite store cannot be opened or written."""


class StoreDamaged(StoreError):
    """The store file is damaged, cut or not a store: refused untouched, never written over."""


class LockError(PanuiError):
    """Another run holds the store."""


class FetchError(PanuiError):
    """A page could not be fetched (after retries, where retrying made sense)."""

    def __init__(self, url: str, message: str, hint: str = "", status: int | None = None) -> None:
        super().__init__(message, hint)
        self.url = url
        self.status = status


class ExtractError(PanuiError):
    """A fetched page does not hold what the source's selectors expect."""


class NotAnArticle(ExtractError):
    """The page is of another type (for example a ContentPage found in a sitemap): skipped quietly."""


class NotHTML(NotAnArticle):
    """The URL serves a document that is not a web page (a PDF, an image, an archive): skipped, noted."""


class DiscoverError(PanuiError):
    """A discovery page (listing or sitemap) cannot be read."""


class NotAllowed(FetchError):
    """robots.txt (or the source's never_fetch list, or its host) rules the URL out: nothing was requested."""


class BudgetSpent(PanuiError):
    """The run's wall-clock budget (run_budget) has no room for this request or wait. Not a FetchError:
    it ends the source's run (its remaining work waits for the next run), not just one page."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(message, "the next run carries on where this one stopped; or raise run_budget")
        self.url = url
