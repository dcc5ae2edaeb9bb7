"""Imports every model so that the metadata is complete for Alembic and create_all."""

from bookings.accounts.models import ApiToken, User  # noqa: F401
from bookings.booking.models import Attendee, Booking  # noqa: F401
from bookings.catalogue.models import Event, EventSession, Question, TicketType  # noqa: F401
from bookings.core.audit import AuditRecord  # noqa: F401
from bookings.core.throttle import ThrottleHit  # noqa: F401
from bookings.notifications.models import OutboxMessage  # noqa: F401
