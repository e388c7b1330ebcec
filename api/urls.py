"""
/api/: the REST API (v1), its schema and docs, and the page where members manage tokens.

The API authenticates by token, not by session: its views are exempt from the session login
redirect (they refuse a request without a valid token with 401 themselves).
"""

from django.contrib.auth.decorators import login_not_required
from django.urls import path, re_path

from . import pages, problems, tus, views
from .docs import DocsView, SchemaView

app_name = "api"

ITEM = {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
COLLECTION = {"get": "list", "post": "create"}
READ_ITEM = {"get": "retrieve"}
READ_COLLECTION = {"get": "list"}

D = "v1/dossiers/<str:reference>"

v1 = [
    path("v1/regimes/", views.RegimeViewSet.as_view(READ_COLLECTION), name="regime-list"),
    path("v1/regimes/<str:key>/", views.RegimeViewSet.as_view(READ_ITEM), name="regime-detail"),
    path("v1/categories/", views.CategoryViewSet.as_view(READ_COLLECTION), name="category-list"),
    path("v1/roles/", views.RoleViewSet.as_view(READ_COLLECTION), name="role-list"),
    path("v1/dossiers/", views.DossierViewSet.as_view(COLLECTION), name="dossier-list"),
    path(
        f"{D}/",
        views.DossierViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update"}
        ),
        name="dossier-detail",
    ),
    path(f"{D}/submit/", views.DossierViewSet.as_view({"post": "submit"}), name="dossier-submit"),
    path(
        f"{D}/withdraw/",
        views.DossierViewSet.as_view({"post": "withdraw"}),
        name="dossier-withdraw",
    ),
    path(
        f"{D}/completeness/",
        views.DossierViewSet.as_view({"get": "completeness"}),
        name="dossier-completeness",
    ),
    path(f"{D}/subjects/", views.SubjectViewSet.as_view(COLLECTION), name="subject-list"),
    path(f"{D}/subjects/<int:pk>/", views.SubjectViewSet.as_view(ITEM), name="subject-detail"),
    path(f"{D}/incidents/", views.IncidentViewSet.as_view(COLLECTION), name="incident-list"),
    path(f"{D}/incidents/<int:pk>/", views.IncidentViewSet.as_view(ITEM), name="incident-detail"),
    path(f"{D}/sources/", views.SourceViewSet.as_view(COLLECTION), name="source-list"),
    path(f"{D}/sources/<int:pk>/", views.SourceViewSet.as_view(ITEM), name="source-detail"),
    path(f"{D}/evidence/", views.EvidenceViewSet.as_view(COLLECTION), name="evidence-list"),
    path(
        f"{D}/evidence/upload/",
        views.EvidenceViewSet.as_view({"post": "upload"}),
        name="evidence-upload",
    ),
    path(f"{D}/evidence/<int:pk>/", views.EvidenceViewSet.as_view(ITEM), name="evidence-detail"),
    path(
        f"{D}/evidence/<int:pk>/file/",
        views.EvidenceViewSet.as_view({"get": "download"}),
        name="evidence-file",
    ),
    path(f"{D}/uploads/", tus.UploadCreateView.as_view(), name="upload-list"),
    path(f"{D}/uploads/<uuid:pk>/", tus.UploadView.as_view(), name="upload-detail"),
    path(f"{D}/checklist/", views.ChecklistViewSet.as_view({"get": "list"}), name="checklist"),
    path(
        f"{D}/checklist/<str:regime>/",
        views.ChecklistViewSet.as_view({"put": "answer"}),
        name="checklist-answer",
    ),
    path(
        f"{D}/requests/",
        views.InformationRequestViewSet.as_view(READ_COLLECTION),
        name="request-list",
    ),
    path(
        f"{D}/requests/<int:pk>/",
        views.InformationRequestViewSet.as_view(READ_ITEM),
        name="request-detail",
    ),
    path(
        f"{D}/requests/<int:pk>/reply/",
        views.InformationRequestViewSet.as_view({"post": "reply"}),
        name="request-reply",
    ),
    path(f"{D}/ftm/", views.FtmView.as_view(), name="dossier-ftm"),
    path("schema/", SchemaView.as_view(), name="schema"),
    re_path(r"^[\s\S]*$", problems.not_found, name="not-found"),  # newlines too
]
for pattern in v1:
    pattern.callback = login_not_required(pattern.callback)

urlpatterns = [
    path("tokens/", pages.token_list, name="token-list"),
    path("tokens/<int:pk>/revoke/", pages.token_revoke, name="token-revoke"),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
    *v1,
]
