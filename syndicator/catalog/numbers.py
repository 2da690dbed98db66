"""Numbers as people type them in spreadsheets and text editors, read exactly as Decimal.

Accepted: ``1250``, ``1250.50``, ``1 250,50`` (French, also with the no-break spaces Excel
writes), ``1,250.50`` (English), ``1.250,50``, Arabic-Indic digits (``١٢٥٠``) and the Arabic
decimal separator. Refused, because nobody can tell what was meant: a single comma followed by
exactly three digits, as in ``1,250``, and a text longer than :data:`MAX_LENGTH` characters
(no amount or count is that long, and turning millions of digits into a number takes minutes).
Floats are never involved.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from syndicator.errors import InvalidValue

__all__ = ["MAX_LENGTH", "parse_bool", "parse_count", "parse_decimal"]

MAX_LENGTH = 60


_PLAIN = re.compile(r"[+-]?\d+(?:\.\d+)?")
_SIMPLE = re.compile(r"[+-]?\d+(?:\.\d+)?\Z", re.ASCII)
_AMBIGUOUS = re.compile(r"[1-9]\d{0,2},\d{3}")
_THOUSANDS_COMMA = re.compile(r"\d{1,3}(?:,\d{3})+")
_THOUSANDS_DOT = re.compile(r"\d{1,3}(?:\.\d{3})+")

# Arabic-Indic and Extended Arabic-Indic digits to ASCII; Arabic separators; spaces dropped.
_TRANSLATE: dict[int, str | None] = {0x0660 + i: str(i) for i in range(10)}
_TRANSLATE |= {0x06F0 + i: str(i) for i in range(10)}
_TRANSLATE |= {0x066B: ".", 0x066C: None, 0x2212: "-"}
_TRANSLATE |= {ord(c): None for c in " \u00a0\u202f\u2009\u2007'\u2019"}


def parse_decimal(text: str) -> Decimal:
    """Read a number exactly; raise :class:`InvalidValue` with a reason when it is not one."""
    s = text.strip()
    if len(s) > MAX_LENGTH:
        raise InvalidValue(f"it is longer than {MAX_LENGTH} characters")
    if _SIMPLE.match(s):
        return Decimal(s)
    if not s:
        raise InvalidValue("it is empty")
    s = s.translate(_TRANSLATE)
    sign = ""
    if s[:1] in "+-":
        sign, s = s[:1], s[1:]
    if "," in s and "." in s:
        if s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif "," in s:
        if _AMBIGUOUS.fullmatch(s):
            raise InvalidValue(
                "a comma followed by three digits could mean thousands or decimals; "
                "write it without the comma (1250) or with two decimals (1,25)"
            )
        if s.count(",") > 1:
            if not _THOUSANDS_COMMA.fullmatch(s):
                raise InvalidValue("it has several commas")
            s = s.replace(",", "")
        else:
            s = s.replace(",", ".")
    elif s.count(".") > 1:
        if not _THOUSANDS_DOT.fullmatch(s):
            raise InvalidValue("it has several dots")
        s = s.replace(".", "")
    if not _PLAIN.fullmatch(s):
        raise InvalidValue("it is not a number")
    try:
        return Decimal(sign + s)
    except InvalidOperation as exc:  # pragma: no cover - the pattern above rules this out
        raise InvalidValue("it is not a number") from exc


def parse_count(text: str) -> int:
    """Read a whole number (``3``, ``3,0`` and ``3.0`` are 3); raise InvalidValue otherwise."""
    s = text.strip()
    if s.isdecimal() and len(s) <= MAX_LENGTH:
        return int(s)
    value = parse_decimal(s)
    if value != value.to_integral_value():
        raise InvalidValue("it is not a whole number")
    return int(value)


_TRUE = {"true", "yes", "y", "1", "oui", "vrai", "on", "نعم"}
_FALSE = {"false", "no", "n", "0", "non", "faux", "off", "لا"}


def parse_bool(text: str) -> bool:
    """Read yes/no in English, French or Arabic; raise InvalidValue otherwise."""
    s = text.strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise InvalidValue("write true or false (oui/non and نعم/لا work too)")
