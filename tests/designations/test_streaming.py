"""A list file much larger than the memory the import may use."""

import json
import tracemalloc

import pytest
from followthemoney import model

from designations import importer
from designations.models import DesignatedParty, Designation
from tests.designations.conftest import run_import

pytestmark = pytest.mark.django_db

FIRST = ["Ivan", "Sergei", "Oleg", "Anna", "Maria", "Wang", "Ahmed", "Li", "Pavel", "Olga"]
LAST = ["Petrov", "Volkov", "Sidorov", "Ivanova", "Kuznetsov", "Popov", "Lebedev", "Kozlov"]
MEMORY_LIMIT = 8 * 1024 * 1024  # bytes of Python memory the import may hold at its peak


def write_large_ftm(path, persons: int, padding: int) -> int:
    """Persons with long notes (read, then dropped) and one sanction each."""
    notes = "x" * padding
    with path.open("w", encoding="utf-8") as out:
        for n in range(persons):
            name = f"{FIRST[n % len(FIRST)]} {LAST[n // len(FIRST) % len(LAST)]} {n}"
            person = {
                "id": f"p{n}",
                "schema": "Person",
                "properties": {"name": [name], "notes": [notes], "birthDate": ["1970"]},
            }
            sanction = {
                "id": f"s{n}",
                "schema": "Sanction",
                "properties": {"entity": [f"p{n}"], "programId": ["US-GLOMAG"]},
            }
            out.write(json.dumps(person) + "\n" + json.dumps(sanction) + "\n")  # fmt: skip
    return path.stat().st_size


@pytest.mark.parametrize("apart", [False, True], ids=["parsed-here", "parsed-apart"])
def test_a_file_three_times_the_memory_limit_imports_in_constant_memory(
    tmp_path, monkeypatch, apart
):
    # Apart, the memory measured is the writing process's (the parser's holds one batch).
    monkeypatch.setattr(importer, "PARSE_APART_FROM", 0 if apart else 2**62)
    size = write_large_ftm(tmp_path / "large.ftm.json", persons=6000, padding=4000)
    assert size > 3 * MEMORY_LIMIT
    model.get_proxy({"id": "warm", "schema": "Person", "properties": {}})  # load the schema
    tracemalloc.start()
    try:
        run = run_import(tmp_path / "large.ftm.json", "ftm", screen=False)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert run.status == "done" and run.errors == 0 and run.bytes_read == size
    assert DesignatedParty.objects.count() == 6000 and Designation.objects.count() == 6000
    assert peak < MEMORY_LIMIT, f"peak {peak / 2**20:.1f} MiB for a {size / 2**20:.0f} MiB file"
