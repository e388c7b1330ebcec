"""
FollowTheMoney exchange: a dossier's subjects as FtM entities (one JSON object a line), and
FtM Person / Organization entities imported as a draft dossier's subjects.

Export: Person or Organization for each subject; Passport / Identification for its documents;
Position and Occupancy for the posts it held (the body as an Organization); Family with a
relative Person for family ties, Ownership with an Asset or Company for assets and companies.
Ties of other kinds (travel, studies, other) have no FtM shape and are left out.

Import reads the same shapes back. Entities that are only the far end of a tie (a relative,
an owned asset, the body of a post) become that tie, not subjects of their own.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_countries import countries
from followthemoney import model
from followthemoney.exc import InvalidData

from submissions import services as filing
from submissions.fields import validate_partial_date
from submissions.models import (
    Dossier,
    IdentityDocument,
    JurisdictionLink,
    PositionHeld,
    Subject,
)

from .parsers import nests_within
from .services import ReplaceRows

SUBJECT_SCHEMATA = ("Person", "Organization", "Company", "LegalEntity")
MAX_ENTITIES = 10_000
DOCUMENT_TYPES = {"national_id": "national id", "tax_id": "tax", "other": "other"}


def _entity(schema: str, *key) -> object:
    entity = model.make_entity(schema)
    entity.make_id("magnitsky-portal", *key)
    return entity


def _iso(code) -> str:
    return str(code).lower() if code else ""


def export_entities(dossier: Dossier) -> Iterator[dict]:
    """Yield the dossier's subjects and their ties as FtM entity dicts."""
    subjects = dossier.subjects.prefetch_related("documents", "positions", "links")
    ref = dossier.reference
    for subject in subjects:
        person = subject.kind == Subject.Kind.PERSON
        main = _entity("Person" if person else "Organization", ref, "subject", subject.pk)
        main.add("name", subject.name)
        main.add("name", subject.name_original or None)
        main.add("alias", subject.aliases)
        main.add("notes", subject.notes or None)
        if person:
            main.add("gender", subject.gender or None)
            main.add("birthDate", subject.birth_date or None)
            main.add("birthPlace", subject.birth_place or None)
            main.add("nationality", [_iso(c) for c in subject.nationalities])
        else:
            main.add("registrationNumber", subject.registration_number or None)
            main.add("jurisdiction", _iso(subject.jurisdiction) or None)
            main.add("legalForm", subject.legal_form or None)
        yield main.to_dict()

        for document in subject.documents.all():
            passport = document.kind == IdentityDocument.Kind.PASSPORT
            entity = _entity("Passport" if passport else "Identification", ref, "doc", document.pk)
            entity.add("holder", main.id)
            entity.add("number", document.number)
            entity.add("country", _iso(document.country) or None)
            entity.add("startDate", document.issued_on or None)
            entity.add("endDate", document.expires_on or None)
            if not passport:
                entity.add("type", DOCUMENT_TYPES[document.kind])
            yield entity.to_dict()

        for held in subject.positions.all():
            post = _entity("Position", ref, "position", held.pk)
            post.add("name", held.title)
            post.add("country", _iso(held.country) or None)
            if held.organisation:
                body = _entity("Organization", ref, "body", held.pk)
                body.add("name", held.organisation)
                post.add("organization", body.id)
                yield body.to_dict()
            yield post.to_dict()
            occupancy = _entity("Occupancy", ref, "occupancy", held.pk)
            occupancy.add("holder", main.id)
            occupancy.add("post", post.id)
            occupancy.add("startDate", held.start or None)
            occupancy.add("endDate", held.end or None)
            yield occupancy.to_dict()

        for link in subject.links.all():
            yield from _export_link(ref, main, link)


