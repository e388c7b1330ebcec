"""
Suggest that a subject is the same person as a canonical person or a subject of another dossier.

Names are compared after normalisation: transliterated to Latin (anyascii), lower-cased,
stripped of punctuation and diacritics, and with the spelling variants of common
transliteration systems folded together (Aleksey / Alexei, Navalnyy / Navalny, Wladimir /
Vladimir). Word order does not matter and a missing middle name or patronymic costs little
(rapidfuzz's token_sort and token_set ratios). Birth date and nationality then raise or lower
the score: sanctions lists have no global identifiers, so names alone are never enough
(domain.md section 7).

At scale (a million persons) candidates are not read one by one: each person's and subject's
blocking keys (normalised words and their first letters, with the year of birth) are kept in
the database (NameKey, updated on every save; `rebuild_keys` after a bulk import), and only
those sharing keys with the subject are scored (docs/benchmarks.md).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from anyascii import anyascii
from django.db.models import Count, Q
from django.db.models.signals import post_save
from django.dispatch import receiver
from rapidfuzz import fuzz, process

# Spelling variants of one sound across transliteration systems, folded to one form.
# Order matters: longer clusters first.
FOLDS = (
    ("shch", "sh"),
    ("sch", "sh"),
    ("tch", "ch"),
    ("kh", "h"),
    ("zh", "z"),
    ("dj", "j"),
    ("ts", "c"),
    ("tz", "c"),
    ("cz", "c"),
    ("ck", "k"),
    ("x", "ks"),
    ("q", "k"),
    ("ph", "f"),
    ("w", "v"),
    ("ou", "u"),
    ("ye", "e"),
    ("y", "i"),
    ("j", "i"),
)
_NOT_LETTERS = re.compile(r"[^a-z\s]+")
_REPEATS = re.compile(r"(.)\1+")

# A candidate is suggested from this combined score (0-100) and this name score upwards.
SUGGEST_FROM = 80
NAME_SCORE_FLOOR = 70
# How birth dates and nationalities move the name score.
BIRTH_AGREES, BIRTH_CONFLICTS = 8, -30
NATIONALITY_AGREES, NATIONALITY_CONFLICTS = 4, -12

AGREES, CONFLICTS, UNKNOWN = "agrees", "conflicts", "unknown"


def normalise(name: str) -> str:
    """Return `name` in a form where transliterations and spellings of it coincide."""
    text = anyascii(name or "").lower().replace("'", "")
    text = _NOT_LETTERS.sub(" ", text)
    tokens = []
    for token in text.split():
        for variant, folded in FOLDS:
            token = token.replace(variant, folded)
        tokens.append(_REPEATS.sub(r"\1", token))
    return " ".join(tokens)


def name_variants(name: str, name_original: str = "", aliases: Iterable = ()) -> list[str]:
    """Return the distinct normalised forms of a name, its original script and its aliases."""
    forms = [name, name_original, *(a for a in aliases or () if isinstance(a, str))]
    seen: dict[str, None] = {}
    for form in forms:
        normalised = normalise(form)
        if normalised:
            seen.setdefault(normalised, None)
    return list(seen)


# Word order does not matter (token_sort); a name whose every word appears in the other (a
# missing patronymic or middle name) scores a little below an exact match (token_set, weighted),
# and only between names of two words or more, so that one surname alone does not match.
SCORERS = ((fuzz.token_sort_ratio, 1.0), (fuzz.token_set_ratio, 0.95))


def name_score(left: str, right: str) -> float:
    """Score two normalised names 0-100 (the same measure as `best_name_scores`)."""
    return best_name_scores([left], [right]).get(0, 0.0) or fuzz.token_sort_ratio(left, right)


def birth_agreement(left: str, right: str) -> str:
    """Partial dates (1970, 1970-03, 1970-03-05) agree when one is a prefix of the other."""
    if not left or not right:
        return UNKNOWN
    return AGREES if left.startswith(right) or right.startswith(left) else CONFLICTS


def nationality_agreement(left: Iterable, right: Iterable) -> str:
    left, right = {str(c) for c in left or ()}, {str(c) for c in right or ()}
    if not left or not right:
        return UNKNOWN
    return AGREES if left & right else CONFLICTS


@dataclass
class Suggestion:
    kind: str  # "person" or "subject"
    candidate: object
    score: float
    name_score: float
    birth: str
    nationality: str

    @property
    def key(self) -> str:
        """How a form names this candidate: person-12 or subject-34."""
        return f"{self.kind}-{self.candidate.pk}"


def combine(name: float, birth: str, nationality: str) -> float:
    score = name
    score += {AGREES: BIRTH_AGREES, CONFLICTS: BIRTH_CONFLICTS}.get(birth, 0)
    score += {AGREES: NATIONALITY_AGREES, CONFLICTS: NATIONALITY_CONFLICTS}.get(nationality, 0)
    return round(max(0.0, min(100.0, score)), 1)


def best_name_scores(queries: list[str], choices: list[str]) -> dict[int, float]:
    """Return {choice index: best name score against any query} for choices above the floor."""
    best: dict[int, float] = {}
    for query in queries:
        for scorer, weight in SCORERS:
            if weight < 1 and len(query.split()) < 2:
                continue
            for _choice, score, index in process.extract(
                query, choices, scorer=scorer, limit=None, score_cutoff=NAME_SCORE_FLOOR / weight
            ):
                if weight < 1 and len(choices[index].split()) < 2:
                    continue
                best[index] = max(best.get(index, 0), score * weight)
    return best


def rank(subject, candidates: list[tuple[str, object]], *, limit: int = 10) -> list[Suggestion]:
    """Score (kind, candidate) pairs against `subject`; return the best suggestions first."""
    queries = name_variants(subject.name, subject.name_original, subject.aliases)
    choices, owners = [], []
    for position, (_kind, candidate) in enumerate(candidates):
        for variant in name_variants(candidate.name, candidate.name_original, candidate.aliases):
            choices.append(variant)
            owners.append(position)
    best: dict[int, float] = {}
    for index, score in best_name_scores(queries, choices).items():
        owner = owners[index]
        best[owner] = max(best.get(owner, 0), score)
    suggestions = []
    for position, score in best.items():
        kind, candidate = candidates[position]
        birth = birth_agreement(subject.birth_date, candidate.birth_date)
        nationality = nationality_agreement(subject.nationalities, candidate.nationalities)
        combined = combine(score, birth, nationality)
        if combined >= SUGGEST_FROM:
            suggestions.append(
                Suggestion(kind, candidate, combined, round(score, 1), birth, nationality)
            )
    suggestions.sort(key=lambda s: (-s.score, s.kind, s.candidate.pk))
    return suggestions[:limit]


def same_birth_year_or_unknown(birth_date: str) -> Q:
    """Block candidates by birth year: the same year, or no birth date recorded."""
    if not birth_date:
        return Q()
    return Q(birth_date="") | Q(birth_date__startswith=birth_date[:4])


# Blocking keys: every normalised word of two letters or more, and the first PREFIX letters of
# each longer word (so that "aleksandr" and "aleksandar", "ivanov" and "ivanof" still meet).
# A candidate is scored only if it shares a key with the subject; those sharing the most keys
# come first, and at most CANDIDATES of each kind are scored.
PREFIX = 4
CANDIDATES = 500


def keys_for(name: str, name_original: str = "", aliases: Iterable = ()) -> set[str]:
    """Return the blocking keys of a name, its original script and its aliases."""
    keys = set()
    for variant in name_variants(name, name_original, aliases):
        for token in variant.split():
            if len(token) < 2:
                continue
            keys.add(token[:40])
            if len(token) > PREFIX:
                keys.add(token[:PREFIX] + "*")
    return keys


def birth_year(birth_date: str) -> str:
    return (birth_date or "")[:4]


def update_keys(owner) -> None:
    """Store the blocking keys of a canonical record or a Subject (person or organisation)."""
    from .models import NameKey, Person

    field = "person" if isinstance(owner, Person) else "subject"
    NameKey.objects.filter(**{field: owner}).delete()
    year = birth_year(owner.birth_date)
    NameKey.objects.bulk_create(
        NameKey(key=key, birth_year=year, **{field: owner})
        for key in sorted(keys_for(owner.name, owner.name_original, owner.aliases))
    )


def rebuild_keys(batch: int = 2000) -> int:
    """Recompute every blocking key (after a bulk import that bypassed save()); returns rows."""
    from submissions.models import Subject

    from .models import NameKey, Person

    written = 0
    NameKey.objects.all().delete()
    sources = (
        ("person", Person.objects.all()),
        ("subject", Subject.objects.all()),
    )
    for field, queryset in sources:
        rows = []
        names = queryset.values_list("pk", "name", "name_original", "aliases", "birth_date")
        for pk, name, original, aliases, birth in names.iterator(chunk_size=batch):
            rows += [
                NameKey(key=key, birth_year=birth_year(birth), **{f"{field}_id": pk})
                for key in keys_for(name, original, aliases)
            ]
            if len(rows) >= batch:
                written += len(NameKey.objects.bulk_create(rows))
                rows = []
        written += len(NameKey.objects.bulk_create(rows))
    return written


@receiver(post_save, sender="reviews.Person")
@receiver(post_save, sender="submissions.Subject")
def _keep_keys(sender, instance, raw=False, update_fields=None, **kwargs):
    names = {"name", "name_original", "aliases", "kind", "birth_date"}
    if raw or (update_fields is not None and not names & set(update_fields)):
        return
    update_keys(instance)


def _sharing_keys(keys: set[str], year: str, field: str, *, among=None, exclude=()) -> list[int]:
    """
    Ids of the CANDIDATES owners (`field`: person or subject) that share the most keys with
    `keys`, born in `year` or of unknown birth (any if `year` is ""), best first; `among`
    narrows to a queryset. One index range scan per key: (key, birth_year, owner).
    """
    from .models import NameKey

    rows = NameKey.objects.filter(key__in=keys, **{f"{field}__isnull": False})
    if year:
        rows = rows.filter(birth_year__in=["", year])
    if among is not None:
        rows = rows.filter(**{f"{field}__in": among})
    if exclude:
        rows = rows.exclude(**{f"{field}__in": exclude})
    shared = (
        rows.values(field)
        .annotate(shared=Count("*"))
        .order_by("-shared", field)
        .values_list(field, flat=True)
    )
    return list(shared[:CANDIDATES])


def suggest(subject, *, user, limit: int = 10) -> list[Suggestion]:
    """
    Suggest canonical records and unlinked subjects of other dossiers that may be `subject`:
    persons for a person, organisations for an organisation.

    Candidates come only from what `user` may see, and never one already accepted or rejected
    for this subject. Only names sharing a blocking key with the subject's are read from the
    database (a constant number of queries, each an index lookup), then scored here.
    """
    from submissions.models import Subject

    from .models import MatchDecision, Person
    from .querysets import dossiers_for_review

    keys = keys_for(subject.name, subject.name_original, subject.aliases)
    if not keys:
        return []
    decided_pairs = MatchDecision.objects.filter(Q(subject=subject) | Q(other=subject))
    decided_subjects = {
        pk
        for pair in decided_pairs.filter(other__isnull=False).values_list("subject_id", "other_id")
        for pk in pair
    }
    year = birth_year(subject.birth_date)
    link = getattr(subject, "person_link", None)
    candidates: list[tuple[str, object]] = []
    if link is None:
        rejected_persons = list(
            decided_pairs.filter(person__isnull=False).values_list("person_id", flat=True)
        )
        # Persons are visible to every reviewer or to nobody: no join needed to choose them.
        ids = _sharing_keys(keys, year, "person", exclude=rejected_persons)
        found = (
            Person.objects.visible_to(user)
            .filter(pk__in=ids, kind=subject.kind)
            .only("name", "name_original", "aliases", "birth_date", "nationalities")
        )
        candidates += [("person", person) for person in found]
    subjects = (
        Subject.objects.filter(dossier__in=dossiers_for_review(user), kind=subject.kind)
        .exclude(dossier_id=subject.dossier_id)
        .exclude(pk__in=decided_subjects)
        .filter(person_link__isnull=True)
    )
    ids = _sharing_keys(keys, year, "subject", among=subjects)
    found = (
        Subject.objects.filter(pk__in=ids)
        .select_related("dossier")
        .only(
            "name",
            "name_original",
            "aliases",
            "birth_date",
            "nationalities",
            "dossier__reference",
        )
    )
    candidates += [("subject", other) for other in found]
    return rank(subject, candidates, limit=limit)
