"""The demo accounts (their published logins), the organisations that book and the names of attendees."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bookings.accounts.models import Role, Sector, User
from bookings.accounts.passwords import hash_password
from bookings.core.tokens import new_token
from bookings.extensions import db

ADMIN_EMAIL = "admin@bookings.example"
ADMIN_PASSWORD = "kestrel-harbour-admin-4271"  # noqa: S105  a published demo login, never a real one
ATTENDEE_EMAIL = "attendee@bookings.example"
ATTENDEE_PASSWORD = "lantern-meadow-attendee-8356"  # noqa: S105  a published demo login, never a real one


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str | None  # None: a booker who never signs in (unusable password)
    name: str
    organisation: str
    role: str = Role.ATTENDEE.value
    sector: str = Sector.PUBLIC.value


DEMO_LOGINS = (
    DemoAccount(ADMIN_EMAIL, ADMIN_PASSWORD, "Alex Morgan", "Bookings Learning and Development", Role.ADMIN.value),
    DemoAccount(ATTENDEE_EMAIL, ATTENDEE_PASSWORD, "Sam Taylor", "Northshire County Council"),
)
DEMO_BOOKERS = (
    DemoAccount("helen.marsh@bristol-council.example", None, "Helen Marsh", "Bristol City Council"),
    DemoAccount("ade.okafor@leeds-nhs.example", None, "Dr Ade Okafor", "Leeds Teaching Hospitals NHS Trust"),
    DemoAccount(
        "fiona.campbell@carers-trust.example", None, "Fiona Campbell", "Carers Trust Scotland", sector="voluntary"
    ),
    DemoAccount("gareth.lewis@cardiff-council.example", None, "Gareth Lewis", "Cardiff Council"),
)
ATTENDEE_NAMES = (
    ("Priya Shah", "Adult social care team manager"),
    ("Tom Hughes", "Senior practitioner"),
    ("Aisha Begum", "Safeguarding lead"),
    ("Callum Fraser", "Occupational therapist"),
    ("Bethan Jones", "Service manager"),
    ("Olu Adeyemi", "Ward manager"),
    ("Megan O'Neill", "HR business partner"),
    ("Rajesh Patel", "Housing officer"),
    ("Claire Whitfield", "Team leader"),
    ("Daniel Kowalski", "Support worker"),
    ("Sophie Turner", "Learning and development adviser"),
    ("Hamza Ali", "Social worker"),
)


def print_logins() -> list[str]:
    return ["Demo logins:", *(f"  {a.role:<8} {a.email}  password: {a.password}" for a in DEMO_LOGINS)]


def _ensure_account(account: DemoAccount, now: datetime) -> tuple[User, bool]:
    user = db.session.scalars(select(User).where(User.email == account.email)).one_or_none()
    if user is not None:
        return user, False
    user = User(
        email=account.email,
        name=account.name,
        organisation=account.organisation,
        sector=account.sector,
        role=account.role,
        # Bookers without a demo password get a random one nobody knows.
        password_hash=hash_password(account.password or new_token()),
        created_at=now,
        password_changed_at=now,
    )
    db.session.add(user)
    db.session.flush()
    return user, True


def _attendee_names() -> Iterator[tuple[str, str]]:
    while True:
        yield from ATTENDEE_NAMES
