from celery import shared_task

from . import services


@shared_task
def purge_expired_uploads() -> int:
    """Delete resumable uploads past their expiry, with their partial files."""
    return services.purge_expired_uploads()
