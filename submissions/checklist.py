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
from django.urls import reverse
from django.utils.translation import gettext as _

from .i18n_data import localized, public_text, text

DATA_FILE = Path(__file__).resolve().parent / "data" / "checklist.yaml"


def _only_known(model, values: dict) -> dict:
    """Keep the values a (possibly historical) model has fields for."""
    names = {f.name for f in model._meta.get_fields()}
    return {key: value for key, value in values.items() if key in names}


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
            defaults=_only_known(
                Regime,
                {
                    "opensanctions_key": row.get("opensanctions_key") or "",
                    "name": row["name"],
                    "jurisdiction": row["jurisdiction"],
                    "instrument": public_text(row.get("instrument")),
                    "covers": public_text(row.get("covers")),
                    "standard_of_proof": public_text(row.get("standard_of_proof")),
                    "receiving_authority": row.get("receiving_authority") or "",
                    "status": row["status"],
                    "accepts_submissions": row["accepts_submissions"],
                    "guidance": public_text(row.get("guidance")),
                    "incident_age_flag_years": row.get("incident_age_flag_years"),
                    "position": position,
                },
            ),
        )
        regimes[regime.key] = regime
        coverage = row.get("coverage") or {}
        RegimeCoverage.objects.filter(regime=regime).exclude(category__code__in=coverage).delete()
        for code, cell in coverage.items():
            RegimeCoverage.objects.update_or_create(
                regime=regime,
                category=categories[code],
                defaults={"level": cell["level"], "note": public_text(cell.get("note"))},
            )
        role_cells = row.get("roles") or {}
        RegimeRole.objects.filter(regime=regime).exclude(role__code__in=role_cells).delete()
        for code, cell in role_cells.items():
            RegimeRole.objects.update_or_create(
                regime=regime,
                role=roles[code],
                defaults={"level": cell["level"], "note": public_text(cell.get("note"))},
            )

    active = [key for key, regime in regimes.items() if regime.status == "active"]
    for position, row in enumerate(data["criteria"]):
        rule = row.get("rule") or ""
        if rule and rule not in RULES:
            raise ValueError(f"{row['code']}: no rule named {rule!r} in RULES")
        criterion, _ = Criterion.objects.update_or_create(
            code=row["code"],
            defaults=_only_known(
                Criterion,
                {
                    "title": row.get("title") or "",
                    "question": public_text(row["question"]),
                    "evidence": public_text(row.get("evidence")),
                    "guidance": public_text(row.get("guidance")),
                    "basis": public_text(row.get("basis")),
                    "rule": rule,
                    "per_government": bool(row.get("per_government")),
                    "level": row["level"],
                    "applies_to": row.get("applies_to", "all"),
                    "step": row.get("step", "checklist"),
                    "position": position,
                },
            ),
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


# The evaluation: each item of a target regime's checklist is either computed from what the
# dossier holds (a rule below) or a judgement the submitter writes (a checklist answer).

# Where each filing step is (the URL name, given the dossier's reference).
STEP_URLS = {
    "basics": "submissions:dossier-basics",
    "subjects": "submissions:subject-list",
    "incidents": "submissions:incident-list",
    "evidence": "submissions:evidence-list",
    "sources": "submissions:source-list",
    "checklist": "submissions:checklist",
}

EU_MEMBERS = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)
# Sources whose own consent is asked (a document holder or a web page gives none).
CONSENTING_KINDS = frozenset({"witness", "victim", "insider", "other"})
GRADED_RELIABLE = frozenset({"A", "B", "C"})


@dataclass
class Facts:
    """What one dossier holds, as far as the checklist looks: loaded in bulk, never per item."""

    reference: str
    organisation: str
    contact: str
    subjects: list[dict] = field(default_factory=list)
    incidents: list[dict] = field(default_factory=list)
    exhibits: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)

    @property
    def kinds(self) -> set[str]:
        """The kinds of subject and evidence present (for the items that apply to them)."""
        found = {s["kind"] for s in self.subjects}
        if any(e["kind"] == "link" for e in self.exhibits):
            found.add("web_evidence")
        return found


