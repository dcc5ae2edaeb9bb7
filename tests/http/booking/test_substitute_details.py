"""The substitute page asks the new person what the attendee page asks: needs, and the event's questions."""

from __future__ import annotations

from sqlalchemy import select

from bookings.booking.models import Attendee
from bookings.catalogue.models import Question
from bookings.extensions import db
from tests.conftest import login_as
from tests.http.booking.test_journey import reference_from, start
from tests.support.factories import make_event, make_user


def test_the_new_person_gives_their_own_needs_and_answers_and_a_required_one_is_asked_for(client, clock):
    event = make_event(capacity=3)
    question = Question(event_id=event.id, label="Employee number", kind="text", is_required=True, position=0)
    db.session.add(question)
    db.session.commit()
    login_as(client, make_user())
    reference = reference_from(start(client, event, places=1))
    first = {
        "attendees-0-name": "Ann First",
        "attendees-0-email": "ann@council.example",
        "attendees-0-organisation": "Exampleton Council",
        "attendees-0-access_needs": "Step-free access",
        f"attendees-0-q{question.id}": "E1",
    }
    client.post(f"/bookings/{reference}/attendees", data=first)
    client.post(f"/bookings/{reference}/review", data={"payment": "free"})
    attendee = db.session.scalars(select(Attendee)).one()
    path = f"/bookings/{reference}/attendees/{attendee.id}/substitute"

    page = client.get(path).get_data(as_text=True)
    assert f'name="q{question.id}"' in page and 'name="access_needs"' in page
    assert 'value="Exampleton Council"' in page  # colleagues usually share it
    missing = client.post(path, data={"name": "Sam Other", "email": "sam@council.example"})
    assert missing.status_code == 422 and f'href="#q{question.id}"' in missing.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Attendee, attendee.id).name == "Ann First"

    data = {"name": "Sam Other", "email": "sam@council.example", "dietary_needs": "Vegan", f"q{question.id}": "E2"}
    assert client.post(path, data=data).status_code == 302
    db.session.expire_all()
    sam = db.session.get(Attendee, attendee.id)
    assert (sam.name, sam.dietary_needs, sam.access_needs, sam.answers) == (
        "Sam Other",
        "Vegan",
        "",
        {str(question.id): "E2"},
    )
