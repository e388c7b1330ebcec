"""
Evidence upload of a 1 GiB file through the real upload view, under gunicorn.

The client streams a multipart body from the file in 1 MiB pieces over loopback (http.client),
signed in as an NGO member (a session made directly, as a browser would hold it). Reference:
hashlib's SHA-256 of bytes already in memory, measured in the same run (the floor: an upload
cannot beat hashing); Debian's `sha256sum` of the same file, from the page cache, is reported
beside it. Memory: the gunicorn worker's peak RSS (VmHWM, reset before each upload) minus its RSS just
before, so that what Django and the portal had loaded already does not count.
"""

import hashlib
import http.client
import json
import os
import subprocess
import time
import uuid
from pathlib import Path

from bench import common

SIZE = 1024**3
QUICK_SIZE = 64 * 1024**2
CHUNK = 1024**2
TARGET_RATIO = 0.5
TARGET_RSS_MIB = 32


def make_file(path: Path, size: int) -> None:
    """A file that libmagic calls a PDF (the portal refuses unknown types), then random bytes."""
    block = os.urandom(CHUNK)
    with path.open("wb") as out:
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        written = out.tell()
        counter = 0
        while written < size:
            piece = (counter.to_bytes(8, "big") + block)[: min(CHUNK, size - written)]
            out.write(piece)
            written += len(piece)
            counter += 1


def sha256sum_seconds(path: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["sha256sum", str(path)], check=True, capture_output=True)  # noqa: S603,S607
    return time.perf_counter() - started


def multipart(path: Path, fields: dict[str, str]):
    """(content type, length, body iterator) of a form with `fields` and one file."""
    boundary = uuid.uuid4().hex
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{path.name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + path.stat().st_size + len(tail)

    def body():
        yield head
        with path.open("rb") as source:
            yield from iter(lambda: source.read(CHUNK), b"")
        yield tail

    return f"multipart/form-data; boundary={boundary}", length, body()


def upload(port: int, url: str, cookie: str, path: Path) -> tuple[float, dict]:
    content_type, length, body = multipart(
        path, {"description": "Bench upload", "reliability": "B", "credibility": "2"}
    )
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {
        "Content-Type": content_type,
        "Content-Length": str(length),
        "Cookie": cookie,
        "X-CSRFToken": common.CSRF_TOKEN,
        "Accept": "application/json",
    }
    started = time.perf_counter()
    connection.request("POST", url, body=body, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    seconds = time.perf_counter() - started
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"upload answered {response.status}: {payload[:500]!r}")
    return seconds, json.loads(payload)


def warm(port: int, url: str, cookie: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", url, headers={"Cookie": cookie})
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"{url} answered {response.status}")


def hashlib_in_memory_mib_per_second(mib: int = 256) -> float:
    """SHA-256 of bytes already in memory, in 1 MiB updates: the floor of an upload's cost."""
    block = os.urandom(1024 * 1024)
    digest = hashlib.sha256()
    started = time.perf_counter()
    for _ in range(mib):
        digest.update(block)
    return mib / (time.perf_counter() - started)


def run(quick: bool = False) -> list[dict]:
    from django.conf import settings
    from django.urls import reverse

    from submissions.models import Evidence
    from tests.factories import DossierFactory, OrganisationFactory

    size = QUICK_SIZE if quick else SIZE
    runs = 2 if quick else 3
    organisation = OrganisationFactory(name="Upload bench NGO")
    alice = common.member("alice.upload@bench.example", organisation)
    cookie = common.cookie_header(alice)
    path = Path(settings.DATA_DIR) / "bench-upload.pdf"
    make_file(path, size)
    try:
        with path.open("rb") as source:
            expected = hashlib.file_digest(source, "sha256").hexdigest()
        reference = [sha256sum_seconds(path) for _ in range(runs)]
        in_memory = hashlib_in_memory_mib_per_second()
        seconds, growth_mib, resets = [], [], []
        with common.gunicorn(workers=1, log=Path(settings.DATA_DIR) / "gunicorn-upload.log") as (
            port,
            master,
        ):
            for _ in range(runs):
                dossier = DossierFactory(organisation=organisation, created_by=alice)
                warm(port, reverse("submissions:evidence-list", args=[dossier.reference]), cookie)
                (worker,) = common.children(master.pid)
                resets.append(common.reset_peak(worker))
                before = common.memory_kib(worker, "VmRSS")
                elapsed, answer = upload(
                    port,
                    reverse("submissions:evidence-upload", args=[dossier.reference]),
                    cookie,
                    path,
                )
                peak = common.memory_kib(worker, "VmHWM")
                results = answer["results"]
                if not (len(results) == 1 and results[0]["ok"]):
                    raise RuntimeError(f"upload refused: {results}")
                evidence = Evidence.objects.get(pk=results[0]["evidence"])
                if evidence.sha256 != expected or evidence.size != size:
                    raise RuntimeError("the stored hash or size differs from the file's")
                evidence.file.storage.delete(evidence.file.name)
                seconds.append(elapsed)
                growth_mib.append((peak - before) / 1024)
    finally:
        path.unlink(missing_ok=True)
    mib = size / 1024**2
    throughput = mib / common.median(seconds)
    sha_throughput = mib / common.median(reference)
    ratio = throughput / sha_throughput
    case = f"{mib / 1024:g} GiB file" if mib >= 1024 else f"{mib:g} MiB file"
    growth = max(growth_mib)
    return [
        common.row("upload", case, "seconds (median)", common.median(seconds), "s",
                   notes=f"{runs} uploads"),
        common.row("upload", case, "throughput", throughput, "MiB/s",
                   reference=in_memory, ratio=throughput / in_memory,
                   target=">= 0.5x hashlib in memory", met=throughput / in_memory >= TARGET_RATIO,
                   notes="reference: hashlib SHA-256 of bytes in memory, same run"),
        common.row("upload", case, "throughput against sha256sum", throughput, "MiB/s",
                   reference=sha_throughput, ratio=ratio, notes="reference: sha256sum MiB/s"),
        common.row("upload", case, "web worker peak RSS growth (max)", growth, "MiB",
                   target="<= 32 MiB", met=growth <= TARGET_RSS_MIB,
                   notes="VmHWM reset before each upload" if all(resets)
                   else "VmHWM could not be reset: growth since the worker started"),
    ]  # fmt: skip
