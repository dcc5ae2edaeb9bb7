"""Rule 7: emails go to the outbox inside the transaction that causes them, then out over SMTP.

`queue_email` renders a message from `templates/emails/<name>.txt` and
`.html` and adds it to the current transaction. `deliver_pending` claims
messages one at a time (a short transaction that marks them `sending`), sends
them and marks them `sent`; a failure schedules a retry with exponential
back-off until MAIL_MAX_ATTEMPTS, then `failed` (visible to admins). A message
whose sender died while `sending` is reclaimed after a timeout; its
Message-ID stays the same, so a receiving server can drop the duplicate.

`queue_deferred` is the cheap twin of `queue_email` for changes made under a
lock (a booking's confirmation): the message row is written in the same
transaction, as `unrendered`, holding only how to render it (a registered
renderer's name and a few ids). The request never renders it: the mail
process (`deliver_pending`) renders unrendered messages before it sends, so
the templates and the calendar file cost the booking request nothing. The
row is one row from the start, so rendering twice (two delivery runs at
once) still sends one email: only the first conditional update takes effect.
A message that cannot be rendered is tried again with the same back-off and
becomes `failed` after MAIL_MAX_ATTEMPTS, like one that cannot be sent.
See docs/notifications.md.
"""

from bookings.notifications.outbox.deferred import (
    RENDER_BATCH,
    UNRENDERED,
    Renderer,
    Rendering,
    _renderers,
    queue_deferred,
    register_renderer,
    render_deferred,
)
from bookings.notifications.outbox.delivery import (
    SENDING_TIMEOUT,
    _claim_next,
    build_email,
    deliver_pending,
)
from bookings.notifications.outbox.queueing import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_MAX_SECONDS,
    RENDER_ERROR_PREFIX,
    Attachment,
    queue_email,
    requeue,
    suppressed,
    withdraw_unsent,
)

__all__ = [
    "BACKOFF_BASE_SECONDS",
    "BACKOFF_MAX_SECONDS",
    "RENDER_BATCH",
    "RENDER_ERROR_PREFIX",
    "SENDING_TIMEOUT",
    "UNRENDERED",
    "Attachment",
    "Renderer",
    "Rendering",
    "_claim_next",
    "_renderers",
    "build_email",
    "deliver_pending",
    "queue_deferred",
    "queue_email",
    "register_renderer",
    "render_deferred",
    "requeue",
    "suppressed",
    "withdraw_unsent",
]
