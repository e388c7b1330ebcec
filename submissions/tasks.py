"""Background work on evidence (the `evidence` queue): thin wrappers around services."""

from celery import shared_task

from . import services
from .models import Evidence


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def extract_evidence_metadata(evidence_id: int) -> None:
    """Extract metadata (EXIF, page count ...) and a thumbnail for an exhibit, once."""
    evidence = Evidence.objects.filter(pk=evidence_id).first()
    if evidence is None:  # removed before a worker picked this up
        return
    services.record_evidence_metadata(evidence)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def scan_evidence(evidence_id: int) -> None:
    """Scan an exhibit for malware (ClamAV if configured, active-content checks always)."""
    evidence = Evidence.objects.filter(pk=evidence_id).first()
    if evidence is None:
        return
    services.record_evidence_scan(evidence)


@shared_task
def purge_expired_dossiers() -> int:
    """Purge withdrawn and rejected dossiers past the retention period."""
    return len(services.purge_expired_dossiers())
