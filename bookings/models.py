"""Imports every area's models so that the metadata is complete for Alembic and create_all."""

from bookings.accounts import models as accounts_models  # noqa: F401
from bookings.booking import models as booking_models  # noqa: F401
from bookings.calendar import models as calendar_models  # noqa: F401
from bookings.catalogue import models as catalogue_models  # noqa: F401
from bookings.core.audit import AuditRecord  # noqa: F401
from bookings.core.throttle import ThrottleHit  # noqa: F401
from bookings.notifications import models as notifications_models  # noqa: F401
from bookings.payments import models as payments_models  # noqa: F401
from bookings.site import models as site_models  # noqa: F401
from bookings.waitlist import models as waitlist_models  # noqa: F401
