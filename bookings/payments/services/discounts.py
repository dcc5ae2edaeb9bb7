"""Discount codes: percentage or fixed amount, for one event or all, in a window, up to a number of uses.

The use is taken with one conditional UPDATE (`uses = uses + 1 WHERE uses <
max_uses AND valid_until > now`), which the database applies atomically, so
concurrent checkouts cannot take more uses than there are, nor any after an
admin has ended the code. A booking that never completes gives its use back
(`release_discount`, run by the checkout expiry and the sweep). Ending a code
early sets its end to now: bookings that already have it keep their discount.
Only admins create or end codes.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from bookings.accounts.models import User
from bookings.booking.models import Booking
from bookings.booking.services import locked_booking
from bookings.catalogue.models import Event
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, Forbidden, NotFound, ValidationError
from bookings.extensions import db
from bookings.payments.models import DiscountCode, DiscountRedemption, Payment, PaymentProvider, PaymentState
from bookings.payments.services.common import live_redemption, order_for, release_discount

CODE_PATTERN = re.compile(r"^[A-Z0-9](?:[A-Z0-9-]{0,38}[A-Z0-9])?$")  # as stored: upper case, 40 at most


class DiscountStatus(StrEnum):
    ACTIVE = "active"
    NOT_STARTED = "not_started"
    USED_UP = "used_up"
    ENDED = "ended"


def normalise_code(code: str) -> str:
    return "".join((code or "").split()).upper()


def discount_status(discount: DiscountCode, now: datetime) -> DiscountStatus:
    """Whether a booker could apply the code at `now`, and if not, why not."""
    if discount.valid_until is not None and now >= discount.valid_until:
        return DiscountStatus.ENDED
    if discount.valid_from is not None and now < discount.valid_from:
        return DiscountStatus.NOT_STARTED
    if discount.max_uses is not None and discount.uses >= discount.max_uses:
        return DiscountStatus.USED_UP
    return DiscountStatus.ACTIVE


def _check_admin(actor: User | None) -> None:
    if actor is None or not actor.is_admin:
        raise Forbidden("Only an admin can do this.")


def discount_code_errors(
    *,
    code: str,
    percent: int | None = None,
    amount_pence: int | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    max_uses: int | None = None,
) -> dict[str, str]:
    """What is wrong with a new code's values, by argument name; empty when nothing is. No queries, so a form
    can show these alongside its own errors before anything is written."""
    errors = {}
    if not CODE_PATTERN.match(normalise_code(code)):
        errors["code"] = "Enter a code of up to 40 letters and numbers (hyphens may go between them), like NHS25"
    if percent is None and amount_pence is None:
        errors["percent"] = "Enter a percentage off or an amount off"
    elif percent is not None and amount_pence is not None:
        errors["percent"] = "Give either a percentage or an amount off, not both"
    elif percent is not None and not 0 < percent <= 100:
        errors["percent"] = "Enter a percentage between 1 and 100"
    elif amount_pence is not None and amount_pence <= 0:
        errors["amount_pence"] = "Enter an amount off greater than zero"
    if max_uses is not None and max_uses < 1:
        errors["max_uses"] = "Enter a number of uses of 1 or more"
    if valid_from and valid_until and valid_until <= valid_from:
        errors["valid_until"] = "The end must be after the start"
    return errors


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
    """Admin: a new code. Raises Forbidden, ValidationError."""
    _check_admin(actor)
    clean = normalise_code(code)
    errors = discount_code_errors(
        code=clean,
        percent=percent,
        amount_pence=amount_pence,
        valid_from=valid_from,
        valid_until=valid_until,
        max_uses=max_uses,
    )
    if event_id is not None and db.session.get(Event, event_id) is None:
        errors["event_id"] = "Choose an event from the list, or any event"
    if "code" not in errors and db.session.scalar(select(DiscountCode.id).where(DiscountCode.code == clean)):
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
    try:
        db.session.flush()
    except IntegrityError:  # the same code, created meanwhile by someone else; the transaction rolls back
        raise ValidationError("Check the discount code.", errors={"code": "That code already exists"}) from None
    audit.record(
        "discount_code.created",
        "discount_code",
        clean,
        actor_id=actor.id,
        event_id=event_id,
        at=now,
        percent=percent,
        amount_pence=amount_pence,
        valid_from=valid_from.isoformat() if valid_from else None,
        valid_until=valid_until.isoformat() if valid_until else None,
        max_uses=max_uses,
    )
    return discount


@transactional
def end_discount_code(discount_id: int, *, actor: User, now: datetime) -> DiscountCode:
    """Admin: the code can no longer be applied from `now`; bookings that have it keep it. Raises Forbidden,
    NotFound, Conflict (already ended)."""
    _check_admin(actor)
    discount = db.session.scalar(select(DiscountCode).where(DiscountCode.id == discount_id).with_for_update())
    if discount is None:
        raise NotFound("There is no such discount code.")
    if discount_status(discount, now) == DiscountStatus.ENDED:
        raise Conflict(f"The code {discount.code} has already ended.", code="already_ended")
    was_until = discount.valid_until
    discount.valid_until = now
    if discount.valid_from is not None and discount.valid_from > now:
        discount.valid_from = now  # ended before it began: its window is empty, not back to front
    audit.record(
        "discount_code.ended",
        "discount_code",
        discount.code,
        actor_id=actor.id,
        event_id=discount.event_id,
        at=now,
        uses=discount.uses,
        was_valid_until=was_until.isoformat() if was_until else None,
    )
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
            # Checked again in the same statement: an admin may have ended the code since it was read.
            or_(DiscountCode.valid_until.is_(None), DiscountCode.valid_until > now),
        )
        .values(uses=DiscountCode.uses + 1)
    ).rowcount
    if taken != 1:
        db.session.refresh(discount)
        if not discount.is_valid_at(now):
            raise ValidationError("That discount code is not valid for this event", field="discount_code")
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
