"""
Errors as RFC 9457 problem details (`application/problem+json`), for every error the API
gives: a type, a title, the status, a human-readable detail and, for invalid input, the
messages per field.
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from submissions import services as filing

from .services import UploadConflict

log = logging.getLogger(__name__)
security_log = logging.getLogger("django.security.api")

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/api/docs/#problem-"


def problem(status_code: int, kind: str, title: str, detail: str = "", **extra) -> dict:
    body = {"type": f"{TYPE_BASE}{kind}", "title": title, "status": status_code}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return body


def _messages(error: DjangoValidationError) -> tuple[str, dict]:
    if hasattr(error, "error_dict"):
        errors = {field: [str(m) for m in ms] for field, ms in error.message_dict.items()}
        return " ".join(m for ms in errors.values() for m in ms), errors
    return " ".join(str(m) for m in error.messages), {}


def _flatten(detail) -> str:
    if isinstance(detail, dict):
        return " ".join(_flatten(value) for value in detail.values())
    if isinstance(detail, list):
        return " ".join(_flatten(value) for value in detail)
    return str(detail)


def translate(exc: Exception) -> tuple[int, dict, dict] | None:
    """Return (status, body, headers) for an exception the API knows, or None."""
    if isinstance(exc, Http404 | exceptions.NotFound):
        return 404, problem(404, "not-found", _("Not found."), _("There is nothing here.")), {}
    if isinstance(exc, filing.DuplicateEvidence):
        detail, _errors = _messages(exc)
        body = problem(409, "duplicate", _("Already in the dossier."), detail)
        body["existing_exhibit"] = exc.existing.pk
        return 409, body, {}
    if isinstance(exc, filing.NotEditable):
        return 409, problem(409, "not-editable", _("The dossier cannot change."), str(exc)), {}
    if isinstance(exc, filing.TransitionNotAllowed):
        detail = _("The dossier's status does not allow this.")
        return 409, problem(409, "status", _("Not allowed in this status."), detail), {}
    if isinstance(exc, UploadConflict):
        return 409, problem(409, "upload-offset", _("Upload conflict."), str(exc)), {}
    if isinstance(exc, DjangoValidationError):
        detail, errors = _messages(exc)
        error_code = getattr(exc, "code", None)  # a ValidationError of several fields has none
        kind = "checksum-mismatch" if error_code == "checksum_mismatch" else "invalid"
        code = 413 if error_code == "too_large" else 422 if kind == "checksum-mismatch" else 400
        body = problem(code, kind, _("The request cannot be accepted."), detail)
        if errors:
            body["errors"] = errors
        missing = [
            {"criterion": e.code, "name": e.params["name"], "missing": e.params["missing"]}
            | {"url": e.params["url"]}
            for e in getattr(exc, "error_list", [])
            if e.params and "url" in e.params
        ]
        if missing:  # the submission gate: each open item in words, and where it is fixed
            body["missing"] = missing
        return code, body, {}
    if isinstance(exc, RequestDataTooBig):
        # Django refuses to read a body over DATA_UPLOAD_MAX_MEMORY_SIZE into memory.
        limit = getattr(exc, "limit", None) or settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = _("The request body is larger than %(max)s bytes.") % {"max": limit}
        return 413, problem(413, "too-large", _("The request is too large."), detail), {}
    if isinstance(exc, SuspiciousOperation):
        # Too many form fields or files, and the like: the client's fault, never ours.
        security_log.warning("Refused a suspicious API request: %s", exc)
        detail = _("The request cannot be accepted.")
        return 400, problem(400, "invalid", detail, str(exc)), {}
    if isinstance(exc, DjangoPermissionDenied):
        # A service's refusal of a user who may see the dossier but not change it.
        detail = _("You may not do this.")
        return 403, problem(403, "forbidden", _("Forbidden."), detail), {}
    if isinstance(exc, exceptions.ValidationError):
        body = problem(400, "invalid", _("The request cannot be accepted."), _flatten(exc.detail))
        body["errors"] = exc.detail if isinstance(exc.detail, dict) else {"": exc.detail}
        return 400, body, {}
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        kind = {
            401: "unauthenticated",
            403: "forbidden",
            405: "method",
            406: "not-acceptable",
            415: "media-type",
            429: "rate-limited",
        }.get(exc.status_code, "error")
        title = {401: _("Authentication needed."), 429: _("Too many requests.")}.get(
            exc.status_code, _flatten(exc.detail)
        )
        return exc.status_code, problem(exc.status_code, kind, title, _flatten(exc.detail)), headers
    return None


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error as a problem details body."""
    known = translate(exc)
    if known is None:
        log.exception("API request failed", exc_info=exc)
        code = status.HTTP_500_INTERNAL_SERVER_ERROR
        known = code, problem(code, "server-error", _("Something went wrong on our side.")), {}
    code, body, headers = known
    set_rollback()
    return Response(body, status=code, headers=headers, content_type=MEDIA_TYPE)


@csrf_exempt  # a refusal for any method, with no session involved
def not_found(request, *args, **kwargs):
    """Any /api/ address that names nothing."""
    body = problem(404, "not-found", _("Not found."), _("There is nothing here."))
    return JsonResponse(body, status=404, content_type=MEDIA_TYPE)
