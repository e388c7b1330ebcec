"""Evidence through the API: the simple streamed upload and the resumable (tus) upload."""

import base64
import hashlib
import io
import os
from datetime import timedelta

import pytest
from django.test.client import MULTIPART_CONTENT
from django.utils import timezone

from api import services
from api.models import ResumableUpload
from submissions.models import Evidence
from tests.factories import DossierFactory, SourceFactory
from tests.submissions.test_evidence import PDF, named

TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}


@pytest.fixture(autouse=True)
def _upload_dir(settings, tmp_path):
    settings.API_UPLOAD_DIR = str(tmp_path / "api-uploads")


@pytest.fixture
def dossier(alice, org_a):
    return DossierFactory(organisation=org_a, created_by=alice)


def big_pdf(size=3 * 1024 * 1024 + 123) -> bytes:
    return PDF + os.urandom(size - len(PDF))


def metadata(**values) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def create(api, dossier, content: bytes, **meta):
    return api.post(
        f"/api/v1/dossiers/{dossier.reference}/uploads/",
        HTTP_UPLOAD_LENGTH=str(len(content)),
        HTTP_UPLOAD_METADATA=metadata(filename="big.pdf", **meta),
        **TUS,
    )


def patch(api, location, data: bytes, offset: int, *, declared: int | None = None):
    """PATCH `data` at `offset`; `declared` > len(data) makes the client vanish mid-body."""
    extra = {"HTTP_UPLOAD_OFFSET": str(offset), **TUS}
    if declared is not None:
        # A connection that drops: the body ends before its Content-Length.
        extra.update({"CONTENT_LENGTH": str(declared), "wsgi.input": io.BytesIO(data)})
    return api.generic(
        "PATCH", location, data, content_type="application/offset+octet-stream", **extra
    )


def test_an_upload_interrupted_at_half_resumes_and_the_stored_file_hashes_as_the_source(
    alice_api, dossier
):
    content = big_pdf()
    source_hash = hashlib.sha256(content).hexdigest()
    response = create(alice_api, dossier, content, sha256=source_hash, description="Ledger")
    assert response.status_code == 201, response.content
    location = response["Location"]
    assert response["Tus-Resumable"] == "1.0.0"

    half = len(content) // 2
    response = patch(alice_api, location, content[:half], 0, declared=len(content))
    assert response.status_code == 204
    assert int(response["Upload-Offset"]) == half
    assert not Evidence.objects.exists()

    head = alice_api.head(location, **TUS)
    assert head.status_code == 200 and int(head["Upload-Offset"]) == half
    assert "no-store" in head["Cache-Control"]

    assert patch(alice_api, location, content[half:], 0).status_code == 409  # wrong offset
    response = patch(alice_api, location, content[half:], half)
    assert response.status_code == 204, response.content
    evidence = Evidence.objects.get()
    assert response["Evidence-Location"].endswith(f"/evidence/{evidence.pk}/")
    assert evidence.sha256 == source_hash and evidence.size == len(content)
    assert evidence.description == "Ledger" and evidence.content_type == "application/pdf"
    with evidence.file.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == source_hash
    assert not ResumableUpload.objects.exists()
    assert os.listdir(services.upload_dir()) == []


def test_a_client_hash_that_does_not_match_is_refused_and_nothing_is_kept(alice_api, dossier):
    content = big_pdf(100_000)
    location = create(alice_api, dossier, content, sha256="0" * 64)["Location"]
    response = patch(alice_api, location, content, 0)
    assert response.status_code == 422
    assert response.json()["type"].endswith("checksum-mismatch")
    assert not Evidence.objects.exists() and not ResumableUpload.objects.exists()
    assert os.listdir(services.upload_dir()) == []


def test_a_completed_upload_goes_through_the_web_uploads_checks(alice_api, dossier):
    content = b"\x7fELF" + os.urandom(5000)  # a program: refused as on the web
    location = create(alice_api, dossier, content)["Location"]
    response = patch(alice_api, location, content, 0)
    assert response.status_code == 400
    assert "is not a kind of file the portal accepts" in response.json()["detail"]
    assert not Evidence.objects.exists()


