"""
Readers of published designation lists, each streaming one entry at a time.

Every reader takes a binary stream and yields, per entry of the file, either an `Entry` (a
party and its listings, or listings alone) or an `EntryError` saying which entry is malformed
and why; a reader never holds more than one entry in memory. A file that cannot be read on at
all (broken XML, no header) raises `ListFormatError`.

- `ftm`: FollowTheMoney entities, one JSON object a line (OpenSanctions' export): Person,
  Organization, Company, LegalEntity ... and Sanction entities whose `entity` points at them.
- `ofac-sdn-xml`: the US Treasury SDN list (sdnList/sdnEntry), program GLOMAG -> US-GLOMAG.
- `uk-sanctions-list`: the FCDO's UK Sanctions List, as XML (Designations/Designation) or as
  CSV (one row per name; the rows of one designation share its Unique ID).
"""

import codecs
import csv
import io
import json
import re

# ElementTree expands no external entities; lists come from the governments that publish them.
import xml.etree.ElementTree as ET  # nosec B405
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from followthemoney import model, registry
from followthemoney.exc import FollowTheMoneyException

from .names import clean_identifier, script_of


class ListFormatError(Exception):
    """The file cannot be read on: nothing after this point can be trusted."""


@dataclass
class PartyEntry:
    external_id: str
    kind: str  # "person" or "entity"
    schema: str
    name: str
    names: list = field(default_factory=list)
    birth_dates: list = field(default_factory=list)
    nationalities: list = field(default_factory=list)
    identifiers: list = field(default_factory=list)
    # Filled by importer.prepare() (in the parsing process): the content's hash, the blocking keys.
    digest: str = field(default="", compare=False, repr=False)
    keys: frozenset = field(default=frozenset(), compare=False, repr=False)

    def add_name(self, name: str | None, kind: str) -> None:
        name = " ".join((name or "").split())
        if name and not any(n["name"] == name for n in self.names):
            self.names.append({"name": name, "script": script_of(name), "type": kind})

    def add_birth_date(self, value: str | None) -> None:
        if value and value not in self.birth_dates:
            self.birth_dates.append(value)

    def add_nationality(self, value: str | None) -> None:
        code = country_code(value)
        if code and code not in self.nationalities:
            self.nationalities.append(code)

    def add_identifier(self, kind: str, number: str | None, country: str | None = None) -> None:
        if clean_identifier(number or ""):
            entry = {"type": kind, "number": number.strip(), "country": country_code(country)}
            if entry not in self.identifiers:
                self.identifiers.append(entry)

    def content(self) -> dict:
        """What a change of the party is measured on."""
        return {
            "kind": self.kind,
            "schema": self.schema,
            "name": self.name,
            "names": self.names,
            "birth_dates": sorted(self.birth_dates),
            "nationalities": sorted(self.nationalities),
            "identifiers": sorted(self.identifiers, key=lambda i: (i["type"], i["number"])),
        }


@dataclass
class SanctionEntry:
    external_id: str
    party_ref: str
    program_key: str
    authority: str = ""
    reference: str = ""
    listed_on: date | None = None
    digest: str = field(default="", compare=False, repr=False)  # see PartyEntry.digest

    def content(self) -> dict:
        return {
            "party_ref": self.party_ref,
            "program_key": self.program_key,
            "authority": self.authority,
            "reference": self.reference,
            "listed_on": self.listed_on.isoformat() if self.listed_on else None,
        }


@dataclass
class Entry:
    label: str
    party: PartyEntry | None = None
    sanctions: list = field(default_factory=list)
    skipped: bool = False


@dataclass
class EntryError:
    label: str
    message: str


# Values


def country_code(value: str | None) -> str:
    """An ISO 3166 code (upper case) for a country's name or code; "" if not a country."""
    if not value:
        return ""
    code = registry.country.clean(value.strip())
    return code.upper() if code and len(code) == 2 else ""


MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
)}  # fmt: skip
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def partial_date(value: str | None) -> str:
    """A partial ISO date (1970, 1970-03, 1970-03-05) from the lists' ways of writing dates."""
    text = (value or "").strip().lower()
    if not text:
        return ""
    if re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", text):
        return text
    # UK: dd/mm/yyyy with 00 or dd/mm for unknown parts
    if match := re.fullmatch(r"(\d{2}|dd)/(\d{2}|mm)/(\d{4})", text):
        day, month, year = match.groups()
        if not month.isdigit() or month == "00":
            return year
        if not day.isdigit() or day == "00":
            return f"{year}-{month}"
        return f"{year}-{month}-{day}"
    # OFAC: "12 Jun 1952", "Jun 1952", "1952", "circa 1952", "1950 to 1952"
    if match := re.fullmatch(r"(?:(\d{1,2}) )?([a-z]{3}) (\d{4})", text):
        day, month, year = match.groups()
        if month in MONTHS:
            month_number = MONTHS[month]
            return (
                f"{year}-{month_number:02d}-{int(day):02d}" if day else f"{year}-{month_number:02d}"
            )
    if match := _YEAR.search(text):
        return match.group(1)
    return ""


def full_date(value: str | None) -> date | None:
    """A listing date: a real date, or the first day of a partial one."""
    partial = partial_date(value)
    if not partial:
        return None
    parts = [int(p) for p in partial.split("-")] + [1, 1]
    try:
        return date(parts[0], parts[1], parts[2])
    except ValueError:
        return None


# FollowTheMoney

PARTY_NAME_PROPS = (("name", "primary"), ("alias", "alias"), ("weakAlias", "weak"),
                    ("previousName", "previous"))  # fmt: skip
IDENTIFIER_PROPS = (
    ("passportNumber", "passport"),
    ("idNumber", "national_id"),
    ("taxNumber", "tax_id"),
    ("innCode", "tax_id"),
    ("registrationNumber", "other"),
    ("ogrnCode", "other"),
    ("leiCode", "other"),
)


def read_ftm(stream) -> Iterator[Entry | EntryError]:
    """FollowTheMoney entities, one JSON object a line (nested `sanctions` are unfolded)."""
    for number, raw in enumerate(stream, start=1):
        line = raw.strip()
        if not line:
            continue
        label = f"line {number}"
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            nested = _nested_sanctions(data)
            proxy = model.get_proxy(data)
            if not proxy.id:
                raise ValueError("the entity has no id")
            entry = _ftm_entry(label, proxy)
            for sanction_data in nested:
                sanction_data.setdefault("properties", {}).setdefault("entity", [proxy.id])
                entry.sanctions += _ftm_entry(label, model.get_proxy(sanction_data)).sanctions
        except (ValueError, TypeError, AttributeError, FollowTheMoneyException) as error:
            yield EntryError(label, f"{type(error).__name__}: {error}"[:500])
            continue
        yield entry


def _nested_sanctions(data: dict) -> list[dict]:
    properties = data.get("properties")
    if not isinstance(properties, dict):
        return []
    values = properties.get("sanctions") or []
    nested = [v for v in values if isinstance(v, dict)]
    if nested:
        properties["sanctions"] = [v for v in values if not isinstance(v, dict)]
    return nested