def _facts_for(dossiers) -> dict[int, Facts]:
    """Load the facts of several dossiers in a fixed number of queries."""
    from .models import (
        Consent,
        Dossier,
        Evidence,
        IdentityDocument,
        Incident,
        Involvement,
        JurisdictionLink,
        PositionHeld,
        Source,
        Subject,
    )

    ids = [d.pk for d in dossiers]
    facts = {
        pk: Facts(reference=reference, organisation=organisation, contact=email or "")
        for pk, reference, organisation, email in Dossier.objects.filter(pk__in=ids).values_list(
            "pk", "reference", "organisation__name", "created_by__email"
        )
    }
    subjects = {}
    for row in Subject.objects.filter(dossier_id__in=ids).values(
        "pk",
        "dossier_id",
        "kind",
        "name",
        "name_original",
        "birth_date",
        "nationalities",
        "registration_number",
        "jurisdiction",
    ):
        row.update(documents=0, positions=0, links=set())
        subjects[row["pk"]] = row
        facts[row["dossier_id"]].subjects.append(row)
    for subject_id in IdentityDocument.objects.filter(subject_id__in=subjects).values_list(
        "subject_id", flat=True
    ):
        subjects[subject_id]["documents"] += 1
    for subject_id in PositionHeld.objects.filter(subject_id__in=subjects).values_list(
        "subject_id", flat=True
    ):
        subjects[subject_id]["positions"] += 1
    for subject_id, country in JurisdictionLink.objects.filter(subject_id__in=subjects).values_list(
        "subject_id", "country"
    ):
        subjects[subject_id]["links"].add(str(country))
    incidents = {}
    for row in Incident.objects.filter(dossier_id__in=ids).values(
        "pk",
        "dossier_id",
        "title",
        "category_id",
        "category__code",
        "category__name",
        "category__kind",
        "start_date",
        "country",
    ):
        row.update(roles=0, exhibits=[])
        incidents[row["pk"]] = row
        facts[row["dossier_id"]].incidents.append(row)
    for incident_id in Involvement.objects.filter(incident_id__in=incidents).values_list(
        "incident_id", flat=True
    ):
        incidents[incident_id]["roles"] += 1
    exhibits = {}
    for row in Evidence.objects.filter(dossier_id__in=ids).values(
        "pk",
        "dossier_id",
        "kind",
        "original_name",
        "url",
        "reliability",
        "credibility",
        "provenance",
        "captured_at",
        "archive_url",
    ):
        exhibits[row["pk"]] = row
        facts[row["dossier_id"]].exhibits.append(row)
    for evidence_id, incident_id in Evidence.incidents.through.objects.filter(
        evidence_id__in=exhibits
    ).values_list("evidence_id", "incident_id"):
        if incident_id in incidents:
            incidents[incident_id]["exhibits"].append(exhibits[evidence_id])
    sources = {}
    for row in Source.objects.filter(dossier_id__in=ids).values(
        "pk", "dossier_id", "pseudonym", "kind"
    ):
        row.update(consents=set(), withdrawn=set())
        sources[row["pk"]] = row
        facts[row["dossier_id"]].sources.append(row)
    for source_id, regime_id, withdrawn_on in Consent.objects.filter(
        source_id__in=sources
    ).values_list("source_id", "regime_id", "withdrawn_on"):
        (sources[source_id]["withdrawn" if withdrawn_on else "consents"]).add(regime_id)
    return facts


@dataclass
class Result:
    """A computed item: met, or what is missing in words and the step that fixes it."""

    met: bool
    missing: str = ""
    step: str = ""


MET = Result(True)


def _category_name(incident: dict) -> str:
    """An incident's conduct category named in the reader's language."""
    return text("categories", incident["category__code"], "name", incident["category__name"])


def _names(rows, key="name") -> str:
    return ", ".join(f"“{row[key]}”" for row in rows)


def _exhibit_name(row) -> str:
    return row["original_name"] or row["url"] or _("exhibit %(pk)s") % {"pk": row["pk"]}


def _exhibits(rows) -> str:
    return ", ".join(f"“{_exhibit_name(row)}”" for row in rows)


def _no_subject() -> Result:
    return Result(False, _("Add the subject: the person or entity you accuse."), "subjects")


def _no_incident() -> Result:
    return Result(False, _("Add an incident: what happened, when and where."), "incidents")


def _no_exhibit() -> Result:
    return Result(False, _("Add at least one exhibit."), "evidence")


def subject_named(facts: Facts, regime) -> Result:
    if not facts.subjects:
        return _no_subject()
    return MET


