"""Demo data: a realistic catalogue of UK public-sector events and two demo accounts.

`load_demo_data(now)` is idempotent: events are keyed by slug and accounts by
email, so running it again adds nothing. Dates are relative to `now`, so a
fresh load always looks upcoming. Bookings that fill the nearly full and the
fully booked courses are written with the same models the booking area uses.

`python -m bookings.demo --print-logins` prints the demo logins (no database needed).
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Table, select

from bookings.accounts.models import Role, Sector, User
from bookings.accounts.passwords import hash_password
from bookings.booking.models import Attendee, Booking, BookingStatus, PaymentMethod, PaymentStatus
from bookings.catalogue.models import (
    Event,
    EventKind,
    EventSession,
    EventStatus,
    Question,
    QuestionKind,
    TicketType,
)
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.money import vat_of_net
from bookings.core.tokens import new_reference, new_token
from bookings.extensions import db

LONDON = "Europe/London"
UTC = ZoneInfo("UTC")

ADMIN_EMAIL = "admin@bookings.example"
ADMIN_PASSWORD = "kestrel-harbour-admin-4271"  # noqa: S105  a published demo login, never a real one
ATTENDEE_EMAIL = "attendee@bookings.example"
ATTENDEE_PASSWORD = "lantern-meadow-attendee-8356"  # noqa: S105  a published demo login, never a real one
VAT_STANDARD_BP = 2000


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


@dataclass
class Rate:
    name: str
    price_pence: int
    description: str = ""
    vat_rate_bp: int = VAT_STANDARD_BP
    cap: int | None = None
    sale_days: tuple[int, int] | None = None  # sale window in days from now: (starts, ends)


@dataclass
class Ask:
    label: str
    kind: str = QuestionKind.TEXT.value
    choices: list[str] = field(default_factory=list)
    is_required: bool = False


@dataclass
class Fill:
    """A confirmed booking made for the demo: a booker's email, places, payment status."""

    booker: str
    places: int
    payment_status: str = PaymentStatus.INVOICED.value
    purchase_order: str = ""


@dataclass
class DemoEvent:
    slug: str
    title: str
    kind: str
    summary: str
    description: str
    days_ahead: int
    sessions: list[tuple[int, time, time, str]]  # (day offset, local start, local end, title)
    capacity: int
    rates: list[Rate]
    venue_name: str = ""
    venue_address: str = ""
    online_url: str = ""
    status: str = EventStatus.PUBLISHED.value
    prices_include_vat: bool = True
    max_places_per_booking: int = 10
    booking_opens_days: int | None = None
    questions: list[Ask] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)

    @property
    def is_online(self) -> bool:
        return bool(self.online_url)


def _one_day(start: time = time(9, 30), end: time = time(16, 30)) -> list[tuple[int, time, time, str]]:
    return [(0, start, end, "")]