def _export_link(ref: str, main, link: JurisdictionLink) -> Iterator[dict]:
    kind = JurisdictionLink.Kind
    if link.kind == kind.FAMILY:
        relative = _entity("Person", ref, "relative", link.pk)
        relative.add("name", link.description[:300])
        relative.add("country", _iso(link.country))
        family = _entity("Family", ref, "family", link.pk)
        family.add("person", main.id)
        family.add("relative", relative.id)
        family.add("description", link.description)
        yield relative.to_dict()
        yield family.to_dict()
    elif link.kind in (kind.ASSET, kind.COMPANY):
        company = link.kind == kind.COMPANY
        asset = _entity("Company" if company else "Asset", ref, "asset", link.pk)
        asset.add("name", link.description[:300])
        asset.add("jurisdiction" if company else "country", _iso(link.country))
        ownership = _entity("Ownership", ref, "ownership", link.pk)
        ownership.add("owner", main.id)
        ownership.add("asset", asset.id)
        ownership.add("description", link.description)
        yield asset.to_dict()
        yield ownership.to_dict()


def to_lines(entities: Iterable[dict]) -> Iterator[str]:
    for entity in entities:
        yield json.dumps(entity, ensure_ascii=False, sort_keys=True) + "\n"


# Import


def parse_lines(lines: Iterable[bytes | str]) -> list:
    """Read FtM entities, one JSON object a line; refuse the whole input at the first bad one."""
    entities = []
    for number, line in enumerate(lines, start=1):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationError(_("Line %(n)s is not UTF-8."), params={"n": number}) from None
        if not line.strip():
            continue
        if len(entities) >= MAX_ENTITIES:
            raise ValidationError(
                _("At most %(max)s entities at a time."), params={"max": MAX_ENTITIES}
            )
        try:
            if not nests_within(line):  # the decoder recurses once a level
                raise ValueError
            data = json.loads(line)
            if not isinstance(data, dict) or not isinstance(data.get("properties", {}), dict):
                raise ValueError
            schema = model.get(data.get("schema") or "")
            if schema is None or not data.get("id"):
                raise ValueError
            schema.validate(data)
            entities.append(model.get_proxy(data, cleaned=False))
        except InvalidData as error:
            raise ValidationError(
                _("Line %(n)s is not a valid FtM entity: %(errors)s"),
                params={"n": number, "errors": json.dumps(error.errors)},
            ) from None
        except (ValueError, TypeError, AttributeError):
            raise ValidationError(
                _("Line %(n)s is not an FtM entity (JSON with an id, schema and properties)."),
                params={"n": number},
            ) from None
    return entities


def _latin(text: str) -> bool:
    return all(ord(ch) < 0x250 for ch in text)


def _date(values: list[str]) -> str:
    for value in values:
        value = value[:10]
        try:
            validate_partial_date(value)
        except ValidationError:
            continue
        return value
    return ""


def _country(values: Iterable[str]) -> str:
    for value in values:
        if value and value.upper() in countries:
            return value.upper()
    return ""


def _first(entity, prop: str) -> str:
    return entity.first(prop, quiet=True) or ""


