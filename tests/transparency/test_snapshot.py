"""The snapshot: counted from the facts, protected, written once per change, audited."""

from datetime import UTC, date, datetime

import pytest

from portal.models import AuditEvent
from tests.transparency.attacker import exposed
from tests.transparency.conftest import UNTIL, submitted_dossier
from transparency import services, statistics, tasks
from transparency.models import Snapshot
from transparency.statistics import MEASURES, OUTCOMES

pytestmark = pytest.mark.django_db


def cells(snapshot, table, key):
    row = next(r for r in snapshot.data["tables"][table] if r["key"] == key)
    return {m: (c["value"] if c["status"] == "published" else c["status"])
            for m, c in row["cells"].items()}  # fmt: skip


def test_the_snapshot_counts_dossiers_packages_and_decisions(world):
    snapshot = services.compute_snapshot(until=UNTIL)
    totals = {m: c["value"] if c["status"] == "published" else c["status"]
              for m, c in snapshot.data["totals"].items()}  # fmt: skip
    assert totals["submitted"] == 14
    assert totals["designated"] == 5
    # 9 delivered, but 6 of them in 2025 (all to GB-HR, shown) would give 2026's 3 away.
    assert totals["delivered"] in (9, "withheld")
    assert totals["declined"] == totals["awaiting"] == "fewer"
    assert snapshot.data["until"] == "2026-10-31"
    gb = cells(snapshot, "regime", "GB-HR")
    assert gb["submitted"] in (9, "withheld") and gb["delivered"] in (6, "withheld")
    assert gb["designated"] == "fewer"  # 4
    # GB-HR's decisions took 92, 122, 153, 223 (designated) and 183 (declined) days.
    assert gb["median_days"] in (153, "withheld")
    # The per-year table partitions the total: 2025 has eight dossiers of Org A.
    assert cells(snapshot, "year", 2025)["submitted"] in (8, "withheld")
    assert snapshot.data["organisations"] == ["Org B"]


def test_no_hidden_value_is_stored_and_markers_match_the_threshold(world):
    snapshot = services.compute_snapshot(until=UNTIL)
    values, _durations = statistics.count(statistics.read_facts(UNTIL))
    for rows in snapshot.data["tables"].values():
        for row in rows:
            for measure in MEASURES:
                cell = row["cells"][measure]
                if cell["status"] != "published":
                    assert cell["value"] is None
                else:
                    assert cell["value"] >= snapshot.threshold


def test_differencing_across_the_published_tables_recovers_no_small_count(world):
    """
    An adversary with every table (per regime, category, country, year, regime by year and
    the totals) sets up every equation between them and solves for each hidden count.
    In this world every dossier has one regime, one category and one country, so each
    breakdown partitions its total exactly: the adversary's equations are all true.
    """
    snapshot = services.compute_snapshot(until=UNTIL)
    truth, _durations = statistics.count(statistics.read_facts(UNTIL))
    data = snapshot.data
    known, status = {}, {}

    def note(key, cell):
        status[key] = cell["status"]
        if cell["status"] == "published":
            known[key] = cell["value"]

    for measure in MEASURES:
        note(("all", "all", measure), data["totals"][measure])
    rows = {}
    for table, items in data["tables"].items():
        for row in items:
            key = (row["regime"], row["year"]) if table == "regime_year" else row["key"]
            rows.setdefault(table, []).append(key)
            for measure in MEASURES:
                note((table, key, measure), row["cells"][measure])
    equations = []
    for table, keys in [("all", ["all"]), *rows.items()]:
        for key in keys:
            equations.append(((table, key, "delivered"), [(table, key, m) for m in OUTCOMES]))
    for measure in MEASURES:
        for table in ("regime", "category", "country", "year"):
            equations.append((("all", "all", measure), [(table, k, measure) for k in rows[table]]))
        for regime in rows["regime"]:
            parts = [("regime_year", k, measure) for k in rows["regime_year"] if k[0] == regime]
            equations.append((("regime", regime, measure), parts))
        for year in rows["year"]:
            parts = [("regime_year", k, measure) for k in rows["regime_year"] if k[1] == year]
            equations.append((("year", year, measure), parts))
    values = {key: truth.get(key, 0) for key in status}
    # The equations hold for the true counts: the adversary's model is exact here.
    for total, parts in equations:
        assert values[total] == sum(values[p] for p in parts), total
    assert any(s == "fewer" and 0 < values[k] < 5 for k, s in status.items())
    pinned = exposed(equations, values, status, snapshot.threshold)
    assert {k: v for k, v in pinned.items() if 0 < v < snapshot.threshold} == {}


def test_a_rerun_with_nothing_new_writes_nothing(world):
    first = services.compute_snapshot(until=UNTIL)
    again = services.compute_snapshot(until=UNTIL)
    assert again.pk == first.pk
    assert Snapshot.objects.count() == 1
    assert AuditEvent.objects.filter(action="transparency.snapshot_computed").count() == 1


def test_a_snapshot_counts_up_to_the_end_of_the_previous_month(world, org_a):
    november = datetime(2026, 11, 20, 12, tzinfo=UTC)
    snapshot = services.compute_snapshot(now=november)
    assert snapshot.until == date(2026, 10, 31)
    # Dossiers submitted this month change nothing until the month is over.
    for index in range(5):
        dossier = submitted_dossier(org_a, year=2026, subject=f"Late {index}")
        type(dossier).objects.filter(pk=dossier.pk).update(
            submitted_at=datetime(2026, 11, 19, tzinfo=UTC)
        )
    assert services.compute_snapshot(now=november).pk == snapshot.pk
    later = services.compute_snapshot(now=datetime(2026, 12, 1, 1, tzinfo=UTC))
    assert later.pk != snapshot.pk
    assert later.data["totals"]["submitted"]["value"] in (19, None)  # withheld beside 14
    assert later.data["until"] == "2026-11-30"
    assert services.latest_snapshot() == later


def test_the_daily_task_computes_and_returns_the_latest_snapshot(world):
    snapshot_id = tasks.compute_snapshot.delay().get()
    assert Snapshot.objects.get(pk=snapshot_id) == services.latest_snapshot()
    assert tasks.compute_snapshot.delay().get() == snapshot_id  # idempotent


def test_organisations_that_did_not_opt_in_or_filed_nothing_are_not_named(world, org_a):
    from tests.factories import OrganisationFactory

    OrganisationFactory(name="Listed But Silent", listed_publicly=True)
    snapshot = services.compute_snapshot(until=UNTIL)
    assert snapshot.data["organisations"] == ["Org B"]
