"""Discount codes: percentage or fixed amount, for one event or all, in a window, up to a number of uses.

The use is taken with one conditional UPDATE (`uses = uses + 1 WHERE uses <
max_uses`), which the database applies atomically, so concurrent checkouts
cannot take more uses than there are. A booking that never completes gives
its use back (`release_discount`, run by the checkout expiry and the sweep).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update

from bookings.accounts.models import User
from bookings.booking.models import Booking
from bookings.booking.services import locked_booking
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, ValidationError
from bookings.extensions import db
from bookings.payments.models import DiscountCode, DiscountRedemption, Payment, PaymentProvider, PaymentState
from bookings.payments.services.common import live_redemption, order_for, release_discount


def normalise_code(code: str) -> str:
    return "".join((code or "").split()).upper()


@transactional
def create_discount_code(
    *,
    code: str,
    actor: User,
    now: datetime,
    percent: int | None = None,
    amount_pence: int | None = None,
    event_id: int | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    max_uses: int | None = None,
) -> DiscountCode:
    """Admin: a new code. Raises ValidationError."""
    errors = {}
    clean = normalise_code(code)
    if not clean or len(clean) > 40:
        errors["code"] = "Enter a code of up to 40 letters and numbers"
    if (percent is None) == (amount_pence is None):
        errors["percent"] = "Give either a percentage or an amount off"
    elif percent is not None and not 0 < percent <= 100:
        errors["percent"] = "Enter a percentage between 1 and 100"
    elif amount_pence is not None and amount_pence <= 0:
        errors["amount_pence"] = "Enter an amount off greater than zero"
    if max_uses is not None and max_uses < 1:
        errors["max_uses"] = "Enter a number of uses of 1 or more"
    if valid_from and valid_until and valid_until <= valid_from:
        errors["valid_until"] = "The end must be after the start"
    if not errors and db.session.scalar(select(DiscountCode.id).where(DiscountCode.code == clean)):
        errors["code"] = "That code already exists"
    if errors:
        raise ValidationError("Check the discount code.", errors=errors)
    discount = DiscountCode(
        code=clean,
        percent=percent,
        amount_pence=amount_pence,
        event_id=event_id,
        valid_from=valid_from,
        valid_until=valid_until,
        max_uses=max_uses,
        uses=0,
        created_at=now,
    )
    db.session.add(discount)
    db.session.flush()
    audit.record("discount_code.created", "discount_code", clean, actor_id=actor.id, event_id=event_id, at=now)
    return discount


@transactional
def apply_discount_code(*, reference: str, code: str, actor: User, now: datetime) -> Booking:
    """Apply a code to a held booking (replacing any earlier one). Raises ValidationError, Conflict, NotFound."""
    booking = locked_booking(reference, actor)
    if not booking.is_hold_live(now):
        raise Conflict("Discount codes can only be added while you are booking.", code="not_held")
    clean = normalise_code(code)
    if not clean:
        raise ValidationError("Enter a discount code", field="discount_code")
    discount = db.session.scalar(
        select(DiscountCode).where(
            func.upper(DiscountCode.code) == clean,
            or_(DiscountCode.event_id.is_(None), DiscountCode.event_id == booking.event_id),
        )
    )
    if discount is None or not discount.is_valid_at(now):
        raise ValidationError("That discount code is not valid for this event", field="discount_code")
    current = live_redemption(booking.id)
    if current is not None and current.discount_code_id == discount.id:
        return booking
    taken = db.session.execute(
        update(DiscountCode)
        .where(
            DiscountCode.id == discount.id,
            or_(DiscountCode.max_uses.is_(None), DiscountCode.uses < DiscountCode.max_uses),
        )
        .values(uses=DiscountCode.uses + 1)
    ).rowcount
    if taken != 1:
        raise ValidationError("That discount code has been used up", field="discount_code")
    if current is not None:
        release_discount(booking, now)
        db.session.delete(current)
        db.session.flush()
    for row in db.session.scalars(select(DiscountRedemption).where(DiscountRedemption.booking_id == booking.id)):
        db.session.delete(row)  # an old released row: one redemption per booking
    db.session.flush()
    db.session.add(DiscountRedemption(booking_id=booking.id, discount_code_id=discount.id, created_at=now))
    db.session.flush()
    # A checkout opened at the old price must not be paid: the next checkout makes a new one.
    for payment in db.session.scalars(
        select(Payment).where(
            Payment.booking_id == booking.id,
            Payment.provider == PaymentProvider.STRIPE.value,
            Payment.status == PaymentState.PENDING.value,
        )
    ):
        payment.status = PaymentState.SUPERSEDED.value
        payment.is_expiry_due = bool(payment.checkout_session_id)
    audit.record(
        "booking.discount_applied",
        "booking",
        booking.reference,
        actor_id=actor.id,
        event_id=booking.event_id,
        at=now,
        code=discount.code,
        total_pence=order_for(booking).total_pence,
    )
    return booking
