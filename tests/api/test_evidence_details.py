"""Evidence details through the API (#21): translations, a file's public address, metadata."""

import pytest
from django.test.client import MULTIPART_CONTENT

from reviews.sample_case import pdf_with_author
from submissions import services
from submissions.models import Evidence
from submissions.uploads import uploaded_from_bytes
from tests.factories import DossierFactory
from tests.submissions.test_evidence import named
from tests.submissions.test_evidence_details import GPS_METADATA

pytestmark = pytest.mark.django_db


def exhibit(dossier, user, name):
    return services.attach_evidence_file(
        dossier, by=user, upload=uploaded_from_bytes(pdf_with_author(name), name), details={}
    )


@pytest.fixture
def dossier(alice, org_a):
    return DossierFactory(organisation=org_a, created_by=alice)


def test_a_translation_is_linked_and_shown_by_reference(alice, alice_api, dossier):
    original = exhibit(dossier, alice, "statement-km.pdf")
    english = exhibit(dossier, alice, "statement-en.pdf")
    url = f"/api/v1/dossiers/{dossier.reference}/evidence/{english.pk}/"

    response = alice_api.patch(url, {"translation_of": original.pk})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["translation_of"] == original.pk
    assert body["translation_of_reference"] == original.reference
    listed = alice_api.get(f"/api/v1/dossiers/{dossier.reference}/evidence/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    by_id = {row["id"]: row for row in rows}
    assert by_id[original.pk]["translation_of"] is None
    assert by_id[english.pk]["translation_of_reference"] == original.reference
    # and it can be unlinked
    assert alice_api.patch(url, {"translation_of": None}).json()["translation_of"] is None


def test_an_exhibit_of_another_organisation_cannot_be_the_original(
    alice, alice_api, mallory, org_b, dossier
):
    foreign = exhibit(DossierFactory(organisation=org_b, created_by=mallory), mallory, "b.pdf")
    mine = exhibit(dossier, alice, "mine.pdf")
    url = f"/api/v1/dossiers/{dossier.reference}/evidence/{mine.pk}/"

    response = alice_api.patch(url, {"translation_of": foreign.pk})

    assert response.status_code == 400
    assert "translation_of" in response.json()["errors"]
    assert "b.pdf" not in response.content.decode()
    mine.refresh_from_db()
    assert mine.translation_of is None
    assert alice_api.patch(url, {"translation_of": mine.pk}).status_code == 400  # itself


def test_a_file_is_uploaded_with_its_public_address_and_capture_record(alice_api, dossier):
    response = alice_api.post(
        f"/api/v1/dossiers/{dossier.reference}/evidence/upload/",
        {
            "file": named(pdf_with_author("r"), "report.pdf"),
            "url": "https://news.example/report",
            "captured_at": "2025-03-01T10:30:00Z",
            "archive_url": "https://web.archive.org/web/2025/https://news.example/report",
        },
        content_type=MULTIPART_CONTENT,
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "file"
    assert body["url"] == "https://news.example/report"
    assert body["captured_at"].startswith("2025-03-01T10:30:00")
    assert body["archive_url"].startswith("https://web.archive.org/")
    evidence = Evidence.objects.get(pk=body["id"])
    patched = alice_api.patch(
        f"/api/v1/dossiers/{dossier.reference}/evidence/{evidence.pk}/",
        {"url": "https://news.example/report-2"},
    )
    assert patched.json()["url"] == "https://news.example/report-2"


def test_gps_and_device_are_reported_and_the_choice_is_set(alice, alice_api, dossier):
    photo = exhibit(dossier, alice, "scene.pdf")
    Evidence.objects.filter(pk=photo.pk).update(metadata=GPS_METADATA)
    url = f"/api/v1/dossiers/{dossier.reference}/evidence/{photo.pk}/"

    body = alice_api.get(url).json()

    assert body["identifying_metadata"] == {
        "gps": {"latitude": 11.562108, "longitude": 104.888535},
        "device": "Canon EOS 5D",
    }
    assert body["keep_metadata_in_copies"] is False
    changed = alice_api.patch(url, {"keep_metadata_in_copies": True})
    assert changed.status_code == 200 and changed.json()["keep_metadata_in_copies"] is True
