"""A large file is parsed in a process of its own while this one writes: the same rows, the same
run record, failures and errors reported as when it is parsed in the writing process."""

import pytest

from designations import importer
from designations.models import DesignatedParty, Designation, ImportRun, NameKey
from tests.designations.conftest import (
    KADYROV,
    KADYROV_COMPANY,
    SDN_COMPANY,
    SDN_PETROV,
    ftm_person,
    ftm_sanction,
    run_import,
    write_ftm,
    write_sdn,
)

pytestmark = pytest.mark.django_db

RUN_FIELDS = ["status", "failure", "sha256", "bytes_read", "bytes_total", "entries", "added",
              "changed", "unchanged", "skipped", "delisted", "errors", "error_log",
              "unknown_programs"]  # fmt: skip


def mixed_file(path, version: int):
    """Persons in two scripts, an entity, nested and reversed sanctions, a vessel's sanction,
    a duplicate, an unknown program, malformed lines; `version` 2 changes, drops and adds."""
    entities = [
        KADYROV,
        ftm_sanction("s-kadyrov", "os-kadyrov", "US-GLOMAG", listed="2020-07-16"),
        ftm_sanction("s-early", "os-later", "GB-HR"),  # before its entity
        KADYROV_COMPANY,
        ftm_sanction("s-fund", "os-akhmat-fund", "XX-MADEUP"),
        ftm_sanction("s-vessel", "imo-1", "US-GLOMAG"),
        ftm_person("os-later", "Ivan Petrov" if version == 1 else "Ivan S. Petrov", birth="1970"),
        {**ftm_person("os-nested", "Олег Сидоров", aliases=["Oleg Sidorov"])}
        | {"properties": {"name": ["Олег Сидоров"], "sanctions": [
            {"id": "s-nested", "schema": "Sanction", "properties": {"programId": ["GB-HR"]}}]}},
        ftm_person("os-later", "Duplicate Petrov"),
        {"id": "vessel", "schema": "Vessel", "properties": {"name": ["Sea Star"]}},
    ]  # fmt: skip
    if version == 2:
        entities = [e for e in entities if e.get("id") != "os-akhmat-fund"]
        entities.append(ftm_person("os-new", "Anna Volkova", nationality="ru"))
    return write_ftm(
        path, entities, raw_lines=['{"id": "broken", "schema"', "[1, 2]", '{"schema": "Person"}']
    )


def snapshot(source: str):
    """Every row an import wrote for `source`, without keys or times."""
    parties = {
        p["external_id"]: p
        for p in DesignatedParty.objects.filter(source=source).values(
            "external_id", "kind", "schema", "name", "names", "birth_dates", "nationalities",
            "identifiers", "content_hash", "delisted_on",
        )
    }  # fmt: skip
    designations = sorted(
        Designation.objects.filter(source=source).values_list(
            "external_id", "party__external_id", "party_ref", "program_key", "regime_id",
            "authority", "reference", "listed_on", "content_hash", "delisted_on",
        )
    )  # fmt: skip
    keys = sorted(
        NameKey.objects.filter(party__source=source).values_list("party__external_id", "key")
    )
    runs = [
        [getattr(run, name) for name in RUN_FIELDS]
        for run in ImportRun.objects.filter(source=source).order_by("pk")
    ]
    return parties, designations, keys, runs


def import_both_ways(monkeypatch, tmp_path, write, format):
    """Import the files `write(path, n)` makes into two sources, in this process and apart."""
    assert importer._can_fork()  # else both runs would parse here and compare equal trivially
    results = {}
    for apart in (False, True):
        monkeypatch.setattr(importer, "PARSE_APART_FROM", 0 if apart else 2**62)
        source = f"apart-{apart}"
        for version in (1, 2):
            path = write(tmp_path / f"{source}-{version}", version)
            run_import(path, format, source=source, screen=False)
        results[apart] = snapshot(source)
    return results


def test_a_file_parsed_apart_writes_what_it_writes_parsed_here(monkeypatch, tmp_path):
    here, apart = import_both_ways(monkeypatch, tmp_path, mixed_file, "ftm").values()

    parties, designations, keys, runs = apart
    assert (parties, designations, keys) == here[:3] and runs == here[3]
    assert "os-nested" in parties and len(keys) > 3
    assert [run[0] for run in runs] == ["done", "done"]
    assert runs[0][RUN_FIELDS.index("errors")] == 4  # three malformed lines and a duplicate
    assert runs[1][RUN_FIELDS.index("delisted")] == 2  # the fund and its listing


def test_sdn_xml_parsed_apart_writes_the_same(monkeypatch, tmp_path):
    def write(path, version):
        return write_sdn(path, [SDN_PETROV, SDN_COMPANY][: 3 - version])

    here, apart = import_both_ways(monkeypatch, tmp_path, write, "ofac-sdn-xml").values()
    assert apart == here and apart[3][1][RUN_FIELDS.index("delisted")] == 2


def test_a_file_that_breaks_apart_fails_the_run_as_here(monkeypatch, tmp_path):
    def write(path, version):
        path.write_text(
            "<sdnList><sdnEntry><uid>1</uid><lastName>X</lastName></sdnList>"
            if version == 2
            else write_sdn(path, [SDN_PETROV]).read_text()
        )
        return path

    here, apart = import_both_ways(monkeypatch, tmp_path, write, "ofac-sdn-xml").values()
    assert apart == here
    assert [run[0] for run in apart[3]] == ["done", "failed"] and apart[3][1][2] == ""
    assert all(p["delisted_on"] is None for p in apart[0].values())  # nothing delisted


def test_a_parsing_process_that_crashes_stops_the_import(monkeypatch, tmp_path):
    def crash(stream):
        yield from ()
        raise KeyError("a bug in a reader")

    monkeypatch.setattr(importer, "PARSE_APART_FROM", 0)
    monkeypatch.setitem(importer.READERS, "ftm", crash)
    with pytest.raises(RuntimeError, match="a bug in a reader"):
        run_import(write_ftm(tmp_path / "f.json", [KADYROV]), "ftm", screen=False)
