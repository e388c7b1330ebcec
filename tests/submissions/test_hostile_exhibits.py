"""A hostile exhibit downloads under a name that matches what it is, and shows its flag."""

import pytest
from django.urls import reverse

from portal.storage import download_name
from submissions import services
from submissions.models import Evidence
from submissions.uploads import uploaded_from_bytes
from tests.factories import DossierFactory
from tests.submissions import hostile

SCRIPT = b"var shell = new ActiveXObject('WScript.Shell');\nshell.Run('calc.exe');\n"


@pytest.fixture
def dossier(alice, org_a):
    return DossierFactory(organisation=org_a, created_by=alice)


def add(dossier, alice, content: bytes, name: str, callbacks) -> Evidence:
    with callbacks(execute=True):
        evidence = services.attach_evidence_file(
            dossier, by=alice, upload=uploaded_from_bytes(content, name), details={}
        )
    return Evidence.objects.get(pk=evidence.pk)


def test_a_script_accepted_as_text_downloads_as_text(
    client, dossier, alice, django_capture_on_commit_callbacks
):
    evidence = add(dossier, alice, SCRIPT, "statement.pdf.js", django_capture_on_commit_callbacks)
    assert evidence.content_type == "text/plain"
    assert evidence.original_name == "statement.pdf.js"  # the name is kept as data
    client.force_login(alice)

    response = client.get(
        reverse("submissions:evidence-download", args=[dossier.reference, evidence.pk])
    )

    assert response["Content-Disposition"] == 'attachment; filename="statement.pdf.js.txt"'
    assert response["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("name", "detected", "expected"),
    [
        ("statement.pdf.js", "text/plain", "statement.pdf.js.txt"),
        ("invoice.pdf.exe", "application/pdf", "invoice.pdf.exe.pdf"),
        ("report.pdf", "application/pdf", "report.pdf"),
        ("PHOTO.JPEG", "image/jpeg", "PHOTO.JPEG"),
        ("photo.png", "image/jpeg", "photo.png.jpg"),
        ("notes", "text/plain", "notes.txt"),
        ("macro.docm", "application/vnd.openxmlformats-officedocument."
         "wordprocessingml.document", "macro.docm.docx"),
        ("old.bin", "", "old.bin"),
        ("legacy.html", "", "legacy.html.bin"),
        ("", "application/pdf", "exhibit.pdf"),
    ],
)  # fmt: skip
def test_download_names_take_their_extension_from_the_detected_type(name, detected, expected):
    assert download_name(name, detected) == expected


def test_the_api_and_the_review_site_name_downloads_the_same_way(
    client, dossier, alice, lena, django_capture_on_commit_callbacks
):
    from reviews import services as review_services
    from submissions.models import Dossier
    from tests.api.conftest import ApiClient, make_token
    from tests.factories import make_ready_to_submit

    evidence = add(dossier, alice, SCRIPT, "statement.pdf.js", django_capture_on_commit_callbacks)
    api = ApiClient(make_token(alice, "read"))
    response = api.get(f"/api/v1/dossiers/{dossier.reference}/evidence/{evidence.pk}/file/")
    assert response.status_code == 200, response.content
    assert response["Content-Disposition"].endswith('filename="statement.pdf.js.txt"')

    make_ready_to_submit(dossier, alice)
    services.submit_dossier(dossier, by=alice)
    review_services.assign_reviewer(Dossier.objects.get(pk=dossier.pk), lena, by=lena)
    client.force_login(lena)
    response = client.get(
        reverse("admin:submissions_dossier_evidence_download", args=[dossier.pk, evidence.pk])
    )
    assert response["Content-Disposition"].endswith('filename="statement.pdf.js.txt"')


def test_the_ngo_sees_the_flag_where_its_exhibits_are_listed(
    client, dossier, alice, django_capture_on_commit_callbacks
):
    evidence = add(
        dossier,
        alice,
        hostile.pdf_with_open_action(),
        "ruling.pdf",
        django_capture_on_commit_callbacks,
    )
    assert evidence.malware_warning
    client.force_login(alice)
    for page in (
        reverse("submissions:evidence-list", args=[dossier.reference]),
        reverse("submissions:dossier-detail", args=[dossier.reference]),
    ):
        text = client.get(page).text
        assert "May be harmful" in text and evidence.malware_warning in text, page
