"""The only code that talks to Stripe. Never called with a database transaction open.

`STRIPE_API_BASE` points the client at a Stripe-compatible server (localstripe
in tests and demo). stripe 16 returns objects, not dicts: we hand back plain
dicts (`to_dict()`) so the rest of the area never depends on the library.
"""

from __future__ import annotations

from typing import Any

import stripe
from flask import current_app

NETWORK_RETRIES = 2


class StripeUnavailable(RuntimeError):
    """Card payment is not configured (no STRIPE_SECRET_KEY)."""


class StripeFailure(Exception):
    """Stripe refused or could not be reached; `message` is safe to show to admins."""

    def __init__(self, message: str, code: str = "", is_retryable: bool = True):
        super().__init__(message)
        self.message = message
        self.code = code
        self.is_retryable = is_retryable


def is_configured() -> bool:
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def client() -> stripe.StripeClient:
    key = current_app.config.get("STRIPE_SECRET_KEY")
    if not key:
        raise StripeUnavailable("Card payment is not set up: STRIPE_SECRET_KEY is empty.")
    base = current_app.config.get("STRIPE_API_BASE")
    if base:
        return stripe.StripeClient(key, base_addresses={"api": base}, max_network_retries=NETWORK_RETRIES)
    return stripe.StripeClient(key, max_network_retries=NETWORK_RETRIES)


def _failure(error: stripe.StripeError) -> StripeFailure:
    retryable = isinstance(error, (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)) or (
        (error.http_status or 0) >= 500
    )
    return StripeFailure(
        message=(error.user_message or str(error) or type(error).__name__)[:500],
        code=error.code or type(error).__name__,
        is_retryable=retryable,
    )


def create_checkout_session(params: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
    try:
        session = client().v1.checkout.sessions.create(params=params, options={"idempotency_key": idempotency_key})
    except stripe.StripeError as error:
        raise _failure(error) from error
    return session.to_dict()


def expire_checkout_session(session_id: str) -> dict[str, Any]:
    try:
        return client().v1.checkout.sessions.expire(session_id).to_dict()
    except stripe.StripeError as error:
        raise _failure(error) from error


def retrieve_checkout_session(session_id: str) -> dict[str, Any]:
    try:
        return client().v1.checkout.sessions.retrieve(session_id).to_dict()
    except stripe.StripeError as error:
        raise _failure(error) from error


def create_refund(
    *, payment_intent: str, amount_pence: int, metadata: dict[str, str], idempotency_key: str
) -> dict[str, Any]:
    try:
        refund = client().v1.refunds.create(
            params={"payment_intent": payment_intent, "amount": amount_pence, "metadata": metadata},
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise _failure(error) from error
    return refund.to_dict()


class BadSignature(ValueError):
    pass


def verify_event(payload: bytes, signature_header: str | None) -> dict[str, Any]:
    """The event, if `payload` is signed with STRIPE_WEBHOOK_SECRET; BadSignature otherwise."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret or not signature_header:
        raise BadSignature("missing secret or signature")
    try:
        event = stripe.Webhook.construct_event(payload, signature_header, secret)
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise BadSignature(str(error)) from error
    return event.to_dict()
