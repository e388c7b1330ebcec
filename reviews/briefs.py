"""
Government briefs: what a package says (assembled under consent and redaction rules), the PDF
that says it, the signed manifest that lets a ministry verify every file, and the bundle.

A bundle holds brief.pdf (PAdES-signed, with its evidence annex embedded as exhibits.json),
the exhibit files, manifest.json (canonical JSON listing every other file with its SHA-256),
manifest.sig (Ed25519 over manifest.json, with an RFC 3161 timestamp when configured),
keys.json (every public signing key ever used) and the standalone verify.py.
"""

import hashlib
import re
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from weasyprint import HTML, Attachment, URLFetcher

from portal import pdf_text
from portal.storage import download_name
from submissions.models import Consent, Evidence, Source, Subject
from submissions.uploads import clean_file_name

from . import exhibit_copies, profiles, querysets
from .models import DEFAULT_MARKING, BriefText
from .verifier import verify as verifier

CHUNK = 1024 * 1024
# Exhibits larger than this are not copied (and stripped) in memory: they do not ship, and the
# lead reviewer is told.
MAX_COPY_BYTES = 200 * 1024 * 1024
# Internal confidence tags of the reference data ("[C]", "[U]", "[S: S18]", "[case C, phrase U]")
# never reach a brief, whatever text they hide in.
INTERNAL_TAG = re.compile(r"\s*\[(?:[CSU](?:[:;][^\]]*)?|case [CSU], phrase [CSU])\]")


def clean(text: str) -> str:
    """Text as a brief may print it: without the maintainers' confidence tags."""
    return INTERNAL_TAG.sub("", text or "").strip()


@dataclass
class Exhibit:
    """One exhibit of the brief, named by its stable reference, with the copy that ships."""

    number: str  # the stable reference (D14-E3): the same file in every brief and version
    evidence: Evidence
    copy: bytes | None = None  # the metadata-free copy that ships, when there is one
    copy_sha256: str = ""
    not_shipped: str = ""  # why the file stays behind (stated to the lead and in the manifest)
    translation_of: str = ""  # the stable reference of the original, when it is included
    original_withheld: bool = False  # a translation whose original this brief leaves out

    @property
    def reference(self) -> str:
        return self.number

    @property
    def source_reference(self) -> str:
        return self.evidence.source_reference if self.evidence.source_id else ""


@dataclass
class FindingItem:
    """One incident in which the subject had a role, as it supports a criterion."""

    incident: object
    roles: list
    descriptions: list[str]
    text: str  # the narrative, or the lead reviewer's wording for this brief
    exhibits: list[Exhibit]
    edited: bool = False

    @property
    def role_names(self) -> list[str]:
        return [_vocabulary("roles", role.code, role.name) for role in self.roles]


@dataclass
class Finding:
    criterion: object  # profiles.LegalCriterion
    items: list[FindingItem] = field(default_factory=list)

    @property
    def exhibit_references(self) -> list[str]:
        return sorted({e.number for item in self.items for e in item.exhibits}, key=_ref_key)

    @property
    def sources(self) -> list[str]:
        return sorted(
            {e.source_reference for item in self.items for e in item.exhibits if e.source_reference}
        )


@dataclass
class Statement:
    """An NGO judgement text (a verified checklist answer) as the brief prints it."""

    answer: object
    text: str
    exhibits: list[Exhibit]
    partly: bool
    edited: bool = False


