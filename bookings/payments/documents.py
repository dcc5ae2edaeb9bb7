"""Invoices, credit notes and receipts as printable HTML and as PDF.

PDF is drawn with fpdf2: pure Python, maintained, installs from PyPI with no
system libraries (WeasyPrint would need pango from Debian). Its core fonts
are Latin-1, which covers the pound sign; other characters are replaced.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from bookings.booking.models import Booking
from bookings.core.money import format_money
from bookings.payments.models import Document, DocumentKind
from bookings.payments.pricing import format_vat_rate

TITLES = {
    DocumentKind.INVOICE.value: "Invoice",
    DocumentKind.CREDIT_NOTE.value: "Credit note",
    DocumentKind.RECEIPT.value: "Receipt",
}


@dataclass(frozen=True)
class Organiser:
    name: str
    address: str
    email: str
    vat_number: str


def organiser() -> Organiser:
    config = current_app.config
    return Organiser(
        name=config["ORGANISER_NAME"],
        address=config["ORGANISER_ADDRESS"],
        email=config["ORGANISER_EMAIL"],
        vat_number=config["ORGANISER_VAT_NUMBER"],
    )


def vat_bands(document: Document) -> list[dict]:
    bands: dict[int, dict] = {}
    for line in document.lines:
        band = bands.setdefault(line["vat_rate_bp"], {"rate": line["vat_rate_bp"], "net": 0, "vat": 0, "gross": 0})
        band["net"] += line["net_pence"]
        band["vat"] += line["vat_pence"]
        band["gross"] += line["gross_pence"]
    return [dict(b, rate_label=format_vat_rate(b["rate"])) for b in sorted(bands.values(), key=lambda b: -b["rate"])]


def document_context(document: Document, booking: Booking) -> dict:
    return {
        "document": document,
        "title": TITLES[document.kind],
        "booking": booking,
        "event": booking.event,
        "organiser": organiser(),
        "bands": vat_bands(document),
    }


def _latin1(text: str) -> str:
    return text.replace("\u2013", "-").replace("\u2019", "'").encode("latin-1", "replace").decode("latin-1")


def render_pdf(document: Document, booking: Booking) -> bytes:
    """A one-page A4 PDF with the organiser, the customer, the lines and the VAT breakdown."""
    context = document_context(document, booking)
    org: Organiser = context["organiser"]
    money = lambda pence: _latin1(format_money(pence, document.currency))  # noqa: E731
    from fpdf import FPDF  # here, not at the top: fpdf2 adds about 35 MB to every worker (docs/performance.md)

    pdf = FPDF(format="A4")
    pdf.set_title(f"{context['title']} {document.display_number}")
    pdf.set_author(org.name)
    pdf.set_creator("Bookings")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(0, 12, _latin1(f"{context['title']} {document.display_number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    lines = [
        org.name,
        org.address,
        org.email,
        f"VAT number: {org.vat_number}",
        "",
        f"Date: {document.issued_at:%d %B %Y}",
        f"Booking reference: {booking.reference}",
    ]
    if booking.purchase_order:
        lines.append(f"Purchase order: {booking.purchase_order}")
    customer = booking.billing_contact or (booking.booker.name if booking.booker else "")
    lines += ["", "Bill to:", customer]
    if booking.billing_address:
        lines += booking.billing_address.splitlines()
    if booking.billing_email or booking.booker:
        lines.append(booking.billing_email or booking.booker.email)
    lines += ["", f"Event: {booking.event.title}"]
    for text in lines:
        pdf.cell(0, 5, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (70, 15, 25, 25, 25, 30)
    headers = ("Description", "Qty", "Net", "VAT rate", "VAT", "Total")
    pdf.set_font("Helvetica", "B", 10)
    for width, header in zip(widths, headers, strict=True):
        pdf.cell(width, 7, header, border="B", align="L" if header == "Description" else "R")
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    for line in document.lines:
        cells = (
            _latin1(line["description"])[:40],
            str(line["quantity"]),
            money(line["net_pence"]),
            format_vat_rate(line["vat_rate_bp"]),
            money(line["vat_pence"]),
            money(line["gross_pence"]),
        )
        for width, cell, align in zip(widths, cells, "LRRRRR", strict=True):
            pdf.cell(width, 7, cell, align=align)
        pdf.ln()
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, "VAT breakdown", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for band in context["bands"]:
        pdf.cell(
            0,
            5,
            _latin1(f"VAT at {band['rate_label']}: net {money(band['net'])}, VAT {money(band['vat'])}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 11)
    for label, value in (("Net", document.net_pence), ("VAT", document.vat_pence), ("Total", document.gross_pence)):
        pdf.cell(160, 6, label, align="R")
        pdf.cell(30, 6, money(value), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.ln(4)
    notes = {
        DocumentKind.INVOICE.value: "Payment due within 30 days. Please quote the invoice number.",
        DocumentKind.CREDIT_NOTE.value: "This credit note reduces the amount owed on this booking's invoice.",
        DocumentKind.RECEIPT.value: "Paid by card. Thank you.",
    }
    pdf.multi_cell(0, 5, _latin1(notes[document.kind]))
    return bytes(pdf.output())
