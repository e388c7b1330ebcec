"""Background work of the portal itself: housekeeping and a round-trip check."""

import logging

from celery import shared_task
from django.core import management
from django.db import connection

from . import audit

log = logging.getLogger(__name__)


@shared_task
def ping() -> dict:
    """Answer from a worker, after a query to its database: proves the whole path works."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"pong": True, "database": connection.vendor}


@shared_task
def clear_expired_sessions() -> None:
    """Delete expired sessions (Django's clearsessions)."""
    management.call_command("clearsessions")


@shared_task
def verify_audit_log() -> bool:
    """Check the audit chain and log an error if it is broken."""
    report = audit.verify_chain()
    if not report.ok:
        log.error("Audit chain broken after %s events: %s", report.checked, report.problem)
    return report.ok


@shared_task
def write_audit_checkpoint() -> int | None:
    """Anchor the audit chain's head outside the database (daily); refuse a broken chain."""
    try:
        checkpoint = audit.write_checkpoint()
    except ValueError:
        log.exception("No audit checkpoint written")
        return None
    return checkpoint.sequence
