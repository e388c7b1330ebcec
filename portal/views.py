from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health


@login_not_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Say whether the database, the broker and the storage answer: 200 if all do, else 503."""
    results = health.run_checks()
    failing = [name for name, ok in results.items() if not ok]
    body = {
        "status": "error" if failing else "ok",
        "checks": {name: "ok" if ok else "error" for name, ok in results.items()},
        "failing": failing,
    }
    return JsonResponse(body, status=503 if failing else 200)
