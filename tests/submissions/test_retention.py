import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from portal.models import AuditEvent
from submissions import services
from submissions.models import Dossier
from submissions.uploads import uploaded_from_bytes
from tests.factories import DossierFactory
from tests.submissions.test_evidence import PDF, stored_files


@pytest.fixture
def old(alice, org_a, settings):
    """A dossier withdrawn longer ago than the retention period, with a file."""
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    services.attach_evidence_file(
        dossier, by=alice, upload=uploaded_from_bytes(PDF, "a.pdf"), details={}
    )
    long_ago = timezone.now() - timedelta(days=settings.RETENTION_DAYS + 1)
    Dossier.objects.filter(pk=dossier.pk).update(status="withdrawn", status_changed_at=long_ago)
    return dossier


def test_dry_run_lists_and_changes_nothing(old, settings):
    out = io.StringIO()
    call_command("purge_dossiers", "--dry-run", stdout=out)
    assert old.reference in out.getvalue() and "1 dossiers would be purged" in out.getvalue()
    assert Dossier.objects.filter(pk=old.pk).exists() and stored_files(settings)


def test_purge_deletes_the_dossier_and_its_files_and_audits(
    old, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_dossiers", stdout=io.StringIO())
    assert not Dossier.objects.filter(pk=old.pk).exists()
    assert stored_files(settings) == []
    event = AuditEvent.objects.get(action="dossier.purged")
    assert event.data["reference"] == old.reference and event.data["files"] == 1


def test_legal_hold_and_recent_or_active_dossiers_are_kept(old, alice, org_a):
    Dossier.objects.filter(pk=old.pk).update(legal_hold=True, legal_hold_reason="Court case")
    recent = DossierFactory(organisation=org_a, created_by=alice, status="rejected")
    draft = DossierFactory(organisation=org_a, created_by=alice)
    Dossier.objects.filter(pk=draft.pk).update(
        status_changed_at=timezone.now() - timedelta(days=5000)
    )

    assert services.purge_expired_dossiers() == []
    assert Dossier.objects.count() == 3
    with pytest.raises(services.ValidationError):
        services.purge_dossier(recent, by=None)
