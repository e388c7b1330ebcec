"""
Screening: which designated parties may be a canonical person or a subject, and why.

Candidates come from an indexed lookup of blocking keys (names.blocking_keys), never from a
scan of every name; only the few parties found are scored. The name score is rapidfuzz's
(reviews.matching.best_name_scores, on names normalised across scripts); birth dates,
nationalities and identifier numbers then raise or lower it, and each says why in the reasons
a reviewer reads. Nothing here decides: a reviewer confirms or rejects (services.py).
"""

from dataclasses import dataclass, field

from django.db.models import Count

from reviews.matching import AGREES, CONFLICTS, UNKNOWN, best_name_scores, birth_agreement

from . import names
from .models import DesignatedParty, NameKey

# Parties scored per screening at most: those sharing the most blocking keys come first.
BLOCK_LIMIT = 200
SUGGEST_FROM = 60
BIRTH_AGREES, BIRTH_CONFLICTS = 8, -30
NATIONALITY_AGREES, NATIONALITY_CONFLICTS = 4, -12
IDENTIFIER_AGREES = 20


@dataclass
class Profile:
    """What is known of whoever is screened."""

    kind: str  # "person" or "entity"
    names: list[str]
    birth_dates: list[str] = field(default_factory=list)
    nationalities: set[str] = field(default_factory=set)
    identifiers: set[str] = field(default_factory=set)  # cleaned numbers


@dataclass
class Candidate:
    party: DesignatedParty
    score: float
    name_score: float
    reasons: list[dict]


def profile_of_subject(subject) -> Profile:
    return Profile(
        kind="person" if subject.kind == "person" else "entity",
        names=[subject.name, subject.name_original, *(subject.aliases or [])],
        birth_dates=[subject.birth_date] if subject.birth_date else [],
        nationalities={str(c).upper() for c in subject.nationalities or []},
        identifiers={
            n
            for n in [names.clean_identifier(d.number) for d in subject.documents.all()]
            + [names.clean_identifier(subject.registration_number)]
            if n
        },
    )


def profile_of_person(person) -> Profile:
    """A canonical person, with what the subjects linked to it add."""
    from submissions.models import Subject

    profile = Profile(
        kind="entity" if person.kind == "entity" else "person",
        names=[person.name, person.name_original, *(person.aliases or [])],
        birth_dates=[person.birth_date] if person.birth_date else [],
        nationalities={str(c).upper() for c in person.nationalities or []},
    )
    subjects = Subject.objects.filter(person_link__person=person).prefetch_related("documents")
    for subject in subjects:
        other = profile_of_subject(subject)
        profile.names += other.names
        profile.birth_dates += [d for d in other.birth_dates if d not in profile.birth_dates]
        profile.nationalities |= other.nationalities
        profile.identifiers |= other.identifiers
    return profile


def _birth(mine: list[str], theirs: list[str]) -> tuple[str, str]:
    if not mine or not theirs:
        return UNKNOWN, ", ".join(theirs)
    verdicts = {birth_agreement(a, b) for a in mine for b in theirs}
    verdict = AGREES if AGREES in verdicts else CONFLICTS
    return verdict, f"{', '.join(mine)} / {', '.join(theirs)}"


def _nationality(mine: set[str], theirs: list[str]) -> tuple[str, str]:
    if not mine or not theirs:
        return UNKNOWN, ", ".join(theirs)
    verdict = AGREES if mine & set(theirs) else CONFLICTS
    return verdict, f"{', '.join(sorted(mine))} / {', '.join(theirs)}"


def _identifier(mine: set[str], theirs: list[dict]) -> tuple[str, str]:
    numbers = {names.clean_identifier(i["number"]): i for i in theirs}
    shared = sorted(mine & numbers.keys())
    if shared:
        return AGREES, ", ".join(f"{numbers[n]['type']} {numbers[n]['number']}" for n in shared)
    return UNKNOWN, ""


def score(profile: Profile, party: DesignatedParty, name_score: float, matched: str) -> Candidate:
    birth, birth_detail = _birth(profile.birth_dates, party.birth_dates)
    nationality, nationality_detail = _nationality(profile.nationalities, party.nationalities)
    identifier, identifier_detail = _identifier(profile.identifiers, party.identifiers)
    total = name_score
    total += {AGREES: BIRTH_AGREES, CONFLICTS: BIRTH_CONFLICTS}.get(birth, 0)
    total += {AGREES: NATIONALITY_AGREES, CONFLICTS: NATIONALITY_CONFLICTS}.get(nationality, 0)
    total += IDENTIFIER_AGREES if identifier == AGREES else 0
    reasons = [
        {"kind": "name", "verdict": AGREES, "detail": f"{matched} ({round(name_score)})"},
        {"kind": "birth_date", "verdict": birth, "detail": birth_detail},
        {"kind": "nationality", "verdict": nationality, "detail": nationality_detail},
    ]
    if identifier == AGREES:
        reasons.append({"kind": "identifier", "verdict": identifier, "detail": identifier_detail})
    if party.delisted_on:
        reasons.append(
            {"kind": "delisted", "verdict": UNKNOWN, "detail": party.delisted_on.isoformat()}
        )
    return Candidate(party, round(max(0.0, min(100.0, total)), 1), round(name_score, 1), reasons)


def candidates(profile: Profile, *, limit: int = 10) -> list[Candidate]:
    """The designated parties that may be `profile`, best first (one indexed query)."""
    keys = names.blocking_keys(profile.names)
    if not keys:
        return []
    block = (
        NameKey.objects.filter(key__in=sorted(keys))
        .values("party_id")
        .annotate(shared=Count("pk"))
        .order_by("-shared", "party_id")
        .values("party_id")[:BLOCK_LIMIT]
    )
    parties = list(
        DesignatedParty.objects.filter(pk__in=block, kind=profile.kind).only(
            "source", "external_id", "kind", "name", "names", "birth_dates", "nationalities",
            "identifiers", "delisted_on",
        )
    )  # fmt: skip
    queries = names.variants(profile.names)
    choices, owners = [], []
    for position, party in enumerate(parties):
        for entry in party.names:
            form = names.normalise(entry["name"])
            if form:
                choices.append(form)
                owners.append((position, entry["name"]))
    best: dict[int, tuple[float, str]] = {}
    for index, value in best_name_scores(queries, choices).items():
        position, original = owners[index]
        if value > best.get(position, (0.0, ""))[0]:
            best[position] = (value, original)
    found = [
        score(profile, parties[position], value, original)
        for position, (value, original) in best.items()
    ]
    found = [c for c in found if c.score >= SUGGEST_FROM]
    found.sort(key=lambda c: (-c.score, c.party.pk))
    return found[:limit]
