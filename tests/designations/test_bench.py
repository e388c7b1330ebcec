"""The designations benchmark runs end to end on a small file (make bench runs the large one)."""

import pytest

from bench import bench_designations
from designations.models import DesignatedParty

pytestmark = pytest.mark.django_db

KEYS = {"benchmark", "case", "metric", "value", "unit", "target", "met", "notes"}


def test_the_quick_benchmark_imports_screens_and_cleans_up():
    results = bench_designations.run(quick=True)

    assert all(set(r) == KEYS and r["benchmark"] == "designations" for r in results)
    by_metric = {r["metric"]: r for r in results}
    assert by_metric["import rate"]["value"] > 0
    p95 = by_metric["screening p95"]
    assert p95["target"] == "< 200 ms" and p95["met"] is (p95["value"] < 200)
    assert "; 0 candidates" not in p95["notes"]  # the person is found among the entities
    assert "0 errors" in by_metric["import time"]["notes"]
    assert not DesignatedParty.objects.filter(source=bench_designations.SOURCE).exists()