def _ftm_entry(label: str, proxy) -> Entry:
    schema = proxy.schema
    if schema.is_a("Sanction"):
        program = (proxy.first("programId") or proxy.first("program") or "").strip()
        entities = proxy.get("entity")
        if not entities:
            raise ValueError("the Sanction names no entity")
        listed = proxy.first("listingDate") or proxy.first("startDate")
        reference = proxy.first("authorityId") or proxy.first("unscId") or ""
        sanctions = [
            SanctionEntry(
                external_id=proxy.id if len(entities) == 1 else f"{proxy.id}:{ref}",
                party_ref=ref,
                program_key=program[:120],
                authority=(proxy.first("authority") or "")[:300],
                reference=reference[:200],
                listed_on=full_date(listed),
            )
            for ref in entities
        ]
        return Entry(label, sanctions=sanctions)
    if not schema.is_a("LegalEntity"):
        return Entry(label, skipped=True)
    names = [
        (value, kind) for prop, kind in PARTY_NAME_PROPS for value in proxy.get(prop, quiet=True)
    ]
    if not names:
        parts = [proxy.first(p, quiet=True) for p in ("firstName", "middleName", "lastName")]
        names = [(" ".join(p for p in parts if p), "primary")]
    if not names[0][0].strip():
        raise ValueError("the entity has no name")
    party = PartyEntry(
        external_id=proxy.id[:200],
        kind="person" if schema.is_a("Person") else "entity",
        schema=schema.name,
        name=names[0][0][:500],
    )
    for value, kind in names:
        party.add_name(value, kind)
    for value in proxy.get("birthDate", quiet=True):
        party.add_birth_date(value)
    for value in [*proxy.get("nationality", quiet=True), *proxy.get("citizenship", quiet=True)]:
        party.add_nationality(value)
    for prop, kind in IDENTIFIER_PROPS:
        if prop in schema.properties:
            for value in proxy.get(prop, quiet=True):
                party.add_identifier(kind, value)
    return Entry(label, party=party)


# XML helpers


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element, name: str):
    return [child for child in element if _local(child.tag) == name]


def _text(element, name: str) -> str:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return ""


def _descendants(element, name: str):
    return [e for e in element.iter() if _local(e.tag) == name]


def _iter_elements(stream, name: str):
    """Yield each complete `name` element, then free it: memory stays constant."""
    try:
        # No DTD or external entity is fetched by ElementTree; see the import above.
        events = ET.iterparse(stream, events=("start", "end"))  # noqa: S314  # nosec B314
        root = None
        for event, element in events:
            if root is None:
                root = element
            if event == "end" and _local(element.tag) == name:
                yield element
                element.clear()
                root.clear()
    except ET.ParseError as error:
        raise ListFormatError(f"The XML cannot be read: {error}") from None


# OFAC SDN

SDN_IDENTIFIERS = {"passport": "passport", "national id no.": "national_id",
                   "cedula no.": "national_id", "tax id no.": "tax_id", "inn": "tax_id",
                   "registration number": "other"}  # fmt: skip


def read_ofac_sdn(stream) -> Iterator[Entry | EntryError]:
    """The US Treasury SDN list: sdnList/sdnEntry with uid, names, programs, akas, ids."""
    for element in _iter_elements(stream, "sdnEntry"):
        uid = _text(element, "uid")
        label = f"sdnEntry uid {uid}" if uid else "sdnEntry without uid"
        sdn_type = _text(element, "sdnType").lower()
        last_name = _text(element, "lastName")
        if not uid or not last_name:
            yield EntryError(label, "an sdnEntry needs a uid and a lastName")
            continue
        if sdn_type not in ("individual", "entity"):
            yield Entry(label, skipped=True)  # vessels and aircraft
            continue
        programs = [
            (p.text or "").strip().strip("[]")
            for p in _descendants(element, "program")
            if (p.text or "").strip()
        ]
        if not programs:
            yield EntryError(label, "the entry names no program")
            continue
        name = " ".join(filter(None, [_text(element, "firstName"), last_name]))
        party = PartyEntry(
            external_id=uid,
            kind="person" if sdn_type == "individual" else "entity",
            schema="Person" if sdn_type == "individual" else "Organization",
            name=name[:500],
        )
        party.add_name(name, "primary")
        for aka in _descendants(element, "aka"):
            aka_name = " ".join(filter(None, [_text(aka, "firstName"), _text(aka, "lastName")]))
            kind = "weak" if _text(aka, "category").lower() == "weak" else "alias"
            if _text(aka, "type").lower() == "f.k.a.":
                kind = "previous"
            party.add_name(aka_name, kind)
        for item in _descendants(element, "dateOfBirth"):
            party.add_birth_date(partial_date(item.text))
        for item in [*_descendants(element, "nationality"), *_descendants(element, "citizenship")]:
            party.add_nationality(_text(item, "country"))
        for item in _descendants(element, "id"):
            kind = SDN_IDENTIFIERS.get(_text(item, "idType").lower())
            if kind:
                party.add_identifier(kind, _text(item, "idNumber"), _text(item, "idCountry"))
        sanctions = [
            SanctionEntry(
                external_id=f"{uid}:{program}",
                party_ref=uid,
                program_key=f"US-{program}"[:120],
                authority="OFAC",
                reference=uid,
            )
            for program in dict.fromkeys(programs)
        ]
        yield Entry(label, party=party, sanctions=sanctions)


