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

from bookings.core.db import transactional
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage, OutboxStatus
from bookings.notifications.outbox.queueing import Attachment, _render_bodies, _suppressed_kinds, add_message

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


def render_deferred(*, limit: int = RENDER_BATCH) -> int:
    """Render the oldest unrendered messages and make them due to be sent. Returns how many."""
    found = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.subject, OutboxMessage.text_body)
        .where(OutboxMessage.status == UNRENDERED)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    rows = []
    for row in found:
        try:
            recipe = json.loads(row.text_body)
        except ValueError:
            log.exception("Outbox message %s has no readable recipe", row.id)
            continue
        rows.append(_Unrendered(row.id, row.kind, row.subject, recipe))
    return _render_rows(rows)


@dataclass(frozen=True)
class _Unrendered:
    id: int
    kind: str
    subject: str
    recipe: dict[str, Any]


def _render_rows(rows: list[_Unrendered]) -> int:
    memo: dict[str, Any] = {}
    rendered: list[dict[str, Any]] = []
    for row in rows:
        try:
            rendering = _renderers[row.recipe["renderer"]](row.recipe["params"], memo)
            text_body, html_body = _render_bodies(row.kind, row.subject, rendering.context)
        except Exception:  # one bad message must not hold back the others; delivery tries again
            log.exception("Could not render outbox message %s", row.id)
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
        )
    )
    db.session.execute(statement, rendered)
