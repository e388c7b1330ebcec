"""
Public pages a ministry uses to check a brief without an account: every signing key the portal
has used (/keys/, /keys.json, /keys/certificate.pem) and the standalone verifier (/verify.py).
"""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import signing


@login_not_required
@require_GET
def keys_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "briefs/keys.html",
        {
            "keys": signing.public_keys(),
            "certificate_sha256": signing.certificate_sha256(),
        },
    )


def _file(content: bytes, content_type: str, filename: str | None = None) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_not_required
@require_GET
def keys_json(request: HttpRequest) -> HttpResponse:
    return _file(signing.keys_json(), "application/json", "keys.json")


@login_not_required
@require_GET
def certificate(request: HttpRequest) -> HttpResponse:
    return _file(signing.certificate_pem(), "application/x-pem-file", "portal-signing.pem")


@login_not_required
@require_GET
def verifier(request: HttpRequest, name: str) -> HttpResponse:
    files = signing.verifier_files()
    return _file(files[name], "text/plain; charset=utf-8", name)
