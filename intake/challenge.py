"""
The cost of filing a report or trying a receipt code, served by the portal itself (no
third-party captcha, which would tell another company who reports).

A challenge is an HMAC-signed token (a random nonce, the difficulty, the time it was made).
With JavaScript, the browser finds a counter such that SHA-256("<token>:<counter>") starts
with `bits` zero bits (hashcash): cheap once, expensive by the thousand. Without JavaScript
(Tor Browser's safest mode), the same token carries a small question whose answer only the
portal can check. Either way a token is good once, and for INTAKE_CHALLENGE_MAX_AGE seconds.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from . import throttle

SALT = "intake.challenge"


@dataclass(frozen=True)
class Challenge:
    token: str
    bits: int
    question: str


def _answer_digest(nonce: str, answer: str) -> str:
    key = f"{SALT}:{settings.SECRET_KEY}".encode()
    return hmac.new(key, f"{nonce}:{answer.strip()}".encode(), hashlib.sha256).hexdigest()


def issue() -> Challenge:
    """Make a new challenge for a form."""
    nonce = secrets.token_urlsafe(16)
    a, b = 2 + secrets.randbelow(8), 2 + secrets.randbelow(8)
    bits = settings.INTAKE_POW_BITS
    token = signing.dumps(
        {"n": nonce, "b": bits, "q": _answer_digest(nonce, str(a + b))}, salt=SALT, compress=True
    )
    question = _("To show you are a person: how much is %(a)s plus %(b)s?") % {"a": a, "b": b}
    return Challenge(token=token, bits=bits, question=question)


def leading_zero_bits(digest: bytes) -> int:
    count = 0
    for byte in digest:
        if byte == 0:
            count += 8
            continue
        return count + 8 - byte.bit_length()
    return count


def solves(token: str, counter: str, bits: int) -> bool:
    if not counter or len(counter) > 20 or not counter.isdigit():
        return False
    digest = hashlib.sha256(f"{token}:{counter}".encode()).digest()
    return leading_zero_bits(digest) >= bits


def verify(token: str, *, counter: str = "", answer: str = "") -> bool:
    """Whether the challenge was met (work done or question answered) and not used before."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.INTAKE_CHALLENGE_MAX_AGE)
    except signing.BadSignature:  # also expired ones (SignatureExpired is a BadSignature)
        return False
    met = solves(token, counter, data["b"]) or (
        bool(answer) and hmac.compare_digest(_answer_digest(data["n"], answer), data["q"])
    )
    # Once only: the first use claims the nonce for as long as the token could be valid.
    return met and throttle.claim_once(f"challenge:{data['n']}", settings.INTAKE_CHALLENGE_MAX_AGE)
