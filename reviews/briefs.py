"""
Government briefs: what a package says (assembled under consent and redaction rules), the PDF
that says it, the manifest that lets a ministry verify every exhibit, and the delivery bundle.
"""

import hashlib
import json
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML, URLFetcher

from portal.storage import download_name
from submissions.models import ChecklistAnswer, Consent, Evidence, Subject
from submissions.uploads import clean_file_name

CHUNK = 1024 * 1024

# Checklist items whose answers become their own sections of the brief.
SECTION_CRITERIA = {
    "corroboration": "corroboration",
    "exculpatory": "exculpatory",
    "existing-designations": "designations",
    "jurisdiction-link": "jurisdiction",
    "policy-interest": "policy",
}


@dataclass
class Exhibit:
    number: str
    evidence: Evidence


@dataclass
class PersonSection:
    person: object
    subjects: list
    findings: list = field(default_factory=list)  # (criterion, [answers], [exhibit numbers])
    sections: dict = field(default_factory=lambda: defaultdict(list))  # name -> [answers]
    links: list = field(default_factory=list)
    incidents: list = field(default_factory=list)
    designations: list = field(default_factory=list)  # confirmed existing designations

    @property
    def aliases(self) -> list[str]:
        names = [*self.person.aliases, *(a for s in self.subjects for a in s.aliases)]
        names += [s.name for s in self.subjects] + [s.name_original for s in self.subjects]
        primary = {self.person.name, self.person.name_original, ""}
        return list(dict.fromkeys(n for n in names if n not in primary))

    @property
    def birth_date(self) -> str:
        return self.person.birth_date or next(
            (s.birth_date for s in self.subjects if s.birth_date), ""
        )

    @property
    def nationalities(self) -> list:
        found = [*self.person.nationalities, *(c for s in self.subjects for c in s.nationalities)]
        return list({str(c): c for c in found}.values())


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


def consenting_sources(dossier_ids, regime) -> set[int]:
    """Ids of the sources who consented (and did not withdraw) for this regime."""
    return set(
        Consent.objects.filter(
            source__dossier_id__in=dossier_ids, regime=regime, withdrawn_on__isnull=True
        ).values_list("source_id", flat=True)
    )


def assemble(package, version: int) -> BriefContent:
    """
    Gather what the brief may say about the package's persons, under the rules:
    material from a source who did not consent to this government is left out (and counted);
    sources appear by pseudonym only; reviewers' notes and identities never appear.
    """
    dossier_ids = list(package.dossiers.values_list("pk", flat=True))
    regime = package.regime
    allowed_sources = consenting_sources(dossier_ids, regime)

    evidence = list(
        Evidence.objects.filter(dossier_id__in=dossier_ids)
        .select_related("source", "dossier")
        .defer(
            "source__identity", "source__contact", "source__safety_notes"
        )  # a brief never needs them
        .order_by("dossier_id", "pk")
    )
    included = [e for e in evidence if e.source_id is None or e.source_id in allowed_sources]
    withheld = len(evidence) - len(included)
    exhibits = [Exhibit(f"E-{index}", e) for index, e in enumerate(included, start=1)]
    number_of = {exhibit.evidence.pk: exhibit.number for exhibit in exhibits}

    answers = (
        ChecklistAnswer.objects.filter(
            dossier_id__in=dossier_ids, regime=regime, status__in=["met", "partly"]
        )
        .select_related("criterion", "dossier")
        .prefetch_related("evidence")
        .order_by("criterion__position", "dossier_id")
    )
    answers_by_dossier = defaultdict(list)
    for answer in answers:
        answers_by_dossier[answer.dossier_id].append(answer)

    subjects = (
        Subject.objects.filter(
            dossier_id__in=dossier_ids, person_link__person__in=package.persons.all()
        )
        .select_related("person_link__person")
        .prefetch_related("documents", "positions", "links", "involvements__incident__category",
                          "involvements__role")
        .order_by("pk")
    )  # fmt: skip
    by_person = defaultdict(list)
    for subject in subjects:
        by_person[subject.person_link.person_id].append(subject)

    from designations.gaps import designations_of

    existing = designations_of(list(package.persons.values_list("pk", flat=True)))
    persons = []
    for person in package.persons.all().order_by("name"):
        section = PersonSection(person=person, subjects=by_person.get(person.pk, []))
        section.designations = [d for d in existing.get(person.pk, []) if d.is_active]
        dossiers_of_person = {s.dossier_id for s in section.subjects}
        findings = defaultdict(list)
        for dossier_id in sorted(dossiers_of_person):
            for answer in answers_by_dossier[dossier_id]:
                name = SECTION_CRITERIA.get(answer.criterion.code)
                if name:
                    section.sections[name].append(answer)
                else:
                    findings[answer.criterion].append(answer)
        for criterion, criterion_answers in findings.items():
            numbers = sorted(
                {
                    number_of[e.pk]
                    for a in criterion_answers
                    for e in a.evidence.all()
                    if e.pk in number_of
                },
                key=lambda n: int(n[2:]),
            )  # fmt: skip
            section.findings.append((criterion, criterion_answers, numbers))
        for subject in section.subjects:
            section.links.extend(subject.links.all())
            for involvement in subject.involvements.all():
                section.incidents.append(involvement)
        persons.append(section)

    organisations = sorted(
        {d.organisation.name for d in package.dossiers.select_related("organisation")}
    )
    pseudonyms = sorted({e.source.pseudonym for e in included if e.source_id})
    return BriefContent(
        package=package,
        version=version,
        generated_at=timezone.now(),
        persons=persons,
        exhibits=exhibits,
        organisations=organisations,
        withheld=withheld,
        pseudonyms=pseudonyms,
    )


