"""
The filing and brief flows against a real S3-compatible store (SeaweedFS), through
django-storages and the portal's settings: evidence goes to the bucket with its hash, downloads
are streamed from the store or handed out as short-lived signed URLs, briefs read their
exhibits from the store, and the web server keeps no file on its local disk.
"""

import hashlib
import io
import os
import time
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from portal.storage import ObjectStorage, ObjectStream, signed_url
from reviews import packages
from reviews.briefs import verify
from reviews.models import BriefVersion
from submissions.models import Evidence
from tests.factories import DossierFactory
from tests.submissions.test_evidence import pdf_bytes

pytestmark = pytest.mark.integration


def local_files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def stored(object_storage, key: str) -> bytes:
    answer = object_storage["client"].get_object(Bucket=object_storage["bucket"], Key=key)
    return answer["Body"].read()


@pytest.fixture
def draft(alice, org_a):
    return DossierFactory(organisation=org_a, created_by=alice)


def upload(client, alice, dossier, content: bytes, name="report.pdf"):
    client.force_login(alice)
    return client.post(
        reverse("submissions:evidence-upload", args=[dossier.reference]),
        {
            "files": ContentFile(content, name=name),
            "description": "Medical report",
            "reliability": "B",
            "credibility": "2",
        },
        HTTP_ACCEPT="application/json",
    )


def test_the_settings_make_a_private_object_storage(object_storage):
    assert isinstance(default_storage, ObjectStorage)
    storage = Evidence._meta.get_field("file").storage
    assert isinstance(storage, ObjectStorage)
    assert storage.bucket_name == object_storage["bucket"]
    assert storage.default_acl is None and storage.querystring_auth
    assert storage.querystring_expire == 300
    assert storage.object_parameters == {"ServerSideEncryption": "AES256"}


def test_an_upload_goes_to_the_bucket_with_its_hash_and_nothing_stays_on_local_disk(
    client, alice, draft, object_storage
):
    content = pdf_bytes(3) + b"%" + bytes(range(256)) * 4096  # about 1 MiB
    response = upload(client, alice, draft, content)

    assert response.status_code == 200, response.content
    (result,) = response.json()["results"]
    assert result["ok"]
    evidence = Evidence.objects.get(pk=result["evidence"])
    assert evidence.sha256 == hashlib.sha256(content).hexdigest()
    assert evidence.size == len(content)
    head = object_storage["client"].head_object(
        Bucket=object_storage["bucket"], Key=evidence.file.name
    )
    assert head["ContentLength"] == len(content)
    assert head.get("ServerSideEncryption") == "AES256"
    assert hashlib.sha256(stored(object_storage, evidence.file.name)).hexdigest() == evidence.sha256
    # The upload's spool file is gone and nothing else was written on the web's disk.
    assert local_files(object_storage["local"]) == []


def objects(object_storage) -> list[str]:
    listed = object_storage["client"].list_objects_v2(Bucket=object_storage["bucket"])
    return [item["Key"] for item in listed.get("Contents", [])]


