"""The order arithmetic: VAT included or added, discounts shared across VAT rates, totals that add up."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bookings.payments.pricing import Discount, PricedPlace, summarise


def test_prices_including_vat_show_the_vat_inside_the_total():
    order = summarise([PricedPlace("Public", 12000, 2000)] * 2, currency="GBP", prices_include_vat=True)
    assert (order.net_pence, order.vat_pence, order.total_pence) == (20000, 4000, 24000)


def test_prices_excluding_vat_add_it():
    order = summarise([PricedPlace("Public", 10000, 2000)], currency="GBP", prices_include_vat=False)
    assert (order.net_pence, order.vat_pence, order.total_pence) == (10000, 2000, 12000)


def test_vat_breakdown_has_one_band_per_rate():
    places = [PricedPlace("Standard", 12000, 2000), PricedPlace("Zero-rated", 5000, 0)]
    order = summarise(places, currency="GBP", prices_include_vat=True)
    assert [(b.vat_rate_bp, b.net_pence, b.vat_pence) for b in order.vat_bands] == [(2000, 10000, 2000), (0, 5000, 0)]


def test_fixed_discount_never_takes_the_total_below_zero():
    order = summarise(
        [PricedPlace("Public", 1000, 2000)],
        currency="GBP",
        prices_include_vat=True,
        discount=Discount("BIG", amount_pence=5000),
    )
    assert (order.discount_pence, order.total_pence) == (1000, 0)


@given(
    prices=st.lists(st.tuples(st.integers(0, 100_000), st.sampled_from([0, 500, 2000])), min_size=1, max_size=6),
    percent=st.none() | st.integers(1, 100),
    amount=st.integers(1, 200_000),
    include=st.booleans(),
)
def test_lines_always_add_up_to_the_total(prices, percent, amount, include):
    discount = Discount("X", percent=percent) if percent else Discount("X", amount_pence=amount)
    places = [PricedPlace(f"R{i}", p, r) for i, (p, r) in enumerate(prices)]
    order = summarise(places, currency="GBP", prices_include_vat=include, discount=discount)
    assert order.total_pence == order.subtotal_pence - order.discount_pence
    assert order.net_pence + order.vat_pence == order.total_pence
    assert sum(b.gross_pence for b in order.vat_bands) == order.total_pence
    assert all(line.gross_pence >= 0 for line in order.lines)
