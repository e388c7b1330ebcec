"""
Receipt codes: the only key a reporter has to their report.

A code is 30 random decimal digits (about 100 bits from `secrets`), shown once in groups of
five; digits, because every phone keyboard has them. The code itself is never stored: a keyed
digest (HMAC of the portal's secret key) finds the report in one indexed lookup, and an scrypt
hash with a per-code salt confirms it. A copy of the database alone therefore opens nothing,
and even with the secret key every guess costs an scrypt.
"""

import hashlib
import hmac
import secrets
import unicodedata

from django.conf import settings
from django.utils.crypto import salted_hmac

DIGITS = 30
GROUP = 5
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def new_code() -> str:
    """Return a fresh code, grouped for reading: '12345 67890 ...'."""
    digits = "".join(secrets.choice("0123456789") for _ in range(DIGITS))
    return " ".join(digits[i : i + GROUP] for i in range(0, DIGITS, GROUP))


def normalise(raw: str) -> str:
    """
    The digits of what the reporter typed: spaces and dashes dropped, full-width, Khmer and
    other scripts' digits read as 0-9. Return '' if it cannot be a code.
    """
    digits = []
    for char in unicodedata.normalize("NFKC", raw or ""):
        if char.isspace() or char in "-.":
            continue
        value = unicodedata.digit(char, None)
        if value is None:
            return ""
        digits.append(str(value))
    code = "".join(digits)
    return code if len(code) == DIGITS else ""


def _lookup(code: str, secret: str) -> str:
    return salted_hmac("intake.receipt-lookup", code, secret=secret, algorithm="sha256").hexdigest()


def lookup_digest(code: str) -> str:
    """The digest a new report is stored under (current secret key)."""
    return _lookup(normalise(code), settings.SECRET_KEY)


def lookup_candidates(code: str) -> list[str]:
    """Digests under the current and the previous secret keys (SECRET_KEY_FALLBACKS)."""
    code = normalise(code)
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [_lookup(code, key) for key in keys]


def slow_hash(code: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        normalise(code).encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check(code: str, stored: str) -> bool:
    """Whether `code` matches the stored slow hash (in constant time)."""
    try:
        _name, n, r, p, salt, expected = stored.split("$")
        digest = hashlib.scrypt(
            normalise(code).encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=32,
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), expected)