def demo_catalogue() -> list[DemoEvent]:
    """About a dozen events in the spirit of UK public-sector training, dated in days from today."""
    return [
        DemoEvent(
            slug="dementia-care-conference",
            title="National Dementia Care Conference",
            kind=EventKind.CONFERENCE.value,
            summary="Two days of practice, research and policy for everyone who supports people living with dementia.",
            description=(
                "Hear from commissioners, clinicians, care providers and people with lived experience about what "
                "good dementia care looks like in 2027 and how to fund it.\n\n"
                "Day one covers diagnosis, post-diagnostic support and the national dementia strategy. Day two is "
                "given over to practical workshops: environments, eating and drinking, and supporting carers.\n\n"
                "Lunch and refreshments are included on both days. CPD certificates are issued to every delegate."
            ),
            days_ahead=46,
            sessions=[
                (0, time(9, 0), time(17, 0), "Day 1: strategy and practice"),
                (1, time(9, 0), time(16, 0), "Day 2: workshops"),
            ],
            capacity=250,
            venue_name="Manchester Central",
            venue_address="Windmill Street, Manchester, M2 3GX",
            prices_include_vat=False,
            rates=[
                Rate("Early bird", 7500, "Public and voluntary sector, booked early", cap=50, sale_days=(-14, 14)),
                Rate("Public sector", 9500, "NHS, local authorities and other public bodies"),
                Rate("Voluntary sector", 6500, "Registered charities", cap=40),
                Rate("Private sector", 19500, "Care providers and suppliers", cap=60),
            ],
            questions=[
                Ask(
                    "Which workshop would you like to join on day 2?",
                    QuestionKind.CHOICE.value,
                    ["Dementia-friendly environments", "Eating and drinking well", "Supporting family carers"],
                    is_required=True,
                ),
                Ask("Do you work in a dementia-specialist service?", QuestionKind.YES_NO.value),
            ],
            fills=[
                Fill(ATTENDEE_EMAIL, 2, purchase_order="NCC-PO-48213"),
                Fill("ade.okafor@leeds-nhs.example", 3, purchase_order="LTH-778102"),
            ],
        ),
        DemoEvent(
            slug="estates-and-facilities-show",
            title="Public Sector Estates and Facilities Show",
            kind=EventKind.CONFERENCE.value,
            summary="The one-day show for estates, facilities and net zero teams across councils, the NHS and schools.",
            description=(
                "Over 60 exhibitors, a seminar programme on decarbonising the public estate, and case studies on "
                "hybrid working, space utilisation and hard FM contracts.\n\n"
                "Entry is free for public sector staff. Suppliers and consultants pay the private sector rate."
            ),
            days_ahead=63,
            sessions=_one_day(time(9, 0), time(16, 30)),
            capacity=400,
            venue_name="NEC Birmingham",
            venue_address="North Avenue, Marston Green, Birmingham, B40 1NT",
            prices_include_vat=False,
            rates=[
                Rate("Public sector", 0, "Free for public sector employees"),
                Rate("Private sector", 15000, "Suppliers, consultants and contractors", cap=120),
            ],
        ),
        DemoEvent(
            slug="cmi-level-7-strategic-leadership",
            title="CMI Level 7 Certificate in Strategic Leadership and Management",
            kind=EventKind.COURSE.value,
            summary="A five-module programme for senior leaders, leading to the CMI Level 7 Certificate.",
            description=(
                "Designed for heads of service and directors, the programme covers strategic planning, leading "
                "change, financial strategy and organisational culture.\n\n"
                "Five taught days a fortnight apart, with a written assignment after each module. Registration "
                "with the Chartered Management Institute and one year's membership are included."
            ),
            days_ahead=35,
            sessions=[
                (0, time(9, 30), time(16, 30), "Module 1: strategic leadership"),
                (14, time(9, 30), time(16, 30), "Module 2: leading change"),
                (28, time(9, 30), time(16, 30), "Module 3: financial strategy"),
                (42, time(9, 30), time(16, 30), "Module 4: organisational culture"),
                (56, time(9, 30), time(16, 30), "Module 5: assessment and review"),
            ],
            capacity=16,
            max_places_per_booking=4,
            venue_name="Birmingham Council House",
            venue_address="Victoria Square, Birmingham, B1 1BB",
            prices_include_vat=False,
            rates=[
                Rate("Public sector", 185000, "Includes CMI registration and assessment"),
                Rate("Private sector", 245000, "Includes CMI registration and assessment"),
            ],
            questions=[Ask("CMI membership number, if you have one")],
            fills=[Fill("helen.marsh@bristol-council.example", 2, purchase_order="BCC-PO-11937")],
        ),
        DemoEvent(
            slug="neurodiversity-in-the-workplace",
            title="Neurodiversity in the Workplace",
            kind=EventKind.COURSE.value,
            summary="Practical adjustments and inclusive management for autistic, ADHD and dyslexic colleagues.",
            description=(
                "A small-group, interactive day for line managers and HR teams. You will learn how to hold "
                "supportive conversations, make reasonable adjustments under the Equality Act 2010, and adapt "
                "recruitment so that neurodivergent candidates can show their strengths.\n\n"
                "Limited to 10 places so that everyone can take part."
            ),
            days_ahead=21,
            sessions=_one_day(),
            capacity=10,
            venue_name="Leeds Civic Hall",
            venue_address="Calverley Street, Leeds, LS1 1UR",
            rates=[Rate("Standard", 14500), Rate("Voluntary sector", 9500, "Registered charities")],
            questions=[Ask("Is there anything you would like the trainer to know in advance?")],
        ),
        DemoEvent(
            slug="procurement-act-webinar",
            title="The Procurement Act 2023: what changes for buyers",
            kind=EventKind.WEBINAR.value,
            summary="A free one-hour briefing on the new regime for contracting authorities, with live questions.",
            description=(
                "Our procurement lead walks through the new procedures, notices and transparency duties, and what "
                "they mean for below-threshold contracts.\n\n"
                "The joining link is sent with your confirmation. A recording is shared afterwards."
            ),
            days_ahead=9,
            sessions=_one_day(time(12, 30), time(13, 30)),
            capacity=500,
            online_url="https://meet.bookings.example/procurement-act-2023",
            max_places_per_booking=5,
            rates=[Rate("Free", 0, vat_rate_bp=0)],
            fills=[Fill(ATTENDEE_EMAIL, 1, payment_status=PaymentStatus.NOT_REQUIRED.value)],
        ),
        DemoEvent(
            slug="safeguarding-adults-level-3",
            title="Safeguarding Adults Level 3",
            kind=EventKind.COURSE.value,
            summary="For practitioners who lead or contribute to section 42 enquiries under the Care Act 2014.",
            description=(
                "Covers making safeguarding personal, mental capacity, self-neglect, domestic abuse and "
                "information sharing, with case studies drawn from recent safeguarding adults reviews.\n\n"
                "Meets the Level 3 requirements of the intercollegiate document for adult safeguarding."
            ),
            days_ahead=16,
            sessions=_one_day(),
            capacity=12,
            venue_name="City Hall, Bristol",
            venue_address="College Green, Bristol, BS1 5TR",
            rates=[Rate("Standard", 12000)],
            fills=[
                Fill(ATTENDEE_EMAIL, 2, purchase_order="NCC-PO-48377"),
                Fill("helen.marsh@bristol-council.example", 4, purchase_order="BCC-PO-12004"),
                Fill("fiona.campbell@carers-trust.example", 3),
                Fill("gareth.lewis@cardiff-council.example", 1, purchase_order="CC-90412"),
            ],
        ),
        DemoEvent(
            slug="mental-health-first-aid",
            title="Mental Health First Aid (two-day course)",
            kind=EventKind.COURSE.value,
            summary="The MHFA England two-day course: spot the signs and give first aid to a colleague in crisis.",
            description=(
                "Delivered by a licensed MHFA England instructor. Successful delegates become certified Mental "
                "Health First Aiders for three years.\n\n"
                "The course covers depression, anxiety, suicide, psychosis, eating disorders and self-harm, and how "
                "to signpost people to support."
            ),
            days_ahead=28,
            sessions=[(0, time(9, 0), time(16, 30), "Day 1"), (1, time(9, 0), time(16, 30), "Day 2")],
            capacity=8,
            venue_name="Friends House",
            venue_address="173 Euston Road, London, NW1 2BJ",
            rates=[Rate("Standard", 29500)],
            fills=[
                Fill("ade.okafor@leeds-nhs.example", 3, purchase_order="LTH-778340"),
                Fill("gareth.lewis@cardiff-council.example", 3, purchase_order="CC-90488"),
                Fill("fiona.campbell@carers-trust.example", 2),
            ],
        ),
        DemoEvent(
            slug="data-protection-for-managers",
            title="Data Protection for Managers",
            kind=EventKind.COURSE.value,
            summary="UK GDPR in practice: subject access requests, breaches, DPIAs and sharing data safely.",
            description=(
                "Two live online mornings for managers who handle personal data. Includes the 2025 changes from "
                "the Data (Use and Access) Act and a walk-through of the ICO's breach reporting tool."
            ),
            days_ahead=12,
            sessions=[
                (0, time(9, 30), time(12, 30), "Part 1: principles and rights"),
                (7, time(9, 30), time(12, 30), "Part 2: breaches, DPIAs and sharing"),
            ],
            capacity=24,
            online_url="https://meet.bookings.example/data-protection-managers",
            rates=[Rate("Standard", 9500)],
        ),
        DemoEvent(
            slug="finance-for-non-finance-managers",
            title="Finance for Non-Finance Managers",
            kind=EventKind.WORKSHOP.value,
            summary="Budgets, variance reports and business cases explained for public service managers.",
            description=(
                "A hands-on workshop using real council and NHS budget reports. Bring a calculator; no prior "
                "finance knowledge is needed."
            ),
            days_ahead=40,
            sessions=_one_day(time(10, 0), time(16, 0)),
            capacity=20,
            venue_name="Cardiff City Hall",
            venue_address="Cathays Park, Cardiff, CF10 3ND",
            rates=[Rate("Standard", 16500)],
        ),
        DemoEvent(
            slug="managing-sickness-absence",
            title="Difficult Conversations: Managing Sickness Absence",
            kind=EventKind.WORKSHOP.value,
            summary="Fair, lawful and kind approaches to absence meetings, with role play and an employment lawyer.",
            description=(
                "Practise return-to-work and formal absence meetings with a professional role player, and get "
                "answers on fit notes, reasonable adjustments and long-term absence from an employment lawyer."
            ),
            days_ahead=54,
            sessions=_one_day(),
            capacity=14,
            venue_name="Glasgow City Chambers",
            venue_address="82 George Square, Glasgow, G2 1DU",
            rates=[Rate("Standard", 17500)],
            booking_opens_days=7,
        ),
        DemoEvent(
            slug="writing-for-the-web",
            title="Writing for the Web in the Public Sector",
            kind=EventKind.WORKSHOP.value,
            summary="Plain English, accessible content and user needs, in three short online sessions.",
            description=(
                "Learn to write content people can find, understand and act on, following the GOV.UK style guide "
                "and the Web Content Accessibility Guidelines 2.2."
            ),
            days_ahead=30,
            sessions=[
                (0, time(14, 0), time(16, 0), "Session 1: user needs"),
                (2, time(14, 0), time(16, 0), "Session 2: plain English"),
                (4, time(14, 0), time(16, 0), "Session 3: accessible content"),
            ],
            capacity=30,
            online_url="https://meet.bookings.example/writing-for-the-web",
            rates=[Rate("Standard", 12500)],
        ),
        DemoEvent(
            slug="trauma-informed-practice",
            title="Trauma-Informed Practice for Frontline Staff",
            kind=EventKind.COURSE.value,
            summary="Understand the impact of trauma and adverse childhood experiences on the people you support.",
            description="Draft: the trainer and venue are still being confirmed.",
            days_ahead=75,
            sessions=_one_day(),
            capacity=18,
            venue_name="Newcastle Civic Centre",
            venue_address="Barras Bridge, Newcastle upon Tyne, NE1 8QH",
            status=EventStatus.DRAFT.value,
            rates=[Rate("Standard", 13500)],
        ),
    ]