def person_identified(facts: Facts, regime) -> Result:
    bare = [
        s
        for s in facts.subjects
        if s["kind"] == "person"
        and not (s["birth_date"] or s["nationalities"] or s["documents"] or s["positions"])
    ]
    if bare:
        return Result(
            False,
            _(
                "Add a date of birth, a nationality, a document number or a dated post for "
                "%(names)s."
            )
            % {"names": _names(bare)},
            "subjects",
        )
    return MET


def official_post(facts: Facts, regime) -> Result:
    if not facts.subjects:
        return _no_subject()
    if not any(s["positions"] for s in facts.subjects):
        return Result(
            False,
            _("Add the official post a subject held (or acted for), with its dates."),
            "subjects",
        )
    return MET


def entity_identified(facts: Facts, regime) -> Result:
    bare = [
        s
        for s in facts.subjects
        if s["kind"] == "entity" and not (s["registration_number"] and s["jurisdiction"])
    ]
    if bare:
        return Result(
            False,
            _("Add the registration number and jurisdiction of %(names)s.")
            % {"names": _names(bare)},
            "subjects",
        )
    return MET


def conduct_covered(facts: Facts, regime) -> Result:
    if not facts.incidents:
        return _no_incident()
    covered = regime_categories(regime)
    if not any(i["category_id"] in covered for i in facts.incidents):
        return Result(
            False,
            _(
                "%(regime)s covers none of this dossier's conduct (%(categories)s): add an "
                "incident it covers, or address another government."
            )
            % {
                "regime": localized(regime, "name"),
                "categories": ", ".join(sorted({_category_name(i) for i in facts.incidents})),
            },
            "incidents",
        )
    return MET


def roles_given(facts: Facts, regime) -> Result:
    if not facts.incidents:
        return _no_incident()
    bare = [i for i in facts.incidents if not i["roles"]]
    if bare:
        return Result(
            False,
            _("Say which subject took which role in %(names)s.") % {"names": _names(bare, "title")},
            "incidents",
        )
    return MET


def dated_and_placed(facts: Facts, regime) -> Result:
    if not facts.incidents:
        return _no_incident()
    bare = [i for i in facts.incidents if len(i["start_date"] or "") < 7 or not i["country"]]
    if bare:
        return Result(
            False,
            _("Give at least the month and year, and the country, of %(names)s.")
            % {"names": _names(bare, "title")},
            "incidents",
        )
    return MET


def graded_exhibit_per_incident(facts: Facts, regime) -> Result:
    if not facts.incidents:
        return _no_incident()
    bare = [
        i
        for i in facts.incidents
        if not any(e["reliability"] in GRADED_RELIABLE for e in i["exhibits"])
    ]
    if bare:
        return Result(
            False,
            _("Link an exhibit graded A, B or C to %(names)s.") % {"names": _names(bare, "title")},
            "evidence",
        )
    return MET


def corroborated(facts: Facts, regime) -> Result:
    if not facts.incidents:
        return _no_incident()
    bare = [i for i in facts.incidents if len(i["exhibits"]) < 2]
    if bare:
        return Result(
            False,
            _("Link a second, independent exhibit to %(names)s.")
            % {"names": _names(bare, "title")},
            "evidence",
        )
    return MET


def all_graded(facts: Facts, regime) -> Result:
    if not facts.exhibits:
        return _no_exhibit()
    bare = [e for e in facts.exhibits if not (e["reliability"] and e["credibility"])]
    if bare:
        return Result(
            False,
            _("Grade the reliability and credibility of %(names)s.") % {"names": _exhibits(bare)},
            "evidence",
        )
    return MET


def provenance_recorded(facts: Facts, regime) -> Result:
    if not facts.exhibits:
        return _no_exhibit()
    bare = [
        e
        for e in facts.exhibits
        if not (e["provenance"].strip() or (e["kind"] == "link" and e["captured_at"]))
    ]
    if bare:
        return Result(
            False,
            _("Say who collected %(names)s, when and how, and who has held it since.")
            % {"names": _exhibits(bare)},
            "evidence",
        )
    return MET


def web_captured(facts: Facts, regime) -> Result:
    bare = [
        e
        for e in facts.exhibits
        if e["kind"] == "link" and not (e["captured_at"] and e["archive_url"])
    ]
    if bare:
        return Result(
            False,
            _("Give the capture time and an archived copy of %(names)s.")
            % {"names": _exhibits(bare)},
            "evidence",
        )
    return MET


