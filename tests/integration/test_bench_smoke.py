"""
The benchmark runner must not rot: `bench/run.py --quick` of a cheap module, end to end, on
a PostgreSQL database of its own (the server of DATABASE_URL, database <name>_bench_smoke).
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from tests.integration.conftest import ROOT, unavailable

pytestmark = pytest.mark.integration


def test_the_quick_benchmark_run_writes_its_results(db, tmp_path):
    if connection.vendor != "postgresql":
        unavailable(f"DATABASE_URL names {connection.vendor}, not PostgreSQL")
    parts = urlsplit(os.environ["DATABASE_URL"])
    database = f"{parts.path.lstrip('/') or 'portal'}_bench_smoke"
    output = tmp_path / "results.json"
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": urlunsplit(parts._replace(path=f"/{database}")),
        "BENCH_REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/4",
        "BENCH_DATA_DIR": str(tmp_path / "data"),
    }
    finished = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--only", "matching", "--output", str(output)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]

    result = json.loads(output.read_text())
    assert result["quick"] is True
    assert {"cpu", "cores", "memory_gib", "os", "python", "postgresql", "date"} <= set(
        result["machine"]
    )
    rows = result["results"]
    assert {row["benchmark"] for row in rows} == {"matching"}
    found = [row for row in rows if row["metric"] == "planted person ranked first"]
    assert found and all(row["value"] is True for row in found)
    assert all(row["value"] > 0 for row in rows if row["unit"] == "ms")
    assert "matching" in finished.stdout and "Written to" in finished.stdout
    assert Path(output).stat().st_size > 0
