def test_home_page_renders_with_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_api_path_answers_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_checkout_server_is_allowed_as_a_form_target(client, app):
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:12111/v1"
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "form-action 'self' https://checkout.stripe.com http://127.0.0.1:12111;" in csp


def test_a_page_answers_a_method_it_does_not_take_with_405_and_the_allow_header(client):
    response = client.get("/sign-out")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    assert response.mimetype == "text/html"
    assert set(client.put("/api/v1/events").headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
