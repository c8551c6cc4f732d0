"""What an import reports: the problems it found, each with its place, and what it did."""

from __future__ import annotations

from dataclasses import dataclass, field

from upstack.domain.text import plural
from upstack.errors import UpstackError

__all__ = ["Problem", "ImportFailed", "ImportResult"]


@dataclass(frozen=True)
class Problem:
    where: str  # "file:line" or "file"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ImportFailed(UpstackError):
    """``skip_bad``: whether the import takes --skip-bad (a JSON export does not: it goes in whole)."""

    def __init__(self, problems: list[Problem], *, skip_bad: bool = True) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        hint = " (use --skip-bad to import the rest)" if skip_bad else ""
        super().__init__(
            f"import refused, nothing was imported: {plural(len(problems), 'problem')} found{hint}\n{lines}")



@dataclass
class ImportResult:
    imported: int = 0
    unchanged: int = 0
    updated: int = 0  # entries given a new revision: their file was imported before and has changed since
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
