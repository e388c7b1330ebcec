"""
Attacks from outside, with the published files alone: a canary dossier (the only one from a
rare country) planted in the data must not be seen or worked out from the page, the charts,
the CSV and JSON files, the medians, or two consecutive snapshots set against each other.
"""

import csv
import io
import re
import zipfile
from datetime import date

import pytest
from django.urls import reverse

from portal.models import AuditEvent
from tests.transparency.attacker import exposed, feasible_values
from tests.transparency.conftest import UNTIL, delivered_package, submitted_dossier
from transparency import services
from transparency.models import Snapshot
from transparency.statistics import MEASURES, OUTCOMES

pytestmark = pytest.mark.django_db

RARE = "KP"  # one dossier only: the canary
RARE_NAMES = {"en": "North Korea", "ja": "北朝鮮"}


def downloads(client) -> dict:
    """Every file of the latest snapshot, as an outsider gets it."""
    archive = client.get(reverse("transparency:archive")).content
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        return {name: bundle.read(name).decode() for name in bundle.namelist()}


def system(document: dict, tag=None) -> tuple[dict, dict, list]:
    """What snapshot.json tells: (known values, every cell's status, every equation)."""

    def key(*parts):
        return (tag, *parts) if tag else parts

    known, status, rows = {}, {}, {"all": ["all"]}

    def note(k, cell):
        status[k] = cell["status"]
        if cell["status"] == "published":
            known[k] = cell["value"]

    for measure in MEASURES:
        note(key("all", "all", measure), document["totals"][measure])
    for table, items in document["tables"].items():
        for row in items:
            row_key = (row["regime"], row["year"]) if table == "regime_year" else row["key"]
            rows.setdefault(table, []).append(row_key)
            for measure in MEASURES:
                note(key(table, row_key, measure), row["cells"][measure])
    equations = []
    for table, keys in rows.items():
        for row_key in keys:
            equations.append(
                (key(table, row_key, "delivered"), [key(table, row_key, m) for m in OUTCOMES])
            )
    for measure in MEASURES:
        for table in ("regime", "category", "country", "year"):
            parts = [key(table, k, measure) for k in rows.get(table, [])]
            equations.append((key("all", "all", measure), parts))
        for regime in rows.get("regime", []):
            parts = [key("regime_year", k, measure)
                     for k in rows.get("regime_year", []) if k[0] == regime]  # fmt: skip
            equations.append((key("regime", regime, measure), parts))
        for year in rows.get("year", []):
            parts = [key("regime_year", k, measure)
                     for k in rows.get("regime_year", []) if k[1] == year]  # fmt: skip
            equations.append((key("year", year, measure), parts))
    return known, status, equations


def truth_of(document: dict, truth: dict, tag=None) -> dict:
    _known, status, _equations = system(document, tag)
    return {k: truth.get(k[1:] if tag else k, 0) for k in status}


def true_counts() -> dict:
    from transparency import statistics

    values, _durations = statistics.count(statistics.read_facts(UNTIL))
    return values


def small(pinned: dict, threshold: int) -> dict:
    return {k: v for k, v in pinned.items() if 0 < v < threshold}


@pytest.fixture
def canary(world, org_a):
    """The only dossier about conduct in North Korea."""
    return submitted_dossier(org_a, year=2026, country=RARE, subject="Canary", witness="C W")


def test_a_canary_count_is_not_shown_in_the_page_charts_or_files(client, canary):
    snapshot = services.compute_snapshot(until=UNTIL)
    files = downloads(client)
    document = client.get(reverse("transparency:download", args=["snapshot.json"])).json()
    row = next(r for r in document["tables"]["country"] if r["key"] == RARE)
    assert {c["status"] for c in row["cells"].values()} <= {"fewer", "withheld", "suppressed"}
    assert all(c["value"] is None for c in row["cells"].values())
    # The CSV says no more than the JSON, cell by cell.
    line = next(
        r for r in csv.DictReader(io.StringIO(files["country.csv"])) if r["country"] == RARE
    )
    assert not any(line[m].isdigit() for m in [*MEASURES, "designation_share", "median_days"])
    for language, name in RARE_NAMES.items():
        html = client.get(reverse("transparency:page"), HTTP_ACCEPT_LANGUAGE=language)
        html = html.content.decode()
        table_row = re.search(rf"<tr>\s*<th scope=\"row\">{name}</th>(.*?)</tr>", html, re.S)
        assert table_row, name
        assert not re.search(r">\s*\d+\s*(%\s*)?<", table_row.group(1))
        # The chart draws no bar for it and writes no figure beside it.
        group = re.search(rf">{name[:25]}[^<]*</text>(.*?)(?:<text x=\"170\"|</g>)", html, re.S)
        assert group, name
        assert "<rect" not in group.group(1)
        assert not re.search(r">\s*\d+\s*<", group.group(1))
    assert snapshot.basis["counts"]  # kept, never published:
    assert not any("counts" in text or 'dossiers"' in text for text in files.values())


def test_no_small_count_can_be_worked_out_from_the_files_alone(client, canary):
    services.compute_snapshot(until=UNTIL)
    document = downloads(client)["snapshot.json"]
    import json

    document = json.loads(document)
    known, status, equations = system(document)
    values = truth_of(document, true_counts())
    assert 0 < values[("country", RARE, "submitted")] < document["threshold"]
    pinned = exposed(equations, values, status, document["threshold"])
    assert small(pinned, document["threshold"]) == {}


