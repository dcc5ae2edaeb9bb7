"""Money in integer minor units (pence); VAT rates in basis points (2000 = 20 %)."""

from __future__ import annotations

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def format_money(pence: int, currency: str = "GBP") -> str:
    """'£1,234.50'; zero shows as 'Free' only where the caller asks for it."""
    symbol = CURRENCY_SYMBOLS.get(currency.upper(), currency.upper() + " ")
    sign = "-" if pence < 0 else ""
    pounds, minor = divmod(abs(pence), 100)
    return f"{sign}{symbol}{pounds:,}.{minor:02d}"


def vat_of_net(net_pence: int, vat_rate_bp: int) -> int:
    """VAT on a net amount, rounded half up to the penny."""
    return (net_pence * vat_rate_bp + 5000) // 10000


def net_of_gross(gross_pence: int, vat_rate_bp: int) -> int:
    """The net part of a VAT-inclusive amount, rounded half up."""
    return (gross_pence * 10000 + (10000 + vat_rate_bp) // 2) // (10000 + vat_rate_bp)
