"""What a booking costs: lines per rate, a discount, and the VAT breakdown. Pure arithmetic, no queries.

An event shows its prices including VAT (the price is the gross) or excluding
it (the price is the net, VAT is added). A discount comes off the gross and is
shared across the lines in proportion to their gross, so each VAT rate's
share is right; VAT is then worked back out of each discounted line.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from bookings.core.money import net_of_gross, vat_of_net


@dataclass(frozen=True)
class PricedPlace:
    """One place: the rate's name, the price as booked (pence) and its VAT rate (basis points)."""

    rate_name: str
    price_pence: int
    vat_rate_bp: int


@dataclass(frozen=True)
class Line:
    description: str
    quantity: int
    unit_price_pence: int  # as shown (incl. or excl. VAT as the event says)
    vat_rate_bp: int
    gross_before_discount_pence: int
    discount_pence: int
    gross_pence: int
    net_pence: int
    vat_pence: int

    def to_dict(self) -> dict:
        return {
            "description": self.description,
            "quantity": self.quantity,
            "unit_price_pence": self.unit_price_pence,
            "vat_rate_bp": self.vat_rate_bp,
            "discount_pence": self.discount_pence,
            "net_pence": self.net_pence,
            "vat_pence": self.vat_pence,
            "gross_pence": self.gross_pence,
        }


@dataclass(frozen=True)
class VatBand:
    vat_rate_bp: int
    net_pence: int
    vat_pence: int
    gross_pence: int


@dataclass(frozen=True)
class Discount:
    code: str
    percent: int | None = None
    amount_pence: int | None = None


@dataclass(frozen=True)
class OrderSummary:
    currency: str
    prices_include_vat: bool
    lines: list[Line]
    discount_code: str = ""
    discount_pence: int = 0
    vat_bands: list[VatBand] = field(default_factory=list)

    @property
    def net_pence(self) -> int:
        return sum(line.net_pence for line in self.lines)

    @property
    def vat_pence(self) -> int:
        return sum(line.vat_pence for line in self.lines)

    @property
    def total_pence(self) -> int:
        """What the booker pays (gross, after any discount)."""
        return sum(line.gross_pence for line in self.lines)

    @property
    def subtotal_pence(self) -> int:
        return sum(line.gross_before_discount_pence for line in self.lines)


def _gross(price_pence: int, quantity: int, vat_rate_bp: int, include_vat: bool) -> int:
    amount = price_pence * quantity
    return amount if include_vat else amount + vat_of_net(amount, vat_rate_bp)


def discount_amount(discount: Discount | None, gross_pence: int) -> int:
    if discount is None or gross_pence <= 0:
        return 0
    percent_off = (gross_pence * discount.percent + 50) // 100 if discount.percent is not None else 0
    off = percent_off or discount.amount_pence or 0
    return max(0, min(off, gross_pence))


def _share_out(amount: int, grosses: list[int]) -> list[int]:
    """Split `amount` (at most their sum) across lines in proportion, to the penny, never past a line's gross.

    Largest remainder: each line gets the floor of its exact share, and the
    pennies left go to the lines with the largest fractions (which always
    have room, because their floor is below their gross).
    """
    total = sum(grosses)
    if total == 0 or amount == 0:
        return [0] * len(grosses)
    numerators = [amount * gross for gross in grosses]
    shares = [n // total for n in numerators]
    left = amount - sum(shares)
    for index in sorted(range(len(grosses)), key=lambda i: -(numerators[i] % total)):
        if left == 0:
            break
        if shares[index] < grosses[index]:
            shares[index] += 1
            left -= 1
    return shares


def summarise(
    places: list[PricedPlace], *, currency: str, prices_include_vat: bool, discount: Discount | None = None
) -> OrderSummary:
    """Lines grouped by rate and price, the discount shared out, and VAT per rate."""
    groups: OrderedDict[tuple[str, int, int], int] = OrderedDict()
    for place in places:
        key = (place.rate_name, place.price_pence, place.vat_rate_bp)
        groups[key] = groups.get(key, 0) + 1
    grosses = [_gross(price, qty, rate, prices_include_vat) for (_, price, rate), qty in groups.items()]
    total_gross = sum(grosses)
    off = discount_amount(discount, total_gross)
    shares = _share_out(off, grosses)
    lines: list[Line] = []
    for ((name, price, rate), qty), gross, share in zip(groups.items(), grosses, shares, strict=True):
        after = gross - share
        net = net_of_gross(after, rate)
        lines.append(
            Line(
                description=name,
                quantity=qty,
                unit_price_pence=price,
                vat_rate_bp=rate,
                gross_before_discount_pence=gross,
                discount_pence=share,
                gross_pence=after,
                net_pence=net,
                vat_pence=after - net,
            )
        )
    bands: OrderedDict[int, list[int]] = OrderedDict()
    for line in sorted(lines, key=lambda li: -li.vat_rate_bp):
        band = bands.setdefault(line.vat_rate_bp, [0, 0, 0])
        band[0] += line.net_pence
        band[1] += line.vat_pence
        band[2] += line.gross_pence
    return OrderSummary(
        currency=currency,
        prices_include_vat=prices_include_vat,
        lines=lines,
        discount_code=discount.code if discount else "",
        discount_pence=off,
        vat_bands=[VatBand(rate, *figures) for rate, figures in bands.items()],
    )


def share_of(total_paid_pence: int, part_gross_pence: int, whole_gross_pence: int) -> int:
    """The part of a payment that belongs to some places (for refunds per place), rounded half up."""
    if whole_gross_pence <= 0:
        return 0
    return (total_paid_pence * part_gross_pence + whole_gross_pence // 2) // whole_gross_pence


def format_vat_rate(vat_rate_bp: int) -> str:
    whole, part = divmod(vat_rate_bp, 100)
    return f"{whole}%" if part == 0 else f"{whole}.{part:02d}".rstrip("0") + "%"
