"""Accounts: creating users and admins, signing in, passwords, API tokens.

The rules this module owns:
- Nobody learns from us whether an address has an account: registering a
  taken address, signing in with an unknown one and asking to reset its
  password all answer exactly as they would for any other address (the
  holder of a taken address is emailed instead).
- Sign-in failures are limited per account and per network address, in the
  database, so the limits hold across processes and hosts.
- Passwords follow the NCSC: at least 12 characters, not a common password,
  not the email address; stored only as Argon2id hashes.
- Changing or resetting a password ends every other session and remember-me
  cookie (the session id carries `session_epoch`).
- API tokens are shown once and stored only as SHA-256 hashes.
Every change writes an audit record, and every email goes to the outbox, in
the same transaction.
"""

from bookings.accounts.services.api_tokens import (
    TOKEN_LAST_USED_RESOLUTION,
    authenticate_api_token,
    create_api_token,
    get_api_token,
    list_api_tokens,
    revoke_api_token,
)
from bookings.accounts.services.helpers import _user_by_email as _user_by_email
from bookings.accounts.services.registration import TAKEN_ADDRESS_EMAILS_PER_HOUR, create_admin, register_user
from bookings.accounts.services.resets import (
    RESET_MAX_PER_ADDRESS,
    RESET_MAX_PER_EMAIL,
    RESET_SALT,
    RESET_WINDOW,
    InvalidResetLink,
    change_password,
    check_reset_token,
    make_reset_token,
    request_password_reset,
    reset_password,
)
from bookings.accounts.services.signing_in import SIGN_IN_FAILED, authenticate

__all__ = [
    "RESET_MAX_PER_ADDRESS",
    "RESET_MAX_PER_EMAIL",
    "RESET_SALT",
    "RESET_WINDOW",
    "SIGN_IN_FAILED",
    "TAKEN_ADDRESS_EMAILS_PER_HOUR",
    "TOKEN_LAST_USED_RESOLUTION",
    "InvalidResetLink",
    "authenticate",
    "authenticate_api_token",
    "change_password",
    "check_reset_token",
    "create_admin",
    "create_api_token",
    "get_api_token",
    "list_api_tokens",
    "make_reset_token",
    "register_user",
    "request_password_reset",
    "reset_password",
    "revoke_api_token",
]
