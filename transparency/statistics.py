"""
The published statistics: facts read from submissions and reviews, counted into linked tables,
then passed through disclosure control. Only the protected result (never a suppressed value,
a name other than an opted-in organisation's, or any free text) leaves this module.

Measures, for each row of each table:
- submitted: dossiers submitted (by the year of submission);
- delivered: sanctions packages delivered to a government (by the year of first delivery);
- designated / declined / awaiting: what the government did with those packages, as known on
  the snapshot's cut-off date (awaiting: no decision yet, including "acknowledged" and "under
  consideration"); the three add up to delivered.
A dossier counts once in each row it belongs to (a dossier filed for two regimes counts under
both), so only the per-year table partitions its total; disclosure control treats every
breakdown as if it added up, which can only hide more.
"""

import hashlib
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Min
from django.utils import timezone
from django_countries import countries

from portal.models import Organisation
from reviews.models import Package
from submissions.models import Dossier, Incident, Regime, ViolationCategory

from .disclosure import PUBLISHED, WITHHELD, Equation, Published, protect_after

FORMAT = "magnitsky-portal-transparency/1"
MEASURES = ("submitted", "delivered", "designated", "declined", "awaiting")
OUTCOMES = ("designated", "declined", "awaiting")
OUTCOME_INPUTS = ("delivered", "designated", "declined")
TABLES = ("regime", "category", "country", "year", "regime_year")
ALL = "all"


@dataclass
class Facts:
    """What the counts are made of, read in a handful of queries; ids only, no text."""

    until: date
    dossier_year: dict = field(default_factory=dict)  # dossier id -> year submitted
    dossier_regimes: dict = field(default_factory=lambda: defaultdict(set))
    dossier_categories: dict = field(default_factory=lambda: defaultdict(set))
    dossier_countries: dict = field(default_factory=lambda: defaultdict(set))
    packages: dict = field(default_factory=dict)  # id -> (regime id, year, outcome, days)
    package_dossiers: dict = field(default_factory=lambda: defaultdict(set))
    regimes: dict = field(default_factory=dict)  # id -> (key, name, position)
    categories: dict = field(default_factory=dict)  # id -> (code, name, position)
    organisations: list = field(default_factory=list)


def previous_month_end(today: date) -> date:
    """The last day of the month before `today`: the cut-off of a snapshot made today."""
    return today.replace(day=1) - timedelta(days=1)


def read_facts(until: date) -> Facts:
    """
    Read the facts up to the end of `until` from every organisation's submitted dossiers.

    The one read across organisations in the portal, by design: it runs in the background
    task, and only disclosure-controlled aggregates leave this module.
    """
    facts = Facts(until=until)
    end = timezone.make_aware(datetime.combine(until, time.max))
    submitted = Dossier.objects.exclude(status=Dossier.Status.DRAFT).filter(
        submitted_at__isnull=False, submitted_at__lte=end
    )
    for pk, submitted_at in submitted.values_list("pk", "submitted_at"):
        facts.dossier_year[pk] = timezone.localtime(submitted_at).year
    through = Dossier.target_regimes.through.objects.filter(dossier__in=submitted)
    for dossier_id, regime_id in through.values_list("dossier_id", "regime_id"):
        facts.dossier_regimes[dossier_id].add(regime_id)
    incidents = Incident.objects.filter(dossier__in=submitted)
    for dossier_id, category_id, country in incidents.values_list(
        "dossier_id", "category_id", "country"
    ):
        facts.dossier_categories[dossier_id].add(category_id)
        if country:
            facts.dossier_countries[dossier_id].add(str(country))

    delivered = Package.objects.annotate(first_delivery=Min("deliveries__delivered_on")).filter(
        first_delivery__lte=until
    )
    for pk, regime_id, first, response, response_on, designated_on in delivered.values_list(
        "pk", "regime_id", "first_delivery", "response", "response_on", "designated_on"
    ):
        decided_on = response_on or designated_on
        outcome, days = "awaiting", None
        if response in OUTCOMES and decided_on is not None and decided_on <= until:
            outcome, days = response, max(0, (decided_on - first).days)
        facts.packages[pk] = (regime_id, first.year, outcome, days)
    package_through = Package.dossiers.through.objects.filter(package_id__in=facts.packages)
    for package_id, dossier_id in package_through.values_list("package_id", "dossier_id"):
        facts.package_dossiers[package_id].add(dossier_id)

    for pk, key, name, position, status in Regime.objects.values_list(
        "pk", "key", "name", "position", "status"
    ):
        facts.regimes[pk] = (key, name, position, status)
    for pk, code, name, position in ViolationCategory.objects.values_list(
        "pk", "code", "name", "position"
    ):
        facts.categories[pk] = (code, name, position)
    # Named only if they said so, and only if they contributed something already counted.
    facts.organisations = sorted(
        Organisation.objects.filter(listed_publicly=True, dossiers__pk__in=list(facts.dossier_year))
        .distinct()
        .values_list("name", flat=True)
    )
    return facts