def print_logins() -> list[str]:
    return ["Demo logins:", *(f"  {a.role:<8} {a.email}  password: {a.password}" for a in DEMO_LOGINS)]


def load_demo_data(now: datetime, reset: bool = False) -> list[str]:
    """Load the demo catalogue and accounts; returns lines saying what was done. Safe to run again."""
    if reset and current_app.config.get("ENV_NAME") == "production":
        raise RuntimeError("The demo data cannot be reset in production.")
    return _load(now, reset)


@transactional
def _load(now: datetime, reset: bool) -> list[str]:
    lines: list[str] = []
    if reset:
        lines.append(f"Deleted {_delete_events()} events and everything booked on them.")
    accounts = {account.email: _ensure_account(account, now) for account in (*DEMO_LOGINS, *DEMO_BOOKERS)}
    created_accounts = [email for email, (_, created) in accounts.items() if created]
    users = {email: user for email, (user, _) in accounts.items()}
    existing = set(db.session.scalars(select(Event.slug)))
    created_events = []
    for spec in demo_catalogue():
        if spec.slug in existing:
            continue
        _create_event(spec, users, now)
        created_events.append(spec.slug)
    if not created_events and not created_accounts:
        lines.append("Demo data is already loaded; nothing added.")
    else:
        lines.append(f"Added {len(created_events)} demo events and {len(created_accounts)} demo accounts.")
    return lines


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


