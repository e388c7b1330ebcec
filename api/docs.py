"""The OpenAPI schema and the interactive docs, served from the portal's own static files."""

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import permissions

from .authentication import ApiTokenAuthentication


class TokenOrSignedIn(permissions.BasePermission):
    """A valid API token, or a portal session that passed sign-in (and its second factor)."""

    def has_permission(self, request, view) -> bool:
        return request.user.is_authenticated or view.session_user.is_authenticated


class SessionUserMixin:
    def initialize_request(self, request, *args, **kwargs):
        # DRF replaces request.user with the token's user (or nobody): keep the session's.
        self.session_user = getattr(request, "user", None) or AnonymousUser()
        return super().initialize_request(request, *args, **kwargs)


class SchemaView(SessionUserMixin, SpectacularAPIView):
    """The OpenAPI 3 schema, generated from the code."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [TokenOrSignedIn]


class DocsView(SessionUserMixin, SpectacularSwaggerSplitView):
    """
    Swagger UI for signed-in users. The split view serves its start-up script as a file of
    its own, so the strict Content-Security-Policy (no inline script) holds.
    """

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    template_name = "api/swagger_ui.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        # DRF exempts its views from LoginRequiredMiddleware: this page is for signed-in users.
        if not self.session_user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().get(request, *args, **kwargs)


PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
    },
    "required": ["type", "title", "status"],
    "additionalProperties": True,
}


def add_problem_responses(result, generator, request, public):
    """Document the problem details every operation may answer with (4XX, 5XX)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    reference = {
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    }
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("4XX", {"description": "A problem with the request", **reference})
            responses.setdefault("5XX", {"description": "A problem on the server", **reference})
    return result
