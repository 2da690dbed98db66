"""Problems found in user files, reported as ``FILE:LINE: SKU: message``.

A :class:`Problem` is something a cooperative member or an operator can act on: it names the
file, the line and (for catalogs) the SKU, says what is wrong and what would be right.
Errors make the row they belong to be skipped; warnings leave it in. :class:`Unreadable` is
raised when a file cannot be used at all (not text, too large, broken YAML ...): nothing in it
is trusted, so nothing planned from it may remove anything from a channel.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from syndicator.errors import FixInput


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a file, with where it is and how to fix it."""

    file: str
    line: int | None
    message: str
    sku: str | None = None
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        who = f" {self.sku}:" if self.sku else ""
        tag = " (warning)" if self.severity is Severity.WARNING else ""
        return f"{where}:{who} {self.message}{tag}"

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "sku": self.sku,
            "severity": str(self.severity),
            "message": self.message,
        }


class ConfigError(FixInput):
    """The config has problems; each one names file, line and key."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class Unreadable(FixInput):
    """A file cannot be read at all; ``problem`` says which and why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as a person reads it in a message: relative to the current folder when it is
    below it, else as it is."""
    text = os.fspath(path)
    if os.path.isabs(text):
        try:
            rel = os.path.relpath(text)
        except ValueError:  # pragma: no cover - another drive on Windows
            return text
        if not rel.startswith(".."):
            return rel
    return text


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``'; did you mean "x"?'`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """File order, then line order: the order a member reads the file in."""
    return sorted(problems, key=lambda p: (p.file, p.line or 0, p.severity != Severity.ERROR))
