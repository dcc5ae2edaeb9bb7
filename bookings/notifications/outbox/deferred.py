"""Messages queued under a lock as `unrendered` (a renderer's name and ids) and rendered by the mail
process (`render_deferred`, run by `deliver_pending` before it sends). See the package docstring."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from bookings.core.clock import utcnow
from bookings.core.db import transactional
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage, OutboxStatus
from bookings.notifications.outbox.queueing import (
    RENDER_ERROR_PREFIX,
    Attachment,
    _render_bodies,
    _suppressed_kinds,
    add_message,
    after_failed_attempt,
)

log = logging.getLogger(__name__)

# Status of a message queued by `queue_deferred` and not yet rendered: never claimed for sending.
UNRENDERED = OutboxStatus.UNRENDERED.value
RENDER_BATCH = 500


@dataclass(frozen=True)
class Rendering:
    """What a renderer gives for one deferred message: the template's context and the attachments."""

    context: dict[str, Any]
    attachments: list[Attachment]


# (params, memo) -> Rendering. `memo` is shared by the messages rendered together (one booking's
# confirmation to the booker and to each attendee share one calendar file).
Renderer = Callable[[dict[str, Any], dict[str, Any]], Rendering]
_renderers: dict[str, Renderer] = {}


def register_renderer(name: str, renderer: Renderer) -> None:
    """Let `queue_deferred` messages name `renderer` (called once, at import of the area that writes them)."""
    _renderers[name] = renderer


def queue_deferred(
    template: str,
    *,
    renderer: str,
    params: dict[str, Any],
    to: str,
    subject: str,
    now: datetime,
    booking_reference: str | None = None,
    event_id: int | None = None,
) -> OutboxMessage | None:
    """Add a message to the current transaction now, for the mail process to render and send.

    The row is the message (same key, recipient, subject, links) with its
    bodies and attachments still to come: `renderer(params, memo)` gives the
    context for `templates/emails/<template>`. Until then its text body holds
    the recipe and its status is `unrendered`, which no sender claims until
    `render_deferred` has rendered it. Returns None when the kind is
    `suppressed` here.
    """
    if template in _suppressed_kinds.get():
        return None
    if renderer not in _renderers:
        raise LookupError(f"No email renderer is registered as {renderer!r}")
    recipe = {"renderer": renderer, "params": params}
    return add_message(
        template,
        to=to,
        subject=subject,
        text_body=json.dumps(recipe),
        html_body="",
        attachments=[],
        status=UNRENDERED,
        now=now,
        booking_reference=booking_reference,
        event_id=event_id,
    )


def render_deferred(now: datetime | None = None, *, limit: int = RENDER_BATCH) -> int:
    """Render the oldest unrendered messages that are due and make them due to be sent. Returns how many.

    One that cannot be rendered (its booking is gone, a template fails) is
    tried again later with the senders' back-off, and after MAIL_MAX_ATTEMPTS
    it is `failed`, with the error in last_error, where admins see it; an
    admin's retry puts it back to be rendered (`queueing.requeue`).
    """
    now = now or utcnow()
    found = db.session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.kind,
            OutboxMessage.subject,
            OutboxMessage.text_body,
            OutboxMessage.attempts,
        )
        .where(OutboxMessage.status == UNRENDERED, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    rows, failures = [], []
    for row in found:
        try:
            recipe = json.loads(row.text_body)
        except ValueError:
            log.exception("Outbox message %s has no readable recipe", row.id)
            failures.append(_Failure(row.id, row.attempts, "ValueError: no readable recipe", final=True))
            continue
        rows.append(_Unrendered(row.id, row.kind, row.subject, recipe, row.attempts))
    rendered = _render_rows(rows, failures)
    if failures:
        _note_failures(failures, now)
    return rendered


@dataclass(frozen=True)
class _Unrendered:
    id: int
    kind: str
    subject: str
    recipe: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class _Failure:
    id: int
    attempts: int  # before this one
    error: str
    final: bool = False  # trying again cannot help


def _render_rows(rows: list[_Unrendered], failures: list[_Failure]) -> int:
    memo: dict[str, Any] = {}
    rendered: list[dict[str, Any]] = []
    for row in rows:
        try:
            rendering = _renderers[row.recipe["renderer"]](row.recipe["params"], memo)
            text_body, html_body = _render_bodies(row.kind, row.subject, rendering.context)
        except Exception as error:  # one bad message must not hold back the others
            log.exception("Could not render outbox message %s", row.id)
            failures.append(_Failure(row.id, row.attempts, f"{type(error).__name__}: {error}"))
            continue
        rendered.append(
            {
                "message_id": row.id,
                "text": text_body,
                "html": html_body,
                "files": [a.__dict__ for a in rendering.attachments],
            }
        )
    if rendered:
        _update_rendered(rendered)
    return len(rendered)


@transactional
def _note_failures(failures: list[_Failure], now: datetime) -> None:
    """One more attempt each: due again after the back-off, or `failed` when out of attempts."""
    for failure in failures:
        attempts = failure.attempts + 1
        values = after_failed_attempt(attempts, now, waiting_status=UNRENDERED)
        if failure.final:
            values = {"status": OutboxStatus.FAILED.value}
        db.session.execute(
            update(OutboxMessage.__table__)
            .where(OutboxMessage.__table__.c.id == failure.id, OutboxMessage.__table__.c.status == UNRENDERED)
            .values(attempts=attempts, last_error=(RENDER_ERROR_PREFIX + failure.error)[:2000], **values)
        )


@transactional(durable=False)  # lost in a crash, it is rendered again
def _update_rendered(rendered: list[dict[str, Any]]) -> None:
    # Only an unrendered row changes: when two delivery runs render the same message at once, the
    # second update finds it pending (or sent) and leaves it alone. Table-level, so the session's
    # copies of these rows are neither consulted nor changed.
    table = OutboxMessage.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("message_id"), table.c.status == UNRENDERED)
        .values(
            text_body=bindparam("text"),
            html_body=bindparam("html"),
            attachments=bindparam("files", type_=table.c.attachments.type),
            status=OutboxStatus.PENDING.value,
            last_error="",
            attempts=0,  # attempts to render do not use up the attempts to send
        )
    )
    db.session.execute(statement, rendered)
