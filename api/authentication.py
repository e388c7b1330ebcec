"""
Token authentication, scopes and per-token rate limits. The API accepts nothing else: no
session cookie, hence no cross-site request forgery to defend against.
"""

import math
import uuid

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, permissions, throttling
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from . import services


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer mag_…`: a personal token created on the portal's token page."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the token as: Bearer <token>."))
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("This token is not valid.")) from None
        token = services.find_token(raw)
        if token is None:
            raise exceptions.AuthenticationFailed(
                _("This token is not valid: it may have expired or been revoked.")
            )
        services.mark_token_used(token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class TokenScope(permissions.BasePermission):
    """A token authenticates; reading needs any scope, changing anything needs "write"."""

    message = _("This token may only read: create a token with the write scope to file.")

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if token is None or not request.user.is_authenticated:
            return False
        return request.method in permissions.SAFE_METHODS or token.can_write


# A sliding window per token, counted in Redis by one script: read, decide and record in one
# atomic step, so that concurrent requests on any number of web processes share one budget
# (DRF's own throttle reads the history, then writes it back: two processes lose each other's
# counts). The time is Redis's own, the same for every machine. Returns -1 when the request is
# allowed, else the milliseconds until the oldest counted request leaves the window.
SLIDING_WINDOW = """
local key, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
    redis.call('ZADD', key, now, member)
    redis.call('PEXPIRE', key, math.ceil(window / 1000))
    return -1
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return math.ceil((tonumber(oldest[2]) + window - now) / 1000)
"""


class TokenRateThrottle(throttling.SimpleRateThrottle):
    """
    At most API_TOKEN_RATE requests per token (e.g. "600/minute"), counted in the
    "api-throttle" cache: Redis when REDIS_URL is set (one budget for every process), else
    the process's memory (development: one process).
    """

    scope = "api_token"

    def __init__(self):
        self.cache = caches["api-throttle"]
        self.retry_after = None
        super().__init__()

    def get_rate(self) -> str:
        return settings.API_TOKEN_RATE

    def get_cache_key(self, request, view) -> str | None:
        if request.auth is None:
            return None  # refused anyway, by authentication
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}

    def allow_request(self, request, view) -> bool:
        if not isinstance(self.cache, RedisCache):
            return super().allow_request(request, view)
        if self.rate is None or (key := self.get_cache_key(request, view)) is None:
            return True
        key = self.cache.make_and_validate_key(key)
        client = self.cache._cache.get_client(key, write=True)
        wait_ms = client.register_script(SLIDING_WINDOW)(
            keys=[key], args=[self.duration * 1_000_000, self.num_requests, uuid.uuid4().hex]
        )
        if wait_ms < 0:
            return True
        self.retry_after = max(1, math.ceil(wait_ms / 1000))
        return False

    def wait(self) -> float | None:
        if self.retry_after is not None:
            return self.retry_after
        return super().wait()


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describe the token in the OpenAPI schema."""

    target_class = ApiTokenAuthentication
    name = "token"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal token from /api/tokens/ (mag_…).",
        }
