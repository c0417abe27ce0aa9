"""What a run reports: per source and for the whole run, the problems that make it exit 1."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Problem:
    source_id: str
    url: str
    stage: str
    message: str
    hint: str = ""

    def describe(self) -> str:
        text = f"[{self.source_id}] {self.stage} {self.url}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


@dataclass
class SourceReport:
    source_id: str
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)  # titles of alerts seen for the first time
    fallback: list[str] = field(default_factory=list)  # articles extracted by the generic fallback
    degraded: list[str] = field(default_factory=list)  # what broke in discovery or extraction

    def degrade(self, reason: str) -> None:
        """Mark the source degraded, once per distinct reason ("... (e.g. URL)": the first URL is kept)."""
        key = reason.rsplit(" (e.g. ", 1)[0]
        if all(known.rsplit(" (e.g. ", 1)[0] != key for known in self.degraded):
            self.degraded.append(reason)

    unchanged: int = 0
    skipped: int = 0
    requests: int = 0
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    held_back: list[Problem] = field(default_factory=list)  # articles read but not published (also in problems)
    stored: list[str] = field(default_factory=list)  # URLs (as requested) read into the store: no longer held back
    articles_read: int = 0  # article pages read this run, whatever came of them (a 304 too): drift's base


@dataclass
class SyncReport:
    started_at: datetime
    finished_at: datetime | None = None
    sources: list[SourceReport] = field(default_factory=list)
    files_written: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # reported, but the run still succeeded
    empty_store: bool = False  # no article stored yet, so nothing was (or ever has been) published

    @property
    def all_problems(self) -> list[Problem]:
        return [p for s in self.sources for p in s.problems] + self.problems

    @property
    def exit_code(self) -> int:
        return 1 if self.all_problems or any(source.degraded for source in self.sources) else 0
