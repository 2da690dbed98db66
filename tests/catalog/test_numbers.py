"""Numbers as members type them: every spelling a spreadsheet produces, read exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from syndicator.catalog.numbers import parse_bool, parse_count, parse_decimal
from syndicator.errors import InvalidValue


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1250", "1250"),
        ("1250.50", "1250.50"),
        ("1 250,50", "1250.50"),  # French
        ("1\u00a0250,50", "1250.50"),  # no-break space, as Excel writes it
        ("1\u202f250,50", "1250.50"),  # narrow no-break space
        ("1,250.50", "1250.50"),  # English
        ("1.250,50", "1250.50"),  # German
        ("12,5", "12.5"),
        ("0,250", "0.250"),  # a leading zero is not a thousands group
        ("1,250,000", "1250000"),
        ("١٢٥٠", "1250"),  # Arabic-Indic digits
        ("١٢٥٠٫٥٠", "1250.50"),  # with the Arabic decimal separator
        ("۱۲۵۰", "1250"),  # Extended Arabic-Indic (Persian) digits
        (" 450 ", "450"),
        ("-3", "-3"),
    ],
)
def test_decimal_spellings_are_read_exactly(text: str, expected: str) -> None:
    value = parse_decimal(text)
    assert value == Decimal(expected)
    assert isinstance(value, Decimal)


@pytest.mark.parametrize("text", ["1,250", "12,500", "999,000"])
def test_a_single_comma_before_three_digits_is_refused_as_ambiguous(text: str) -> None:
    with pytest.raises(InvalidValue, match="thousands or decimals"):
        parse_decimal(text)


@pytest.mark.parametrize("text", ["", "abc", "12 dh", "1.2.3", "1,2,3", "--1", "1e5", "NaN"])
def test_non_numbers_are_refused(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_decimal(text)


def test_counts_accept_what_spreadsheets_write_for_whole_numbers() -> None:
    assert parse_count("3") == 3
    assert parse_count("3,0") == 3
    assert parse_count("3.0") == 3
    assert parse_count("٣") == 3
    with pytest.raises(InvalidValue, match="whole"):
        parse_count("2,5")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("Oui", True),
        ("yes", True),
        ("نعم", True),
        ("1", True),
        ("false", False),
        ("non", False),
        ("NO", False),
        ("لا", False),
        ("0", False),
    ],
)
def test_yes_and_no_in_three_languages(text: str, expected: bool) -> None:
    assert parse_bool(text) is expected


def test_an_unclear_yes_no_is_refused() -> None:
    with pytest.raises(InvalidValue, match="true or false"):
        parse_bool("maybe")
