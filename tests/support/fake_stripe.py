"""A fake Stripe for tests: localstripe, extended with Checkout Sessions, run in its own process.

localstripe (PyPI) keeps customers, payment methods, payment intents, charges
and refunds. This module adds what it lacks and what our tests need:

- `POST /v1/checkout/sessions` (mode `payment`, `line_items[].price_data`,
  `client_reference_id`, `metadata`, `customer_email`, `success_url`,
  `cancel_url`, `expires_at` 30 min..24 h ahead, `payment_intent_data.metadata`),
  `GET /v1/checkout/sessions/<id>`, `POST /v1/checkout/sessions/<id>/expire`;
- the `Idempotency-Key` header on every `POST /v1/...`: the same key answers
  the first (successful) response again; the same key with other parameters
  is refused with 400 `idempotency_error`, as Stripe does;
- refunds that cannot exceed what is left of the charge, a `charge.refunded`
  event, and injectable refund failures (`POST /_test/refunds/fail-next`);
- a hosted payment page at `GET /pay/<session id>` (a form with Pay and Cancel,
  for browser journeys) and `POST /_test/checkout/sessions/<id>/pay`, which plays
  the customer paying: a confirmed PaymentIntent made with localstripe's own API
  (so refunds work against it), the session `complete`/`paid`, and
  `checkout.session.completed` delivered before the call returns
  (`POST /_test/checkout/sessions/<id>/expire` likewise for expiry);
- webhook delivery of our own. localstripe signs its deliveries correctly
  (HMAC-SHA256 of "t.body", `t=...,v1=...`) but with the event's creation
  time as `t`, about 1 s late and in no fixed order. Here every event is
  recorded, delivered at once (in the background for API calls, as Stripe
  does; before answering for the test routes) and in order, signed at delivery time (so a
  redelivery an hour later still verifies), and can be held back, delivered
  in a chosen order, or delivered again (`/_test/webhooks/hold`,
  `/_test/events/deliver`, `/_test/webhooks/release`).

Endpoints are registered with localstripe's own `POST /_config/webhooks/<id>`
(form fields `url`, `secret`, optional `events[]`).

In tests use the `fake_stripe` fixture (tests/fixtures_components.py), a
`FakeStripe` controller; the server itself runs as
`python -m tests.support.fake_stripe --fd N` on a socket bound by the controller.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 120  # only a bound: on a loaded 2-core machine an import can take many seconds
PARENT_CHECK_SECONDS = 1
MIN_EXPIRY_SECONDS = 30 * 60
MAX_EXPIRY_SECONDS = 24 * 60 * 60
TEST_CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
CHECKOUT_PARAMS = {
    "mode",
    "line_items",
    "client_reference_id",
    "metadata",
    "customer_email",
    "success_url",
    "cancel_url",
    "expires_at",
    "payment_method_types",
    "payment_intent_data",
    "locale",
    "submit_type",
    "expand",
}


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header value for `payload`: `t=<unix time>,v1=<HMAC-SHA256 of "t.payload">`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


# ---------------------------------------------------------------------------
# The server (runs in its own process; imports localstripe and aiohttp only there)
# ---------------------------------------------------------------------------


@dataclass
class _State:
    events: list[str] = field(default_factory=list)  # event ids in creation order
    undelivered: list[str] = field(default_factory=list)
    deliveries: list[dict] = field(default_factory=list)
    hold: bool = False
    refund_failures: list[dict] = field(default_factory=list)
    idempotency: dict[tuple[str, str], dict] = field(default_factory=dict)


def build_server_app():
    import asyncio

    import aiohttp
    import stripe
    from aiohttp import web
    from localstripe import resources, server, webhooks
    from localstripe.errors import UserError
    from localstripe.resources import Charge, Event, PaymentIntent, PaymentMethod, Refund, StripeObject, store

    state = _State()
    delivery_lock = asyncio.Lock()
    pending_tasks: set = set()
    store.dump_to_disk = lambda: None  # no shared /tmp/localstripe.pickle: each fake keeps its state in memory

    def error(status: int, message: str, *, code: str | None = None, type_: str = "invalid_request_error", param=None):
        body = {"error": {"type": type_, "message": message}}
        if code:
            body["error"]["code"] = code
        if param:
            body["error"]["param"] = param
        return web.json_response(body, status=status)

    class _ApiError(UserError):
        def __init__(
            self,
            status: int,
            message: str,
            code: str | None = None,
            type_: str = "invalid_request_error",
            should_retry: bool | None = None,
        ):
            super().__init__(status, message, {"code": code} if code else None)
            self.body["error"]["type"] = type_
            self.should_retry = should_retry

        def to_response(self):
            response = super().to_response()
            if self.should_retry is not None:  # Stripe's advice to its clients; stripe-python obeys it
                response.headers["Stripe-Should-Retry"] = "true" if self.should_retry else "false"
            return response

    class CheckoutSession(StripeObject):
        object = "checkout.session"
        _id_prefix = "cs_test_"

        def __init__(self, *, base_url: str, **params):
            super().__init__()
            line_items = params["line_items"]
            self.mode = "payment"
            self.currency = line_items[0]["price_data"]["currency"]
            self.amount_subtotal = sum(i["price_data"]["unit_amount"] * i["quantity"] for i in line_items)
            self.amount_total = self.amount_subtotal
            self.client_reference_id = params.get("client_reference_id")
            self.customer_email = params.get("customer_email")
            self.customer_details = None
            self.metadata = params.get("metadata") or {}
            self.success_url = params["success_url"]
            self.cancel_url = params.get("cancel_url")
            self.expires_at = params.get("expires_at") or self.created + MAX_EXPIRY_SECONDS
            self.payment_intent = None
            self.payment_status = "unpaid"
            self.status = "open"
            self.url = f"{base_url}/pay/{self.id}"
            self._line_items = line_items
            self._payment_intent_metadata = (params.get("payment_intent_data") or {}).get("metadata") or {}

    def on_event(event) -> None:
        """Replaces localstripe's schedule_webhook: record every event, deliver in order unless held."""
        event.api_version = stripe.api_version
        state.events.append(event.id)
        state.undelivered.append(event.id)
        if not state.hold:
            task = asyncio.ensure_future(flush())
            pending_tasks.add(task)  # keep a reference until it is done
            task.add_done_callback(pending_tasks.discard)

    resources.schedule_webhook = on_event

    async def deliver(event_id: str) -> list[dict]:
        event = Event._api_retrieve(event_id)
        payload = json.dumps(event._export(), indent=2, sort_keys=True).encode()
        results = []
        for endpoint_id, hook in list(webhooks._webhooks.items()):
            if hook.events is not None and event.type not in hook.events:
                continue
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": sign_payload(payload, hook.secret),
            }
            record = {"event_id": event.id, "type": event.type, "endpoint": endpoint_id, "url": hook.url}
            try:
                timeout = aiohttp.ClientTimeout(total=30)
                async with (
                    aiohttp.ClientSession(timeout=timeout) as session,
                    session.post(hook.url, data=payload, headers=headers) as response,
                ):
                    record.update(status=response.status, response=(await response.text())[:500])
            except (aiohttp.ClientError, TimeoutError) as exc:
                record.update(status=None, response=f"{type(exc).__name__}: {exc}")
            state.deliveries.append(record)
            results.append(record)
        return results

    async def flush() -> list[dict]:
        results = []
        async with delivery_lock:
            while state.undelivered and not state.hold:
                results += await deliver(state.undelivered.pop(0))
        return results

    # -- refunds: no over-refund, a charge.refunded event, injectable failures --

    original_refund_create = Refund._api_create

    def refund_create(**data):
        if state.refund_failures:
            failure = state.refund_failures.pop(0)
            raise _ApiError(
                failure["status"], failure["message"], failure["code"], failure["type"], failure["should_retry"]
            )
        charge = None
        if data.get("payment_intent"):
            intent = PaymentIntent._api_retrieve(data["payment_intent"])
            charge = intent.latest_charge
        elif data.get("charge"):
            charge = Charge._api_retrieve(data["charge"])
        if charge is not None:
            remaining = charge.amount - charge.amount_refunded
            amount = int(data.get("amount") or remaining)
            if remaining <= 0:
                raise _ApiError(400, f"Charge {charge.id} has already been refunded.", "charge_already_refunded")
            if amount > remaining:
                raise _ApiError(
                    400,
                    f"Refund amount ({amount}) is greater than unrefunded amount ({remaining}).",
                    "amount_too_large",
                )
        refund = original_refund_create(**data)
        on_event(Event("charge.refunded", Charge._api_retrieve(refund.charge)))
        return refund

    Refund._api_create = staticmethod(refund_create)

    # -- Checkout Sessions ------------------------------------------------------

    def validate_checkout(data: dict) -> dict:
        unknown = sorted(set(data) - CHECKOUT_PARAMS)
        if unknown:
            raise _ApiError(400, f"Received unknown parameter: {unknown[0]}", "parameter_unknown")
        if data.get("mode") != "payment":
            raise _ApiError(400, "Only mode=payment is supported by the fake.", "parameter_invalid_string")
        if not data.get("success_url"):
            raise _ApiError(400, "Missing required param: success_url.", "parameter_missing")
        items = data.get("line_items")
        if not isinstance(items, list) or not items:
            raise _ApiError(400, "Missing required param: line_items.", "parameter_missing")
        clean = []
        for item in items:
            try:
                price = item["price_data"]
                clean.append(
                    {
                        "price_data": {
                            "currency": str(price["currency"]).lower(),
                            "unit_amount": int(price["unit_amount"]),
                            "product_data": {"name": str(price["product_data"]["name"])},
                        },
                        "quantity": int(item["quantity"]),
                    }
                )
            except (KeyError, TypeError, ValueError):
                raise _ApiError(
                    400,
                    "Each line item needs price_data (currency, unit_amount, product_data.name) and quantity.",
                    "parameter_invalid",
                )
        for item in clean:
            if item["price_data"]["unit_amount"] < 0 or item["quantity"] < 1:
                raise _ApiError(400, "Invalid unit_amount or quantity.", "parameter_invalid_integer")
        if len({i["price_data"]["currency"] for i in clean}) != 1:
            raise _ApiError(400, "All line items must share one currency.", "parameter_invalid")
        params = dict(data, line_items=clean)
        if data.get("expires_at") is not None:
            try:
                expires_at = int(data["expires_at"])
            except (TypeError, ValueError):
                raise _ApiError(400, "Invalid integer: expires_at", "parameter_invalid_integer")
            ahead = expires_at - int(time.time())
            if not MIN_EXPIRY_SECONDS <= ahead <= MAX_EXPIRY_SECONDS:
                raise _ApiError(
                    400,
                    "The `expires_at` timestamp must be between 30 minutes and 24 hours "
                    "from Checkout Session creation.",
                    "parameter_invalid_integer",
                )
            params["expires_at"] = expires_at
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise _ApiError(400, "Invalid object: metadata", "parameter_invalid")
        return params

    async def post_data(request) -> dict:
        return await server.get_post_data(request) or {}

    def base_url(request) -> str:
        return f"{request.scheme}://{request.host}"

    async def create_session(request):
        data = await post_data(request)
        data.pop("expand", None)
        session = CheckoutSession(base_url=base_url(request), **validate_checkout(data))
        return server.json_response(session._export())

    async def retrieve_session(request):
        return server.json_response(CheckoutSession._api_retrieve(request.match_info["id"])._export())

    def do_expire(session) -> None:
        if session.status != "open":
            raise _ApiError(
                400, f"Only Checkout Sessions with a status in [open] can be expired; this one is {session.status}."
            )
        session.status = "expired"
        on_event(Event("checkout.session.expired", session))

    async def expire_session(request):
        session = CheckoutSession._api_retrieve(request.match_info["id"])
        do_expire(session)
        return server.json_response(session._export())

    def do_pay(session) -> None:
        if session.status != "open":
            raise _ApiError(400, f"This Checkout Session is {session.status}; it cannot be paid.")
        if int(time.time()) >= session.expires_at:
            raise _ApiError(400, "This Checkout Session has expired.")
        method = PaymentMethod._api_create(type="card", card=dict(TEST_CARD))
        intent = PaymentIntent._api_create(
            amount=session.amount_total,
            currency=session.currency,
            payment_method=method.id,
            metadata=dict(session._payment_intent_metadata),
            confirm=True,
        )
        session.payment_intent = intent.id
        session.status = "complete"
        session.payment_status = "paid"
        session.customer_details = {"email": session.customer_email or "payer@example.org", "name": "Test Payer"}
        on_event(Event("checkout.session.completed", session))

    async def test_expire_session(request):
        session = CheckoutSession._api_retrieve(request.match_info["id"])
        do_expire(session)
        await flush()
        return server.json_response(session._export())

    async def test_flush(_request):
        return web.json_response(await flush())

    async def test_pay_session(request):
        session = CheckoutSession._api_retrieve(request.match_info["id"])
        first_new_event = len(state.events)
        do_pay(session)
        new_events = set(state.events[first_new_event:])
        await flush()
        deliveries = [d for d in state.deliveries if d["event_id"] in new_events]
        return server.json_response({"session": session._export(), "deliveries": deliveries})

    # -- the hosted payment page (no API key: the customer's browser opens it) --

    def hosted_page(session) -> str:
        lines = "".join(
            f"<li>{i['quantity']} &times; {i['price_data']['product_data']['name']}</li>" for i in session._line_items
        )
        amount = f"{session.amount_total / 100:.2f} {session.currency.upper()}"
        return (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Fake Stripe Checkout</title></head>"
            f"<body><main><h1>Pay {amount}</h1><ul>{lines}</ul>"
            f"<form method='post'><button name='action' value='pay'>Pay {amount}</button> "
            "<button name='action' value='cancel'>Cancel</button></form></main></body></html>"
        )

    @web.middleware
    async def hosted_middleware(request, handler):
        if not request.path.startswith("/pay/"):
            return await handler(request)
        try:
            session = CheckoutSession._api_retrieve(request.path.removeprefix("/pay/"))
        except UserError:
            return web.Response(status=404, text="No such Checkout Session")
        if request.method == "GET":
            return web.Response(text=hosted_page(session), content_type="text/html")
        form = await request.post()
        if form.get("action") == "cancel":
            raise web.HTTPSeeOther(session.cancel_url or session.success_url)
        try:
            do_pay(session)
        except UserError as exc:
            return web.Response(status=400, text=exc.body["error"]["message"])
        await flush()
        raise web.HTTPSeeOther(session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id))

    # -- Idempotency-Key ------------------------------------------------------------

    @web.middleware
    async def idempotency_middleware(request, handler):
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key or not request.path.startswith("/v1/"):
            return await handler(request)
        body = await request.read()
        fingerprint = f"{request.path} {hashlib.sha256(body).hexdigest()}"
        cache_key = (request.headers.get("Authorization", ""), key)
        saved = state.idempotency.get(cache_key)
        if saved is not None:
            if saved["fingerprint"] != fingerprint:
                return error(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                    type_="idempotency_error",
                )
            return web.Response(
                body=saved["body"],
                status=saved["status"],
                content_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
        response = await handler(request)
        if 200 <= response.status < 300:  # failures are not saved: a retry with the same key runs again
            state.idempotency[cache_key] = {
                "fingerprint": fingerprint,
                "status": response.status,
                "body": response.body,
            }
        return response

    # -- test controls ---------------------------------------------------------------

    async def test_ping(_request):
        return web.json_response({"ok": True})

    async def test_reset(_request):
        store.clear()
        webhooks._webhooks.clear()
        fresh = _State()
        for name in vars(fresh):
            setattr(state, name, getattr(fresh, name))
        return web.json_response({"ok": True})

    async def test_events(_request):
        delivered: dict[str, int] = {}
        for record in state.deliveries:
            delivered[record["event_id"]] = delivered.get(record["event_id"], 0) + 1
        rows = []
        for event_id in state.events:
            event = Event._api_retrieve(event_id)
            rows.append(
                {
                    "id": event.id,
                    "type": event.type,
                    "object_id": event.data["object"].get("id"),
                    "delivered": delivered.get(event.id, 0),
                    "pending": event.id in state.undelivered,
                }
            )
        return web.json_response(rows)

    async def test_event_payload(request):
        event = Event._api_retrieve(request.match_info["id"])
        return web.json_response(event._export())

    async def test_deliveries(_request):
        return web.json_response(state.deliveries)

    async def test_deliver(request):
        ids = (await request.json())["ids"]
        for event_id in ids:
            Event._api_retrieve(event_id)  # 404 for an unknown id before anything is sent
        results = []
        async with delivery_lock:
            for event_id in ids:
                if event_id in state.undelivered:
                    state.undelivered.remove(event_id)
                results += await deliver(event_id)
        return web.json_response(results)

    async def test_hold(_request):
        state.hold = True
        return web.json_response({"ok": True})

    async def test_release(_request):
        state.hold = False
        return web.json_response(await flush())

    async def test_fail_next_refund(request):
        body = await request.read()  # cached: localstripe's auth middleware has read it already
        data = json.loads(body) if body else {}
        failure = {
            "status": int(data.get("status", 500)),
            "code": data.get("code", "api_error"),
            "type": data.get("type", "api_error"),
            "message": data.get("message", "The refund could not be made (injected failure)."),
            "should_retry": data.get("should_retry", False),
        }
        state.refund_failures.extend([failure] * int(data.get("times", 1)))
        return web.json_response({"queued": len(state.refund_failures)})

    app = server.app
    app.middlewares.insert(0, idempotency_middleware)
    app.middlewares.insert(0, hosted_middleware)
    app.router.add_post("/v1/checkout/sessions", create_session)
    app.router.add_get("/v1/checkout/sessions/{id}", retrieve_session)
    app.router.add_post("/v1/checkout/sessions/{id}/expire", expire_session)
    app.router.add_post("/_test/checkout/sessions/{id}/pay", test_pay_session)
    app.router.add_post("/_test/checkout/sessions/{id}/expire", test_expire_session)
    app.router.add_post("/_test/webhooks/flush", test_flush)
    app.router.add_get("/_test/ping", test_ping)
    app.router.add_post("/_test/reset", test_reset)
    app.router.add_get("/_test/events", test_events)
    app.router.add_get("/_test/events/{id}", test_event_payload)
    app.router.add_get("/_test/deliveries", test_deliveries)
    app.router.add_post("/_test/events/deliver", test_deliver)
    app.router.add_post("/_test/webhooks/hold", test_hold)
    app.router.add_post("/_test/webhooks/release", test_release)
    app.router.add_post("/_test/refunds/fail-next", test_fail_next_refund)
    return app


def _exit_when_orphaned(parent_pid: int):
    """An aiohttp startup hook: end this process when the test process that started it is gone.

    A test runner killed without clean-up (a `timeout`, SIGKILL) cannot stop its
    fake; this keeps such fakes from outliving it.
    """
    import asyncio

    async def watch():
        while True:
            await asyncio.sleep(PARENT_CHECK_SECONDS)
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(0)

    async def on_startup(app):
        app["parent_watch"] = asyncio.ensure_future(watch())

    return on_startup


def _serve(fd: int, parent_pid: int | None) -> None:
    from aiohttp import web

    app = build_server_app()
    if parent_pid:
        app.on_startup.append(_exit_when_orphaned(parent_pid))
    sock = socket.socket(fileno=fd)
    web.run_app(app, sock=sock, print=None, access_log=None)


# ---------------------------------------------------------------------------
# The controller (runs in the test process)
# ---------------------------------------------------------------------------


class FakeStripeError(RuntimeError):
    pass


class FakeStripe:
    """Starts the fake in its own process and drives its test controls over HTTP."""

    def __init__(self):
        self.secret_key = f"sk_test_fake{secrets.token_hex(8)}"
        self.webhook_secret = f"whsec_fake{secrets.token_hex(16)}"
        self.host = "127.0.0.1"
        self.port: int | None = None
        self._process: subprocess.Popen | None = None
        self._socket: socket.socket | None = None
        self._http = requests.Session()
        self._http.headers["Authorization"] = f"Bearer {self.secret_key}"

    @property
    def api_base(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> FakeStripe:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        sock.listen(128)
        sock.set_inheritable(True)
        self._socket = sock
        self.port = sock.getsockname()[1]
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.fake_stripe",
                "--fd",
                str(sock.fileno()),
                "--parent-pid",
                str(os.getpid()),
            ],
            cwd=PROJECT_ROOT,
            pass_fds=(sock.fileno(),),
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            self._wait_until_answering()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if self._process.poll() is not None:
                stderr = self._process.stderr.read().decode(errors="replace")
                raise FakeStripeError(f"the fake Stripe exited with {self._process.returncode}:\n{stderr}")
            try:
                # The socket listens from the start: a slow start shows as a read timeout, not a refusal.
                if self._http.get(f"{self.api_base}/_test/ping", timeout=5).ok:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise FakeStripeError(f"the fake Stripe did not answer within {START_TIMEOUT_SECONDS}s")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            process.stderr.close()
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._http.close()

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- plumbing -----------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs):
        response = self._http.request(method, f"{self.api_base}{path}", timeout=60, **kwargs)
        if not response.ok:
            raise FakeStripeError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response.json()

    def client(self):
        """A real `stripe.StripeClient` pointed at the fake (no retries)."""
        import stripe

        return stripe.StripeClient(self.secret_key, base_addresses={"api": self.api_base}, max_network_retries=0)

    def app_config(self) -> dict:
        """The app settings that point Bookings at this fake."""
        return {
            "STRIPE_SECRET_KEY": self.secret_key,
            "STRIPE_PUBLISHABLE_KEY": "pk_test_fake",
            "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
            "STRIPE_API_BASE": self.api_base,
        }

    def reset(self) -> None:
        """Forget every object, event, endpoint and injected failure."""
        self._call("POST", "/_test/reset")

    # -- webhooks -----------------------------------------------------------

    def register_webhook(
        self, url: str, *, events: list[str] | None = None, endpoint_id: str = "app", secret: str | None = None
    ) -> None:
        """Send events to `url`, signed with `webhook_secret` or `secret` (localstripe's /_config/webhooks)."""
        data: dict = {"url": url, "secret": secret or self.webhook_secret}
        if events is not None:
            data["events[]"] = events
        response = self._http.post(f"{self.api_base}/_config/webhooks/{endpoint_id}", data=data, timeout=10)
        if not response.ok:
            raise FakeStripeError(f"registering the webhook failed: {response.status_code} {response.text}")

    def sign(self, payload: bytes, *, timestamp: int | None = None, secret: str | None = None) -> str:
        """A Stripe-Signature header for `payload` (for posting through the Flask test client)."""
        return sign_payload(payload, secret or self.webhook_secret, timestamp)

    def event_payload(self, event_id: str) -> bytes:
        """The stored event as the JSON body a delivery carries."""
        return json.dumps(self._call("GET", f"/_test/events/{event_id}"), indent=2, sort_keys=True).encode()

    def events(self, type: str | None = None) -> list[dict]:
        """Every event so far, oldest first: id, type, object_id, delivered (count), pending."""
        rows = self._call("GET", "/_test/events")
        return [row for row in rows if type is None or row["type"] == type]

    def deliveries(self) -> list[dict]:
        """Every delivery attempt so far: event_id, type, endpoint, url, status (None: no answer), response."""
        return self._call("GET", "/_test/deliveries")

    def hold_webhooks(self) -> None:
        """Record new events without delivering them (deliver later, in any order)."""
        self._call("POST", "/_test/webhooks/hold")

    def flush_webhooks(self) -> list[dict]:
        """Deliver every event still waiting (unless held) and return those deliveries.

        Events raised by API calls (an expire or refund the app asked for) are
        delivered in the background, as Stripe does; call this to be sure they
        have arrived before looking.
        """
        return self._call("POST", "/_test/webhooks/flush")

    def release_webhooks(self) -> list[dict]:
        """Stop holding and deliver what waits, oldest first."""
        return self._call("POST", "/_test/webhooks/release")

    def deliver(self, event_ids: list[str]) -> list[dict]:
        """Deliver these events now, in this order (again, if they were delivered before)."""
        return self._call("POST", "/_test/events/deliver", json={"ids": list(event_ids)})

    def redeliver(self, event_id: str) -> list[dict]:
        """Deliver a stored event again (a duplicate delivery, as Stripe may make)."""
        return self.deliver([event_id])

    # -- checkout and refunds -------------------------------------------------

    def session(self, session_id: str) -> dict:
        return self._call("GET", f"/v1/checkout/sessions/{session_id}")

    def pay(self, session_id: str) -> dict:
        """Play the customer paying on the hosted page; returns the session. Webhooks are delivered on return."""
        return self._call("POST", f"/_test/checkout/sessions/{session_id}/pay")["session"]

    def expire(self, session_id: str) -> dict:
        """Expire an open session as Stripe does at expires_at; checkout.session.expired is delivered on return."""
        return self._call("POST", f"/_test/checkout/sessions/{session_id}/expire")

    def fail_next_refund(
        self,
        *,
        status: int = 500,
        code: str = "api_error",
        type: str = "api_error",
        message: str | None = None,
        times: int = 1,
        should_retry: bool | None = False,
    ) -> None:
        """Make the next `times` refund requests fail with this HTTP status and Stripe error.

        The answer carries `Stripe-Should-Retry: false` (as Stripe's own 500s
        usually do), so stripe-python's automatic retries do not hide the
        failure; pass `should_retry=True` or None to let them retry. Injected
        failures are never remembered by the idempotency layer: a later request
        with the same Idempotency-Key runs again (real Stripe replays a 500 that
        reached execution for 24 hours; it does not replay a request refused
        before execution, such as a rate limit or lock timeout).
        """
        body = {"status": status, "code": code, "type": type, "times": times, "should_retry": should_retry}
        if message:
            body["message"] = message
        self._call("POST", "/_test/refunds/fail-next", json=body)


# ---------------------------------------------------------------------------
# A webhook receiver for testing the fake itself (or any sender)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedWebhook:
    path: str
    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    """A tiny HTTP server in a thread that answers `status` and keeps every POST it gets."""

    def __init__(self, status: int = 200):
        self.status = status
        self.received: list[ReceivedWebhook] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(ReceivedWebhook(self.path, dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/webhooks/stripe"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Serve the fake Stripe on an inherited socket.")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when this process is gone")
    arguments = parser.parse_args()
    _serve(arguments.fd, arguments.parent_pid)
