"""A large upload goes through the real request handler without ever being held whole."""

import hashlib
import io
import os
import tracemalloc

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from django.urls import reverse

from submissions.models import Evidence
from tests.factories import DossierFactory

FILE_SIZE = 48 * 1024 * 1024
MEMORY_CEILING = 8 * 1024 * 1024  # the whole file is six times this


class MultipartStream(io.RawIOBase):
    """A multipart/form-data body read from a file on disk, a piece at a time."""

    def __init__(self, boundary: str, fields: dict, file_field: str, path, filename: str):
        head = b"".join(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            ).encode()
            for name, value in fields.items()
        )
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        self.parts = [io.BytesIO(head), open(path, "rb"), io.BytesIO(tail)]  # noqa: SIM115
        self.length = len(head) + os.path.getsize(path) + len(tail)

    def readable(self):
        return True

    def read(self, size=-1):
        out = b""
        while self.parts and (size < 0 or len(out) < size):
            chunk = self.parts[0].read(size - len(out) if size >= 0 else -1)
            if not chunk:
                self.parts.pop(0).close()
                continue
            out += chunk
        return out


@pytest.fixture
def big_video(tmp_path):
    path = tmp_path / "interview.mp4"
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        header = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
        out.write(header)
        digest.update(header)
        written = len(header)
        while written < FILE_SIZE:
            chunk = os.urandom(1024 * 1024)
            out.write(chunk)
            digest.update(chunk)
            written += len(chunk)
    return path, digest.hexdigest()


def test_a_large_upload_streams_in_constant_memory_and_hashes_in_the_same_pass(
    client, alice, org_a, big_video, settings
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    path, expected_sha256 = big_video
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    client.force_login(alice)
    csrf = _get_new_csrf_string()
    boundary = "----portal-test-boundary"
    body = MultipartStream(
        boundary,
        {"csrfmiddlewaretoken": csrf, "description": "Interview", "reliability": "B"},
        "files",
        path,
        "interview.mp4",
    )
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": reverse("submissions:evidence-upload", args=[dossier.reference]),
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": body,
        "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
        "CONTENT_LENGTH": str(body.length),
        "HTTP_ACCEPT": "application/json",
        "HTTP_COOKIE": f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}",
    }
    statuses = []
    handler = WSGIHandler()

    # Like Django's test client: keep the test's database connection open across the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        tracemalloc.start()
        response = handler(environ, lambda status, headers: statuses.append(status))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)

    assert statuses == ["200 OK"], b"".join(response)
    assert peak < MEMORY_CEILING, f"peak {peak / 2**20:.1f} MiB for a {FILE_SIZE / 2**20} MiB file"
    evidence = Evidence.objects.get(dossier=dossier)
    assert evidence.sha256 == expected_sha256
    assert evidence.size == os.path.getsize(path)
    assert evidence.content_type == "video/mp4"
    digest = hashlib.sha256()
    with evidence.file.open("rb") as stored:
        for chunk in iter(lambda: stored.read(1024 * 1024), b""):
            digest.update(chunk)
    assert digest.hexdigest() == expected_sha256
