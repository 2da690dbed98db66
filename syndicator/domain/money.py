"""Money: an exact Decimal amount and an ISO 4217 currency. Never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["CURRENCY_EXPONENTS", "Money", "is_currency", "minor_unit"]

# Decimal places of the currencies cooperatives sell in (ISO 4217).
CURRENCY_EXPONENTS: dict[str, int] = {
    "MAD": 2, "USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "AUD": 2, "NZD": 2, "CHF": 2,
    "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2, "CZK": 2, "HUF": 2, "RON": 2, "TRY": 2,
    "AED": 2, "SAR": 2, "QAR": 2, "EGP": 2, "DZD": 2, "MXN": 2, "BRL": 2, "INR": 2,
    "SGD": 2, "HKD": 2, "CNY": 2, "ZAR": 2, "ILS": 2,
    "JPY": 0, "KRW": 0,
    "TND": 3, "KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3,
}  # fmt: skip


def is_currency(code: str) -> bool:
    return code in CURRENCY_EXPONENTS


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of the currency: 0.01 for USD, 1 for JPY, 0.001 for TND."""
    return Decimal(1).scaleb(-CURRENCY_EXPONENTS[currency])


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def to_json(self) -> dict[str, str]:
        return {"amount": str(self.amount), "currency": self.currency}