def jurisdiction_link(facts: Facts, regime) -> Result:
    if not facts.subjects:
        return _no_subject()
    countries = EU_MEMBERS if regime.jurisdiction == "EU" else {regime.jurisdiction}
    if not any(s["links"] & countries for s in facts.subjects):
        return Result(
            False,
            _(
                "Add what ties a subject to the jurisdiction of %(regime)s (assets, companies, "
                "travel, family, studies)."
            )
            % {"regime": localized(regime, "name")},
            "subjects",
        )
    return MET


def submitter_known(facts: Facts, regime) -> Result:
    # The organisation and the member who files are known from the accounts themselves.
    if not (facts.organisation and facts.contact):
        return Result(False, _("Give the point of contact's email address."), "basics")
    return MET


def consent_recorded(facts: Facts, regime) -> Result:
    # A source may consent to one government and not another: their information is then
    # withheld from that government's brief (a warning), not a reason to refuse the dossier.
    # What blocks is a witness or victim whose consent was never recorded at all.
    bare = [
        s
        for s in facts.sources
        if s["kind"] in CONSENTING_KINDS and not (s["consents"] or s["withdrawn"])
    ]
    if bare:
        return Result(
            False,
            _("Record whether %(names)s consent to share their information, and with whom.")
            % {"names": _names(bare, "pseudonym")},
            "sources",
        )
    return MET


RULES = {
    rule.__name__: rule
    for rule in (
        subject_named,
        person_identified,
        official_post,
        entity_identified,
        conduct_covered,
        roles_given,
        dated_and_placed,
        graded_exhibit_per_incident,
        corroborated,
        all_graded,
        provenance_recorded,
        web_captured,
        jurisdiction_link,
        submitter_known,
        consent_recorded,
    )
}


def regime_categories(regime) -> set[int]:
    """The ids of the categories a regime covers (fully or conditionally)."""
    return {cell.category_id for cell in regime.coverage.all()}


@dataclass
class OpenItem:
    """An item not yet satisfied: named in words, with what is missing and where to fix it."""

    criterion: object
    step: str
    missing: str
    url: str
    level: str = "blocking"

    @property
    def name(self) -> str:
        return self.criterion.name


@dataclass
class ItemState:
    """One applicable item for one regime: closed or not, and if not, what is missing."""

    criterion: object
    level: str
    closed: bool
    missing: str
    url: str