def _local(now: datetime, days_ahead: int, at: time) -> datetime:
    """`at` o'clock in London on the day `days_ahead` days after today (London), as UTC."""
    zone = ZoneInfo(LONDON)
    day: date = now.astimezone(zone).date() + timedelta(days=days_ahead)
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _create_event(spec: DemoEvent, users: dict[str, User], now: datetime) -> Event:
    event = Event(
        slug=spec.slug,
        title=spec.title,
        kind=spec.kind,
        status=spec.status,
        summary=spec.summary,
        description=spec.description,
        timezone=LONDON,
        is_online=spec.is_online,
        venue_name=spec.venue_name,
        venue_address=spec.venue_address,
        online_url=spec.online_url,
        capacity=spec.capacity,
        max_places_per_booking=spec.max_places_per_booking,
        prices_include_vat=spec.prices_include_vat,
        booking_opens_at=_local(now, spec.booking_opens_days, time(9, 0)) if spec.booking_opens_days else None,
        created_at=now,
        updated_at=now,
    )
    for offset, start, end, title in spec.sessions:
        event.sessions.append(
            EventSession(
                title=title,
                starts_at=_local(now, spec.days_ahead + offset, start),
                ends_at=_local(now, spec.days_ahead + offset, end),
                uid=f"{uuid.uuid4()}@bookings",
            )
        )
    event.starts_at = min(s.starts_at for s in event.sessions)
    event.ends_at = max(s.ends_at for s in event.sessions)
    for position, rate in enumerate(spec.rates):
        window = rate.sale_days
        event.ticket_types.append(
            TicketType(
                name=rate.name,
                description=rate.description,
                price_pence=rate.price_pence,
                vat_rate_bp=rate.vat_rate_bp,
                cap=rate.cap,
                sale_starts_at=_local(now, window[0], time(0, 0)) if window else None,
                sale_ends_at=_local(now, window[1], time(23, 59)) if window else None,
                position=position,
            )
        )
    for position, ask in enumerate(spec.questions):
        event.questions.append(
            Question(
                label=ask.label, kind=ask.kind, choices=ask.choices, is_required=ask.is_required, position=position
            )
        )
    db.session.add(event)
    db.session.flush()
    audit.record("event.created", "event", event.id, actor_id=None, event_id=event.id, at=now, source="demo data")
    names = _attendee_names()
    for fill in spec.fills:
        _add_confirmed_booking(event, users[fill.booker], fill, names, now)
    return event


