"""
Health checks for /healthz: can the portal reach its database, broker and storage, and does a
live worker consume each Celery queue?
"""

import logging
import os
import uuid

from django.conf import settings
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


def expected_queues() -> list[str]:
    """The queues tasks are routed to (settings.CELERY_TASK_QUEUES)."""
    return [queue.name for queue in settings.CELERY_TASK_QUEUES]


def consumed_queues(timeout: float | None = None) -> set[str]:
    """
    Return the names of the queues at least one live worker consumes: a broadcast to the
    workers (Celery's inspect, `active_queues`) that waits `timeout` seconds for replies.
    """
    if timeout is None:
        timeout = getattr(settings, "HEALTHZ_WORKER_TIMEOUT", 1.0)
    replies = app.control.inspect(timeout=timeout).active_queues() or {}
    return {queue["name"] for queues in replies.values() for queue in queues or []}


def queues_without_consumer() -> list[str]:
    """
    Return the expected queues that no live worker consumes, in settings order. In eager mode
    (unit tests) tasks run in the caller, so every queue counts as consumed; if the workers
    cannot be asked at all, none does.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return []
    try:
        live = consumed_queues()
    except Exception:  # noqa: BLE001 - a broker that cannot broadcast: no consumer known
        log.exception("could not ask the workers which queues they consume")
        live = set()
    return [name for name in expected_queues() if name not in live]


def run_checks() -> dict[str, bool]:
    """
    Run every check; return {name: passed}, with one "queue:<name>" entry per Celery queue
    (unless tasks run eagerly). Failures are logged, not shown to callers.
    """
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:  # noqa: BLE001 - any failure means "down", whatever its kind
            log.exception("health check %s failed", name)
            results[name] = False
        else:
            results[name] = True
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        idle = set(queues_without_consumer()) if results["broker"] else set(expected_queues())
        for queue in expected_queues():
            if queue in idle:
                log.error("health check: no live worker consumes the %s queue", queue)
            results[f"queue:{queue}"] = queue not in idle
    return results
