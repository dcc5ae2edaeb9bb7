"""The organiser console: dashboard, events, bookings, attendees, check-in, discount codes, exports and the audit log.

Every route sits on the `admin` blueprint under /admin and needs the admin role
(rule 6): `access.admin_required` on each view, and the blueprint's own guard
in front of them all, so a route added without the decorator is still closed.
"""

from bookings.admin.views import bp

__all__ = ["bp"]
