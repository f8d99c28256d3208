"""Password hashes for `screening serve` accounts: scrypt (memory-hard, in the standard library).

n=2**15, r=8, p=1 takes 32 MiB and about 0.1 s per guess on the development machine, so a
stolen state database is slow to attack; the parameters are stored with each hash, so they
can be raised later without invalidating existing accounts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

N, R, P = 2 ** 15, 8, 1
_MAXMEM = 64 * 1024 * 1024
MIN_LENGTH = 10
MAX_LENGTH = 1024  # a KDF over megabytes of "password" is a denial of service, not a password


class PasswordError(ValueError):
    """A password that cannot be used; the message says why."""


def check_new(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordError(f"a password may have at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    check_new(password)
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=N, r=R, p=P, maxmem=_MAXMEM, dklen=32)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def verify(password: str, stored: str) -> bool:
    """Whether `password` matches the stored hash (constant-time compare; never raises)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt" or len(password) > MAX_LENGTH:
            return False
        got = hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=bytes.fromhex(salt), n=int(n),
                             r=int(r), p=int(p), maxmem=_MAXMEM, dklen=len(digest) // 2)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got.hex(), digest)


# Compared against when the account does not exist, so a wrong name costs the same time as a
# wrong password (the response time does not tell which names exist).
DUMMY = f"scrypt${N}${R}${P}${'00' * 16}${'00' * 32}"
