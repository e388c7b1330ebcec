"""
Several workers, no shared disk: two Celery worker processes, one on the `evidence` queue and
one on `briefs`, each in its own working directory with its own data folder, the files in a
real object store (SeaweedFS). Evidence filed here is processed by the first; the brief is
rendered by the second from the evidence in the store, and its bundle verifies.
"""

import importlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from portal.celery import app
from reviews import packages
from reviews.briefs import verify
from reviews.models import BriefVersion
from submissions.models import Evidence
from tests.integration.conftest import ROOT, _database_url, unavailable
from tests.integration.conftest_s3 import storage_environment

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def migrated_data(postgresql):
    """
    Earlier transactional tests flush the database: put back what the data migrations wrote
    (reviewer groups and their permission, the audit chain's head, regimes and checklists).
    """
    from django.apps import apps
    from django.core.management import call_command

    roles = importlib.import_module("portal.migrations.0002_roles_and_audit_head")
    reveal = importlib.import_module("reviews.migrations.0004_lead_reviewers_reveal_identity")
    roles.create_groups_and_chain_head(apps, None)
    reveal.grant(apps, None)
    call_command("load_checklist", verbosity=0)


@pytest.fixture
def workers(postgresql, redis_url, seaweedfs, object_storage, tmp_path):
    """Start one worker per queue, each in a folder of its own; yield {queue: (process, log)}."""
    if not app.conf.broker_url.startswith("redis"):
        unavailable("the Celery broker is not Redis")
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    with app.connection_for_write() as conn:
        for queue in app.conf.task_queues:
            queue(conn.default_channel).purge()
    started = {}
    try:
        for queue in ("evidence", "briefs"):
            home = tmp_path / f"machine-{queue}"
            (home / "data").mkdir(parents=True)
            name = f"{queue}-{uuid.uuid4().hex[:6]}@localhost"
            env = {
                **os.environ,
                **storage_environment(seaweedfs, object_storage["bucket"]),
                "DATABASE_URL": _database_url(postgresql),
                "REDIS_URL": redis_url,
                "CELERY_TASK_ALWAYS_EAGER": "false",
                "PORTAL_DATA_DIR": str(home / "data"),
                "PYTHONPATH": ROOT,
            }
            env.pop("CELERY_BROKER_URL", None)
            log = open(home / "worker.log", "w+")  # noqa: SIM115 - closed at teardown
            process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "--app", "portal", "worker",
                    "--queues", queue, "--hostname", name, "--concurrency", "1",
                    "--loglevel", "INFO", "--without-gossip", "--without-mingle",
                ],
                cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            started[queue] = (process, log, home)
            deadline = time.monotonic() + 60
            while not app.control.ping(destination=[name], timeout=1):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"The {queue} worker did not start:\n{log.read()[-3000:]}")
        yield started
    finally:
        for process, log, _home in started.values():
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, 9)
            log.close()
        app.conf.task_always_eager = eager


def wait_for(condition, timeout: float, what: str, workers) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            logs = ""
            for queue, (_process, log, _home) in workers.items():
                log.seek(0)
                logs += f"\n--- {queue} worker:\n{log.read()[-2000:]}"
            pytest.fail(f"{what} did not happen in {timeout} s{logs}")
        time.sleep(0.5)


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and p.name != "worker.log"]


def test_two_workers_without_a_shared_disk_file_and_render_from_the_object_store(
    workers, object_storage, alice, org_a, lena
):
    from bench.test_brief_rendering import build

    # Filing: the evidence goes to the store; its background work goes to the evidence worker.
    package = build(alice, org_a, lena, dossiers=2, exhibits=4)
    evidence = Evidence.objects.filter(dossier__in=package.dossiers.all())
    assert evidence.count() == 4
    wait_for(
        lambda: (
            not evidence.filter(scanned_at__isnull=True).exists()
            and all(e.metadata.get("extracted") for e in evidence)
        ),
        90,
        "scanning and metadata extraction by the evidence worker",
        workers,
    )

    # The brief: queued here, rendered by the briefs worker from the objects in the store.
    version = packages.request_render(package, by=lena)
    wait_for(
        lambda: (
            BriefVersion.objects.get(pk=version.pk).status
            in {BriefVersion.Status.DONE, BriefVersion.Status.FAILED}
        ),
        180,
        "the brief rendering",
        workers,
    )
    version.refresh_from_db()
    assert version.status == BriefVersion.Status.DONE, version.error

    bundle = object_storage["local"] / "bundle.zip"
    answer = object_storage["client"].get_object(
        Bucket=object_storage["bucket"], Key=version.bundle.name
    )
    bundle.write_bytes(answer["Body"].read())
    checks = verify(bundle)
    assert all(check.ok for check in checks), checks

    # Each queue ran on its own worker, and neither kept a file of the portal on its disk.
    for queue, task in (
        ("evidence", "submissions.tasks.scan_evidence"),
        ("briefs", "reviews.tasks.render_brief"),
    ):
        _process, log, home = workers[queue]
        log.seek(0)
        text = log.read()
        assert f"Task {task}[" in text and "succeeded" in text, text[-2000:]
        assert files_under(home / "data" / "private") == []
    _process, log, _home = workers["evidence"]
    log.seek(0)
    assert "reviews.tasks.render_brief[" not in log.read()