def test_an_upload_streams_into_the_bucket_without_any_local_file(
    client, alice, draft, object_storage, monkeypatch
):
    """Any attempt to write a temporary file on the web's disk fails the upload."""
    import tempfile

    def no_disk(*args, **kwargs):
        raise AssertionError("an upload wrote to the web server's local disk")

    for name in ("NamedTemporaryFile", "TemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, no_disk)
    content = pdf_bytes(2) + b"%" + os.urandom(12 * 1024 * 1024)  # several 5 MiB parts

    response = upload(client, alice, draft, content)

    assert response.status_code == 200, response.content
    evidence = Evidence.objects.get(pk=response.json()["results"][0]["evidence"])
    assert evidence.sha256 == hashlib.sha256(content).hexdigest()
    assert hashlib.sha256(stored(object_storage, evidence.file.name)).hexdigest() == evidence.sha256


def test_a_refused_or_oversized_upload_leaves_no_object_behind(
    client, alice, draft, object_storage, settings
):
    before = objects(object_storage)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("statement.txt", "The witness saw ...")
    refused = upload(client, alice, draft, archive.getvalue(), name="archive.zip")
    assert refused.status_code == 400
    settings.EVIDENCE_MAX_UPLOAD_SIZE = 1024 * 1024
    too_large = upload(client, alice, draft, pdf_bytes(1) + bytes(3 * 1024 * 1024))
    assert too_large.status_code == 400
    assert objects(object_storage) == before
    assert not Evidence.objects.filter(dossier=draft).exists()


def test_a_file_is_read_from_the_store_as_a_stream(alice, draft, object_storage):
    storage = Evidence._meta.get_field("file").storage
    content = bytes(range(256)) * 40_000  # 10 MiB
    name = storage.save("evidence/stream-test.bin", ContentFile(content))

    with storage.open(name, "rb") as stream:
        assert isinstance(stream, ObjectStream)
        assert stream.size == len(content)
        first = stream.read(1024 * 1024)
        stream.seek(5_000_000)
        middle = stream.read(10)
        stream.seek(-5, 2)
        tail = stream.read()
        stream.seek(0)
        whole = b"".join(stream.chunks())
    assert first == content[: 1024 * 1024]
    assert middle == content[5_000_000:5_000_010]
    assert tail == content[-5:]
    assert whole == content
    with pytest.raises(FileNotFoundError):
        storage.open("evidence/nothing-here.bin")
    assert local_files(object_storage["local"]) == []


def test_downloads_stream_from_the_store_or_use_a_short_lived_signed_url(
    client, alice, draft, object_storage, settings
):
    content = pdf_bytes(2)
    result = upload(client, alice, draft, content, name="witness statement.pdf").json()
    evidence = Evidence.objects.get(pk=result["results"][0]["evidence"])

    url = signed_url(evidence.file.storage, evidence.file.name, filename=evidence.original_name)
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert "X-Amz-Signature" in query
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == content
    assert "attachment" in fetched.headers["Content-Disposition"]
    assert (
        requests.get(url.replace("X-Amz-Expires=300", "X-Amz-Expires=301"), timeout=10).status_code
        == 403
    )
    unsigned = url.split("?")[0]
    assert requests.get(unsigned, timeout=10).status_code == 403  # private: no anonymous read

    short = evidence.file.storage.signed_url(evidence.file.name, expire=1)
    assert parse_qs(urlsplit(short).query)["X-Amz-Expires"] == ["1"]
    time.sleep(2.5)
    assert requests.get(short, timeout=10).status_code == 403  # expired

    # The download view checks access, then streams from the store (the default: a browser
    # talks to nobody but the portal) ...
    download = reverse("submissions:evidence-download", args=[draft.reference, evidence.pk])
    response = client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    # ... or, where the store is the deployment's own host, redirects to a signed URL.
    settings.PORTAL_SIGNED_DOWNLOADS = True
    response = client.get(download)
    assert response.status_code == 302
    location = parse_qs(urlsplit(response["Location"]).query)
    assert int(location["X-Amz-Expires"][0]) <= 300
    assert requests.get(response["Location"], timeout=10).content == content
    assert local_files(object_storage["local"]) == []


def test_someone_outside_the_organisation_gets_neither_the_file_nor_a_url(
    client, alice, mallory, draft, object_storage
):
    result = upload(client, alice, draft, pdf_bytes(1)).json()
    evidence_pk = result["results"][0]["evidence"]
    client.force_login(mallory)
    response = client.get(
        reverse("submissions:evidence-download", args=[draft.reference, evidence_pk])
    )
    assert response.status_code == 404


def test_a_brief_is_rendered_from_evidence_in_the_store(alice, org_a, lena, object_storage):
    from bench.test_brief_rendering import build

    package = build(alice, org_a, lena, dossiers=2, exhibits=4)
    version = BriefVersion.objects.create(package=package, number=1, requested_by=lena)

    packages.render_version(version)

    version.refresh_from_db()
    assert version.status == BriefVersion.Status.DONE
    keys = {
        item["Key"]
        for item in object_storage["client"].list_objects_v2(Bucket=object_storage["bucket"])[
            "Contents"
        ]
    }
    assert {version.pdf.name, version.bundle.name} <= keys
    bundle = object_storage["local"] / "bundle.zip"
    bundle.write_bytes(stored(object_storage, version.bundle.name))
    checks = verify(bundle)
    assert all(check.ok for check in checks), checks
    references = set(Evidence.objects.filter(dossier__in=package.dossiers.all()).values_list(
        "reference", flat=True
    ))  # fmt: skip
    assert len(references) == 4
    assert {f"exhibits/{r}" for r in references} <= {c.name.rsplit("_", 1)[0] for c in checks}
