"""
Government briefs: what a package says (assembled under consent and redaction rules), the PDF
that says it, the signed manifest that lets a ministry verify every file, and the bundle.

A bundle holds brief.pdf (PAdES-signed, with its evidence annex embedded as exhibits.json),
the exhibit files, manifest.json (canonical JSON listing every other file with its SHA-256),
manifest.sig (Ed25519 over manifest.json, with an RFC 3161 timestamp when configured),
keys.json (every public signing key ever used) and the standalone verify.py.
"""

import hashlib
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML, Attachment, URLFetcher

from portal.storage import download_name
from submissions.models import ChecklistAnswer, Consent, Evidence, Subject
from submissions.uploads import clean_file_name

from .verifier import verify as verifier

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
    # source id -> consent scope (named / anonymous) for this regime
    consent_scopes: dict = field(default_factory=dict)
    signing_key: str = ""  # fingerprint of the key that signs this brief

    @property
    def signing_key_grouped(self) -> str:
        return verifier.group(self.signing_key)


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


def assemble(package, version: int) -> BriefContent:
    """
    Gather what the brief may say about the package's persons, under the rules:
    material from a source who did not consent to this government is left out (and counted);
    sources appear by pseudonym only; reviewers' notes and identities never appear.
    """
    dossier_ids = list(package.dossiers.values_list("pk", flat=True))
    regime = package.regime
    scopes = consent_scopes(dossier_ids, regime)
    allowed_sources = set(scopes)

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
        consent_scopes=scopes,
    )


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
    return HTML(string=html, url_fetcher=fetcher).write_pdf(attachments=[annex])


def exhibit_path(exhibit: Exhibit) -> str:
    """The exhibit's place in the bundle, its extension from the type detected in its bytes."""
    name = clean_file_name(exhibit.evidence.original_name or "exhibit")
    return f"exhibits/{exhibit.number}_{download_name(name, exhibit.evidence.content_type)}"


def annex_entries(content: BriefContent) -> list[dict]:
    """The evidence annex as data: what both the PDF and the manifest list, in the same order."""
    return [
        {
            "number": exhibit.number,
            "file": exhibit_path(exhibit) if _ships(exhibit) else None,
            "sha256": exhibit.evidence.sha256 or None,
        }
        for exhibit in content.exhibits
    ]


def evidence_reference(exhibit: Exhibit) -> str:
    """The exhibit's stable reference: it names the same evidence in every version."""
    return f"{exhibit.evidence.dossier.reference}/EV-{exhibit.evidence.pk}"


def consent_scope(content: BriefContent, exhibit: Exhibit) -> str:
    source_id = exhibit.evidence.source_id
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
        evidence = exhibit.evidence
        if not _ships(exhibit):  # links, and flagged files no lead reviewer let through
            continue
        files.append(
            BundleFile(
                exhibit_path(exhibit),
                evidence.sha256,
                evidence.size,
                evidence.content_type or "application/octet-stream",
                exhibit=exhibit,
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
                "consent_scope": consent_scope(content, exhibit),
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
