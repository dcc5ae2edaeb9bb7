"""The rush: 300 booking requests through the API at concurrency 32 for an event with 100 places.

Each request carries its own account's API token, as a rush of different
people would. The rush is run RUSH_ROUNDS times, each on a fresh event.
Before it is measured, every worker is warmed on a separate event
(WARM_UP_REQUESTS requests for WARM_UP_PLACES places), as the read
benchmarks warm theirs: the figures are those of a running server, not of
each worker compiling its first booking's statements.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from bench import load, seed

RUSH_REQUESTS, RUSH_CONCURRENCY, RUSH_PLACES = 300, 32, 100
WARM_UP_REQUESTS, WARM_UP_PLACES = 64, 16
# Each rush is run this many times, on a fresh event with fresh rushers: one run lasts 2-4 s, and on a
# shared machine a single one can land on another job's burst. The figures are the median run's; the
# errors and overbooked places are counted over every run.
RUSH_ROUNDS = 3
CARD_PRICE_PENCE = 12_000


@dataclass(frozen=True)
class RushData:
    payment: str
    rounds: list[tuple[int, list[str]]]  # (event id, tokens) per run
    warm_up_event_id: int
    warm_up_tokens: list[str]


def seed_rush(payment: str, rounds: int = RUSH_ROUNDS, *, prefix: str | None = None) -> RushData:
    """The rushers (an account and API token each) and the event of each run, and the same for the warm-up."""
    price = CARD_PRICE_PENCE if payment == "card" else 0
    prefix = prefix or f"bench-{payment}"
    runs = []
    for run in range(rounds):
        tokens = [t for _, t in seed.ensure_users(RUSH_REQUESTS, prefix=f"{prefix}-{run}", with_tokens=True)]
        event = seed.add_events(
            1, capacity=RUSH_PLACES, attendees_per_event=0, prefix=f"{prefix}-{run}", price_pence=price
        )
        runs.append((event.event_ids[0], tokens))
    warm_tokens = [t for _, t in seed.ensure_users(WARM_UP_REQUESTS, prefix=f"{prefix}-warm", with_tokens=True)]
    warm_event = seed.add_events(
        1, capacity=WARM_UP_PLACES, attendees_per_event=0, prefix=f"{prefix}-warm", price_pence=price
    )
    return RushData(payment, runs, warm_event.event_ids[0], warm_tokens)


def _requests(tokens: list[str], event_id: int, payment: str) -> list[tuple[str, str, dict, bytes]]:
    return [
        (
            "POST",
            f"/api/v1/events/{event_id}/bookings",
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            json.dumps(
                {"payment": payment, "attendees": [{"name": f"Rusher {i}", "email": f"rusher{i}@council.example"}]}
            ).encode(),
        )
        for i, token in enumerate(tokens)
    ]


def measure(base: str, app, data: RushData) -> dict:
    """Warm up, run the rush RUSH_ROUNDS times, and count the places taken in the database after each.

    The figures are those of the median run by attempted bookings a second; `errors` and the
    overbooked places are the totals over every run, and every run is kept under `runs`.
    """
    warm_up = _requests(data.warm_up_tokens, data.warm_up_event_id, data.payment)
    load.run_requests(base, warm_up, concurrency=16)
    runs = []
    for event_id, tokens in data.rounds:
        result = rush(base, tokens, event_id, data.payment)
        result["check"] = overbooked(app, event_id)
        urls = result.pop("checkout_urls")
        if data.payment == "card":
            result["checkout_urls"] = sum(1 for u in urls if u)
        runs.append(result)
    median = dict(sorted(runs, key=lambda r: r["attempted_per_s"])[len(runs) // 2])
    median["errors"] = sum(r["errors"] for r in runs)
    median["check"] = dict(median["check"], overbooked=sum(r["check"]["overbooked"] for r in runs))
    median["runs"] = [
        {k: r[k] for k in ("attempted_per_s", "successful_per_s", "p50_ms", "p99_ms", "statuses", "errors", "check")}
        for r in runs
    ]
    return median


def rush(base: str, tokens: list[str], event_id: int, payment: str) -> dict:
    requests = _requests(tokens[:RUSH_REQUESTS], event_id, payment)
    run = load.run_requests(base, requests, concurrency=RUSH_CONCURRENCY)
    results = [r for r in run["results"] if r is not None]
    statuses: dict[str, int] = {}
    for status, *_ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    ok = [r for r in results if r[0] == 201]
    last_ok = max((r[3] for r in ok), default=run["started"])
    summary = load.summarise([r[1] for r in results])
    return {
        "attempted": len(requests),
        "answered": len(results),
        "wall_s": run["wall"],
        "attempted_per_s": len(results) / run["wall"],
        "successful": len(ok),
        "successful_per_s": len(ok) / max(last_ok - run["started"], 1e-6),
        "statuses": statuses,
        "errors": sum(n for s, n in statuses.items() if s not in {"201", "409"}),
        "checkout_urls": [r[2].get("checkout_url") for r in ok if isinstance(r[2], dict)],
        **summary,
    }


def overbooked(app, event_id: int) -> dict[str, int]:
    """Places taken on the event against its capacity, counted in the database afterwards."""
    from sqlalchemy import func, or_, select

    from bookings.booking.models import Attendee, Booking
    from bookings.catalogue.models import Event
    from bookings.extensions import db

    now = datetime.now(UTC)
    with app.app_context():
        capacity = db.session.get(Event, event_id).capacity
        taken = db.session.execute(
            select(func.count(Attendee.id))
            .join(Booking, Booking.id == Attendee.booking_id)
            .where(
                Attendee.event_id == event_id,
                Attendee.status == "active",
                or_(Booking.status == "confirmed", (Booking.status == "held") & (Booking.hold_expires_at > now)),
            )
        ).scalar()
    return {"capacity": capacity, "taken": taken, "overbooked": max(0, taken - capacity)}
