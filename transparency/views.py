"""
The public transparency page and its downloads (no login: they read the latest snapshot
only, in one query), and the organisation impact page (members only, their own dossiers).
"""

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import opendata, presentation, services

DOWNLOADS = {
    **{f"{t}.csv": "text/csv; charset=utf-8" for t in [*opendata.TABLES, "organisations"]},
    "snapshot.json": "application/json",
    "datapackage.json": "application/json",
}


@login_not_required
@require_GET
def page(request: HttpRequest) -> HttpResponse:
    """The public statistics, from the latest snapshot (one query), or a note that none exists."""
    snapshot = services.latest_snapshot()
    context = {"snapshot": snapshot, "downloads": sorted(DOWNLOADS)}
    if snapshot is not None:
        context.update(presentation.page_context(snapshot.data))
    return render(request, "transparency/page.html", context)


@login_not_required
@require_GET
def download(request: HttpRequest, name: str) -> HttpResponse:
    """One file of the latest snapshot's data package."""
    if name not in DOWNLOADS:
        raise Http404
    snapshot = services.latest_snapshot()
    if snapshot is None:
        raise Http404
    content = opendata.files(snapshot)[name]
    response = HttpResponse(content, content_type=DOWNLOADS[name])
    stem, _dot, extension = name.rpartition(".")
    filename = f"transparency-{snapshot.data['until']}-{stem}.{extension}"
    if name == "datapackage.json":
        filename = name  # the descriptor names the other files by their plain names
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Access-Control-Allow-Origin"] = "*"  # open data: any site may read it
    return response


@login_not_required
@require_GET
def archive(request: HttpRequest) -> HttpResponse:
    """The latest snapshot's whole data package as a ZIP file."""
    snapshot = services.latest_snapshot()
    if snapshot is None:
        raise Http404
    response = HttpResponse(opendata.archive(snapshot), content_type="application/zip")
    filename = f"transparency-{snapshot.data['until']}.zip"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def impact(request: HttpRequest) -> HttpResponse:
    """What became of the dossiers of the signed-in member's own organisations."""
    return render(request, "transparency/impact.html", services.organisation_impact(request.user))