@dataclass
class PersonSection:
    """One subject's case: built from that subject's own records only."""

    person: object
    subjects: list
    findings: list = field(default_factory=list)  # [Finding]
    sections: dict = field(default_factory=lambda: defaultdict(list))  # name -> [Statement]
    links: list = field(default_factory=list)
    designations: list = field(default_factory=list)  # by other governments
    own_designations: list = field(default_factory=list)  # by this government already
    reasons: list[str] = field(default_factory=list)  # the releasable statement of reasons
    measures: list[str] = field(default_factory=list)  # those of the regime that apply to it
    # Verified NGO texts left out because they speak of several subjects and the lead reviewer
    # has not worded them for this one: section name -> count (the brief says so).
    unworded: dict = field(default_factory=lambda: defaultdict(int))

    @property
    def is_entity(self) -> bool:
        return bool(self.subjects) and all(s.kind == "entity" for s in self.subjects)

    @property
    def aliases(self) -> list[str]:
        names = [*self.person.aliases, *(a for s in self.subjects for a in s.aliases)]
        names += [s.name for s in self.subjects] + [s.name_original for s in self.subjects]
        primary = {self.person.name, self.person.name_original, ""}
        return list(dict.fromkeys(n for n in names if n not in primary))

    @property
    def birth_date(self) -> str:
        dates = [self.person.birth_date, *(s.birth_date for s in self.subjects)]
        return max((d for d in dates if d), key=len, default="")  # the most precise

    @property
    def birth_places(self) -> list[str]:
        return list(dict.fromkeys(s.birth_place for s in self.subjects if s.birth_place))

    @property
    def genders(self) -> list[str]:
        return list(dict.fromkeys(s.get_gender_display() for s in self.subjects if s.gender))

    @property
    def nationalities(self) -> list:
        found = [*self.person.nationalities, *(c for s in self.subjects for c in s.nationalities)]
        return list({str(c): c for c in found}.values())

    @property
    def documents(self) -> list:
        """Each document once (two dossiers often give the same passport): the fullest record."""
        found = {}
        for document in (d for s in self.subjects for d in s.documents.all()):
            key = (document.kind, document.number.strip().upper(), str(document.country))
            known = found.get(key)
            if known is None or _filled(document) > _filled(known):
                found[key] = document
        return list(found.values())

    @property
    def positions(self) -> list:
        """Each post once: one that names its organisation covers the same title without it."""
        posts = [p for s in self.subjects for p in s.positions.all()]
        named = {(p.title.strip().lower(), str(p.start)) for p in posts if p.organisation}
        found = {}
        for post in posts:
            key = (post.title.strip().lower(), str(post.start))
            if not post.organisation and key in named:
                continue
            found.setdefault((*key, post.organisation.strip().lower()), post)
        return list(found.values())

    @property
    def registrations(self) -> list:
        return [s for s in self.subjects if s.registration_number or s.jurisdiction or s.legal_form]


def _filled(record) -> int:
    """How many of a record's optional dates are known (to keep the fuller of two)."""
    return sum(bool(getattr(record, name, None)) for name in ("issued_on", "expires_on"))


@dataclass
class BriefContent:
    package: object
    version: int
    generated_at: object
    persons: list
    exhibits: list
    organisations: list
    withheld: int
    pseudonyms: list
    profile: object = None  # profiles.BriefProfile
    # source id -> consent scope (named / anonymous) for this regime
    consent_scopes: dict = field(default_factory=dict)
    signing_key: str = ""  # fingerprint of the key that signs this brief
    withheld_findings: int = 0
    warnings: list = field(default_factory=list)  # for the lead reviewer, never in the brief
    page_format: str = ""  # CSS content of the page counter, in the brief's language

    @property
    def signing_key_grouped(self) -> str:
        return verifier.group(self.signing_key)

    @property
    def recipient(self) -> str:
        """The package's recipient if the lead named one, else the profile's ministry."""
        named = self.package.recipient
        if named and named != self.package.regime.receiving_authority:
            return named
        return self.profile.recipient

    @property
    def marking(self) -> str:
        """The package's own marking if the lead set one, else the regime's."""
        if self.package.handling_marking and self.package.handling_marking != DEFAULT_MARKING:
            return self.package.handling_marking
        return self.profile.marking


def consenting_sources(dossier_ids, regime) -> set[int]:
    """Ids of the sources who consented (and did not withdraw) for this regime."""
    return set(consent_scopes(dossier_ids, regime))


def consent_scopes(dossier_ids, regime) -> dict[int, str]:
    """Source id -> scope of its standing consent for this regime (named or anonymous)."""
    return dict(
        Consent.objects.filter(
            source__dossier_id__in=dossier_ids, regime=regime, withdrawn_on__isnull=True
        ).values_list("source_id", "scope")
    )


