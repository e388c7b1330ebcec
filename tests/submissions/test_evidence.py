import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image
from pypdf import PdfWriter

from portal.models import AuditEvent
from submissions import services
from submissions.models import Dossier, Evidence


def pdf_bytes(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = pdf_bytes()


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), "navy").save(out, "JPEG")
    return out.getvalue()


def named(content: bytes, name: str) -> io.BytesIO:
    file = io.BytesIO(content)
    file.name = name
    return file


def stored_files(settings) -> list[Path]:
    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_upload_hashes_sniffs_and_keeps_the_original_name_as_data(upload, dossier, settings):
    response = upload(named(PDF, "report.pdf"), description="Court ruling")

    assert response.status_code == 200, response.json()
    evidence = Evidence.objects.get(dossier=dossier)
    assert evidence.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (evidence.size, evidence.content_type) == (len(PDF), "application/pdf")
    assert evidence.original_name == "report.pdf"
    assert "report" not in evidence.file.name  # stored under a random key
    assert evidence.grade == "B2" and evidence.description == "Court ruling"
    assert AuditEvent.objects.filter(action="evidence.added", data__sha256=evidence.sha256)
    with default_storage.open(evidence.file.name) as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == evidence.sha256


def test_several_files_at_once_each_get_a_result(upload, dossier):
    response = upload(named(PDF, "a.pdf"), named(jpeg_bytes(), "photo.jpg"))
    assert response.status_code == 200
    assert [r["ok"] for r in response.json()["results"]] == [True, True]
    assert Evidence.objects.filter(dossier=dossier).count() == 2


def test_the_same_file_twice_is_reported_not_stored_again(upload, dossier, settings):
    upload(named(PDF, "report.pdf"))
    files_before = stored_files(settings)

    response = upload(named(PDF, "copy-of-report.pdf"))

    assert response.status_code == 400
    assert "already in the dossier" in response.json()["results"][0]["message"]
    assert Evidence.objects.filter(dossier=dossier).count() == 1
    assert stored_files(settings) == files_before


def test_type_is_decided_from_the_content_against_the_allow_list(upload, dossier, settings):
    response = upload(named(b"MZ\x90\x00\x03" + b"\x00" * 200, "invoice.pdf"))
    assert response.status_code == 400
    assert "not a kind of file" in response.json()["results"][0]["message"]

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("statement.txt", "The witness saw ...")
    response = upload(named(archive.getvalue(), "evidence.zip"))
    assert "archive" in response.json()["results"][0]["message"]

    assert not Evidence.objects.exists()
    assert stored_files(settings) == []


def test_an_empty_file_is_refused_with_a_message(upload):
    response = upload(named(b"", "empty.pdf"))
    assert response.status_code == 400
    assert "is empty" in response.json()["results"][0]["message"]
    assert not Evidence.objects.exists()


def test_a_file_over_the_limit_is_refused_and_leaves_nothing(upload, settings, tmp_path):
    settings.EVIDENCE_MAX_UPLOAD_SIZE = 100 * 1024
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()

    response = upload(named(PDF + b"\n%" * 100_000, "big.pdf"))

    assert response.status_code == 400
    assert "larger than the limit" in response.json()["results"][0]["message"]
    assert not Evidence.objects.exists()
    assert stored_files(settings) == []
    assert list((tmp_path / "uploads").iterdir()) == []  # the temporary file is gone too


def test_names_with_folders_and_control_characters_are_kept_as_clean_data(upload):
    upload(named(PDF, "..\\..\\windows\\pass\x07w\x1bd.pdf"))
    assert Evidence.objects.get().original_name == "passwd.pdf"

    upload(named(jpeg_bytes(), "x" * 400 + ".jpg"))
    long_name = Evidence.objects.get(content_type="image/jpeg").original_name
    assert len(long_name) == 255 and long_name.endswith(".jpg")


