"""Personal feed tokens: made, used, regenerated, revoked, audited; and the addresses shown for them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bookings.calendar import services
from bookings.calendar.models import CalendarFeedToken
from bookings.core.audit import AuditRecord
from bookings.core.errors import NotFound
from bookings.core.tokens import hash_token
from bookings.extensions import db
from tests.support.factories import make_user

pytestmark = pytest.mark.usefixtures("request_ctx")


def test_feed_token_opens_users_feed(clock):
    user = make_user()
    token = services.get_or_create_feed_token(user.id, clock.now)
    assert services.use_feed_token(token, clock.now) == user.id


def test_feed_token_stored_only_as_hash(clock):
    user = make_user()
    token = services.get_or_create_feed_token(user.id, clock.now)
    row = db.session.scalars(select(CalendarFeedToken)).one()
    assert row.token_hash == hash_token(token)
    assert token not in row.token_hash


def test_get_or_create_returns_same_token_until_regenerated(clock):
    user = make_user()
    first = services.get_or_create_feed_token(user.id, clock.now)
    assert services.get_or_create_feed_token(user.id, clock.now) == first
    assert services.find_feed_token(user.id) == first
    assert services.regenerate_feed_token(user.id, clock.now) != first


def test_regenerated_token_revokes_old(clock):
    user = make_user()
    old = services.get_or_create_feed_token(user.id, clock.now)
    new = services.regenerate_feed_token(user.id, clock.now)
    with pytest.raises(NotFound):
        services.use_feed_token(old, clock.now)
    assert services.use_feed_token(new, clock.now) == user.id


def test_revoked_token_not_found_and_none_shown(clock):
    user = make_user()
    token = services.get_or_create_feed_token(user.id, clock.now)
    assert services.revoke_feed_token(user.id, clock.now) is True
    with pytest.raises(NotFound):
        services.use_feed_token(token, clock.now)
    assert services.find_feed_token(user.id) is None
    assert services.revoke_feed_token(user.id, clock.now) is False


def test_token_changes_are_audited(clock):
    user = make_user()
    services.regenerate_feed_token(user.id, clock.now)
    services.revoke_feed_token(user.id, clock.now)
    actions = db.session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)).all()
    assert actions == ["calendar_feed.created", "calendar_feed.revoked"]


def test_other_users_token_is_not_a_guessable_variant(clock):
    one, two = make_user(), make_user()
    assert services.get_or_create_feed_token(one.id, clock.now) != services.get_or_create_feed_token(two.id, clock.now)


def test_feed_use_recorded_at_most_hourly(clock):
    user = make_user()
    token = services.get_or_create_feed_token(user.id, clock.now)
    services.use_feed_token(token, clock.now)
    first_use = clock.now
    clock.advance(minutes=10)
    services.use_feed_token(token, clock.now)
    db.session.expire_all()
    assert db.session.scalars(select(CalendarFeedToken.last_used_at)).one() == first_use
    clock.advance(hours=2)
    services.use_feed_token(token, clock.now)
    db.session.expire_all()
    assert db.session.scalars(select(CalendarFeedToken.last_used_at)).one() == clock.now


def test_unknown_token_not_found(clock):
    with pytest.raises(NotFound):
        services.use_feed_token("not-a-token", clock.now)


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_feed_links_have_the_sites_own_scheme_and_webcal(app, clock, scheme):
    token = services.get_or_create_feed_token(make_user().id, clock.now)
    with app.test_request_context("/account", base_url=f"{scheme}://bookings.example"):
        links = services.feed_links(token)
    assert links.url == f"{scheme}://bookings.example/calendar/{token}.ics"
    assert links.webcal_url == f"webcal://bookings.example/calendar/{token}.ics"
