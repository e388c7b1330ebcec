"""
Real services: PostgreSQL, Redis and a Celery worker process.

Locally, without DATABASE_URL and REDIS_URL, these tests are skipped. With
PORTAL_REQUIRE_SERVICES=1 (CI) a missing or stopped service is a failure, never a skip.
"""

import os
import subprocess
import sys
import time
import uuid
from urllib.parse import quote

import pytest
import redis
from django.db import connection

from portal.celery import app

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REQUIRED = os.environ.get("PORTAL_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes"}

pytestmark = pytest.mark.integration


def unavailable(reason: str):
    if REQUIRED:
        pytest.fail(f"{reason} (PORTAL_REQUIRE_SERVICES is set)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        unavailable("REDIS_URL is not set")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        unavailable(f"Redis at {url} does not answer: {error}")
    return url


@pytest.fixture
def redis_client(redis_url):
    return redis.Redis.from_url(redis_url, decode_responses=True)


@pytest.fixture
def postgresql(transactional_db):
    """The test database, committed for real so that another process sees the rows."""
    if connection.vendor != "postgresql":
        unavailable(f"DATABASE_URL names {connection.vendor}, not PostgreSQL")
    connection.ensure_connection()
    return connection.settings_dict


def _database_url(settings_dict) -> str:
    user = quote(settings_dict["USER"] or "")
    password = quote(settings_dict["PASSWORD"] or "")
    auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = settings_dict["HOST"] or "localhost"
    port = settings_dict["PORT"] or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture
def start_worker(postgresql, redis_url, tmp_path):
    """
    Start `celery worker` processes on the test database and Redis; stop them all after.

    Returns start(visibility_timeout=None) -> (process, hostname). Each worker runs in its own
    process group, so a test can kill a whole worker as a dying machine would.
    """
    if not app.conf.broker_url.startswith("redis"):
        unavailable("the Celery broker is not Redis")
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    with app.connection_for_write() as conn:  # drop messages a crashed earlier run left behind
        for queue in app.conf.task_queues:
            queue(conn.default_channel).purge()
    started = []

    def start(visibility_timeout: int | None = None):
        name = f"test-{uuid.uuid4().hex[:8]}@localhost"
        log = open(tmp_path / f"{name}.log", "w+")  # noqa: SIM115 - closed at teardown
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(postgresql),
            "REDIS_URL": redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
        }
        env.pop("CELERY_BROKER_URL", None)
        if visibility_timeout:
            env["CELERY_VISIBILITY_TIMEOUT"] = str(visibility_timeout)
        process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "--app", "portal", "worker",
                "--queues", "default,evidence,briefs", "--hostname", name,
                "--concurrency", "1", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
                "--include", "tests.integration.worker_tasks",
            ],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        started.append((process, log))
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[name], timeout=1):
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"The Celery worker did not start:\n{log.read()[-3000:]}")
        return process, name

    try:
        yield start
    finally:
        for process, log in started:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, 9)
            log.close()
        app.conf.task_always_eager = eager


@pytest.fixture
def celery_worker(start_worker):
    """One worker process."""
    process, _name = start_worker()
    return process


# A real S3-compatible object store (SeaweedFS): seaweedfs, bucket, object_storage.
from tests.integration.conftest_s3 import bucket, object_storage, seaweedfs  # noqa: E402, F401
