"""What organisers do in the console that no other area already offers.

Rules owned here:

- A booking made on someone's behalf takes its places through the capacity
  module like any other (rule 1). Going over capacity needs an explicit
  override with a reason; the booking is flagged `is_over_capacity` and an
  audit row names the admin and the reason (rule 7).
- Moving and duplicating an event go through the catalogue services, so
  calendar sequences, the change hooks (everyone told) and the audit trail
  follow the catalogue's rules.
- Check-in and its undo, resending a confirmation and retrying a failed
  email each write an audit row in the same transaction.

Every service here refuses a non-admin actor with `Forbidden`.
"""

from bookings.admin.services.bookings import book_on_behalf, check_in, resend_confirmation, undo_check_in
from bookings.admin.services.events import add_question, duplicate_event, move_event, remove_question
from bookings.admin.services.outbox import retry_outbox_message

__all__ = [
    "add_question",
    "book_on_behalf",
    "check_in",
    "duplicate_event",
    "move_event",
    "remove_question",
    "resend_confirmation",
    "retry_outbox_message",
    "undo_check_in",
]
