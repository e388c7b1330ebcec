"""Background work on reports: thin wrappers around services."""

from celery import shared_task

from . import services


@shared_task
def purge_expired_intakes() -> int:
    """Delete reports nobody answered or adopted in time."""
    return len(services.purge_expired_intakes())
