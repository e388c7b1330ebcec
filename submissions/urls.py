from django.urls import path

from . import views

app_name = "submissions"

urlpatterns = [
    path("", views.dossier_list, name="dossier-list"),
    path("new/", views.dossier_create, name="dossier-create"),
    path("<str:reference>/", views.dossier_detail, name="dossier-detail"),
    path("<str:reference>/basics/", views.dossier_basics, name="dossier-basics"),
    path("<str:reference>/submit/", views.dossier_submit, name="dossier-submit"),
    path("<str:reference>/receipt/", views.dossier_receipt, name="dossier-receipt"),
    path("<str:reference>/receipt.pdf", views.dossier_receipt_pdf, name="dossier-receipt-pdf"),
    path("<str:reference>/withdraw/", views.dossier_withdraw, name="dossier-withdraw"),
    path("<str:reference>/requests/<int:pk>/reply/", views.request_reply, name="request-reply"),
    path("<str:reference>/subjects/", views.subject_list, name="subject-list"),
    path("<str:reference>/subjects/new/", views.subject_edit, name="subject-create"),
    path("<str:reference>/subjects/<int:pk>/", views.subject_edit, name="subject-edit"),
    path("<str:reference>/subjects/<int:pk>/remove/", views.subject_remove, name="subject-remove"),
    path("<str:reference>/incidents/", views.incident_list, name="incident-list"),
    path("<str:reference>/incidents/new/", views.incident_edit, name="incident-create"),
    path("<str:reference>/incidents/<int:pk>/", views.incident_edit, name="incident-edit"),
    path(
        "<str:reference>/incidents/<int:pk>/remove/",
        views.incident_remove,
        name="incident-remove",
    ),
    path("<str:reference>/sources/", views.source_list, name="source-list"),
    path("<str:reference>/sources/new/", views.source_edit, name="source-create"),
    path("<str:reference>/sources/<int:pk>/", views.source_edit, name="source-edit"),
    path("<str:reference>/sources/<int:pk>/remove/", views.source_remove, name="source-remove"),
    path("<str:reference>/evidence/", views.evidence_list, name="evidence-list"),
    path("<str:reference>/evidence/upload/", views.evidence_upload, name="evidence-upload"),
    path("<str:reference>/evidence/link/", views.evidence_link, name="evidence-link"),
    path("<str:reference>/evidence/<int:pk>/", views.evidence_edit, name="evidence-edit"),
    path(
        "<str:reference>/evidence/<int:pk>/remove/",
        views.evidence_remove,
        name="evidence-remove",
    ),
    path(
        "<str:reference>/evidence/<int:pk>/download/",
        views.evidence_download,
        name="evidence-download",
    ),
    path(
        "<str:reference>/evidence/<int:pk>/thumbnail/",
        views.evidence_thumbnail,
        name="evidence-thumbnail",
    ),
    path("<str:reference>/checklist/", views.checklist, name="checklist"),
    path("<str:reference>/checklist/<str:regime>/", views.checklist, name="checklist"),
]
