"""The demo catalogue: a realistic set of UK public-sector courses, conferences and webinars."""

from __future__ import annotations

from datetime import time

from bookings.booking.models import PaymentStatus
from bookings.catalogue.models import (
    EventKind,
    EventStatus,
    QuestionKind,
)
from bookings.demo.people import ATTENDEE_EMAIL
from bookings.demo.specs import Ask, DemoEvent, Fill, Rate, _one_day


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