# UK Sanctions List

UK_REGIMES = {"global human rights": "GB-HR", "global anti-corruption": "GB-AC"}


def uk_program_key(regime_name: str) -> str:
    """The OpenSanctions-style key of a UK regime name; others get GB-<NAME>, reported unknown."""
    name = " ".join(regime_name.lower().split())
    return UK_REGIMES.get(name) or "GB-" + re.sub(r"[^A-Z0-9]+", "-", name.upper()).strip("-")


def _uk_kind(value: str) -> str | None:
    return {"individual": "person", "entity": "entity"}.get(value.strip().lower())


def _split_values(value: str) -> list[str]:
    """Several values in one cell: "(1) Russia (2) Ukraine", "a|b", "a; b"."""
    parts = re.split(r"\(\d+\)|\||;", value or "")
    return [p.strip() for p in parts if p.strip()]


def read_uk_list(stream) -> Iterator[Entry | EntryError]:
    """The UK Sanctions List, as XML or CSV (told apart by the first non-blank byte)."""
    buffered = io.BufferedReader(stream) if not hasattr(stream, "peek") else stream
    head = buffered.peek(64)[:64].lstrip(codecs.BOM_UTF8).lstrip()
    if head.startswith(b"<"):
        yield from _read_uk_xml(buffered)
    else:
        yield from _read_uk_csv(buffered)


def _read_uk_xml(stream) -> Iterator[Entry | EntryError]:
    for element in _iter_elements(stream, "Designation"):
        unique_id = _text(element, "UniqueID")
        label = f"Designation {unique_id}" if unique_id else "Designation without UniqueID"
        kind = _uk_kind(_text(element, "IndividualEntityShip"))
        regime = _text(element, "RegimeName")
        if not unique_id or not regime:
            yield EntryError(label, "a Designation needs a UniqueID and a RegimeName")
            continue
        if kind is None:
            yield Entry(label, skipped=True)  # ships
            continue
        names = []
        for name in _descendants(element, "Name"):
            if not len(name):
                continue  # <Name> inside <Names> holds Name1..Name6; a bare <Name> is text
            parts = [_text(name, f"Name{i}") for i in range(1, 7)]
            full = " ".join(p for p in parts if p)
            kind_of_name = "alias" if _text(name, "NameType").lower() == "alias" else "primary"
            names.append((full, kind_of_name))
        for name in _descendants(element, "NameNonLatinScript"):
            names.append(((name.text or "").strip(), "alias"))
        names = [(n, k) for n, k in names if n]
        if not names:
            yield EntryError(label, "the Designation has no name")
            continue
        names.sort(key=lambda pair: pair[1] != "primary")
        party = PartyEntry(
            external_id=unique_id,
            kind=kind,
            schema="Person" if kind == "person" else "Organization",
            name=names[0][0][:500],
        )
        for value, name_kind in names:
            party.add_name(value, name_kind)
        for dob in _descendants(element, "DOB"):
            party.add_birth_date(partial_date(dob.text))
        for nationality in _descendants(element, "Nationality"):
            party.add_nationality((nationality.text or "").strip())
        for passport in _descendants(element, "PassportNumber"):
            party.add_identifier("passport", passport.text)
        for national in _descendants(element, "NationalIdentifierNumber"):
            party.add_identifier("national_id", national.text)
        sanction = SanctionEntry(
            external_id=unique_id,
            party_ref=unique_id,
            program_key=uk_program_key(regime),
            authority="FCDO",
            reference=unique_id,
            listed_on=full_date(_text(element, "DateDesignated")),
        )
        yield Entry(label, party=party, sanctions=[sanction])


