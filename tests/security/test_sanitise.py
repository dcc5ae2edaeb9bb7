"""Rich text keeps only the allow-list; plain text is escaped."""

from __future__ import annotations

import pytest

from bookings.core.sanitise import rich_text, sanitise_html

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<svg onload="alert(1)"><circle/></svg>',
    '<iframe src="https://evil.example"></iframe>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<form action="https://evil.example"><input name=x></form>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<p onmouseover="alert(1)">hover</p>',
    "<<script>script>alert(1)<</script>/script>",
    '<a href="https://ok.example" onclick="alert(1)">ok</a>',
]

DANGEROUS = (
    "<script",
    "onerror",
    "onload",
    "onclick",
    "onmouseover",
    "javascript:",
    "<iframe",
    "<svg",
    "style=",
    "<form",
)


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_sanitised_html_keeps_nothing_that_runs(payload):
    cleaned = sanitise_html(payload).lower()
    assert not [word for word in DANGEROUS if word in cleaned], cleaned


def test_sanitised_html_keeps_allowed_formatting():
    cleaned = sanitise_html("<h2>Agenda</h2><ul><li><strong>9am</strong> coffee</li></ul>")
    assert '<h2 class="govuk-heading-m">Agenda</h2>' in cleaned
    assert "<strong>9am</strong>" in cleaned


def test_links_keep_https_and_get_a_safe_rel():
    cleaned = sanitise_html('<a href="https://nhs.example/x" target="_blank">NHS</a>')
    assert 'href="https://nhs.example/x"' in cleaned
    assert 'rel="noopener noreferrer nofollow"' in cleaned
    assert "target" not in cleaned


def test_classes_from_the_input_are_dropped():
    assert "evil" not in sanitise_html('<p class="evil">x</p>')


def test_plain_text_description_is_escaped_into_paragraphs():
    html = str(rich_text("Bring <laptop> & lunch\n\nSecond"))
    assert html == '<p class="govuk-body">Bring &lt;laptop&gt; &amp; lunch</p>\n<p class="govuk-body">Second</p>'


def test_text_with_a_script_but_no_allowed_tag_is_escaped():
    assert "<script" not in str(rich_text("<script>alert(1)</script>"))


def test_rich_text_filter_is_available_to_templates(app):
    rendered = app.jinja_env.from_string("{{ d|rich_text }}").render(d="<p>Hi</p><script>alert(1)</script>")
    assert rendered == '<p class="govuk-body">Hi</p>'


def test_event_descriptions_are_stored_sanitised_so_api_readers_get_safe_html(client, clock):
    from tests.api.conftest import bearer
    from tests.support.factories import make_admin, make_api_token

    token = make_api_token(make_admin())
    body = {
        "title": "Safeguarding",
        "capacity": 10,
        "description": '<p>Hello <script>alert(1)</script><a href="javascript:alert(2)">x</a></p>',
        "sessions": [{"starts_at": "2027-03-01T09:30:00+00:00", "ends_at": "2027-03-01T16:30:00+00:00"}],
        "ticket_types": [{"name": "Free", "price_pence": 0}],
    }
    created = client.post("/api/v1/events", json=body, headers=bearer(token))
    assert created.status_code == 201, created.get_json()
    description = created.get_json()["description"]
    assert "<script" not in description and "javascript:" not in description and "Hello" in description
    plain = client.patch(
        f"/api/v1/events/{created.get_json()['id']}",
        json={"description": "Bring <laptop> & charger"},
        headers=bearer(token),
    )
    assert plain.get_json()["description"] == "Bring <laptop> & charger"  # plain text is kept as typed
