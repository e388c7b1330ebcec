"""Health checks for /healthz: can the portal reach its database, broker and storage?"""

import logging
import os
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from .celery import app

log = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=3)
        if conn.transport_cls == "filesystem":
            # The embedded broker "connects" to a folder: it must exist and take new messages.
            folder = conn.transport_options["data_folder_in"]
            if not os.access(folder, os.W_OK):
                raise OSError(f"broker folder {folder} is not writable")


def check_storage() -> None:
    # Write, read back and delete a small probe: a read-only or full store fails here.
    name = default_storage.save(f"healthz/{uuid.uuid4().hex}", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as probe:
            if probe.read() != b"ok":
                raise OSError("storage returned other bytes than were written")
    finally:
        default_storage.delete(name)


CHECKS = {"database": check_database, "broker": check_broker, "storage": check_storage}


def run_checks() -> dict[str, bool]:
    """Run every check; return {name: passed}. Failures are logged, not shown to callers."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:  # noqa: BLE001 - any failure means "down", whatever its kind
            log.exception("health check %s failed", name)
            results[name] = False
        else:
            results[name] = True
    return results
