"""Preserved web pages (WARC, WACZ, MHTML): accepted by content, read, never rendered."""

import gzip
import io
import json
import zipfile

import pytest
from django.urls import reverse

from portal.models import AuditEvent
from submissions import services, webcaptures
from submissions.models import Evidence

from .test_evidence import named

PAGE = (
    b"<html><head><title>t</title><script>alert('x')</script></head>"
    b"<body><h1>Court clears officer</h1><p>The ruling of 3 May.</p></body></html>"
)


def warc_bytes(url="https://news.example/ruling", date="2024-05-03T10:15:00Z") -> bytes:
    http = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Content-Length: " + str(len(PAGE)).encode() + b"\r\n\r\n" + PAGE
    )
    record = (
        b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:1>\r\n"
        b"WARC-Target-URI: " + url.encode() + b"\r\nWARC-Date: " + date.encode() + b"\r\n"
        b"Content-Type: application/http; msgtype=response\r\n"
        b"Content-Length: " + str(len(http)).encode() + b"\r\n\r\n" + http + b"\r\n\r\n"
    )
    return gzip.compress(record)


def wacz_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("archive/data.warc.gz", warc_bytes())
        archive.writestr(
            "datapackage.json",
            json.dumps(
                {
                    "profile": "data-package",
                    "mainPageUrl": "https://news.example/ruling",
                    "mainPageDate": "2024-05-03T10:15:00Z",
                }
            ),
        )
    return out.getvalue()


MHTML = (
    b"From: <Saved by Blink>\r\n"
    b"Snapshot-Content-Location: https://news.example/ruling\r\n"
    b"Subject: Court clears officer\r\n"
    b"Date: Fri, 3 May 2024 10:15:00 -0000\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/related; type="text/html"; boundary="----b"\r\n\r\n'
    b"------b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: binary\r\n"
    b"Content-Location: https://news.example/ruling\r\n\r\n" + PAGE + b"\r\n------b--\r\n"
)


@pytest.mark.parametrize(
    ("content", "name", "kind", "text_type"),
    [
        (warc_bytes(), "capture.bin", webcaptures.WARC, "WARC"),
        (wacz_bytes(), "capture.zip", webcaptures.WACZ, "WACZ"),
        (MHTML, "page.txt", webcaptures.MHTML, "MHTML"),
    ],
)
def test_a_saved_page_is_an_exhibit_with_its_address_time_and_text(
    upload, dossier, content, name, kind, text_type, django_capture_on_commit_callbacks
):
    """The type comes from the bytes (the names lie), and the archive says where and when."""
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(named(content, name))

    assert response.status_code == 200, response.json()
    evidence = Evidence.objects.get(dossier=dossier)
    assert evidence.content_type == kind
    assert evidence.url == "https://news.example/ruling"
    assert evidence.captured_at.isoformat() == "2024-05-03T10:15:00+00:00"
    capture = evidence.metadata["capture"]
    assert capture["format"] == text_type
    assert "Court clears officer" in capture["text"] and "alert" not in capture["text"]
    assert "<" not in capture["text"]
    event = AuditEvent.objects.get(action="evidence.metadata_extracted")
    assert event.data["url"] == "https://news.example/ruling"


def test_a_script_address_from_a_hostile_archive_is_not_taken(
    alice, dossier, django_capture_on_commit_callbacks
):
    upload = webcaptures_upload(warc_bytes(url="javascript:alert(1)"))
    with django_capture_on_commit_callbacks(execute=True):
        evidence = services.attach_evidence_file(dossier, by=alice, upload=upload, details={})
    evidence.refresh_from_db()
    assert evidence.url == ""  # never a script address from a hostile archive
    assert evidence.captured_at is not None


def webcaptures_upload(content: bytes, name: str = "capture.warc.gz"):
    from submissions.uploads import uploaded_from_bytes

    return uploaded_from_bytes(content, name)


def test_a_plain_zip_is_still_refused_and_a_broken_archive_is_kept_with_a_note(
    upload, dossier, django_capture_on_commit_callbacks
):
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("datapackage.json", "{}")  # no WARC inside: not a WACZ
    assert upload(named(plain.getvalue(), "x.wacz")).status_code == 400

    broken = b"WARC/1.1\r\nWARC-Type: response\r\nContent-Length: 99999\r\n\r\nshort"
    with django_capture_on_commit_callbacks(execute=True):
        assert upload(named(broken, "broken.warc")).status_code == 200
    evidence = Evidence.objects.get(dossier=dossier)
    assert evidence.content_type == webcaptures.WARC
    assert "capture" in evidence.metadata


def test_a_saved_page_is_only_ever_downloaded_never_rendered(upload, client, dossier):
    upload(named(MHTML, "page.mhtml"))
    evidence = Evidence.objects.get(dossier=dossier)

    response = client.get(
        reverse("submissions:evidence-download", args=[dossier.reference, evidence.pk])
    )

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert 'filename="page.mhtml"' in response["Content-Disposition"]
    assert "sandbox" in response["Content-Security-Policy"]


def test_reviewers_read_the_page_text_as_text(
    client, lena, alice, dossier, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_evidence_file(
            dossier, by=alice, upload=webcaptures_upload(warc_bytes()), details={}
        )
    dossier.status = "submitted"
    dossier.save(update_fields=["status"])
    client.force_login(lena)

    page = client.get(reverse("admin:submissions_dossier_change", args=[dossier.pk]))

    body = page.content.decode()
    assert "Court clears officer" in body and "https://news.example/ruling" in body
    assert "<h1>Court clears officer" not in body