def count(facts: Facts) -> tuple[dict, dict]:
    """
    Return (values, durations): every cell's true count keyed (table, row, measure), and each
    row's list of days from delivery to decision.
    """
    values: dict = defaultdict(int)
    rows: dict = defaultdict(set)  # table -> row keys
    durations: dict = defaultdict(list)

    def add(table, row, measure, days=None):
        rows[table].add(row)
        values[(table, row, measure)] += 1
        if days is not None:
            durations[(table, row)].append(days)

    regime_key = {pk: item[0] for pk, item in facts.regimes.items()}
    category_code = {pk: item[0] for pk, item in facts.categories.items()}

    for dossier_id, year in facts.dossier_year.items():
        regimes = [regime_key[r] for r in facts.dossier_regimes.get(dossier_id, ())]
        add(ALL, ALL, "submitted")
        add("year", year, "submitted")
        for regime in regimes:
            add("regime", regime, "submitted")
            add("regime_year", (regime, year), "submitted")
        for category in facts.dossier_categories.get(dossier_id, ()):
            add("category", category_code[category], "submitted")
        for country in facts.dossier_countries.get(dossier_id, ()):
            add("country", country, "submitted")

    for package_id, (regime_id, year, outcome, days) in facts.packages.items():
        regime = regime_key[regime_id]
        dossiers = facts.package_dossiers.get(package_id, ())
        categories = {category_code[c] for d in dossiers for c in facts.dossier_categories[d]}
        countries_ = {c for d in dossiers for c in facts.dossier_countries[d]}
        places = [(ALL, ALL), ("regime", regime), ("year", year), ("regime_year", (regime, year))]
        places += [("category", c) for c in categories] + [("country", c) for c in countries_]
        for table, row in places:
            add(table, row, "delivered")
            add(table, row, outcome, days)

    # Every row has every measure (zeros included), so that each equation is complete.
    for table, keys in [(ALL, {ALL}), *rows.items()]:
        for row in keys:
            for measure in MEASURES:
                values.setdefault((table, row, measure), 0)
    # Active regimes appear even with nothing to show.
    for key, _name, _position, status in facts.regimes.values():
        if status == Regime.Status.ACTIVE:
            for measure in MEASURES:
                values.setdefault(("regime", key, measure), 0)
    return dict(values), durations


def equations(values: dict) -> list[Equation]:
    """Every equation an adversary could use on the published tables."""
    rows = defaultdict(set)
    for table, row, _measure in values:
        rows[table].add(row)
    found = []
    for table, keys in rows.items():
        for row in keys:  # delivered = designated + declined + awaiting, in every row
            found.append(
                Equation((table, row, "delivered"), tuple((table, row, m) for m in OUTCOMES))
            )
    for measure in MEASURES:
        for table in ("regime", "category", "country", "year"):
            parts = tuple((table, row, measure) for row in sorted(rows[table], key=str))
            if parts:
                found.append(Equation((ALL, ALL, measure), parts))
        # regime by year: its margins are the per-regime and per-year tables
        by_regime, by_year = defaultdict(list), defaultdict(list)
        for regime, year in rows["regime_year"]:
            by_regime[regime].append(("regime_year", (regime, year), measure))
            by_year[year].append(("regime_year", (regime, year), measure))
        for regime, parts in by_regime.items():
            found.append(Equation(("regime", regime, measure), tuple(sorted(parts, key=str))))
        for year, parts in by_year.items():
            found.append(Equation(("year", year, measure), tuple(sorted(parts, key=str))))
    return found


def floors(values: dict) -> dict:
    """What the shape of the tables tells without a figure: a category or country row exists
    only because a dossier concerns it, so its "submitted" is at least 1."""
    return {
        (table, row, measure): 1
        for table, row, measure in values
        if table in ("category", "country") and measure == "submitted"
    }