UK_CSV_REQUIRED = ("unique id", "regime name", "designation type", "name 6")


def _read_uk_csv(stream) -> Iterator[Entry | EntryError]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    rows = csv.reader(text)
    columns: dict[str, int] = {}
    for row in rows:  # a "Report Date: ..." line may come before the header
        normalised = [" ".join(c.lower().split()) for c in row]
        if "unique id" in normalised:
            columns = {name: index for index, name in enumerate(normalised)}
            break
    missing = [c for c in UK_CSV_REQUIRED if c not in columns]
    if missing:
        raise ListFormatError(f"No UK Sanctions List header (missing: {', '.join(missing)}).")

    def cell(row: list[str], name: str) -> str:
        index = columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    group: list[tuple[int, list[str]]] = []
    for row in rows:
        line = rows.line_num
        if not any(c.strip() for c in row):
            continue
        if len(row) < len(columns) // 2 or not cell(row, "unique id"):
            yield from _uk_csv_group(group, cell)
            group = []
            yield EntryError(f"row {line}", "the row has no Unique ID or too few columns")
            continue
        if group and cell(group[0][1], "unique id") != cell(row, "unique id"):
            yield from _uk_csv_group(group, cell)
            group = []
        group.append((line, row))
    yield from _uk_csv_group(group, cell)


def _uk_csv_group(group, cell) -> Iterator[Entry | EntryError]:
    if not group:
        return
    first_line, first = group[0]
    unique_id = cell(first, "unique id")
    label = f"{unique_id} (row {first_line})"
    kind = _uk_kind(cell(first, "designation type"))
    regime = cell(first, "regime name")
    if not regime:
        yield EntryError(label, "the designation has no Regime Name")
        return
    if kind is None:
        yield Entry(label, skipped=True)
        return
    names = []
    for _line, row in group:
        parts = [cell(row, f"name {i}") for i in range(1, 7)]
        full = " ".join(p for p in parts if p)
        name_type = cell(row, "name type").lower()
        names.append((full, "alias" if name_type == "alias" else "primary"))
        names.append((cell(row, "name non-latin script"), "alias"))
    names = [(n, k) for n, k in names if n]
    if not names:
        yield EntryError(label, "the designation has no name")
        return
    names.sort(key=lambda pair: pair[1] != "primary")
    party = PartyEntry(
        external_id=unique_id[:200],
        kind=kind,
        schema="Person" if kind == "person" else "Organization",
        name=names[0][0][:500],
    )
    for value, name_kind in names:
        party.add_name(value, name_kind)
    for _line, row in group:
        for value in _split_values(cell(row, "d.o.b") or cell(row, "dob")):
            party.add_birth_date(partial_date(value))
        for value in _split_values(cell(row, "nationality(/ies)") or cell(row, "nationality")):
            party.add_nationality(value)
        for value in _split_values(cell(row, "passport number")):
            party.add_identifier("passport", value)
        for value in _split_values(cell(row, "national identifier number")):
            party.add_identifier("national_id", value)
    listed = cell(first, "date designated")
    sanction = SanctionEntry(
        external_id=unique_id[:300],
        party_ref=unique_id[:200],
        program_key=uk_program_key(regime),
        authority="FCDO",
        reference=unique_id[:200],
        listed_on=full_date(listed) if listed else None,
    )
    yield Entry(label, party=party, sanctions=[sanction])


READERS = {
    "ftm": read_ftm,
    "ofac-sdn-xml": read_ofac_sdn,
    "uk-sanctions-list": read_uk_list,
}

# The source a format's file comes from, unless the import names another (delisting compares
# files of the same source only).
DEFAULT_SOURCES = {
    "ftm": "opensanctions",
    "ofac-sdn-xml": "us-ofac-sdn",
    "uk-sanctions-list": "gb-fcdo",
}
