"""Secrets kept out of the store: the one place every message is written passes through.

A message (a channel's error in its own words, a journal line, an alert, the last error of
a pass) may quote a credential: a library error quoting a header, a marketplace echoing a
key. Whatever module writes it, the statement reaches the database through the engine;
:func:`redact_writes` hooks there and masks, with the store's
:class:`~syndicator.common.logs.Redactor`, the values bound to the columns that hold
messages. Tokens themselves (``channel_tokens``) are not touched: keeping them is that
table's job (:mod:`syndicator.store.tokens`, encrypted when a key is given).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, event

from syndicator.common.logs import Redactor

__all__ = ["MESSAGE_COLUMNS", "redact_writes"]

# table -> the columns that hold words from outside (a channel's, a library's).
MESSAGE_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "journal": ("message", "details"),
    "alerts": ("message", "details"),
    "listings": ("last_error",),
    "passes": ("last_error",),
}


def _positions(names: Sequence[str], columns: tuple[str, ...]) -> list[int]:
    """The positions of the parameters bound to ``columns`` (``message``, or
    ``message_m1`` in a multi-row insert)."""
    return [
        i
        for i, name in enumerate(names)
        if any(name == c or name.startswith(c + "_") for c in columns)
    ]


def redact_writes(engine: Engine, redactor: Redactor) -> None:
    """Mask ``redactor``'s secrets (and anything credential-shaped) in every value written
    to a message column of :data:`MESSAGE_COLUMNS`, by any statement on ``engine``."""

    def scrub(value: Any) -> Any:
        return redactor.redact(value) if isinstance(value, str) else value

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _before(
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> tuple[str, Any]:
        compiled = getattr(context, "compiled", None)
        table = getattr(getattr(getattr(compiled, "statement", None), "table", None), "name", "")
        columns = MESSAGE_COLUMNS.get(table)
        if not columns or not parameters:
            return statement, parameters
        rows = parameters if executemany else [parameters]
        if isinstance(rows[0], Mapping):  # named parameters (PostgreSQL)
            keys = _positions(list(rows[0]), columns)
            names = [list(rows[0])[k] for k in keys]
            done = [{**r, **{n: scrub(r[n]) for n in names}} for r in rows]
        else:  # positional (SQLite): the names in the order compiled
            keys = _positions(list(getattr(compiled, "positiontup", None) or ()), columns)
            if not keys:
                return statement, parameters
            done = [type(r)(scrub(v) if i in keys else v for i, v in enumerate(r)) for r in rows]
        return statement, done if executemany else done[0]