def test_a_failure_after_storing_leaves_no_row_and_no_file(upload, dossier, settings, monkeypatch):
    def database_fails(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services.audit, "record", database_fails)
    with pytest.raises(RuntimeError):
        upload(named(PDF, "report.pdf"))

    assert not Evidence.objects.exists()
    assert stored_files(settings) == []


def test_nothing_can_be_added_to_another_organisations_dossier(client, mallory, dossier):
    client.force_login(mallory)
    response = client.post(
        reverse("submissions:evidence-upload", args=[dossier.reference]),
        {"files": [named(PDF, "x.pdf")]},
    )
    assert response.status_code == 404
    assert not Evidence.objects.exists()


def test_evidence_can_be_added_while_reviewers_wait_for_an_answer_but_not_after(upload, dossier):
    Dossier.objects.filter(pk=dossier.pk).update(status="information_requested")
    assert upload(named(PDF, "answer.pdf")).status_code == 200

    Dossier.objects.filter(pk=dossier.pk).update(status="approved")
    response = upload(named(jpeg_bytes(), "late.jpg"))
    assert response.status_code == 400
    assert "can no longer be changed" in response.json()["results"][0]["message"]


def test_download_is_an_attachment_for_members_and_404_for_others(
    client, upload, alice, mallory, dossier
):
    upload(named(PDF, "report.pdf"))
    evidence = Evidence.objects.get()
    url = reverse("submissions:evidence-download", args=[dossier.reference, evidence.pk])

    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="report.pdf"')
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content) == PDF

    client.force_login(mallory)
    assert client.get(url).status_code == 404


def test_metadata_and_thumbnail_are_extracted_once(
    upload, dossier, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(named(jpeg_bytes(), "photo.jpg"), named(PDF, "doc.pdf"))

    photo = Evidence.objects.get(content_type="image/jpeg")
    assert photo.metadata["width"] == 640 and photo.metadata["extracted"]
    assert photo.thumbnail.name.startswith("thumbnails/")
    document = Evidence.objects.get(content_type="application/pdf")
    assert document.metadata["pages"] == 1

    thumbnail = photo.thumbnail.name
    services.record_evidence_metadata(Evidence.objects.get(pk=photo.pk))  # a re-delivery
    assert Evidence.objects.get(pk=photo.pk).thumbnail.name == thumbnail
    assert AuditEvent.objects.filter(action="evidence.metadata_extracted").count() == 2


def test_removing_an_exhibit_deletes_its_file_after_commit(
    upload, alice, dossier, settings, django_capture_on_commit_callbacks
):
    upload(named(PDF, "report.pdf"))
    evidence = Evidence.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_evidence(evidence, by=alice)
    assert not Evidence.objects.exists()
    assert stored_files(settings) == []


def test_a_storage_failure_during_upload_tells_the_user_and_keeps_nothing(
    upload, settings, monkeypatch
):
    from django.core.files.storage import FileSystemStorage

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(FileSystemStorage, "_save", full_disk)
    response = upload(named(PDF, "report.pdf"))

    assert response.status_code == 400
    assert "nothing was changed" in response.json()["results"][0]["message"]
    assert not Evidence.objects.exists()
    assert stored_files(settings) == []


def test_a_name_with_a_huge_extension_is_kept_as_data_not_as_a_file_name(upload):
    name = "0." + "0" * 300 + "ਓក𒓎"
    response = upload(named(PDF, name))
    assert response.status_code == 200, response.json()
    assert len(Evidence.objects.get().original_name) == 255


def test_the_service_itself_refuses_a_type_off_the_allow_list(alice, dossier, settings):
    from submissions.uploads import uploaded_from_bytes

    executable = uploaded_from_bytes(b"MZ\x90\x00\x03" + b"\x00" * 200, "invoice.pdf")
    with pytest.raises(services.ValidationError, match="not a kind of file"):
        services.attach_evidence_file(dossier, by=alice, upload=executable, details={})
    assert not Evidence.objects.exists() and stored_files(settings) == []
