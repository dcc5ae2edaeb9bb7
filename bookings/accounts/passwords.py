"""Password hashing with Argon2id (OWASP's first choice), and the password rules (NCSC: length over complexity)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256

# OWASP's second Argon2id configuration (19 MiB, 2 passes, 1 lane) rather than argon2-cffi's default 64 MiB:
# every sign-in allocates this much, so a worker with four threads peaks at 4 x 19 MiB above its base
# instead of 4 x 64 MiB (docs/performance.md). Hashes made with the old parameters still verify, and are
# re-hashed at the next sign-in (needs_rehash).
_default = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# The test suite hashes thousands of passwords; cheap parameters keep it fast. Never used outside TESTING.
_fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _hasher() -> PasswordHasher:
    if has_app_context() and current_app.config.get("PASSWORD_HASH_FAST") and current_app.testing:
        return _fast
    return _default


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _default.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


@cache
def dummy_hash() -> str:
    """A hash to verify against when the account does not exist, so timing does not reveal it.

    Made on first use rather than at import, so a worker that never signs anyone in never pays for it."""
    return _default.hash("not-a-real-password-just-for-timing")
