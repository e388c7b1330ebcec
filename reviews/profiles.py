"""
Brief profiles: what a government brief says about each regime (instrument, criteria in the
instrument's words, measures, recipient, marking, statement-of-reasons rules), read from
submissions/data/brief_profiles.yaml beside the checklist. A regime's brief is data alone.
"""

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

DATA_FILE = Path(__file__).resolve().parent.parent / "submissions" / "data" / "brief_profiles.yaml"


@dataclass(frozen=True)
class LegalCriterion:
    """One designation criterion of a regime, in the instrument's words (or a summary)."""

    code: str
    cite: str
    wording: str  # "quote": the instrument's own words; "summary": not a quotation
    text: str
    categories: frozenset[str]
    roles: frozenset[str]
    subject_kinds: frozenset[str]
    label: str = ""  # the criterion named in the brief's language

    @property
    def is_quote(self) -> bool:
        return self.wording == "quote"


@dataclass(frozen=True)
class BriefProfile:
    key: str
    instrument: str
    articles: tuple[str, ...]
    criteria: tuple[LegalCriterion, ...]
    measures: tuple[str, ...]
    recipient: str
    marking: str
    jurisdictions: frozenset[str]
    reasons: str
    standard: str = ""
    categories: frozenset[str] = field(default_factory=frozenset)
    # For each measure: whether it applies to natural persons only (entry and travel bans).
    persons_only: tuple[bool, ...] = ()

    def measures_for(self, subject_kind: str) -> list[str]:
        """The measures that can be asked for a subject of this kind ("person" or "entity")."""
        flags = self.persons_only or (False,) * len(self.measures)
        return [m for m, only in zip(self.measures, flags, strict=True)
                if not (only and subject_kind == "entity")]  # fmt: skip

    def criteria_for(self, category: str, role: str, subject_kind: str) -> list[LegalCriterion]:
        """The criteria that conduct of this category, in this role, by this kind can meet."""
        return [
            c
            for c in self.criteria
            if category in c.categories and role in c.roles and subject_kind in c.subject_kinds
        ]


def _text(measure) -> str:
    """A measure of the data file: its text, written alone or as {text, persons_only}."""
    return measure["text"] if isinstance(measure, dict) else measure


class NoProfile(ValidationError):
    """The regime has no brief profile: no brief can be written for it."""


@cache
def _load(path: Path = DATA_FILE) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["profiles"]


def profile_for(regime, language: str | None = None) -> BriefProfile:
    """
    The regime's brief profile in `language` (the active one by default). A regime that is
    not active (JP-PROPOSED: no law yet) or has no profile is refused with a clear message.
    """
    if getattr(regime, "status", "active") != "active":
        raise NoProfile(
            _(
                "%(regime)s is not a designation regime in force: no government brief can be "
                "written for it."
            )
            % {"regime": regime.key}
        )
    row = _load().get(regime.key)
    if row is None:
        raise NoProfile(
            _("There is no brief profile for %(regime)s yet: add one to brief_profiles.yaml.")
            % {"regime": regime.key}
        )
    language = language or translation.get_language() or "en"
    local = (row.get("translations") or {}).get(language.split("-")[0], {})
    labels = local.get("labels") or {}
    criteria = tuple(
        LegalCriterion(
            code=c["code"],
            cite=c["cite"],
            wording=c["wording"],
            text=" ".join(c["text"].split()),
            categories=frozenset(c["categories"]),
            roles=frozenset(c["roles"]),
            subject_kinds=frozenset(c.get("subject_kinds") or ["person", "entity"]),
            label=labels.get(c["code"]) or c["cite"],
        )
        for c in row["criteria"]
    )
    return BriefProfile(
        key=regime.key,
        instrument=" ".join(row["instrument"].split()),
        articles=tuple(row.get("articles") or ()),
        criteria=criteria,
        measures=tuple(local.get("measures") or (_text(m) for m in row["measures"])),
        recipient=row["recipient"],
        marking=local.get("marking") or row["marking"],
        jurisdictions=frozenset(row.get("jurisdictions") or ()),
        reasons=" ".join((local.get("reasons") or row.get("reasons") or "").split()),
        standard=" ".join((local.get("standard") or row.get("standard") or "").split()),
        categories=frozenset(cat for c in criteria for cat in c.categories),
        persons_only=tuple(
            isinstance(m, dict) and bool(m.get("persons_only")) for m in row["measures"]
        ),
    )


def keys() -> list[str]:
    """The regimes that have a brief profile."""
    return list(_load())


def vocabulary() -> dict:
    """{language: {"categories": {code: name}, "roles": {code: name}}} for briefs."""
    return yaml.safe_load(DATA_FILE.read_text(encoding="utf-8")).get("vocabulary") or {}
