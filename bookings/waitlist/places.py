"""The waiting list's place source: places reserved by live offers count against capacity (rule 1)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, func, select

from bookings.waitlist.models import WaitlistEntry, WaitlistStatus


def live_offer_places(event_ids: Iterable[int], now: datetime) -> Select:
    """(event_id, ticket_type_id, places) of offers not yet claimed, declined or past their time."""
    return (
        select(
            WaitlistEntry.event_id,
            WaitlistEntry.offer_ticket_type_id.label("ticket_type_id"),
            func.sum(WaitlistEntry.places).label("places"),
        )
        .where(
            WaitlistEntry.event_id.in_(list(event_ids)),
            WaitlistEntry.status == WaitlistStatus.OFFERED.value,
            WaitlistEntry.offer_expires_at > now,
        )
        .group_by(WaitlistEntry.event_id, WaitlistEntry.offer_ticket_type_id)
    )