def test_one_new_dossier_publishes_nothing_new(client, world, org_a):
    first = services.compute_snapshot(until=UNTIL)
    before = downloads(client)
    submitted_dossier(org_a, year=2026, country=RARE, subject="Canary", witness="C W")
    assert services.compute_snapshot(until=UNTIL).pk == first.pk
    assert services.compute_snapshot(until=date(2026, 11, 30)).pk == first.pk  # a month on
    assert downloads(client) == before
    assert Snapshot.objects.count() == 1
    assert AuditEvent.objects.filter(action="transparency.snapshot_computed").count() == 1


def test_an_organisation_that_opts_out_is_taken_off_even_while_figures_wait(world, org_a, org_b):
    first = services.compute_snapshot(until=UNTIL)
    assert first.data["organisations"] == ["Org B"]
    submitted_dossier(org_a, year=2026, subject="One more")
    org_b.listed_publicly = False
    org_b.save(update_fields=["listed_publicly"])
    second = services.compute_snapshot(until=UNTIL)
    assert second.pk != first.pk and second.data["organisations"] == []
    assert {**second.data, "organisations": ["Org B"]} == first.data
    assert second.basis == first.basis  # the next snapshot still counts from the first


def test_two_consecutive_snapshots_give_the_canary_away_neither_alone_nor_together(
    client, world, org_a
):
    """
    The attacker keeps every snapshot. The first has no canary; the canary and four other
    dossiers arrive before the second. Set side by side (each cell now = before + change,
    change 0 or more), the two snapshots pin no small count of either.
    """
    import json

    services.compute_snapshot(until=UNTIL)
    first = json.loads(downloads(client)["snapshot.json"])
    first_truth = truth_of(first, true_counts(), "before")
    submitted_dossier(org_a, year=2026, country=RARE, subject="Canary", witness="C W")
    for index in range(4):
        submitted_dossier(org_a, year=2026, subject=f"Cover {index}", witness=f"W {index}")
    services.compute_snapshot(until=UNTIL)
    second = json.loads(downloads(client)["snapshot.json"])
    assert second != first  # five dossiers changed: new figures are out
    threshold = second["threshold"]

    known, status, equations = system(first, "before")
    known_now, status_now, equations_now = system(second, "now")
    truth_now = truth_of(second, true_counts(), "now")
    known |= known_now
    status |= status_now
    equations += equations_now
    values = first_truth | truth_now
    for key in {k[1:] for k in status}:
        was, now = ("before", *key), ("now", *key)
        for side in (was, now):  # a row a snapshot lacks holds 0, and that shows
            if side not in status:
                status[side], known[side], values[side] = "published", 0, 0
        change = ("change", *key)
        status[change], values[change] = "suppressed", values[now] - values[was]
        equations.append((now, [was, change]))
    assert values[("now", "country", RARE, "submitted")] == 1
    known = {k: v for k, v in values.items() if status[k] == "published"}
    hidden = {k: s for k, s in status.items() if s != "published"}
    targets = [k for k in hidden if k[0] != "change" and 0 < values[k] < threshold]
    assert ("now", "country", RARE, "submitted") in targets
    for target in targets:  # each small count of either snapshot keeps a second value
        ceiling = 2 * sum(truth_now.values())
        found = feasible_values(target, equations, known, hidden, threshold, ceiling,
                                zero_possible=set(hidden))  # fmt: skip
        assert len(found) >= 2, (target, found)


@pytest.fixture
def medians_world(org_a, lena):
    """The issue's synthetic world: US and GB 4 designated each, US 1 awaiting."""
    for regime, answers in (("GB-HR", ["designated"] * 4),
                            ("US-GLOMAG", ["designated"] * 4 + [""])):  # fmt: skip
        for index, answer in enumerate(answers):
            dossier = submitted_dossier(org_a, regimes=(regime,), year=2025,
                                        subject=f"{regime} {index}")  # fmt: skip
            decided = date(2025, 9, 1 + index) if answer else None
            delivered_package(
                lena, regime, [dossier], delivered_on=date(2025, 6, 1),
                response=answer, response_on=decided, designated_on=decided,
            )  # fmt: skip


def test_the_median_says_nothing_its_counts_do_not(client, medians_world):
    services.compute_snapshot(until=UNTIL)
    document = client.get(reverse("transparency:download", args=["snapshot.json"])).json()
    rows = [document["totals"], *(r["cells"] for t in document["tables"].values() for r in t)]
    for cells in rows:
        shown = {m for m in MEASURES if cells[m]["status"] == "published"}
        for derived in ("median_days", "designation_share"):
            assert cells[derived]["status"] in ("published", "withheld")
            if cells[derived]["status"] == "withheld":
                assert cells[derived]["value"] is None
        # A median is shown only beside enough decisions that are themselves shown.
        if cells["median_days"]["status"] == "published":
            assert {"designated", "declined"} <= shown or {"delivered", "awaiting"} <= shown
        else:  # one neutral marker whether or not there was a decision to compute from
            assert cells["median_days"]["status"] == "withheld"
    html = client.get(reverse("transparency:page")).content.decode()
    assert "–" not in html.split("<main", 1)[-1]
    pinned = exposed(*_system_and_truth(document))
    assert small(pinned, document["threshold"]) == {}


def _system_and_truth(document):
    known, status, equations = system(document)
    values = truth_of(document, true_counts())
    return equations, values, status, document["threshold"]