@dataclass
class RegimeCompleteness:
    regime: object
    blocking_total: int = 0
    blocking_closed: int = 0
    advisory_total: int = 0
    advisory_answered: int = 0
    open_items: list[OpenItem] = field(default_factory=list)
    advice: list[OpenItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Every applicable item with its state, in checklist order.
    items: list["ItemState"] = field(default_factory=list)
    # The criteria (ids) that apply to this dossier and are judgements (the only ones with
    # answers a reviewer can verify).
    judgements: set[int] = field(default_factory=set)

    @property
    def ready(self) -> bool:
        return not self.open_items

    @property
    def percent(self) -> int:
        total = self.blocking_total + self.advisory_total
        done = self.blocking_closed + self.advisory_answered
        return round(100 * done / total) if total else 100


def item_anchor(criterion, regime) -> str:
    """The id of the checklist field that answers a judgement (one per government or shared)."""
    if criterion.per_government:
        return f"item-{criterion.code}--{regime.key}"
    return f"item-{criterion.code}"


def _warnings(facts: Facts, regime, today) -> list[str]:
    """Scope, age and consent warnings for one regime (flags, never refusals)."""
    found = []
    covered = {cell.category_id: cell for cell in regime.coverage.all()}
    for incident in facts.incidents:
        cell = covered.get(incident["category_id"])
        if cell is None:
            found.append(
                _(
                    "%(regime)s does not cover “%(category)s”: incident “%(incident)s” does "
                    "not count there."
                )
                % {
                    "regime": localized(regime, "name"),
                    "category": _category_name(incident),
                    "incident": incident["title"],
                }
            )
        elif cell.level == "C":
            found.append(
                _(
                    "%(regime)s covers “%(category)s” only on conditions: say in the threshold "
                    "answer which covered conduct incident “%(incident)s” amounts to."
                )
                % {
                    "regime": localized(regime, "name"),
                    "category": _category_name(incident),
                    "incident": incident["title"],
                }
            )
    years = regime.incident_age_flag_years
    if years:
        for incident in facts.incidents:
            year = int((incident["start_date"] or "0")[:4] or 0)
            if year and today.year - year > years:
                found.append(
                    _(
                        "Incident “%(incident)s” is over %(years)s years old: %(regime)s rarely "
                        "designates for conduct so far back. You can still submit; say in "
                        "“Why it still warrants designation” why it matters now."
                    )
                    % {
                        "incident": incident["title"],
                        "years": years,
                        "regime": localized(regime, "name"),
                    }
                )
    withheld = [
        s
        for s in facts.sources
        if s["kind"] in CONSENTING_KINDS
        and (s["consents"] or s["withdrawn"])
        and regime.pk not in s["consents"]
    ]
    if withheld:
        found.append(
            _(
                "%(names)s did not consent to %(regime)s (or withdrew): their information will "
                "be withheld from this government."
            )
            % {"names": _names(withheld, "pseudonym"), "regime": localized(regime, "name")}
        )
    return found


def completeness_for(dossiers) -> dict[int, list[RegimeCompleteness]]:
    """
    Measure each dossier against the checklists of its target regimes.

    A computed item is closed by the dossier's data (its rule), whatever was typed. A
    judgement is closed when answered "met", or "not applicable" with a reason. Items that
    apply only to persons, entities or web evidence count only when the dossier has such a
    subject or exhibit. A fixed number of queries, however many dossiers.
    """
    from django.utils import timezone

    from .models import ChecklistAnswer, Criterion, Dossier, Regime

    dossiers = list(dossiers)
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
        ).prefetch_related("checklist__criterion", "coverage")
    }
    facts_of = _facts_for(dossiers)
    answers = {
        (a.dossier_id, a.regime_id, a.criterion_id): a
        for a in ChecklistAnswer.objects.filter(dossier_id__in=ids).only(
            "dossier_id", "regime_id", "criterion_id", "status", "explanation"
        )
    }

    today = timezone.localdate()
    always = {Criterion.AppliesTo.ALL, Criterion.AppliesTo.OFFICIAL}
    result = {}
    for dossier_id in ids:
        facts = facts_of[dossier_id]
        kinds = facts.kinds
        checklist_url = reverse(STEP_URLS["checklist"], args=[facts.reference])
        rows = []
        for regime_id in sorted(regimes_of[dossier_id], key=lambda pk: regimes[pk].position):
            regime = regimes[regime_id]
            row = RegimeCompleteness(regime=regime, warnings=_warnings(facts, regime, today))
            for item in regime.checklist.all():
                criterion = item.criterion
                if criterion.applies_to not in always and criterion.applies_to not in kinds:
                    continue
                if criterion.rule:
                    outcome = RULES[criterion.rule](facts, regime)
                    closed = outcome.met
                    step = outcome.step or criterion.step
                    missing = outcome.missing
                    url = reverse(
                        STEP_URLS.get(step, STEP_URLS["checklist"]), args=[facts.reference]
                    )
                else:
                    row.judgements.add(criterion.pk)
                    answer = answers.get((dossier_id, regime_id, criterion.pk))
                    if item.level == "blocking":
                        closed = answer is not None and answer.closes_blocking_item
                    else:
                        closed = answer is not None
                    step = "checklist"
                    missing = _("Answer it in the checklist.")
                    url = f"{checklist_url}#{item_anchor(criterion, regime)}"
                row.items.append(ItemState(criterion, item.level, closed, missing, url))
                if item.level == "blocking":
                    row.blocking_total += 1
                    row.blocking_closed += closed
                    if not closed:
                        row.open_items.append(OpenItem(criterion, step, missing, url))
                else:
                    row.advisory_total += 1
                    row.advisory_answered += closed
                    if not closed:
                        row.advice.append(OpenItem(criterion, step, missing, url, "advisory"))
            rows.append(row)
        result[dossier_id] = rows
    return result


def completeness(dossier) -> list[RegimeCompleteness]:
    return completeness_for([dossier])[dossier.pk]


def missing_in_words(rows: list[RegimeCompleteness]) -> list[OpenItem]:
    """The blocking items still open, each once (an item open for two governments is one)."""
    seen = {}
    for row in rows:
        for item in row.open_items:
            key = (item.criterion.pk, item.missing)
            if key not in seen:
                seen[key] = item
    return list(seen.values())
