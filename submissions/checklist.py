"""
The standard-of-proof checklist: loading it from the data file, and measuring a dossier
against it (completeness per target regime).
"""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.apps import apps as global_apps
from django.db import transaction

DATA_FILE = Path(__file__).resolve().parent / "data" / "checklist.yaml"


@transaction.atomic
def load_checklist(path: Path = DATA_FILE, apps=global_apps) -> str:
    """
    Create or update regimes, categories, roles and criteria from the YAML data file.

    Idempotent; returns the checklist version. `apps` lets a data migration pass its
    historical models.
    """
    raw = path.read_bytes()
    data = yaml.safe_load(raw)
    get = apps.get_model
    ChecklistVersion = get("submissions", "ChecklistVersion")
    ViolationCategory = get("submissions", "ViolationCategory")
    InvolvementRole = get("submissions", "InvolvementRole")
    Regime = get("submissions", "Regime")
    RegimeCoverage = get("submissions", "RegimeCoverage")
    RegimeRole = get("submissions", "RegimeRole")
    Criterion = get("submissions", "Criterion")
    RegimeCriterion = get("submissions", "RegimeCriterion")

    categories = {}
    for position, row in enumerate(data["categories"]):
        categories[row["code"]], _ = ViolationCategory.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "kind": row["kind"],
                "in_scope": row.get("in_scope", True),
                "position": position,
            },
        )
    roles = {}
    for position, row in enumerate(data["roles"]):
        roles[row["code"]], _ = InvolvementRole.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "description": row.get("description", ""),
                "position": position,
            },
        )
    regimes = {}
    for position, row in enumerate(data["regimes"]):
        regime, _ = Regime.objects.update_or_create(
            key=row["key"],
            defaults={
                "opensanctions_key": row.get("opensanctions_key") or "",
                "name": row["name"],
                "jurisdiction": row["jurisdiction"],
                "instrument": row.get("instrument") or "",
                "covers": row.get("covers") or "",
                "standard_of_proof": row.get("standard_of_proof") or "",
                "receiving_authority": row.get("receiving_authority") or "",
                "status": row["status"],
                "accepts_submissions": row["accepts_submissions"],
                "guidance": row.get("guidance") or "",
                "position": position,
            },
        )
        regimes[regime.key] = regime
        coverage = row.get("coverage") or {}
        RegimeCoverage.objects.filter(regime=regime).exclude(category__code__in=coverage).delete()
        for code, cell in coverage.items():
            RegimeCoverage.objects.update_or_create(
                regime=regime,
                category=categories[code],
                defaults={"level": cell["level"], "note": cell.get("note") or ""},
            )
        role_cells = row.get("roles") or {}
        RegimeRole.objects.filter(regime=regime).exclude(role__code__in=role_cells).delete()
        for code, cell in role_cells.items():
            RegimeRole.objects.update_or_create(
                regime=regime,
                role=roles[code],
                defaults={"level": cell["level"], "note": cell.get("note") or ""},
            )

    active = [key for key, regime in regimes.items() if regime.status == "active"]
    for position, row in enumerate(data["criteria"]):
        criterion, _ = Criterion.objects.update_or_create(
            code=row["code"],
            defaults={
                "question": row["question"],
                "evidence": row.get("evidence") or "",
                "guidance": row.get("guidance") or "",
                "basis": row.get("basis") or "",
                "level": row["level"],
                "applies_to": row.get("applies_to", "all"),
                "step": row.get("step", "checklist"),
                "position": position,
            },
        )
        keys = active if row["regimes"] == "ALL" else row["regimes"]
        overrides = row.get("level_by_regime") or {}
        RegimeCriterion.objects.filter(criterion=criterion).exclude(regime__key__in=keys).delete()
        for key in keys:
            RegimeCriterion.objects.update_or_create(
                regime=regimes[key],
                criterion=criterion,
                defaults={"level": overrides.get(key, row["level"])},
            )

    version = str(data["version"])
    ChecklistVersion.objects.update_or_create(
        version=version, defaults={"sha256": hashlib.sha256(raw).hexdigest()}
    )
    return version


@dataclass
class OpenItem:
    criterion: object
    step: str


@dataclass
class RegimeCompleteness:
    regime: object
    blocking_total: int = 0
    blocking_closed: int = 0
    advisory_total: int = 0
    advisory_answered: int = 0
    open_items: list[OpenItem] = field(default_factory=list)
    # The criteria (ids) that apply to this dossier: answers to others count for nothing.
    applicable: set[int] = field(default_factory=set)

    @property
    def ready(self) -> bool:
        return not self.open_items

    @property
    def percent(self) -> int:
        total = self.blocking_total + self.advisory_total
        done = self.blocking_closed + self.advisory_answered
        return round(100 * done / total) if total else 100


def completeness_for(dossiers) -> dict[int, list[RegimeCompleteness]]:
    """
    Measure each dossier against the checklists of its target regimes.

    A blocking item is closed when answered "met", or "not applicable" with a reason.
    Items that apply only to persons, entities or web evidence count only when the dossier has
    such a subject or item. A fixed number of queries, however many dossiers.
    """
    from .models import ChecklistAnswer, Criterion, Dossier, Evidence, Regime, Subject

    ids = [dossier.pk for dossier in dossiers]
    if not ids:
        return {}
    targets = Dossier.target_regimes.through.objects.filter(dossier_id__in=ids)
    regimes_of: dict[int, list[int]] = {pk: [] for pk in ids}
    for dossier_id, regime_id in targets.values_list("dossier_id", "regime_id"):
        regimes_of[dossier_id].append(regime_id)
    regimes = {
        regime.pk: regime
        for regime in Regime.objects.filter(
            pk__in={r for rs in regimes_of.values() for r in rs}
        ).prefetch_related("checklist__criterion")
    }
    kinds: dict[int, set[str]] = {pk: set() for pk in ids}
    for dossier_id, kind in (
        Subject.objects.filter(dossier_id__in=ids).values_list("dossier_id", "kind").distinct()
    ):
        kinds[dossier_id].add(kind)
    for dossier_id in (
        Evidence.objects.filter(dossier_id__in=ids, kind="link")
        .values_list("dossier_id", flat=True)
        .distinct()
    ):
        kinds[dossier_id].add("web_evidence")
    answers = {
        (a.dossier_id, a.regime_id, a.criterion_id): a
        for a in ChecklistAnswer.objects.filter(dossier_id__in=ids).only(
            "dossier_id", "regime_id", "criterion_id", "status", "explanation"
        )
    }

    always = {Criterion.AppliesTo.ALL, Criterion.AppliesTo.OFFICIAL}
    result = {}
    for dossier_id in ids:
        rows = []
        for regime_id in sorted(regimes_of[dossier_id], key=lambda pk: regimes[pk].position):
            regime = regimes[regime_id]
            row = RegimeCompleteness(regime=regime)
            for item in regime.checklist.all():
                criterion = item.criterion
                if (
                    criterion.applies_to not in always
                    and criterion.applies_to not in kinds[dossier_id]
                ):
                    continue
                answer = answers.get((dossier_id, regime_id, criterion.pk))
                row.applicable.add(criterion.pk)
                if item.level == "blocking":
                    row.blocking_total += 1
                    if answer is not None and answer.closes_blocking_item:
                        row.blocking_closed += 1
                    else:
                        row.open_items.append(OpenItem(criterion, criterion.step))
                else:
                    row.advisory_total += 1
                    row.advisory_answered += answer is not None
            rows.append(row)
        result[dossier_id] = rows
    return result


def completeness(dossier) -> list[RegimeCompleteness]:
    return completeness_for([dossier])[dossier.pk]
