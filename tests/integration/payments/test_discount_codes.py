"""Discount code services an organiser uses: who may create and end codes, what a code may be, ending one early."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bookings.core.audit import AuditRecord
from bookings.core.errors import Conflict, Forbidden, NotFound, ValidationError
from bookings.extensions import db
from bookings.payments import services
from bookings.payments.models import DiscountCode
from bookings.payments.services import DiscountStatus, discount_status
from tests.integration.payments.support import held_booking, paid_event, reload
from tests.support.factories import make_admin, make_user


def _code(code: str) -> DiscountCode | None:
    db.session.rollback()
    return db.session.scalar(select(DiscountCode).where(DiscountCode.code == code))


def _audit(action: str) -> list[AuditRecord]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditRecord).where(AuditRecord.action == action)))


def test_only_an_admin_can_create_a_code(app, clock):
    with pytest.raises(Forbidden):
        services.create_discount_code(code="MINE", percent=100, actor=make_user(), now=clock.now)

    assert _code("MINE") is None
    assert _audit("discount_code.created") == []


@pytest.mark.parametrize("code", ["", "   ", "SAVE10%", "-SAVE", "SAVE-", "CAFÉ", "X" * 41])
def test_a_code_must_be_letters_and_numbers_with_hyphens_between(app, clock, code):
    with pytest.raises(ValidationError) as error:
        services.create_discount_code(code=code, percent=10, actor=make_admin(), now=clock.now)

    assert set(error.value.errors) == {"code"}
    assert db.session.scalars(select(DiscountCode)).all() == []


def test_a_code_is_stored_without_spaces_in_capitals(app, clock):
    services.create_discount_code(code=" early bird-2027 ", percent=10, actor=make_admin(), now=clock.now)

    assert _code("EARLYBIRD-2027") is not None


def test_a_code_for_an_event_that_does_not_exist_is_refused(app, clock):
    with pytest.raises(ValidationError) as error:
        services.create_discount_code(code="GHOST", percent=10, event_id=999_999, actor=make_admin(), now=clock.now)

    assert set(error.value.errors) == {"event_id"}
    assert _code("GHOST") is None


def test_the_rules_can_be_checked_without_writing(app):
    errors = services.discount_code_errors(code="OK", percent=101, max_uses=0)

    assert set(errors) == {"percent", "max_uses"}
    assert services.discount_code_errors(code="OK", amount_pence=500) == {}
    assert "percent" in services.discount_code_errors(code="OK", percent=10, amount_pence=500)


def test_status_follows_the_window_and_the_uses(app, clock):
    now = clock.now
    discount = DiscountCode(code="S", percent=10, uses=0, created_at=now)

    assert discount_status(discount, now) == DiscountStatus.ACTIVE
    discount.valid_from = now + timedelta(days=1)
    assert discount_status(discount, now) == DiscountStatus.NOT_STARTED
    discount.valid_from, discount.max_uses, discount.uses = None, 2, 2
    assert discount_status(discount, now) == DiscountStatus.USED_UP
    discount.valid_until = now
    assert discount_status(discount, now) == DiscountStatus.ENDED


def test_an_ended_code_is_refused_and_a_booking_that_has_it_keeps_its_discount(app, clock):
    event = paid_event(price_pence=10000)
    keeper, late = held_booking(event, clock.now), held_booking(event, clock.now)
    services.create_discount_code(code="TENOFF", percent=10, max_uses=5, actor=make_admin(), now=clock.now)
    services.apply_discount_code(reference=keeper.reference, code="TENOFF", actor=keeper.booker, now=clock.now)
    admin = make_admin()

    ended = services.end_discount_code(_code("TENOFF").id, actor=admin, now=clock.now)

    assert ended.valid_until == clock.now
    with pytest.raises(ValidationError, match="not valid"):
        services.apply_discount_code(reference=late.reference, code="tenoff", actor=late.booker, now=clock.now)
    assert services.order_for(reload(keeper)).total_pence == 9000
    assert services.order_for(reload(late)).total_pence == 10000
    assert _code("TENOFF").uses == 1
    [audit] = _audit("discount_code.ended")
    assert (audit.actor_id, audit.subject_id, audit.at) == (admin.id, "TENOFF", clock.now)


def test_ending_a_code_that_has_not_started_leaves_an_empty_window(app, clock):
    services.create_discount_code(
        code="NEXTYEAR", percent=10, valid_from=clock.now + timedelta(days=365), actor=make_admin(), now=clock.now
    )

    services.end_discount_code(_code("NEXTYEAR").id, actor=make_admin(), now=clock.now)

    discount = _code("NEXTYEAR")
    assert discount.valid_from == discount.valid_until == clock.now
    assert discount_status(discount, clock.now + timedelta(days=400)) == DiscountStatus.ENDED


def test_ending_is_refused_to_a_non_admin_and_for_an_ended_or_missing_code(app, clock):
    services.create_discount_code(code="KEEP", percent=10, actor=make_admin(), now=clock.now)
    discount_id = _code("KEEP").id

    with pytest.raises(Forbidden):
        services.end_discount_code(discount_id, actor=make_user(), now=clock.now)
    assert _code("KEEP").valid_until is None

    services.end_discount_code(discount_id, actor=make_admin(), now=clock.now)
    with pytest.raises(Conflict):
        services.end_discount_code(discount_id, actor=make_admin(), now=clock.now + timedelta(hours=1))
    with pytest.raises(NotFound):
        services.end_discount_code(999_999, actor=make_admin(), now=clock.now)
    assert _code("KEEP").valid_until == clock.now
    assert len(_audit("discount_code.ended")) == 1


def test_a_code_ended_after_a_booker_read_it_gives_no_use(app, clock, monkeypatch):
    """The use is taken only where the code is still open in the same statement, so an admin's end that lands
    between the booker reading the code and taking its use wins."""
    booking = held_booking(paid_event(), clock.now)
    services.create_discount_code(code="RACE", percent=10, actor=make_admin(), now=clock.now)
    services.end_discount_code(_code("RACE").id, actor=make_admin(), now=clock.now)
    checks = iter([True])  # the booker's read saw the code open; every later check sees it ended
    real_check = DiscountCode.is_valid_at
    monkeypatch.setattr(DiscountCode, "is_valid_at", lambda self, now: next(checks, None) or real_check(self, now))

    with pytest.raises(ValidationError, match="not valid"):
        services.apply_discount_code(reference=booking.reference, code="RACE", actor=booking.booker, now=clock.now)

    assert _code("RACE").uses == 0
    assert services.order_for(reload(booking)).discount_pence == 0