def _consent_sources(item: Evidence, by_pk: dict) -> list[int]:
    """The sources whose consent decides whether `item` is shared: its own and, for a
    translation, every original's up the chain (a translation carries their testimony)."""
    sources, seen = [], set()
    while item is not None and item.pk not in seen:
        if item.source_id is not None:
            sources.append(item.source_id)
        seen.add(item.pk)
        item = by_pk.get(item.translation_of_id)
    return sources


def _ref_key(reference: str) -> tuple:
    return tuple(int(n) if n.isdigit() else n for n in re.split(r"(\d+)", reference))


def _stable_references(items, letter: str) -> dict[int, str]:
    """
    id -> stable reference (D14-E3, D14-W1) of exhibits or sources, all of a dossier counted,
    withheld ones too, so that leaving one out leaves a gap and never renumbers the others.
    The model's own `reference` is used when it has one.
    """
    found, counters = {}, defaultdict(int)
    for item in sorted(items, key=lambda i: (i.dossier_id, i.pk)):
        counters[item.dossier_id] += 1
        own = getattr(item, "reference", "")
        found[item.pk] = own or f"D{item.dossier_id}-{letter}{counters[item.dossier_id]}"
    return found


def page_format() -> str:
    """The page counter as CSS content, e.g. "Page " counter(page) " of " counter(pages)."""
    pattern = _("Page %(page)s of %(pages)s")
    parts = re.split(r"(%\((?:page|pages)\)s)", pattern)
    css = []
    for part in parts:
        if part == "%(page)s":
            css.append("counter(page)")
        elif part == "%(pages)s":
            css.append("counter(pages)")
        elif part:
            css.append('"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return " ".join(css)


def assemble(package, version: int) -> BriefContent:
    """
    Gather what the brief may say about the package's subjects, under the rules:
    - per subject, only that subject's records (identification, incidents where it had a
      role, links to this government's jurisdiction);
    - findings per criterion of the regime's profile, from incidents and roles;
    - NGO judgement texts only through querysets.answers_for_export (verified answers);
    - material from a source who did not consent to this government is left out (and counted),
      with every text that rests on it; sources appear by reference and pseudonym only;
    - safety, consent and redaction answers, notes and reviewers' identities never appear.
    Raise profiles.NoProfile for a regime that has no brief (JP-PROPOSED).
    """
    regime = package.regime
    profile = profiles.profile_for(regime)
    dossier_ids = list(package.dossiers.values_list("pk", flat=True))
    scopes = consent_scopes(dossier_ids, regime)
    allowed_sources = set(scopes)

    sources = list(
        Source.objects.filter(dossier_id__in=dossier_ids).only(
            "pk", "dossier_id", "pseudonym", "reference"
        )
    )
    source_refs = _stable_references(sources, "W")
    pseudonym_of = {s.pk: s.pseudonym for s in sources}
    evidence = list(
        Evidence.objects.filter(dossier_id__in=dossier_ids)
        .select_related("dossier")
        .prefetch_related("incidents")
        .order_by("dossier_id", "pk")
    )
    evidence_refs = _stable_references(evidence, "E")
    by_pk = {item.pk: item for item in evidence}
    included, withheld_ids = [], set()
    for item in evidence:
        # A translation carries its original's testimony: it is shared only as far as every
        # source up the chain consented, whatever source the translation itself names.
        sources = _consent_sources(item, by_pk)
        item.consent_source_id = sources[0] if sources else None  # its scope in the manifest
        if any(source not in allowed_sources for source in sources):
            withheld_ids.add(item.pk)
            continue
        item.source_reference = source_refs.get(item.source_id, "")
        item.source_pseudonym = pseudonym_of.get(item.source_id, "")
        included.append(Exhibit(evidence_refs[item.pk], item))
    exhibit_of = {exhibit.evidence.pk: exhibit for exhibit in included}
    for exhibit in included:
        original = exhibit.evidence.translation_of_id
        if original is None:
            continue
        if original in exhibit_of:
            exhibit.translation_of = exhibit_of[original].number
        else:  # never its reference: only that it is not here
            exhibit.original_withheld = True
    incidents_withheld = {
        incident.pk
        for item in evidence
        if item.pk in withheld_ids
        for incident in item.incidents.all()
    }

    answers = list(
        querysets.answers_for_export(
            regime=regime, dossier_ids=dossier_ids, withheld_evidence_ids=withheld_ids
        )
    )
    subjects = (
        Subject.objects.filter(
            dossier_id__in=dossier_ids, person_link__person__in=package.persons.all()
        )
        .select_related("person_link__person")
        .prefetch_related(
            "documents", "positions", "links",
            "involvements__incident__category", "involvements__role",
            "involvements__incident__evidence",
        )
        .order_by("pk")
    )  # fmt: skip
    by_person = defaultdict(list)
    for subject in subjects:
        by_person[subject.person_link.person_id].append(subject)
    # Which canonical persons each dossier's subjects are: an NGO text about a dossier with
    # several persons cannot be split by person, so it goes into no person's section unless the
    # lead reviewer worded it for one (BriefText).
    persons_in_dossier = defaultdict(set)
    for dossier_id, person_id in Subject.objects.filter(dossier_id__in=dossier_ids).values_list(
        "dossier_id", "person_link__person_id"
    ):
        persons_in_dossier[dossier_id].add(person_id)
    lead_texts = {
        (t.subject_id, t.answer_id, t.incident_id): t.text
        for t in BriefText.objects.filter(regime=regime, subject__dossier_id__in=dossier_ids)
    }

    from designations.gaps import designations_of, split_by_government

    existing = designations_of(list(package.persons.values_list("pk", flat=True)))
    persons, withheld_findings, warnings = [], 0, []
    for person in package.persons.all().order_by("name"):
        section = PersonSection(person=person, subjects=by_person.get(person.pk, []))
        section.measures = profile.measures_for("entity" if section.is_entity else "person")
        section.own_designations, section.designations = split_by_government(
            existing.get(person.pk, []), regime
        )
        withheld_findings += _findings(section, profile, exhibit_of, incidents_withheld, lead_texts)
        _statements(section, answers, exhibit_of, persons_in_dossier, lead_texts)
        for subject in section.subjects:
            section.links.extend(
                link for link in subject.links.all() if str(link.country) in profile.jurisdictions
            )
        section.reasons = _statement_of_reasons(section, profile)
        if section.unworded:
            warnings.append(
                {"kind": "texts_to_word", "subject": person.name,
                 "sections": dict(section.unworded),
                 "detail": "Verified texts about several subjects: word them for this one."}
            )  # fmt: skip
        persons.append(section)
    if withheld_findings:
        warnings.append(
            {"kind": "findings_withheld", "count": withheld_findings,
             "detail": "Incidents resting on material without consent for this government."}
        )  # fmt: skip

    organisations = sorted(
        {d.organisation.name for d in package.dossiers.select_related("organisation")}
    )
    pseudonyms = sorted(
        # references only: pseudonyms are numbered per dossier, so two witnesses of two
        # dossiers can both be "W-1"; the references (D1-W1, D3-W1) are unique
        {e.source_reference for e in included if e.source_reference},
        key=_ref_key,
    )  # fmt: skip
    content = BriefContent(
        package=package,
        version=version,
        generated_at=timezone.now(),
        persons=persons,
        exhibits=sorted(included, key=lambda e: _ref_key(e.number)),
        organisations=organisations,
        withheld=len(withheld_ids),
        pseudonyms=pseudonyms,
        profile=profile,
        consent_scopes=scopes,
        withheld_findings=withheld_findings,
        warnings=warnings,
        page_format=page_format(),
    )
    prepare_copies(content)
    return content


def _findings(section, profile, exhibit_of, incidents_withheld, lead_texts) -> int:
    """Fill the section's findings per criterion; return how many incidents were withheld."""
    by_criterion: dict[str, Finding] = {}
    items: dict[tuple, FindingItem] = {}
    withheld = set()
    for subject in section.subjects:
        for involvement in subject.involvements.all():
            incident = involvement.incident
            criteria = profile.criteria_for(
                incident.category.code, involvement.role.code, subject.kind
            )
            if not criteria:
                continue  # conduct or role this regime does not cover: not relied on
            lead_text = lead_texts.get((subject.pk, None, incident.pk))
            if incident.pk in incidents_withheld and lead_text is None:
                withheld.add(incident.pk)  # its narrative may rest on withheld material
                continue
            for criterion in criteria:
                finding = by_criterion.setdefault(criterion.code, Finding(criterion))
                key = (criterion.code, incident.pk)
                if key not in items:
                    items[key] = FindingItem(
                        incident=incident,
                        roles=[],
                        descriptions=[],
                        text=clean(lead_text if lead_text is not None else incident.narrative),
                        exhibits=_cited(incident.evidence.all(), exhibit_of),
                        edited=lead_text is not None,
                    )  # fmt: skip
                    finding.items.append(items[key])
                if involvement.role not in items[key].roles:
                    items[key].roles.append(involvement.role)
                if involvement.description and lead_text is None:
                    items[key].descriptions.append(clean(involvement.description).rstrip(". "))
    order = {c.code: i for i, c in enumerate(profile.criteria)}
    section.findings = sorted(by_criterion.values(), key=lambda f: order[f.criterion.code])
    for finding in section.findings:
        finding.items.sort(key=lambda i: (str(i.incident.start_date), i.incident.pk))
    return len(withheld)


def _cited(evidence, exhibit_of) -> list[Exhibit]:
    """The exhibits among `evidence` that this brief may cite, in reference order."""
    found = (exhibit_of[e.pk] for e in evidence if e.pk in exhibit_of)
    return sorted(found, key=lambda e: _ref_key(e.number))


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def _statements(section, answers, exhibit_of, persons_in_dossier, lead_texts) -> None:
    """The NGO's verified judgement texts that belong to this subject alone."""
    subject_of_dossier = {s.dossier_id: s for s in section.subjects}
    for answer in answers:
        subject = subject_of_dossier.get(answer.dossier_id)
        if subject is None:
            continue
        lead_text = lead_texts.get((subject.pk, answer.pk, None))
        if lead_text is None and persons_in_dossier[answer.dossier_id] != {section.person.pk}:
            # about several subjects: only the lead's wording for this one goes in
            if answer.explanation.strip():
                section.unworded[querysets.BRIEF_SECTIONS[answer.criterion.code]] += 1
            continue
        text = clean(lead_text if lead_text is not None else answer.explanation)
        if not text:
            continue
        section.sections[querysets.BRIEF_SECTIONS[answer.criterion.code]].append(
            Statement(
                answer=answer,
                text=text,
                exhibits=_cited(answer.evidence.all(), exhibit_of),
                partly=answer.status == "partly",
                edited=lead_text is not None,
            )
        )


def _statement_of_reasons(section, profile) -> list[str]:
    """
    The releasable statement of reasons: who, in which post, what conduct, when and where, and
    which criterion; never a source, an exhibit or a narrative (they stay in the confidential
    part). The NGO's own public summary is added when it belongs to this subject alone.
    """
    name = section.person.name
    paragraphs = []
    posts = [p.title + (f", {p.organisation}" if p.organisation else "") for p in section.positions]
    if posts:
        paragraphs.append(
            _("%(name)s holds or has held the following positions: %(posts)s.")
            % {"name": name, "posts": "; ".join(posts)}
        )
    for finding in section.findings:
        conduct = []
        for item in finding.items:
            incident = item.incident
            when = str(incident.start_date)
            if incident.end_date:
                when += "–" + str(incident.end_date)
            conduct.append(
                _("%(role)s: %(title)s (%(category)s, %(when)s, %(country)s)")
                % {
                    "role": ", ".join(_vocabulary("roles", r.code, r.name) for r in item.roles),
                    "title": incident.title,
                    "category": _vocabulary("categories", incident.category.code,
                                            incident.category.name),
                    "when": when,
                    "country": incident.country.name,
                }
            )  # fmt: skip
        paragraphs.append(
            _("Under %(criterion)s, %(name)s is involved as follows: %(conduct)s.")
            % {"criterion": finding.criterion.label, "name": name, "conduct": "; ".join(conduct)}
        )
    for statement in section.sections.get("reasons", []):
        paragraphs.append(statement.text)
    return paragraphs


@cache
def _vocabularies() -> dict:
    return profiles.vocabulary()


def _vocabulary(kind: str, code: str, default: str) -> str:
    """A category's or role's name in the brief's language (brief_profiles.yaml vocabulary)."""
    language = (translation.get_language() or "en").split("-")[0]
    return _vocabularies().get(language, {}).get(kind, {}).get(code, default)


def prepare_copies(content: BriefContent) -> None:
    """
    Make the copy of each exhibit file that ships: read once (checked against the SHA-256
    taken at upload), metadata removed. A file that cannot be stripped stays behind and the
    lead reviewer is told (content.warnings, the manifest).
    """
    for exhibit in content.exhibits:
        evidence = exhibit.evidence
        if evidence.kind != "file" or not evidence.file or not evidence.ships_in_bundles:
            continue
        if evidence.keep_metadata_in_copies:
            # The submitting organisation chose to send the metadata (e.g. the GPS position
            # proves the place): the copy is the original, checked against its hash.
            _keep_original(exhibit)
            if exhibit.copy is not None:
                content.warnings.append(
                    {"kind": "metadata_kept", "exhibit": exhibit.number,
                     "detail": "The submitting organisation chose to send its metadata (GPS "
                               "position, device, author) with the copy."}
                )  # fmt: skip
        elif (evidence.size or 0) > MAX_COPY_BYTES:
            exhibit.not_shipped = "too large to remove its metadata"
        else:
            with evidence.file.open("rb") as handle:
                data = handle.read()
            if evidence.sha256 and hashlib.sha256(data).hexdigest() != evidence.sha256:
                raise ValueError(
                    f"{exhibit.number}: the stored file no longer matches its SHA-256 at upload"
                )
            copy = exhibit_copies.strip_metadata(data, evidence.content_type or "")
            if copy is None:
                exhibit.not_shipped = "its metadata could not be removed"
            else:
                exhibit.copy = copy
                exhibit.copy_sha256 = hashlib.sha256(copy).hexdigest()
        if exhibit.not_shipped:
            content.warnings.append(
                {"kind": "metadata_not_removed", "exhibit": exhibit.number,
                 "detail": exhibit.not_shipped}
            )  # fmt: skip


def _keep_original(exhibit: Exhibit) -> None:
    evidence = exhibit.evidence
    if (evidence.size or 0) > MAX_COPY_BYTES:
        exhibit.not_shipped = "too large to copy"
        return
    with evidence.file.open("rb") as handle:
        data = handle.read()
    digest = hashlib.sha256(data).hexdigest()
    if evidence.sha256 and digest != evidence.sha256:
        raise ValueError(
            f"{exhibit.number}: the stored file no longer matches its SHA-256 at upload"
        )
    exhibit.copy, exhibit.copy_sha256 = data, digest


def render_pdf(content: BriefContent) -> bytes:
    """
    Render the brief's PDF (WeasyPrint), loading nothing from the network or the disk. The
    evidence annex is also embedded as exhibits.json, so that a verifier can hold it against
    the manifest.
    """
    html = render_to_string("briefs/brief.html", {"brief": content})
    fetcher = URLFetcher(allowed_protocols={"data"})
    annex = Attachment(
        string=manifest_json({"exhibits": annex_entries(content)}).decode(),
        name=verifier.ANNEX_ATTACHMENT,
        description="Evidence annex (machine-readable)",
    )
    pdf_text.install()  # names in complex scripts copy out as typed
    return HTML(string=html, url_fetcher=fetcher).write_pdf(attachments=[annex])


def exhibit_path(exhibit: Exhibit) -> str:
    """The exhibit's place in the bundle, its extension from the type detected in its bytes."""
    name = clean_file_name(exhibit.evidence.original_name or "exhibit")
    return f"exhibits/{exhibit.number}_{download_name(name, exhibit.evidence.content_type)}"


def annex_entries(content: BriefContent) -> list[dict]:
    """
    The evidence annex as data: what both the PDF and the manifest list, in the same order.
    `sha256` is the hash of the file as it ships (the metadata-free copy), or of the original
    when no file ships; `original_sha256` is always the hash taken at upload.
    """
    return [
        {
            "number": exhibit.number,
            "file": exhibit_path(exhibit) if _ships(exhibit) else None,
            "sha256": shipped_sha256(exhibit),
            "original_sha256": exhibit.evidence.sha256 or None,
        }
        for exhibit in content.exhibits
    ]


def shipped_sha256(exhibit: Exhibit) -> str | None:
    return (exhibit.copy_sha256 if _ships(exhibit) else exhibit.evidence.sha256) or None


def evidence_reference(exhibit: Exhibit) -> str:
    """The exhibit's stable reference: it names the same evidence in every version."""
    return f"{exhibit.evidence.dossier.reference}/{exhibit.number}"


def consent_scope(content: BriefContent, exhibit: Exhibit) -> str:
    evidence = exhibit.evidence
    source_id = getattr(evidence, "consent_source_id", evidence.source_id)
    if source_id is None:
        return "no-source"
    return f"{content.consent_scopes[source_id]}:{content.package.regime.key}"


@dataclass(frozen=True)
class BundleFile:
    """One file of the bundle other than the manifest and its signature."""

    path: str
    sha256: str
    size: int
    media_type: str
    exhibit: Exhibit | None = None
    data: bytes | None = None  # None for exhibits: they are streamed from storage


def bundle_files(content: BriefContent, pdf: bytes, extra: dict[str, bytes]) -> list[BundleFile]:
    """Every file the manifest lists: the PDF, the extra files (verifier, keys), the exhibits."""
    files = [BundleFile("brief.pdf", hashlib.sha256(pdf).hexdigest(), len(pdf), "application/pdf",
                        data=pdf)]  # fmt: skip
    types = {".json": "application/json", ".py": "text/x-python", ".txt": "text/plain"}
    for name, data in sorted(extra.items()):
        media_type = types.get(PurePosixPath(name).suffix, "application/octet-stream")
        files.append(
            BundleFile(name, hashlib.sha256(data).hexdigest(), len(data), media_type, data=data)
        )
    for exhibit in content.exhibits:
        if not _ships(exhibit):  # links, flagged files, files whose metadata stays
            continue
        files.append(
            BundleFile(
                exhibit_path(exhibit),
                exhibit.copy_sha256,
                len(exhibit.copy),
                exhibit.evidence.content_type or "application/octet-stream",
                exhibit=exhibit,
                data=exhibit.copy,
            )
        )
    return files


def manifest(
    content: BriefContent,
    pdf_sha256: str,
    *,
    files: list[BundleFile] = (),
    audit_head: dict | None = None,
) -> dict:
    """
    The machine-readable companion of the PDF: every file of the bundle with its hash, size,
    media type, and for exhibits their stable reference and consent scope. Signed as a whole.
    """
    package = content.package
    return {
        "format": "magnitsky-portal-brief/2",
        "package": package.reference,
        "version": content.version,
        "regime": {
            "key": package.regime.key,
            "name": package.regime.name,
            "instrument": content.profile.instrument,
            "criteria": [c.cite for c in content.profile.criteria],
        },
        "recipient": package.recipient,
        "generated_at": content.generated_at.isoformat(),
        "persons": [
            {
                "kind": "organisation" if s.is_entity else "person",
                "name": s.person.name,
                "name_original": s.person.name_original,
                "aliases": s.aliases,
                "birth_date": "" if s.is_entity else s.birth_date,
                "nationalities": [str(c) for c in s.nationalities],
                "criteria": [f.criterion.cite for f in s.findings],
            }
            for s in content.persons
        ],
        "contributing_organisations": content.organisations,
        "material_withheld": content.withheld,
        "findings_withheld": content.withheld_findings,
        "brief": {"file": "brief.pdf", "sha256": pdf_sha256},
        "signing_key": content.signing_key,
        "audit_head": audit_head,
        "files": [
            {
                "path": f.path,
                "sha256": f.sha256,
                "size": f.size,
                "media_type": f.media_type,
                "exhibit": f.exhibit.number if f.exhibit else None,
                "evidence": evidence_reference(f.exhibit) if f.exhibit else None,
                "consent_scope": consent_scope(content, f.exhibit) if f.exhibit else None,
            }
            for f in files
        ],
        "exhibits": [
            {
                "number": exhibit.number,
                "evidence": evidence_reference(exhibit),
                "source": exhibit.source_reference or None,
                "consent_scope": consent_scope(content, exhibit),
                "kind": exhibit.evidence.kind,
                "description": clean(exhibit.evidence.description),
                "file": exhibit_path(exhibit) if _ships(exhibit) else None,
                "url": exhibit.evidence.url or None,
                "archive_url": exhibit.evidence.archive_url or None,
                "captured_at": _iso(exhibit.evidence.captured_at),
                "size": exhibit.evidence.size,
                "sha256": shipped_sha256(exhibit),
                "original_sha256": exhibit.evidence.sha256 or None,
                "metadata_removed": bool(
                    exhibit.copy is not None
                    and _ships(exhibit)
                    and not exhibit.evidence.keep_metadata_in_copies
                ),
                "translation_of": exhibit.translation_of or None,
                "original_included": (
                    not exhibit.original_withheld if exhibit.evidence.translation_of_id else None
                ),
                "not_shipped": exhibit.not_shipped or None,
                "grade": exhibit.evidence.grade or None,
                "flagged": _flag(exhibit.evidence),
            }
            for exhibit in content.exhibits
        ],
    }


def _ships(exhibit: Exhibit) -> bool:
    """A file goes into the bundle unless a check flagged it and no lead reviewer overrode."""
    evidence = exhibit.evidence
    return (
        evidence.kind == "file"
        and bool(evidence.file)
        and evidence.ships_in_bundles
        and exhibit.copy is not None
    )


def _flag(evidence: Evidence) -> dict | None:
    """What the manifest says of an exhibit that a check flagged as possibly malicious."""
    if not evidence.is_flagged:
        return None
    allowed = evidence.bundle_override_at
    return {
        "warning": evidence.malware_warning,
        "file_included": allowed is not None,
        "allowed_by_lead_reviewer_at": allowed.isoformat() if allowed else None,
    }


def write_bundle(
    target: Path, manifest_bytes: bytes, signature: bytes, files: list[BundleFile]
) -> None:
    """
    Write the ZIP bundle to `target`, streaming each exhibit and checking it against the hash
    taken at upload (a file changed in storage stops the render instead of going out).
    """
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(verifier.MANIFEST, manifest_bytes)
        bundle.writestr(verifier.SIGNATURE, signature)
        for item in files:
            if item.data is not None:
                bundle.writestr(item.path, item.data)
                continue
            digest = hashlib.sha256()
            with (
                item.exhibit.evidence.file.open("rb") as source,
                bundle.open(item.path, "w", force_zip64=True) as out,
            ):
                for chunk in iter(lambda: source.read(CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != item.sha256:
                raise ValueError(
                    f"{item.path}: the stored file no longer matches its SHA-256 at upload"
                )


def manifest_json(data: dict) -> bytes:
    """Canonical JSON (sorted keys, no whitespace, UTF-8): the bytes that are signed."""
    return verifier.canonical_json(data)


def hash_stream(stream) -> str:
    """SHA-256 of a binary stream, read 1 MiB at a time."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


# Verification: the standalone verifier (reviews/verifier/verify.py), also used by
# `manage.py verify_brief`.


def verify(path: Path, *, keys_file=None, fingerprint=None) -> list:
    """Check a bundle (ZIP or folder); return its checks (name, ok, detail)."""
    return verifier.verify(path, keys_file=keys_file, fingerprint=fingerprint).checks


def audit_head() -> dict:
    """The audit chain's head as the manifest records it (so the export timestamps it)."""
    from portal.models import AuditChainHead

    head = AuditChainHead.objects.get(pk=1)
    return {"sequence": head.sequence, "hash": head.hash}


def temporary_bundle_path() -> Path:
    handle = tempfile.NamedTemporaryFile(suffix=".zip", delete=False)  # noqa: SIM115
    handle.close()
    return Path(handle.name)
