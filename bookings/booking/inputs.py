"""Attendee details as plain values, validated in one place for the web form and the API."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email

from bookings.catalogue.models import Question, QuestionKind

NAME_MAX = 200
TEXT_MAX = 500
YES_NO = ("yes", "no")


@dataclass
class AttendeeInput:
    name: str
    email: str
    organisation: str = ""
    job_title: str = ""
    dietary_needs: str = ""
    access_needs: str = ""
    answers: dict[str, Any] = field(default_factory=dict)  # question id (str) -> answer


def normalise_email(value: str) -> str:
    """A valid, normalised email address; raises ValueError with a plain message."""
    value = (value or "").strip()
    if not value:
        raise ValueError("Enter an email address")
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValueError("Enter an email address in the correct format, like name@example.org") from None


def validate_attendee(person: AttendeeInput, questions: list[Question], prefix: str) -> dict[str, str]:
    """Clean `person` in place; return field errors keyed `<prefix>-<field>`."""
    errors: dict[str, str] = {}
    place = re.fullmatch(r"attendees-(\d+)", prefix)
    # In a group booking every block has the same fields: say which place an error is about.
    where = f" for place {int(place.group(1)) + 1}" if place else ""
    person.name = (person.name or "").strip()
    if not person.name:
        errors[f"{prefix}-name"] = f"Enter the full name{where}" if where else "Enter the attendee's full name"
    elif len(person.name) > NAME_MAX:
        errors[f"{prefix}-name"] = f"Name{where} must be {NAME_MAX} characters or fewer"
    try:
        person.email = normalise_email(person.email)
    except ValueError as error:
        errors[f"{prefix}-email"] = f"{error}{where}" if where else str(error)
    for attr, label in (
        ("organisation", "Organisation"),
        ("job_title", "Job title"),
        ("dietary_needs", "Dietary needs"),
        ("access_needs", "Access needs"),
    ):
        value = (getattr(person, attr) or "").strip()
        setattr(person, attr, value)
        if len(value) > TEXT_MAX:
            errors[f"{prefix}-{attr}"] = f"{label} must be {TEXT_MAX} characters or fewer"
    cleaned: dict[str, Any] = {}
    for question in questions:
        key = str(question.id)
        raw = person.answers.get(key, person.answers.get(question.id, ""))
        value = raw.strip() if isinstance(raw, str) else raw
        field_key = f"{prefix}-q{question.id}"
        if value in ("", None):
            if question.is_required:
                errors[field_key] = f"Answer '{question.label}'"
            continue
        if question.kind == QuestionKind.CHOICE.value and value not in question.choices:
            errors[field_key] = f"Choose one of the options for '{question.label}'"
        elif question.kind == QuestionKind.YES_NO.value:
            if isinstance(value, bool):
                value = "yes" if value else "no"
            if value not in YES_NO:
                errors[field_key] = f"Answer yes or no to '{question.label}'"
        elif isinstance(value, str) and len(value) > TEXT_MAX:
            errors[field_key] = f"Your answer to '{question.label}' must be {TEXT_MAX} characters or fewer"
        elif not isinstance(value, str):
            errors[field_key] = f"Answer '{question.label}' in words"
        cleaned[key] = value
    unknown = {str(k) for k in person.answers} - {str(q.id) for q in questions}
    if unknown:
        errors[f"{prefix}-answers"] = "Answers were given to questions this event does not ask"
    person.answers = cleaned
    return errors
