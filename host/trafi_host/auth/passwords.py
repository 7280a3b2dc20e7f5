"""Password hashes: argon2id (argon2-cffi's RFC 9106 defaults), never stored or logged in clear.

A slow, memory-hard hash is right here (unlike API keys, whose 256-bit secrets a
fast hash protects): passwords are chosen by people. A login with an unknown
username hashes too, so the answer takes as long either way.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import TrafiError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # beyond this, a login request is a denial-of-service attempt, not a password

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both answers cost one hash.
_UNKNOWN = _hasher.hash("an unknown user's password is never this")


class WeakPassword(TrafiError):
    """A new password too short or too long."""


def check_new_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters (found {len(password)})")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_LENGTH} characters")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_new_password(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches `stored_hash` (None: an unknown user, always False)."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored_hash or _UNKNOWN, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than this host's: rehash at login."""
    return _hasher.check_needs_rehash(stored_hash)