def _attendee_names() -> Iterator[tuple[str, str]]:
    while True:
        yield from ATTENDEE_NAMES


def _add_confirmed_booking(
    event: Event, booker: User, fill: Fill, names: Iterator[tuple[str, str]], now: datetime
) -> Booking:
    # The first rate on general sale (not an early bird or capped rate) is what most delegates book.
    rate = next((t for t in event.ticket_types if t.cap is None and t.sale_starts_at is None), event.ticket_types[0])
    gross = (
        rate.price_pence
        if event.prices_include_vat
        else rate.price_pence + vat_of_net(rate.price_pence, rate.vat_rate_bp)
    )
    paid = fill.payment_status != PaymentStatus.NOT_REQUIRED.value
    booking = Booking(
        reference=new_reference(),
        event_id=event.id,
        booker_id=booker.id,
        status=BookingStatus.CONFIRMED.value,
        payment_status=fill.payment_status,
        payment_method=PaymentMethod.INVOICE.value if paid else PaymentMethod.FREE.value,
        purchase_order=fill.purchase_order,
        billing_contact=booker.name if paid else "",
        billing_email=booker.email if paid else "",
        billing_address=f"Finance, {booker.organisation}" if paid else "",
        total_pence=gross * fill.places,
        is_details_complete=True,
        created_at=now,
        confirmed_at=now,
    )
    for n in range(fill.places):
        name, job_title = (booker.name, "Manager") if n == 0 and booker.email == ATTENDEE_EMAIL else next(names)
        email_name = name.lower().replace("dr ", "").replace("'", "").replace(" ", ".")
        booking.attendees.append(
            Attendee(
                event_id=event.id,
                ticket_type_id=rate.id,
                name=name,
                email=booker.email if name == booker.name else f"{email_name}@{booker.email.split('@')[1]}",
                organisation=booker.organisation,
                job_title=job_title,
                price_pence=rate.price_pence,
                created_at=now,
            )
        )
    db.session.add(booking)
    db.session.flush()
    audit.record("booking.confirmed", "booking", booking.reference, actor_id=None, event_id=event.id, at=now)
    return booking


def _delete_events() -> int:
    """Delete every event and every row that refers to one (bookings, attendees, waiting lists, payments...)."""
    event_table: Table = Event.__table__  # type: ignore[assignment]
    doomed = {event_table}
    changed = True
    while changed:
        changed = False
        for table in db.metadata.sorted_tables:
            if table not in doomed and any(fk.column.table in doomed for fk in table.foreign_keys):
                doomed.add(table)
                changed = True
    count = len(db.session.scalars(select(Event.id)).all())
    for table in reversed(db.metadata.sorted_tables):
        if table in doomed:
            db.session.execute(table.delete())
    return count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Bookings demo data.")
    parser.add_argument("--print-logins", action="store_true", help="print the demo accounts and passwords")
    args = parser.parse_args(argv)
    if args.print_logins:
        print("\n".join(print_logins()))
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
