"""Oversight reports: requested by lead reviewers, rendered on the briefs queue, audited."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from pypdf import PdfReader

from portal.models import AuditEvent
from submissions.models import Regime
from tests.transparency.conftest import UNTIL
from transparency import services, tasks
from transparency.models import OversightReport

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def request_report(lena, callbacks, key="GB-HR", year=2025, language="en"):
    with callbacks(execute=True):
        report = services.request_oversight_report(
            regime=Regime.objects.get(key=key), year=year, language=language, by=lena
        )
    report.refresh_from_db()
    return report


def test_a_lead_reviewer_gets_a_report_for_one_regime_and_year(
    world, lena, django_capture_on_commit_callbacks
):
    services.compute_snapshot(until=UNTIL)
    report = request_report(lena, django_capture_on_commit_callbacks)
    assert report.status == "done", report.error
    with report.pdf.open("rb") as handle:
        content = handle.read()
    text = pdf_text(content)
    assert "Oversight report" in text and "2025" in text
    assert "Compared with the other governments in 2025" in text
    assert "fewer than 5" in text
    assert report.pages == len(PdfReader(io.BytesIO(content)).pages) >= 3
    assert AuditEvent.objects.filter(action="oversight_report.requested", actor=lena).exists()
    assert AuditEvent.objects.filter(action="oversight_report.rendered").exists()


def test_a_report_in_japanese_is_marked_as_japanese(
    world, lena, django_capture_on_commit_callbacks
):
    services.compute_snapshot(until=UNTIL)
    report = request_report(lena, django_capture_on_commit_callbacks, language="ja")
    assert report.status == "done", report.error
    with report.pdf.open("rb") as handle:
        reader = PdfReader(handle)
        assert reader.trailer["/Root"]["/Lang"] == "ja"


def test_rendering_twice_keeps_one_file(world, lena, django_capture_on_commit_callbacks,
                                        settings, tmp_path):  # fmt: skip
    services.compute_snapshot(until=UNTIL)
    report = request_report(lena, django_capture_on_commit_callbacks)
    first = (report.pdf.name, report.pdf_sha256)
    tasks.render_oversight_report.delay(report.pk)  # a re-delivered message
    tasks.render_oversight_report.delay(10_000_000)  # gone: nothing happens
    report.refresh_from_db()
    assert (report.pdf.name, report.pdf_sha256) == first
    stored = list((tmp_path / "private" / "oversight").iterdir())
    assert len(stored) == 1


def test_only_lead_reviewers_request_reports_and_only_with_statistics(world, rita, lena):
    gb = Regime.objects.get(key="GB-HR")
    with pytest.raises(PermissionDenied):
        services.request_oversight_report(regime=gb, year=2025, language="en", by=rita)
    with pytest.raises(ValidationError, match="no published statistics"):
        services.request_oversight_report(regime=gb, year=2025, language="en", by=lena)
    services.compute_snapshot(until=UNTIL)
    with pytest.raises(ValidationError):
        services.request_oversight_report(regime=gb, year=1999, language="en", by=lena)
    with pytest.raises(ValidationError):
        services.request_oversight_report(regime=gb, year=2025, language="fr", by=lena)
    assert not OversightReport.objects.exists()


def test_admin_requests_lists_and_downloads_a_report_with_an_audit_row(
    client, world, lena, rita, django_capture_on_commit_callbacks
):
    services.compute_snapshot(until=UNTIL)
    client.force_login(lena)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:transparency_oversightreport_add"),
            {"regime": Regime.objects.get(key="CA-JVCFOA").pk, "year": 2026, "language": "en"},
        )
    assert response.status_code == 302
    report = OversightReport.objects.get()
    assert report.status == "done"
    listing = client.get(reverse("admin:transparency_oversightreport_changelist"))
    assert listing.status_code == 200
    url = reverse("admin:transparency_oversightreport_download", args=[report.pk])
    download = client.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="oversight_report.downloaded", actor=lena).exists()
    client.force_login(rita)
    assert client.get(url).status_code in (403, 404)
    assert client.get(reverse("admin:transparency_oversightreport_changelist")).status_code == 403
