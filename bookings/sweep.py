"""The periodic sweep: one entry point that each area adds its housekeeping to.

Each step is its own short transaction and idempotent, so the sweep is safe
to run every minute from cron on several hosts at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bookings.core import throttle
from bookings.core.db import transactional


@transactional
def _prune_throttle(now: datetime) -> int:
    return throttle.prune(older_than=now - timedelta(days=1))


def run_sweep(now: datetime) -> dict[str, int]:
    from bookings.booking.reminders import queue_reminders
    from bookings.booking.services import expire_holds
    from bookings.notifications.outbox import deliver_pending
    from bookings.payments.services.refunds import retry_refunds
    from bookings.payments.services.sweep import expire_checkouts
    from bookings.waitlist.sweep import expire_offers, send_due_offers

    counts: dict[str, int] = {}
    counts["holds_expired"] = expire_holds(now)
    counts["offers_expired"] = expire_offers(now)
    counts["offers_sent"] = send_due_offers(now)
    counts.update(expire_checkouts(now))
    for key, value in retry_refunds(now).items():
        counts[f"refunds_{key}"] = value
    counts["throttle_pruned"] = _prune_throttle(now)
    counts["reminders_queued"] = queue_reminders(now)
    mail = deliver_pending(now)  # last, so mail written by the steps above goes out in this run
    counts["mail_sent"] = mail["sent"]
    counts["mail_failed"] = mail["failed"]
    return counts
