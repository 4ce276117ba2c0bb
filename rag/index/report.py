"""What a build did, and the journal that records it as it goes (printed by `rag build`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class BuildReport:
    """What a build did; printed by `rag build` and shown in the app."""

    articles: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # indexed, but something was doubtful
    segments: int = 0
    merged: int = 0
    seconds: float = 0.0
    up_to_date: bool = False
    version: str = ""

    def summary(self) -> str:
        segments = f", {self.segments} segments" if self.segments else ""  # none in a Qdrant index
        state = "up to date" if self.up_to_date else f"version {self.version}{segments}"
        merged = f", {self.merged} small segments merged" if self.merged else ""
        warned = f", {len(self.warnings)} warnings" if self.warnings else ""
        return (
            f"{self.articles} articles, {self.chunks} chunks ({self.embedded_chunks} embedded; "
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{len(self.skipped)} skipped{warned}{merged}) in {self.seconds:.1f} s, {state}"
        )


@dataclass
class BuildLog:
    """The report a build fills in and the log it prints to: skipped files and warnings."""

    report: BuildReport
    log: Callable[[str], None]

    def skip(self, reason: str) -> None:
        """A file that was not indexed (its earlier copy, if any, stays)."""
        self.report.skipped.append(reason)
        self.log(f"skipped: {reason}")

    def warn(self, warning: str) -> None:
        """A file that was indexed, but something about it was doubtful."""
        self.report.warnings.append(warning)
        self.log(f"warning: {warning}")
