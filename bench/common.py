"""
What the benchmarks share: timing statistics, result rows, bulk data in SQL, signed-in
sessions for real HTTP clients, and gunicorn as a subprocess.

Imported after Django is set up (bench/run.py does that).
"""

# ruff: noqa: S105, S603, S608 - SQL from the benchmarks' own constants; a fixed test token

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# Statistics and rows


def median(values) -> float:
    return statistics.median(values)


def p95(values) -> float:
    """The 95th percentile (nearest rank): with fewer than 20 samples, the largest."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def row(benchmark, case, metric, value, unit, *, target=None, met=None, reference=None,
        ratio=None, notes="") -> dict:  # fmt: skip
    return {
        "benchmark": benchmark,
        "case": case,
        "metric": metric,
        "value": round(value, 3) if isinstance(value, float) else value,
        "unit": unit,
        "reference": round(reference, 3) if isinstance(reference, float) else reference,
        "ratio": round(ratio, 3) if isinstance(ratio, float) else ratio,
        "target": target,
        "met": met,
        "notes": notes,
    }


def timed(function, runs: int, warmup: int = 1) -> list[float]:
    """Call `function` warmup + runs times; return the timed runs' seconds."""
    for _ in range(warmup):
        function()
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
    return seconds


# Data in bulk: clone a template row in SQL (INSERT ... SELECT generate_series), never the ORM
# one row at a time.


def columns(table: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, table)
    return [column.name for column in description]


def quoted(names) -> str:
    return ", ".join(f'"{name}"' for name in names)


def clone(table: str, template_id: int, count: int, overrides: dict[str, str]) -> None:
    """
    Insert `count` copies of row `template_id` of `table`; `overrides` maps a column to an SQL
    expression over g (1..count) and t (the template row). The id comes from the sequence.
    """
    from django.db import connection

    names = [c for c in columns(table) if c != "id"]
    values = [overrides.get(name, f't."{name}"') for name in names]
    sql = (
        f"INSERT INTO {table} ({quoted(names)}) "
        f"SELECT {', '.join(values)} FROM {table} t, generate_series(1, {int(count)}) g "
        f"WHERE t.id = {int(template_id)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)  # no parameters: "%" in the expressions is SQL's modulo


def clone_per(table: str, template_id: int, parents: str, overrides: dict[str, str]) -> None:
    """
    Insert one copy of row `template_id` of `table` per row of the SQL query `parents` (its
    rows are p, with p.id and p.g); `overrides` are SQL expressions over p and t.
    """
    from django.db import connection

    names = [c for c in columns(table) if c != "id"]
    values = [overrides.get(name, f't."{name}"') for name in names]
    sql = (
        f"INSERT INTO {table} ({quoted(names)}) "
        f"SELECT {', '.join(values)} FROM {table} t, ({parents}) p WHERE t.id = {int(template_id)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)  # no parameters: "%" in the expressions is SQL's modulo


def analyze(vacuum: bool = False) -> None:
    """Fresh planner statistics (and the visibility map, for index-only scans) after a load."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")


# People and sessions


def reviewer(email: str, *, lead: bool = False):
    """A reviewer (or lead) with a confirmed authenticator app."""
    from portal import services
    from portal.models import AuthenticatorDevice, User

    user = User.objects.create_user(email=email, password=None, full_name=email.split("@")[0])
    services.grant_review_role(user, lead=lead, by=None)
    AuthenticatorDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return User.objects.get(pk=user.pk)


def member(email: str, organisation):
    """An NGO member, with the authenticator app members need (they open witness identities)."""
    from portal.models import AuthenticatorDevice, Membership, User

    user = User.objects.create_user(email=email, password=None, full_name=email.split("@")[0])
    Membership.objects.create(user=user, organisation=organisation)
    AuthenticatorDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return user


def test_client(user):
    """Django's test client, signed in with the second factor passed (as tests/conftest.py)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user

    client = Client()
    client.force_login(user)
    device = next(devices_for_user(user, confirmed=True), None)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


CSRF_TOKEN = "benchcsrftokenbenchcsrftoken0123"  # 32 characters: Django accepts an unmasked one


def cookie_header(user) -> str:
    """A Cookie header for a real HTTP client: a session signed in (2FA passed) and CSRF."""
    from django.conf import settings

    client = test_client(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={CSRF_TOKEN}"


# Processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


@contextlib.contextmanager
def gunicorn(workers: int = 1, threads: int = 1, log: Path | None = None, env=None):
    """
    Serve the portal with gunicorn on a free loopback port; yield (port, master process).
    As in production, background tasks are queued on Redis, not run in the web process.
    """
    port = free_port()
    env = {"CELERY_TASK_ALWAYS_EAGER": "false", **(env or {})}
    output = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "portal.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
            "--timeout", "600", "--graceful-timeout", "5", "--log-level", "warning",
        ],
        cwd=ROOT, env={**os.environ, **(env or {})}, stdout=output, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_port(port, process)
        yield port, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log:
            output.close()


def children(pid: int) -> list[int]:
    """Child process ids of `pid` (gunicorn's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry.name))
    return found


def memory_kib(pid: int, field: str) -> int:
    """VmRSS or VmHWM (peak) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak(pid: int) -> bool:
    """Reset a process's VmHWM to its current RSS (Linux 4.0+); False if not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False
