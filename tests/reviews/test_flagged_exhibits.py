"""Exhibits a check flagged as possibly malicious: out of bundles unless a lead lets one in."""

import json
import zipfile

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from portal.models import AuditEvent
from reviews import services
from submissions import services as submission_services
from submissions.models import Dossier, Evidence
from submissions.uploads import uploaded_from_bytes
from tests.reviews.test_packages import pdf_text, render
from tests.submissions import hostile


@pytest.fixture
def flagged(approved, alice):
    """A PDF whose actions hide behind #xx escapes, added to the approved dossier, scanned."""
    dossier, _persons, _exhibits = approved
    pdf = hostile.escape_names(
        hostile.pdf_with_open_action("/JavaScript", "app.launchURL('https://x.example')"),
        OpenAction="Op#65nAction",
        JavaScript="J#61vaScript",
        JS="J#53",
    )
    Dossier.objects.filter(pk=dossier.pk).update(status="draft")  # filed before approval
    evidence = submission_services.attach_evidence_file(
        dossier,
        by=alice,
        upload=uploaded_from_bytes(pdf, "statement.pdf"),
        details={"description": "HOSTILE-EXHIBIT"},
    )
    Dossier.objects.filter(pk=dossier.pk).update(status="approved")
    submission_services.record_evidence_scan(evidence)
    evidence.refresh_from_db()
    assert "JavaScript" in evidence.malware_warning
    return evidence


def bundle_of(version) -> tuple[list[str], dict]:
    with version.bundle.open("rb") as stored, zipfile.ZipFile(stored) as bundle:
        return bundle.namelist(), json.loads(bundle.read("manifest.json"))


def entry_for(manifest: dict, evidence: Evidence) -> dict:
    return next(e for e in manifest["exhibits"] if e["original_sha256"] == evidence.sha256)


def test_a_flagged_file_stays_out_of_the_bundle_and_the_manifest_says_so(
    package, flagged, lena, django_capture_on_commit_callbacks
):
    version = render(package, lena, django_capture_on_commit_callbacks)
    assert version.status == "done", version.error
    names, manifest = bundle_of(version)

    entry = entry_for(manifest, flagged)
    assert entry["file"] is None
    assert entry["flagged"] == {
        "warning": flagged.malware_warning,
        "file_included": False,
        "allowed_by_lead_reviewer_at": None,
    }
    assert not any(name.endswith("statement.pdf") and entry["number"] in name for name in names)
    assert len([n for n in names if n.startswith("exhibits/")]) == 2  # the two clean files
    assert all(e["flagged"] is None for e in manifest["exhibits"] if e is not entry)
    with version.pdf.open("rb") as pdf:
        assert "not included in the bundle" in " ".join(pdf_text(pdf.read()).split())


def test_a_lead_reviewer_lets_a_flagged_file_in_with_a_reason_audited_and_marked(
    package, flagged, lena, rita, django_capture_on_commit_callbacks
):
    with pytest.raises(PermissionDenied):
        services.allow_flagged_exhibit_in_bundles(flagged, by=rita, reason="Needed")
    with pytest.raises(ValidationError):
        services.allow_flagged_exhibit_in_bundles(flagged, by=lena, reason="  ")
    assert not AuditEvent.objects.filter(action="evidence.bundle_override").exists()

    services.allow_flagged_exhibit_in_bundles(
        flagged, by=lena, reason="The ministry's lab asked for the original file."
    )
    event = AuditEvent.objects.get(action="evidence.bundle_override")
    assert event.actor == lena and event.data["reason"].startswith("The ministry")

    version = render(package, lena, django_capture_on_commit_callbacks)
    names, manifest = bundle_of(version)
    entry = entry_for(manifest, flagged)
    assert entry["file"] in names
    assert entry["flagged"]["file_included"] is True
    assert entry["flagged"]["allowed_by_lead_reviewer_at"]


def test_a_clean_exhibit_cannot_be_overridden(approved, lena):
    _dossier, _persons, exhibits = approved
    with pytest.raises(ValidationError, match="not flagged"):
        services.allow_flagged_exhibit_in_bundles(exhibits[0], by=lena, reason="why not")


def test_the_review_site_warns_before_downloading_a_flagged_exhibit(client, flagged, lena):
    Evidence.objects.filter(pk=flagged.pk)  # (the dossier is approved: lena may read it)
    client.force_login(lena)
    url = reverse(
        "admin:submissions_dossier_evidence_download", args=[flagged.dossier_id, flagged.pk]
    )

    warning = client.get(url)
    assert warning.status_code == 200
    assert "may be harmful" in warning.text and flagged.malware_warning in warning.text
    assert not AuditEvent.objects.filter(action="evidence.downloaded").exists()

    response = client.get(url + "?confirm=1")
    assert response["Content-Disposition"].startswith("attachment")
    assert AuditEvent.objects.filter(action="evidence.downloaded", actor=lena).count() == 1


def test_the_review_site_shows_the_flag_where_exhibits_are_listed(client, flagged, lena):
    client.force_login(lena)
    page = client.get(reverse("admin:submissions_dossier_change", args=[flagged.dossier_id])).text
    assert flagged.malware_warning in page
    assert "Allow in government bundles" in page


def test_a_lead_reviewer_overrides_from_the_review_site(client, flagged, lena):
    client.force_login(lena)
    url = reverse(
        "admin:submissions_dossier_evidence_allow_in_bundles",
        args=[flagged.dossier_id, flagged.pk],
    )
    response = client.post(url, {"reason": "Requested by the ministry's forensic lab."})
    assert response.status_code == 302
    flagged.refresh_from_db()
    assert flagged.bundle_override_by == lena and flagged.ships_in_bundles


def test_the_package_exhibit_list_names_the_flag_and_keeps_the_file_out(
    client, package, flagged, lena
):
    import csv
    import io

    client.force_login(lena)
    response = client.get(reverse("admin:reviews_package_exhibits_csv", args=[package.pk]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    row = next(r for r in rows if r["sha256"] == flagged.sha256)
    assert row["may_be_harmful"] == flagged.malware_warning and row["file_in_bundle"] == "no"
    assert {r["file_in_bundle"] for r in rows if r is not row} == {"yes"}


def test_a_file_whose_scan_never_ran_is_scanned_before_it_can_ship(
    package, approved, alice, lena, django_capture_on_commit_callbacks
):
    dossier, _persons, _exhibits = approved
    Dossier.objects.filter(pk=dossier.pk).update(status="draft")
    lost = submission_services.attach_evidence_file(  # its scan task was never run
        dossier,
        by=alice,
        upload=uploaded_from_bytes(hostile.pdf_with_open_action(), "notice.pdf"),
        details={},
    )
    Dossier.objects.filter(pk=dossier.pk).update(status="approved")
    assert Evidence.objects.get(pk=lost.pk).scanned_at is None

    version = render(package, lena, django_capture_on_commit_callbacks)
    _names, manifest = bundle_of(version)
    lost.refresh_from_db()
    assert lost.malware_warning == "PDF with active content: OpenAction (URI)"
    assert entry_for(manifest, lost)["file"] is None