def test_an_upload_cannot_be_longer_than_the_limit_or_than_declared(alice_api, dossier, settings):
    settings.EVIDENCE_MAX_UPLOAD_SIZE = 1000
    assert create(alice_api, dossier, b"x" * 1001).status_code == 413
    location = create(alice_api, dossier, b"x" * 10)["Location"]
    assert patch(alice_api, location, b"x" * 11, 0).status_code == 400


def test_tus_requests_need_the_protocol_version_and_content_type(alice_api, dossier):
    response = alice_api.post(
        f"/api/v1/dossiers/{dossier.reference}/uploads/", HTTP_UPLOAD_LENGTH="10"
    )
    assert response.status_code == 412 and response["Tus-Version"] == "1.0.0"
    location = create(alice_api, dossier, b"x" * 10)["Location"]
    response = alice_api.generic(
        "PATCH", location, b"x", content_type="text/plain", HTTP_UPLOAD_OFFSET="0", **TUS
    )
    assert response.status_code == 415
    options = alice_api.options(f"/api/v1/dossiers/{dossier.reference}/uploads/")
    assert "creation" in options["Tus-Extension"]


def test_uploads_are_private_to_their_uploader_and_cancellable(
    alice_api, mallory_api, bob, dossier
):
    from tests.api.conftest import ApiClient, make_token

    content = big_pdf(50_000)
    location = create(alice_api, dossier, content)["Location"]
    assert mallory_api.head(location, **TUS).status_code == 404
    assert ApiClient(make_token(bob)).head(location, **TUS).status_code == 404
    assert alice_api.delete(location, **TUS).status_code == 204
    assert alice_api.head(location, **TUS).status_code == 404
    assert os.listdir(services.upload_dir()) == []


def test_expired_uploads_are_purged_with_their_files(alice_api, dossier):
    content = big_pdf(50_000)
    location = create(alice_api, dossier, content)["Location"]
    patch(alice_api, location, content[:1000], 0, declared=len(content))
    ResumableUpload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert alice_api.head(location, **TUS).status_code == 404
    from api import tasks

    assert tasks.purge_expired_uploads() == 1
    assert os.listdir(services.upload_dir()) == []


def test_the_simple_upload_streams_hashes_and_checks_a_client_hash(alice_api, alice, dossier):
    url = f"/api/v1/dossiers/{dossier.reference}/evidence/upload/"
    source = SourceFactory(dossier=dossier)
    response = alice_api.post(
        url,
        {"file": named(PDF, "a.pdf"), "sha256": "f" * 64},
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 422
    assert not Evidence.objects.exists()
    response = alice_api.post(
        url,
        {
            "file": named(PDF, "a.pdf"),
            "sha256": hashlib.sha256(PDF).hexdigest(),
            "source": source.pk,
            "reliability": "B",
            "credibility": "2",
        },
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 201, response.json()
    assert response.json()["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert response.json()["source"] == source.pk
    again = alice_api.post(url, {"file": named(PDF, "b.pdf")}, content_type=MULTIPART_CONTENT)
    assert again.status_code == 409
    assert again.json()["existing_exhibit"] == Evidence.objects.get().pk
    download = alice_api.get(
        f"/api/v1/dossiers/{dossier.reference}/evidence/{again.json()['existing_exhibit']}/file/"
    )
    assert b"".join(download.streaming_content) == PDF


def test_the_simple_upload_refuses_a_file_over_the_limit(alice_api, dossier, settings):
    settings.EVIDENCE_MAX_UPLOAD_SIZE = 100
    response = alice_api.post(
        f"/api/v1/dossiers/{dossier.reference}/evidence/upload/",
        {"file": named(PDF, "a.pdf")},
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 413
    assert not Evidence.objects.exists()
