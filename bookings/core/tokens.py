"""Unguessable references and tokens, and how tokens are stored (hashed)."""

from __future__ import annotations

import hashlib
import secrets

# No 0/O, 1/I/L: references are read out over the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_LENGTH = 8


def new_reference(prefix: str = "BK") -> str:
    """A booking reference such as BK-7Q4M2XKD (about 40 bits of randomness)."""
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{prefix}-{body}"


def new_token() -> str:
    """A URL-safe secret of 256 bits."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256: high-entropy secrets need no slow KDF."""
    return hashlib.sha256(token.encode()).hexdigest()
