"""Imports of each format: names across scripts, entities, delisting, unknown program keys,
malformed entries, idempotence, failures, the command and the task."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from designations import tasks
from designations.models import DesignatedParty, Designation, ImportRun, NameKey
from portal.models import AuditEvent
from tests.designations.conftest import (
    KADYROV,
    KADYROV_COMPANY,
    SDN_COMPANY,
    SDN_MALFORMED,
    SDN_OTHER_PROGRAM,
    SDN_PETROV,
    SDN_VESSEL,
    UK_ENTITY,
    UK_RUSSIA,
    UK_VOLKOV,
    ftm_sanction,
    run_import,
    uk_row,
    uk_xml_designation,
    write_ftm,
    write_sdn,
    write_uk_csv,
    write_uk_xml,
)

pytestmark = pytest.mark.django_db


def table_counts():
    return (
        DesignatedParty.objects.count(),
        Designation.objects.count(),
        NameKey.objects.count(),
        DesignatedParty.objects.filter(delisted_on__isnull=False).count(),
        Designation.objects.filter(delisted_on__isnull=False).count(),
    )


def test_ftm_file_brings_in_persons_with_both_scripts_entities_and_their_programs(ftm_file):
    run = run_import(ftm_file, "ftm")

    assert run.status == "done" and run.source == "opensanctions" and len(run.sha256) == 64
    person = DesignatedParty.objects.get(external_id="os-kadyrov")
    assert person.kind == "person" and person.birth_dates == ["1976-10-05"]
    assert person.nationalities == ["RU"]
    scripts = {n["script"] for n in person.names}
    assert scripts == {"Cyrillic", "Latin"}
    listings = {d.program_key: d for d in person.designations.select_related("regime")}
    assert listings["US-GLOMAG"].regime.key == "US-GLOMAG"
    assert (
        listings["GB-HR"].regime.key == "GB-HR" and str(listings["GB-HR"].listed_on) == "2020-12-10"
    )
    entity = DesignatedParty.objects.get(external_id="os-akhmat-fund")
    assert entity.kind == "entity"
    unknown = entity.designations.get()
    assert unknown.program_key == "XX-MADEUP" and unknown.regime is None  # kept, not dropped
    assert run.unknown_programs == {"XX-MADEUP": 1}
    assert run.errors == 1 and run.error_log[0]["entry"] == "line 6"
    assert "JSONDecodeError" in run.error_log[0]["message"]
    assert not DesignatedParty.objects.filter(external_id="broken").exists()
    assert run.added == 5 and run.entries == 6
    assert AuditEvent.objects.filter(action="designations.imported").count() == 1


def test_importing_the_same_file_twice_changes_nothing(ftm_file):
    first = run_import(ftm_file, "ftm")
    before = table_counts()
    second = run_import(ftm_file, "ftm")

    assert table_counts() == before
    assert (second.added, second.changed, second.delisted) == (0, 0, 0)
    assert second.unchanged == first.added and second.sha256 == first.sha256
    assert second.unknown_programs == first.unknown_programs


def test_a_newer_file_delists_what_it_no_longer_holds_with_the_date(tmp_path, ftm_file):
    run_import(ftm_file, "ftm")
    newer = write_ftm(
        tmp_path / "newer.ftm.json",
        [KADYROV, ftm_sanction("us-glomag-kadyrov", "os-kadyrov", "US-GLOMAG",
                               listed="2020-07-16"), KADYROV_COMPANY],
    )  # fmt: skip
    run = run_import(newer, "ftm")

    gb = Designation.objects.get(external_id="gb-hr-kadyrov")
    assert gb.delisted_on is not None and not gb.is_active  # recorded, not deleted
    assert Designation.objects.get(external_id="us-glomag-kadyrov").delisted_on is None
    assert run.delisted == 2  # the GB-HR listing, and the foundation's XX-MADEUP listing
    # Listed again by a later file: active again, without a new row.
    again = run_import(ftm_file, "ftm")
    gb.refresh_from_db()
    assert gb.delisted_on is None and gb.listed_in_run == again
    assert again.changed == 2 and again.added == 0


def test_a_sanction_before_its_entity_is_linked_at_the_end(tmp_path):
    path = write_ftm(
        tmp_path / "reversed.ftm.json",
        [ftm_sanction("s-1", "os-kadyrov", "GB-HR"), KADYROV,
         ftm_sanction("s-vessel", "imo-123", "US-GLOMAG")],
    )  # fmt: skip
    run = run_import(path, "ftm")

    assert Designation.objects.get(external_id="s-1").party.external_id == "os-kadyrov"
    assert not Designation.objects.filter(external_id="s-vessel").exists()  # nothing listed
    assert run.skipped == 1 and run.added == 2


def test_sdn_xml_reads_people_entities_and_programs(tmp_path):
    path = write_sdn(
        tmp_path / "sdn.xml",
        [SDN_PETROV, SDN_COMPANY, SDN_VESSEL, SDN_OTHER_PROGRAM, SDN_MALFORMED],
    )
    run = run_import(path, "ofac-sdn-xml")

    assert run.status == "done" and run.source == "us-ofac-sdn"
    petrov = DesignatedParty.objects.get(source="us-ofac-sdn", external_id="40001")
    assert petrov.name == "Ivan Sergeyevich PETROV" and petrov.birth_dates == ["1970-03-05"]
    assert petrov.nationalities == ["RU"]
    assert petrov.identifiers == [{"type": "passport", "number": "720123456", "country": "RU"}]
    assert {n["name"] for n in petrov.names} == {"Ivan Sergeyevich PETROV", "Ivan PETROFF"}
    glomag = petrov.designations.get()
    assert glomag.program_key == "US-GLOMAG" and glomag.regime.key == "US-GLOMAG"
    assert glomag.reference == "40001"
    assert DesignatedParty.objects.get(external_id="40002").kind == "entity"
    assert not DesignatedParty.objects.filter(external_id="40003").exists()  # a vessel
    assert run.skipped == 1
    assert run.unknown_programs == {"US-RUSSIA-EO14024": 1}
    assert run.errors == 1 and "uid" in run.error_log[0]["message"]

    newer = write_sdn(tmp_path / "sdn2.xml", [SDN_PETROV, SDN_COMPANY])
    second = run_import(newer, "ofac-sdn-xml")
    assert second.delisted == 2  # Sidorov and his listing
    assert DesignatedParty.objects.get(external_id="40004").delisted_on is not None


def test_broken_xml_fails_the_run_and_delists_nothing(tmp_path):
    run_import(write_sdn(tmp_path / "sdn.xml", [SDN_PETROV, SDN_COMPANY]), "ofac-sdn-xml")
    broken = tmp_path / "broken.xml"
    broken.write_text("<sdnList><sdnEntry><uid>1</uid><lastName>X</lastName></sdnList>")
    before = table_counts()
    run = run_import(broken, "ofac-sdn-xml")

    assert run.status == "failed" and "XML" in run.failure
    assert table_counts() == before  # nothing delisted on a file that could not be read
    assert AuditEvent.objects.filter(action="designations.failed").exists()


def test_uk_csv_groups_rows_by_unique_id_and_maps_regime_names(tmp_path):
    path = write_uk_csv(
        tmp_path / "uk.csv",
        UK_VOLKOV + UK_ENTITY + UK_RUSSIA,
        raw_rows=['"","","' + "x" * 5 + '"'],
    )
    run = run_import(path, "uk-sanctions-list")

    assert run.status == "done" and run.source == "gb-fcdo"
    volkov = DesignatedParty.objects.get(source="gb-fcdo", external_id="GHR0101")
    assert volkov.name == "Sergei VOLKOV" and volkov.birth_dates == ["1968"]
    assert {(n["name"], n["script"]) for n in volkov.names} == {
        ("Sergei VOLKOV", "Latin"), ("Sergey VOLKOV", "Latin"), ("Сергей Волков", "Cyrillic"),
    }  # fmt: skip
    listing = volkov.designations.get()
    assert listing.regime.key == "GB-HR" and str(listing.listed_on) == "2020-12-10"
    entity = DesignatedParty.objects.get(external_id="GAC0202")
    assert entity.kind == "entity" and entity.designations.get().regime.key == "GB-AC"
    assert run.unknown_programs == {"GB-RUSSIA": 1}
    assert run.errors == 1 and run.error_log[0]["entry"].startswith("row ")

    newer = write_uk_csv(tmp_path / "uk2.csv", UK_VOLKOV + UK_RUSSIA)
    assert run_import(newer, "uk-sanctions-list").delisted == 2  # the entity and its listing


def test_uk_xml_is_read_too_and_counts_as_the_same_source(tmp_path):
    path = write_uk_xml(
        tmp_path / "uk.xml",
        [
            uk_xml_designation("GHR0101", [("Sergei", "VOLKOV", "Primary Name")],
                               non_latin=["Сергей Волков"], dob="dd/mm/1968",
                               nationality="Russia"),
            uk_xml_designation("GAC0202", [("", "Kazan Holdings", "Primary Name")],
                               regime="Global Anti-Corruption", kind="Entity"),
            uk_xml_designation("", [("No", "ID", "Primary Name")]),
        ],
    )  # fmt: skip
    run = run_import(path, "uk-sanctions-list")

    volkov = DesignatedParty.objects.get(external_id="GHR0101")
    assert {n["script"] for n in volkov.names} == {"Latin", "Cyrillic"}
    assert volkov.nationalities == ["RU"] and volkov.birth_dates == ["1968"]
    assert run.added == 4 and run.errors == 1


def test_a_failing_entry_is_reported_and_the_rest_of_its_batch_is_written(tmp_path, monkeypatch):
    from designations import importer

    original = importer.Importer._write_parties

    def fail_on_one(self, entries, tally):
        if any(e.party and e.party.external_id == "os-akhmat-fund" for e in entries):
            DesignatedParty.objects.create(
                source=self.source, external_id="half", kind="person", schema="Person",
                name="half-written", names=[],
            )  # fmt: skip
            raise importer.DatabaseError("disk full")
        return original(self, entries, tally)

    monkeypatch.setattr(importer.Importer, "_write_parties", fail_on_one)
    path = write_ftm(tmp_path / "f.ftm.json", [KADYROV, KADYROV_COMPANY])
    run = run_import(path, "ftm")

    assert DesignatedParty.objects.filter(external_id="os-kadyrov").exists()
    assert not DesignatedParty.objects.filter(external_id__in=["os-akhmat-fund", "half"]).exists()
    assert run.errors == 1 and "disk full" in run.error_log[0]["message"]


def test_command_imports_and_reports(tmp_path, capsys):
    path = write_sdn(tmp_path / "sdn.xml", [SDN_PETROV, SDN_OTHER_PROGRAM])
    call_command("import_designations", str(path), "--format", "ofac-sdn-xml")
    out = capsys.readouterr().out
    assert "us-ofac-sdn: done" in out and "unknown program key US-RUSSIA-EO14024: 1" in out
    with pytest.raises(CommandError, match="No file"):
        call_command("import_designations", str(tmp_path / "nope.xml"), "--format", "ftm")
    assert ImportRun.objects.count() == 1


def test_the_beat_task_does_nothing_without_configured_lists(settings):
    settings.DESIGNATION_LIST_URLS = {}
    assert tasks.fetch_configured_lists() == []
    assert not ImportRun.objects.exists()


def test_the_beat_task_reimports_only_a_changed_file(settings, tmp_path):
    path = write_uk_csv(tmp_path / "uk.csv", UK_VOLKOV)
    settings.DESIGNATION_LIST_URLS = {"uk-sanctions-list": str(path)}
    assert len(tasks.fetch_configured_lists()) == 1
    assert tasks.fetch_configured_lists() == []  # same SHA-256: not read again
    write_uk_csv(path, [*UK_VOLKOV, uk_row("GHR0102", "PETROV", "Ivan")])
    assert len(tasks.fetch_configured_lists()) == 1
    assert ImportRun.objects.count() == 2


def test_reviewers_follow_runs_and_parties_in_admin_and_ngo_members_do_not(
    client, rita, alice, ftm_file
):
    run = run_import(ftm_file, "ftm")
    party = DesignatedParty.objects.get(external_id="os-kadyrov")
    client.force_login(rita)
    listing = client.get(reverse("admin:designations_importrun_changelist"))
    assert listing.status_code == 200 and "XX-MADEUP (1)" in listing.text
    page = client.get(reverse("admin:designations_importrun_change", args=[run.pk]))
    assert page.status_code == 200 and "line 6" in page.text and run.sha256 in page.text
    page = client.get(reverse("admin:designations_designatedparty_change", args=[party.pk]))
    assert page.status_code == 200 and "Рамзан Ахматович Кадыров" in page.text
    assert "GB-HR" in page.text
    client.force_login(alice)
    response = client.get(reverse("admin:designations_importrun_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]