def render_pdf(content: BriefContent) -> bytes:
    """Render the brief's PDF (WeasyPrint), loading nothing from the network or the disk."""
    html = render_to_string("briefs/brief.html", {"brief": content})
    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=html, url_fetcher=fetcher).write_pdf()


def exhibit_path(exhibit: Exhibit) -> str:
    """The exhibit's place in the bundle, its extension from the type detected in its bytes."""
    name = clean_file_name(exhibit.evidence.original_name or "exhibit")
    return f"exhibits/{exhibit.number}_{download_name(name, exhibit.evidence.content_type)}"


def manifest(content: BriefContent, pdf_sha256: str) -> dict:
    """The machine-readable companion of the PDF: every exhibit with its hash."""
    package = content.package
    return {
        "format": "magnitsky-portal-brief/1",
        "package": package.reference,
        "version": content.version,
        "regime": {"key": package.regime.key, "name": package.regime.name},
        "recipient": package.recipient,
        "generated_at": content.generated_at.isoformat(),
        "persons": [
            {
                "name": s.person.name,
                "name_original": s.person.name_original,
                "aliases": s.person.aliases,
                "birth_date": s.person.birth_date,
                "nationalities": [str(c) for c in s.person.nationalities],
            }
            for s in content.persons
        ],
        "contributing_organisations": content.organisations,
        "material_withheld": content.withheld,
        "brief": {"file": "brief.pdf", "sha256": pdf_sha256},
        "exhibits": [
            {
                "number": exhibit.number,
                "kind": exhibit.evidence.kind,
                "description": exhibit.evidence.description,
                "file": exhibit_path(exhibit) if _ships(exhibit) else None,
                "url": exhibit.evidence.url or None,
                "size": exhibit.evidence.size,
                "sha256": exhibit.evidence.sha256 or None,
                "grade": exhibit.evidence.grade or None,
                "flagged": _flag(exhibit.evidence),
            }
            for exhibit in content.exhibits
        ],
    }


def _ships(exhibit: Exhibit) -> bool:
    """A file goes into the bundle unless a check flagged it and no lead reviewer overrode."""
    evidence = exhibit.evidence
    return evidence.kind == "file" and bool(evidence.file) and evidence.ships_in_bundles


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


def write_bundle(target: Path, pdf: bytes, manifest_bytes: bytes, exhibits: list) -> None:
    """Write the ZIP bundle (brief, manifest, exhibit files) to `target`, streaming each file."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("brief.pdf", pdf)
        bundle.writestr("manifest.json", manifest_bytes)
        for exhibit in exhibits:
            if not _ships(exhibit):  # links, and flagged files no lead reviewer let through
                continue
            with (
                exhibit.evidence.file.open("rb") as source,
                bundle.open(exhibit_path(exhibit), "w", force_zip64=True) as out,
            ):
                for chunk in iter(lambda: source.read(CHUNK), b""):
                    out.write(chunk)


def manifest_json(data: dict) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True).encode()


# Verification (used by `manage.py verify_brief`, and by anyone with the bundle)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


def hash_stream(stream) -> str:
    """SHA-256 of a binary stream, read 1 MiB at a time."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path) -> list[Check]:
    """Check the brief and every exhibit of a bundle (ZIP) or an unpacked folder."""
    path = Path(path)
    if path.is_dir():
        opener = lambda name: (path / PurePosixPath(name)).open("rb")  # noqa: E731
        exists = lambda name: (path / PurePosixPath(name)).is_file()  # noqa: E731
        archive = None
    else:
        archive = zipfile.ZipFile(path)
        names = set(archive.namelist())
        opener = archive.open
        exists = names.__contains__
    try:
        if not exists("manifest.json"):
            return [Check("manifest.json", False, "missing")]
        with opener("manifest.json") as stream:
            data = json.load(stream)
        checks = []
        entries = [("brief.pdf", data["brief"]["sha256"], data["brief"]["file"])]
        entries += [
            (e["number"], e["sha256"], e["file"]) for e in data["exhibits"] if e.get("file")
        ]
        for label, expected, name in entries:
            if not exists(name):
                checks.append(Check(label, False, f"{name} is missing"))
                continue
            with opener(name) as stream:
                actual = hash_stream(stream)
            if actual == expected:
                checks.append(Check(label, True))
            else:
                checks.append(Check(label, False, f"{name}: SHA-256 {actual}, manifest {expected}"))
        return checks
    finally:
        if archive is not None:
            archive.close()


def temporary_bundle_path() -> Path:
    handle = tempfile.NamedTemporaryFile(suffix=".zip", delete=False)  # noqa: SIM115
    handle.close()
    return Path(handle.name)
