"""
The benchmark suite: `make bench` (or `.venv/bin/python bench/run.py [--quick] [--only NAME]`).

Builds its own data in a PostgreSQL database that it recreates (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/portal_bench) with Redis (BENCH_REDIS_URL, default db 4),
runs every bench/bench_*.py module's run(quick) and prints one table; writes
bench/results.json (or --output) with the machine's description. Nothing here fails for being
slow: a target not met is reported, and a benchmark that breaks is reported as an error row
while the others go on (the exit status is then 1).
"""

import argparse
import contextlib
import datetime
import importlib
import json
import os
import platform
import secrets
import sys
import time
import traceback
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def configure(database_url: str, redis_url: str, data_dir: Path) -> None:
    """Production settings with plain http and fixed local secrets, on PostgreSQL and Redis."""
    from cryptography.fernet import Fernet

    from portal.keys import new_signing_key

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "AUDIT_HMAC_KEYS": f"bench:{secrets.token_urlsafe(48)}",
            "PORTAL_SIGNING_KEY": new_signing_key(),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "WHITENOISE_USE_FINDERS": "true",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            # Background work (metadata, scanning, notifications) runs in the request's
            # process: the web figures then include it, an upper bound for a real deployment.
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "PORTAL_DATA_DIR": str(data_dir),
            # /bench/floor/: the page every web figure is compared with.
            "PORTAL_BENCH_FLOOR": "true",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.pop("AWS_STORAGE_BUCKET_NAME", None)


def recreate_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"Refusing an unusual database name: {name!r}")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def machine(database_version: str) -> dict:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gib = None
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024**2, 1)
    os_name = platform.platform()
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory_gib,
        "os": os_name,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": database_version,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def modules(only: list[str]) -> list[str]:
    names = sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))
    if only:
        names = [n for n in names if n.removeprefix("bench_") in only or n in only]
    return names


def format_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def table(rows: list[dict]) -> str:
    headers = [
        "benchmark",
        "case",
        "metric",
        "value",
        "unit",
        "reference",
        "ratio",
        "target",
        "met",
    ]
    cells = [
        [
            r["benchmark"],
            r["case"],
            r["metric"],
            format_value(r["value"]),
            r["unit"],
            format_value(r.get("reference")),
            format_value(r.get("ratio")),
            r.get("target") or "",
            {True: "yes", False: "NO", None: ""}[r.get("met")],
        ]
        for r in rows
    ]
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *cells, strict=False)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) for line in cells
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few runs (smoke)")
    parser.add_argument("--only", action="append", default=[], help="e.g. queue, matching")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args(argv)

    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench"
    )
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
    data_dir = Path(os.environ.get("BENCH_DATA_DIR", ROOT / "var" / "test-bench" / "run"))
    if data_dir.exists():
        import shutil

        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    configure(database_url, redis_url, data_dir)
    recreate_database(database_url)

    import warnings

    import django

    # Static files are served from the source folders (no collectstatic for a benchmark).
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    started = time.monotonic()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    call_command("migrate", verbosity=0, interactive=False)
    from portal.celery import app

    app.control.purge()  # tasks that the web queued in an earlier run (no worker takes them)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        database_version = cursor.fetchone()[0]

    rows, failed = [], False
    for name in modules(args.only):
        print(f"== {name}{' (quick)' if args.quick else ''}", flush=True)
        module_started = time.monotonic()
        try:
            module = importlib.import_module(f"bench.{name}")
            produced = module.run(quick=args.quick)
        except Exception as error:  # noqa: BLE001 - one broken benchmark must not stop the rest
            failed = True
            traceback.print_exc()
            produced = [
                {"benchmark": name.removeprefix("bench_"), "case": "", "metric": "error",
                 "value": None, "unit": "", "reference": None, "ratio": None, "target": None,
                 "met": False, "notes": f"{type(error).__name__}: {error}"}
            ]  # fmt: skip
        for line in produced:
            print("   ", {k: v for k, v in line.items() if v not in (None, "")}, flush=True)
        print(f"   ({time.monotonic() - module_started:.0f} s)", flush=True)
        rows += produced
    elapsed = time.monotonic() - started

    print()
    print(table(rows))
    print(f"\nWhole run: {elapsed / 60:.1f} minutes; load average {load_at_start} at the start.")
    described = machine(database_version)
    # Other processes compete for the same cores: say how busy the machine was.
    described["load_average_at_start"] = load_at_start
    described["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result = {
        "machine": described,
        "quick": args.quick,
        "duration_seconds": round(elapsed, 1),
        "results": rows,
    }
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"Written to {args.output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