def build(facts: Facts, threshold: int, before: Published | None = None) -> dict:
    """
    Count, protect and lay out the statistics as the snapshot's JSON document; protected
    together with the snapshot `before` (see `previous()`), if given, against differencing.
    """
    values, durations = count(facts)
    status = protect_after(values, equations(values), threshold, floors(values), before)

    def cell(key):
        state = status[key]
        return {"value": values[key] if state == PUBLISHED else None, "status": state}

    def derived(table, row):
        """
        The share designated and the median days to a decision, only where the counts they
        rest on are shown, and one neutral marker ("withheld") otherwise, whether or not there
        is anything to compute: "no decision" beside a hidden count would tell it is zero.
        """
        delivered, designated, declined, awaiting = (
            (table, row, m) for m in ("delivered", "designated", "declined", "awaiting")
        )
        withheld = {"value": None, "status": WITHHELD}
        share = withheld
        if status[delivered] == status[designated] == PUBLISHED and values[delivered]:
            share = {"value": round(100 * values[designated] / values[delivered]),
                     "status": PUBLISHED}  # fmt: skip
        # A median of a few decisions would be one government's answer on one package; the
        # number of decisions must itself be shown (or follow from shown counts) and be at
        # least the threshold, so that the median says nothing about a hidden count.
        days = durations.get((table, row), [])
        if status[designated] == status[declined] == PUBLISHED:
            decisions = values[designated] + values[declined]
        elif status[delivered] == status[awaiting] == PUBLISHED:
            decisions = values[delivered] - values[awaiting]
        else:
            decisions = 0
        median = withheld
        if decisions >= threshold and len(days) == decisions:
            median = {"value": round(statistics.median(days)), "status": PUBLISHED}
        return {"designation_share": share, "median_days": median}

    def row_of(table, row):
        cells = {m: cell((table, row, m)) for m in MEASURES}
        cells.update(derived(table, row))
        return cells

    regimes = {item[0]: item for item in facts.regimes.values()}
    categories = {item[0]: item for item in facts.categories.values()}
    row_keys = defaultdict(set)
    for table, row, _measure in values:
        row_keys[table].add(row)

    tables = {
        "regime": [
            {"key": key, "label": regimes[key][1], "cells": row_of("regime", key)}
            for key in sorted(row_keys["regime"], key=lambda k: (regimes[k][2], k))
        ],
        "category": [
            {"key": code, "label": categories[code][1], "cells": row_of("category", code)}
            for code in sorted(row_keys["category"], key=lambda c: (categories[c][2], c))
        ],
        "country": [
            {"key": code, "label": countries.name(code) or code, "cells": row_of("country", code)}
            for code in sorted(row_keys["country"])
        ],
        "year": [
            {"key": year, "label": str(year), "cells": row_of("year", year)}
            for year in sorted(row_keys["year"])
        ],
        "regime_year": [
            {
                "key": f"{regime}/{year}",
                "regime": regime,
                "year": year,
                "label": f"{regimes[regime][1]}, {year}",
                "cells": row_of("regime_year", (regime, year)),
            }
            for regime, year in sorted(
                row_keys["regime_year"], key=lambda k: (regimes[k[0]][2], k[0], k[1])
            )
        ],
    }
    return {
        "format": FORMAT,
        "until": facts.until.isoformat(),
        "threshold": threshold,
        "measures": list(MEASURES),
        "totals": row_of(ALL, ALL),
        "tables": tables,
        "organisations": facts.organisations,
    }


def basis(facts: Facts) -> dict:
    """
    A digest of what each dossier and each package contributes to the counts (never
    published): two snapshots' bases tell how many dossiers and packages changed between them.
    """

    def digest(item) -> str:
        payload = json.dumps(item, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    dossiers = {
        str(pk): digest([year, sorted(facts.dossier_regimes.get(pk, ())),
                         sorted(facts.dossier_categories.get(pk, ())),
                         sorted(facts.dossier_countries.get(pk, ()))])
        for pk, year in facts.dossier_year.items()
    }  # fmt: skip
    packages = {
        str(pk): digest([*item, sorted(facts.package_dossiers.get(pk, ()))])
        for pk, item in facts.packages.items()
    }
    values, _durations = count(facts)
    counts = [[table, list(row) if isinstance(row, tuple) else row, measure, value]
              for (table, row, measure), value in values.items()]  # fmt: skip
    return {"dossiers": dossiers, "packages": packages, "counts": counts}


def published_status(data: dict) -> dict:
    """Each cell's status, keyed (table, row, measure), as a snapshot's document has it."""
    found = {(ALL, ALL, m): data["totals"][m]["status"] for m in MEASURES}
    for table, rows in data["tables"].items():
        for row in rows:
            key = (row["regime"], row["year"]) if table == "regime_year" else row["key"]
            found |= {(table, key, m): row["cells"][m]["status"] for m in MEASURES}
    return found


def previous(data: dict, basis: dict, threshold: int) -> Published | None:
    """
    What a published snapshot (its document and its private basis) tells an adversary, with
    the true counts behind it, for protecting the next one against differencing; None if it
    has no counts (made before they were kept) or used another threshold.
    """
    if "counts" not in basis or data.get("threshold") != threshold:
        return None
    values = {(table, tuple(row) if isinstance(row, list) else row, measure): value
              for table, row, measure, value in basis["counts"]}  # fmt: skip
    status = published_status(data)
    if set(status) != set(values):  # pragma: no cover - both come from the same count
        return None
    return Published(values, status, tuple(equations(values)), floors(values))


def changes(before: dict, after: dict) -> dict:
    """How many dossiers and packages were added, removed or changed from `before` to `after`."""
    found = {}
    for kind in ("dossiers", "packages"):
        old, new = before.get(kind, {}), after.get(kind, {})
        found[kind] = sum(old.get(k) != new.get(k) for k in old.keys() | new.keys())
    return found


def fingerprint(data: dict) -> str:
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()
