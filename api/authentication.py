"""
Token authentication, scopes and per-token rate limits. The API accepts nothing else: no
session cookie, hence no cross-site request forgery to defend against.
"""

from functools import cache

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


@cache
def _throttle_cache():
    # Counts must be shared by every web process: Redis when the portal has it, otherwise
    # the default cache (one process, as in development).
    if settings.REDIS_URL:
        return RedisCache(settings.REDIS_URL, {"KEY_PREFIX": "api-throttle"})
    return caches["default"]


class TokenRateThrottle(throttling.SimpleRateThrottle):
    """At most API_TOKEN_RATE requests per token (e.g. "600/minute")."""

    scope = "api_token"

    def __init__(self):
        self.cache = _throttle_cache()
        super().__init__()

    def get_rate(self) -> str:
        return settings.API_TOKEN_RATE

    def get_cache_key(self, request, view) -> str | None:
        if request.auth is None:
            return None  # refused anyway, by authentication
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}


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
