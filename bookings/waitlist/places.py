"""The waiting list's place source: places reserved by live offers count against capacity (rule 1)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, Select, func, select

from bookings.waitlist.models import WaitlistEntry, WaitlistStatus


def live_offer_places(event_ids: Any, now: Any) -> Select:
    """(event_id, ticket_type_id, places) of offers not yet claimed, declined or past their time.

    `event_ids`: a list, or an expanding bound parameter; `now`: a datetime or a bound parameter.
    """
    return (
        select(
            WaitlistEntry.event_id,
            WaitlistEntry.offer_ticket_type_id.label("ticket_type_id"),
            func.sum(WaitlistEntry.places).label("places"),
        )
        .where(
            WaitlistEntry.event_id.in_(event_ids if isinstance(event_ids, BindParameter) else list(event_ids)),
            WaitlistEntry.status == WaitlistStatus.OFFERED.value,
            WaitlistEntry.offer_expires_at > now,
        )
        .group_by(WaitlistEntry.event_id, WaitlistEntry.offer_ticket_type_id)
    )
