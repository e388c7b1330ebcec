"""
Counting attempts without keeping who made them.

The client's address is turned into a keyed digest that lives only in the cache, for the
length of the counting window; it is never written to the database or a log. Counts are kept
in Redis when the portal has it (shared by every web process), otherwise in the default cache.
"""

import hashlib
import hmac
from functools import cache

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

WINDOW = 60 * 60  # one hour


@cache
def _cache():
    if settings.REDIS_URL:
        return RedisCache(settings.REDIS_URL, {"KEY_PREFIX": "intake"})
    return caches["default"]


def _client(request) -> str:
    address = request.META.get("REMOTE_ADDR", "")
    if settings.AXES_IPWARE_PROXY_COUNT:  # behind the deployment's own reverse proxy
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            address = forwarded.split(",")[-1].strip()
    key = f"intake.throttle:{settings.SECRET_KEY}".encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


def _count(key: str) -> int:
    return int(_cache().get(key) or 0)


def _bump(key: str) -> None:
    store = _cache()
    store.add(key, 0, timeout=WINDOW)  # the window starts with the first attempt
    try:
        store.incr(key)
    except ValueError:  # expired between add and incr
        store.set(key, 1, timeout=WINDOW)


def code_attempts_allowed(request) -> bool:
    """Whether this client, and the portal as a whole, may still try a receipt code now."""
    return (
        _count(f"code:{_client(request)}") < settings.INTAKE_CODE_FAILURES_PER_CLIENT
        and _count("code:all") < settings.INTAKE_CODE_FAILURES_GLOBAL
    )


def record_code_failure(request) -> None:
    _bump(f"code:{_client(request)}")
    _bump("code:all")


def filing_allowed(request) -> bool:
    """Whether this client may file another report in this window."""
    return _count(f"filed:{_client(request)}") < settings.INTAKE_FILINGS_PER_CLIENT


def record_filing(request) -> None:
    _bump(f"filed:{_client(request)}")


def claim_once(name: str, timeout: int) -> bool:
    """True the first time `name` is claimed within `timeout` seconds, False after."""
    return _cache().add(f"once:{name}", 1, timeout=timeout)