def subject_rows(entities: list) -> tuple[list[tuple[dict, dict]], set[str]]:
    """
    Return (subject fields, {documents, positions, links}) for each subject entity, and the
    ids of the entities that went into them.
    """
    by_id = {entity.id: entity for entity in entities}
    used = set()
    ties = defaultdict(lambda: {"documents": [], "positions": [], "links": []})
    ends = set()  # ids that are the far end of a tie: not subjects themselves
    for entity in entities:
        schema = entity.schema
        if schema.is_a("Identification"):
            used.add(entity.id)
            for holder in entity.get("holder", quiet=True):
                kind = (
                    "passport"
                    if schema.is_a("Passport")
                    else {v: k for k, v in DOCUMENT_TYPES.items()}.get(
                        _first(entity, "type").lower(), "other"
                    )
                )
                ties[holder]["documents"].append(
                    {
                        "kind": kind,
                        "number": _first(entity, "number")[:100],
                        "country": _country(entity.get("country", quiet=True)),
                        "issued_on": _date(entity.get("startDate", quiet=True)),
                        "expires_on": _date(entity.get("endDate", quiet=True)),
                    }
                )
        elif schema.is_a("Occupancy"):
            for post_id in entity.get("post", quiet=True):
                post = by_id.get(post_id)
                if post is None:
                    continue
                used.update((entity.id, post.id))
                body = by_id.get(_first(post, "organization"))
                if body is not None:
                    ends.add(body.id)
                for holder in entity.get("holder", quiet=True):
                    ties[holder]["positions"].append(
                        {
                            "title": _first(post, "name")[:200],
                            "organisation": _first(body, "name")[:200] if body else "",
                            "country": _country(post.get("country", quiet=True)),
                            "start": _date(entity.get("startDate", quiet=True)),
                            "end": _date(entity.get("endDate", quiet=True)),
                        }
                    )
        elif schema.is_a("Family") or schema.is_a("Ownership"):
            family = schema.is_a("Family")
            far = by_id.get(_first(entity, "relative" if family else "asset"))
            near = entity.get("person" if family else "owner", quiet=True)
            if far is None:
                continue
            ends.add(far.id)
            used.update((entity.id, far.id))
            country = _country(
                [*far.get("country", quiet=True), *far.get("jurisdiction", quiet=True)]
            )
            if not country:
                continue  # a tie to a jurisdiction needs the jurisdiction
            if family:
                kind = JurisdictionLink.Kind.FAMILY
            elif far.schema.is_a("LegalEntity"):
                kind = JurisdictionLink.Kind.COMPANY
            else:
                kind = JurisdictionLink.Kind.ASSET
            description = _first(entity, "description") or _first(far, "name")
            for holder in near:
                ties[holder]["links"].append(
                    {"kind": kind, "country": country, "description": description[:500]}
                )

    rows = []
    for entity in entities:
        if entity.id in ends or not any(entity.schema.is_a(s) for s in SUBJECT_SCHEMATA):
            continue
        person = entity.schema.is_a("Person")
        names = entity.get("name", quiet=True)
        latin = [n for n in names if _latin(n)]
        name = (latin or names)[0]
        original = next((n for n in names if n != name and not _latin(n)), "")
        aliases = [
            a
            for a in entity.get("alias", quiet=True) + entity.get("weakAlias", quiet=True)
            if a not in names
        ]
        gender = _first(entity, "gender").lower()
        fields = {
            "kind": Subject.Kind.PERSON if person else Subject.Kind.ENTITY,
            "name": name[:300],
            "name_original": original[:300],
            "aliases": [a[:300] for a in aliases[:100]],
            "gender": gender if gender in Subject.Gender.values else "",
            "birth_date": _date(entity.get("birthDate", quiet=True)) if person else "",
            "birth_place": _first(entity, "birthPlace")[:200] if person else "",
            "nationalities": sorted(
                {
                    c.upper()
                    for c in entity.get("nationality", quiet=True)
                    + entity.get("citizenship", quiet=True)
                }
                & {code for code, _name in countries}
            )
            if person
            else [],
            "registration_number": _first(entity, "registrationNumber")[:100],
            "jurisdiction": _country(entity.get("jurisdiction", quiet=True)),
            "legal_form": _first(entity, "legalForm")[:100],
            "notes": "\n".join(entity.get("notes", quiet=True)),
        }
        rows.append((fields, ties[entity.id]))
        used.add(entity.id)
    return rows, used | ends


@transaction.atomic
def import_subjects(dossier: Dossier, *, by, entities: list) -> tuple[list[Subject], int]:
    """
    Add the subject entities to a draft dossier through the subject service; all or nothing.
    Return the new subjects and how many entities were neither subjects nor their ties.
    """
    rows, used = subject_rows(entities)
    created = []
    for fields, ties in rows:
        created.append(
            filing.save_subject(
                dossier,
                by=by,
                fields=fields,
                documents=ReplaceRows(IdentityDocument, ties["documents"]),
                positions=ReplaceRows(PositionHeld, ties["positions"]),
                links=ReplaceRows(JurisdictionLink, ties["links"]),
            )
        )
    return created, sum(1 for entity in entities if entity.id not in used)
