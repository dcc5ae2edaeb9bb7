"""Payments under contention: discount uses and invoice numbers, many OS processes, SQLite and PostgreSQL.

Asserts outcomes only (never timings): a code with one use left admits exactly
one booking; invoices issued at once get distinct, consecutive numbers.
"""

from __future__ import annotations

import traceback

import pytest
from sqlalchemy import func, select

from bookings.extensions import db
from tests.concurrency.workers import FIXED_NOW, app_for, checking
from tests.support.factories import make_event, make_user

pytestmark = pytest.mark.concurrency

PROCESSES = 8
INVOICES_PER_PROCESS = 3


def _apply_code(url: str, reference: str, user_id: int, barrier, results) -> None:
    from bookings.accounts.models import User
    from bookings.core.errors import DomainError
    from bookings.payments import services

    app = app_for(url)
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.commit()
        barrier.wait()
        try:
            services.apply_discount_code(reference=reference, code="LASTONE", actor=user, now=FIXED_NOW)
            results.put((reference, "ok"))
        except DomainError as error:
            results.put((reference, error.code))
        except Exception:  # reported to the test, which fails on it
            results.put((reference, "crash: " + traceback.format_exc()))


def _book_by_invoice(url: str, event_id: int, user_id: int, count: int, barrier, results) -> None:
    from bookings.accounts.models import User
    from bookings.booking import services as booking_services
    from bookings.booking.inputs import AttendeeInput
    from bookings.booking.models import PaymentMethod

    app = app_for(url)
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.commit()
        barrier.wait()
        for n in range(count):
            try:
                booking_services.book_places(
                    event_id=event_id,
                    booker=user,
                    ticket_type_id=None,
                    people=[AttendeeInput(name=f"Delegate {user_id}-{n}", email=f"d{user_id}-{n}@council.example")],
                    method=PaymentMethod.INVOICE,
                    now=FIXED_NOW,
                    billing=booking_services.BillingDetails(contact="Accounts", address="1 Town Hall"),
                )
                results.put("ok")
            except Exception:  # reported to the test, which fails on it
                results.put("crash: " + traceback.format_exc())


def _run(mp, target, args_list) -> list:
    barrier = mp.Barrier(len(args_list))
    results = mp.Queue()
    procs = [mp.Process(target=target, args=(*args, barrier, results)) for args in args_list]
    for p in procs:
        p.start()
    return procs, results


def test_discount_code_with_one_use_left_admits_exactly_one_of_many_concurrent_bookings(app, race_db, mp):
    from bookings.booking import services as booking_services
    from bookings.booking.inputs import AttendeeInput
    from bookings.payments import services
    from bookings.payments.models import DiscountCode, DiscountRedemption

    race_app = app_for(race_db)
    with race_app.app_context():
        event = make_event(capacity=50, ticket_types=[{"name": "Public sector", "price_pence": 9000}])
        admin = make_user(role="admin")
        services.create_discount_code(code="LASTONE", percent=20, max_uses=3, actor=admin, now=FIXED_NOW)
        code = db.session.scalar(select(DiscountCode).where(DiscountCode.code == "LASTONE"))
        code.uses = 2  # one use left
        db.session.commit()
        jobs = []
        for _ in range(PROCESSES):
            user = make_user()
            booking = booking_services.hold_places(
                event_id=event.id, booker_id=user.id, ticket_type_id=None, places=1, now=FIXED_NOW
            )
            booking_services.save_attendee_details(
                reference=booking.reference,
                actor=user,
                people=[AttendeeInput(name="A Person", email=f"a{user.id}@nhs.example")],
                now=FIXED_NOW,
            )
            jobs.append((race_db, booking.reference, user.id))
        db.session.remove()
        db.engine.dispose()

    procs, results = _run(mp, _apply_code, jobs)
    outcomes = [results.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=60)

    crashes = [o for o in outcomes if o[1].startswith("crash")]
    assert not crashes, crashes[0][1]
    assert sorted(o[1] for o in outcomes) == ["invalid"] * (PROCESSES - 1) + ["ok"]
    with checking(race_app):
        assert db.session.scalar(select(DiscountCode.uses).where(DiscountCode.code == "LASTONE")) == 3
        assert db.session.scalar(select(func.count()).select_from(DiscountRedemption)) == 1


def test_concurrent_invoices_get_distinct_consecutive_numbers(app, race_db, mp):
    from bookings.payments.models import Document

    race_app = app_for(race_db)
    with race_app.app_context():
        event = make_event(capacity=500, ticket_types=[{"name": "Public sector", "price_pence": 15000}])
        jobs = [(race_db, event.id, make_user().id, INVOICES_PER_PROCESS) for _ in range(PROCESSES)]
        db.session.remove()
        db.engine.dispose()

    procs, results = _run(mp, _book_by_invoice, jobs)
    outcomes = [results.get(timeout=240) for _ in range(PROCESSES * INVOICES_PER_PROCESS)]
    for p in procs:
        p.join(timeout=60)

    crashes = [o for o in outcomes if o != "ok"]
    assert not crashes, crashes[0]
    with checking(race_app):
        numbers = sorted(db.session.scalars(select(Document.number).where(Document.kind == "invoice")))
        assert numbers == list(range(1, PROCESSES * INVOICES_PER_PROCESS + 1))
