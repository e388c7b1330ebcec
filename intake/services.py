"""
Everything that changes a report: filing, coming back with the receipt code, messages,
files, routing, adoption into a draft dossier, purging. Each is one transaction and is audited,
without any address or browser detail of the reporter (there is none to record).
"""

import io
from collections.abc import Iterable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from portal import audit
from portal.models import Organisation, User
from submissions import metadata as file_metadata
from submissions import services as submission_services
from submissions import tasks as submission_tasks
from submissions import uploads
from submissions.models import Consent, Evidence, Regime, Source, evidence_key

from . import receipts
from .models import Intake, IntakeConsent, IntakeFile, IntakeMessage

# Images whose metadata can be removed by drawing the pixels again (Pillow's name for each).
STRIPPABLE = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/tiff": "TIFF"}


class IntakeClosed(Exception):
    """The report was adopted: only messages may still be exchanged."""


def _storage():
    return IntakeFile._meta.get_field("file").storage


def _extend(intake: Intake) -> None:
    intake.purge_after = timezone.now() + timedelta(days=settings.INTAKE_RETENTION_DAYS)


def _check_files(intake: Intake | None, files: list) -> None:
    """Refuse a batch of files that breaks the per-report limits or holds a refused type."""
    already = intake.files.count() if intake else 0
    total = sum(f.size for f in intake.files.all()) if intake else 0
    if already + len(files) > settings.INTAKE_MAX_FILES:
        raise ValidationError(
            _("A report can hold at most %(count)s files."),
            params={"count": settings.INTAKE_MAX_FILES},
        )
    if total + sum(f.size for f in files) > settings.INTAKE_MAX_TOTAL_BYTES:
        raise ValidationError(
            _("A report can hold at most %(size)s MB of files."),
            params={"size": settings.INTAKE_MAX_TOTAL_BYTES // (1024 * 1024)},
        )
    seen = set(intake.files.values_list("sha256", flat=True)) if intake else set()
    for upload in files:
        if problem := uploads.check_upload(upload):
            raise ValidationError(problem)
        if upload.sha256 in seen:
            raise ValidationError(
                _("%(name)s was already sent with this report."), params={"name": upload.name}
            )
        seen.add(upload.sha256)


def _describe(stored_name: str, content_type: str) -> dict:
    """What the file's bytes say about it (EXIF, GPS, PDF author ...), to show the reporter."""
    field_file = IntakeFile(file=stored_name).file
    found, _thumbnail = file_metadata.extract(field_file, content_type)
    return found


def _store(files: list) -> list[str]:
    """Put uploads into the private store before any transaction (slow I/O holds no lock)."""
    stored = []
    try:
        for upload in files:
            name = getattr(upload, "stored_name", "") or _storage().save(
                evidence_key(None, upload.name), upload
            )
            stored.append(name)
    except BaseException:
        for name in stored:
            _storage().delete(name)
        raise
    return stored


def _add_files(intake: Intake, files: list, stored: list[str]) -> list[IntakeFile]:
    rows = []
    for upload, name in zip(files, stored, strict=True):
        row = IntakeFile(
            intake=intake,
            original_name=upload.name,
            size=upload.size,
            sha256=upload.sha256,
            content_type=upload.sniffed_type,
            metadata=_describe(name, upload.sniffed_type),
        )
        row.file.name = name
        row.save()
        upload.attached = True
        rows.append(row)
    return rows


def file_intake(
    *,
    fields: dict,
    organisation: Organisation | None,
    consents: Iterable[tuple[Regime, str]],
    files: list,
    language: str = "",
) -> tuple[Intake, str]:
    """
    File a new report and return it with its receipt code, which exists only in this return
    value: the caller shows it once and keeps it nowhere.
    """
    if organisation is not None and not organisation.accepts_intakes:
        raise ValidationError(_("This organisation does not take reports through the portal."))
    _check_files(None, files)
    code = receipts.new_code()
    stored = _store(files)
    try:
        with transaction.atomic(durable=True):
            intake = Intake(
                organisation=organisation,
                lookup=receipts.lookup_digest(code),
                code_hash=receipts.slow_hash(code),
                language=language[:8],
                **fields,
            )
            _extend(intake)
            intake.full_clean(exclude=["lookup", "code_hash", "reference"])
            intake.save()
            for regime, scope in consents:
                IntakeConsent.objects.create(intake=intake, regime=regime, scope=scope)
            rows = _add_files(intake, files, stored)
            audit.record(
                actor=None,
                action="intake.filed",
                target=intake,
                data={
                    "organisation": organisation.pk if organisation else None,
                    "files": [row.sha256 for row in rows],
                    "consents": sorted(regime.key for regime, _scope in consents),
                },
            )
    except BaseException:
        for name in stored:
            _storage().delete(name)
        raise
    return intake, code


# The reporter, with their receipt code

# Checked when no report has the code, so that a miss costs the same time as a hit.
_DUMMY_HASH = receipts.slow_hash("0" * receipts.DIGITS, salt=b"\0" * 16)


def open_intake(code: str) -> Intake | None:
    """Return the report whose receipt code this is, or None; audited when found."""
    if not receipts.normalise(code):
        receipts.check(code or "0", _DUMMY_HASH)
        return None
    candidates = receipts.lookup_candidates(code)
    intake = Intake.objects.filter(lookup__in=candidates).first()
    if intake is None or not receipts.check(code, intake.code_hash):
        if intake is None:
            receipts.check(code, _DUMMY_HASH)
        return None
    with transaction.atomic():
        current = receipts.lookup_digest(code)
        if intake.lookup != current:  # found under a previous secret key: move it forward
            Intake.objects.filter(pk=intake.pk).update(lookup=current)
        audit.record(actor=None, action="intake.opened_by_reporter", target=intake)
    return intake


@transaction.atomic
def add_reporter_message(intake: Intake, *, body: str) -> IntakeMessage:
    """The reporter writes to the organisation (or the coordinators)."""
    intake = Intake.objects.select_for_update().get(pk=intake.pk)
    message = IntakeMessage.objects.create(intake=intake, from_reporter=True, body=body)
    if intake.answered_at:  # a conversation in progress is kept while it goes on
        _extend(intake)
        intake.save(update_fields=["purge_after"])
    audit.record(actor=None, action="intake.reporter_wrote", target=intake)
    return message


def add_reporter_files(intake: Intake, *, files: list) -> list[IntakeFile]:
    """
    The reporter adds files to their report. After adoption they wait in the report until a
    member adds them to the dossier (add_files_to_dossier).
    """
    try:
        _check_files(intake, files)
    except BaseException:
        for upload in files:
            if getattr(upload, "stored_name", ""):
                _storage().delete(upload.stored_name)
        raise
    stored = _store(files)
    try:
        with transaction.atomic(durable=True):
            intake = Intake.objects.select_for_update().get(pk=intake.pk)
            rows = _add_files(intake, files, stored)
            audit.record(
                actor=None,
                action="intake.files_added",
                target=intake,
                data={"files": [row.sha256 for row in rows]},
            )
    except BaseException:
        for name in stored:
            _storage().delete(name)
        raise
    return rows


def remove_file_metadata(intake_file: IntakeFile) -> IntakeFile:
    """
    Draw an image again without its metadata (camera, GPS, times), at the reporter's request.

    The SHA-256 of the file as it was sent is kept (received_sha256) for the chain of custody;
    the original bytes are deleted.
    """
    if intake_file.evidence_id is not None:  # already an exhibit: its bytes are evidence now
        raise IntakeClosed
    pillow_format = STRIPPABLE.get(intake_file.content_type)
    if pillow_format is None:
        raise ValidationError(_("The portal cannot remove the details of this kind of file."))
    try:
        with intake_file.file.open("rb"), Image.open(intake_file.file) as image:
            image = ImageOps.exif_transpose(image)  # keep the picture the right way up
            clean = Image.frombytes(image.mode, image.size, image.tobytes())
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ValidationError(_("This image could not be read.")) from None
    out = io.BytesIO()
    options = {"quality": 95} if pillow_format in {"JPEG", "WEBP"} else {}
    if pillow_format == "JPEG" and clean.mode not in {"RGB", "L", "CMYK"}:
        clean = clean.convert("RGB")
    clean.save(out, pillow_format, **options)
    content = out.getvalue()
    cleaned = uploads.uploaded_from_bytes(content, intake_file.original_name)
    new_name = _storage().save(evidence_key(None, intake_file.original_name), ContentFile(content))
    try:
        with transaction.atomic(durable=True):
            row = IntakeFile.objects.select_for_update().get(pk=intake_file.pk)
            if row.evidence_id is not None:
                raise IntakeClosed
            old_name, old_sha = row.file.name, row.sha256
            if row.intake.files.filter(sha256=cleaned.sha256).exclude(pk=row.pk).exists():
                raise ValidationError(_("This report already holds the same image."))
            row.received_sha256 = row.received_sha256 or old_sha
            row.sha256, row.size = cleaned.sha256, len(content)
            row.file.name = new_name
            row.metadata = _describe(new_name, row.content_type)
            row.save(update_fields=["received_sha256", "sha256", "size", "file", "metadata"])
            audit.record(
                actor=None,
                action="intake.file_metadata_removed",
                target=row.intake,
                data={"received_sha256": row.received_sha256, "sha256": row.sha256},
            )
            transaction.on_commit(partial(_storage().delete, old_name))
    except BaseException:
        _storage().delete(new_name)
        raise
    return row


# The receiving organisation


def _lock_for(intake: Intake, by: User) -> Intake:
    """Reload the report locked, if `by` may work on it; otherwise PermissionDenied."""
    locked = Intake.objects.select_for_update().get(pk=intake.pk)
    if not Intake.objects.visible_to(by).filter(pk=locked.pk).exists():
        raise PermissionDenied
    return locked


@transaction.atomic
def add_member_message(intake: Intake, *, by: User, body: str) -> IntakeMessage:
    """The organisation (or a coordinator) writes to the reporter; the report is kept longer."""
    intake = _lock_for(intake, by)
    message = IntakeMessage.objects.create(intake=intake, from_reporter=False, author=by, body=body)
    intake.answered_at = intake.answered_at or timezone.now()
    _extend(intake)
    intake.save(update_fields=["answered_at", "purge_after"])
    audit.record(actor=by, action="intake.answered", target=intake)
    return message


@transaction.atomic
def route_intake(intake: Intake, *, by: User, organisation: Organisation) -> Intake:
    """A coordinator sends a report nobody was chosen for to an organisation that takes them."""
    if not by.is_lead_reviewer:
        raise PermissionDenied
    intake = _lock_for(intake, by)
    if intake.organisation_id is not None:
        raise ValidationError(_("This report already has an organisation."))
    if not organisation.accepts_intakes:
        raise ValidationError(_("This organisation does not take reports through the portal."))
    intake.organisation = organisation
    intake.save(update_fields=["organisation"])
    audit.record(
        actor=by, action="intake.routed", target=intake, data={"organisation": organisation.pk}
    )
    return intake


SOURCE_KIND = {
    Intake.ReporterRole.VICTIM: Source.Kind.VICTIM,
    # Families of the harmed are victims too (UN Basic Principles on remedy, principle 8).
    Intake.ReporterRole.RELATIVE: Source.Kind.VICTIM,
    Intake.ReporterRole.WITNESS: Source.Kind.WITNESS,
    Intake.ReporterRole.OTHER: Source.Kind.OTHER,
}


@transaction.atomic(durable=True)
def adopt_intake(intake: Intake, *, by: User, title: str, target_regimes: Iterable[Regime]):
    """
    Turn a report into a draft dossier of the receiving organisation: the reporter becomes a
    source with the consents they gave, their files exhibits with the hashes taken when they
    arrived, and the account an incident (when its date, place and kind are known).
    """
    intake = _lock_for(intake, by)
    if intake.organisation is None or not intake.organisation.has_member(by):
        raise PermissionDenied  # coordinators route; only the organisation adopts
    if intake.status != Intake.Status.OPEN:
        raise IntakeClosed
    received = timezone.localdate(intake.created_at)
    dossier = submission_services.create_dossier(
        organisation=intake.organisation,
        by=by,
        title=title,
        summary=_("From report %(reference)s, received through the anonymous intake on %(date)s.")
        % {"reference": intake.reference, "date": received.isoformat()},
        target_regimes=target_regimes,
    )
    identity = "\n".join(
        part
        for part in (
            _("Reporter: %(role)s.") % {"role": intake.get_reporter_role_display()},
            intake.reporter_identity,
            _("Who did it, in the reporter's words: %(who)s") % {"who": intake.perpetrators}
            if intake.perpetrators
            else "",
        )
        if part
    )
    contact = "\n".join(
        part
        for part in (
            intake.reporter_contact,
            _("Also through the portal's anonymous intake, report %(reference)s.")
            % {"reference": intake.reference},
        )
        if part
    )
    method = _("Given by the reporter themselves in the anonymous intake (report %(reference)s).")
    source = submission_services.save_source(
        dossier,
        by=by,
        fields={
            "kind": SOURCE_KIND[intake.reporter_role],
            "identity": identity,
            "contact": contact,
        },
        consents=[
            {
                "regime": consent.regime,
                "scope": Consent.Scope.NAMED
                if consent.scope == IntakeConsent.Scope.NAMED
                else Consent.Scope.ANONYMOUS,
                "given_on": timezone.localdate(consent.given_at),
                "method": method % {"reference": intake.reference},
            }
            for consent in intake.consents.select_related("regime")
        ],
    )
    incident = None
    if intake.category_id and intake.happened_on and intake.country:
        incident = submission_services.save_incident(
            dossier,
            by=by,
            fields={
                "title": _("Reported through the intake (%(reference)s)")
                % {"reference": intake.reference},
                "category": intake.category,
                "start_date": intake.happened_on,
                "country": intake.country,
                "place": intake.place,
                "narrative": intake.account,
            },
        )
    for row in intake.files.select_for_update():
        _adopt_file(row, dossier=dossier, source=source, incident=incident, by=by, intake=intake)
    intake.status = Intake.Status.ADOPTED
    intake.dossier, intake.source, intake.adopted_at = dossier, source, timezone.now()
    _extend(intake)
    intake.save(update_fields=["status", "dossier", "source", "adopted_at", "purge_after"])
    audit.record(
        actor=by,
        action="intake.adopted",
        target=intake,
        data={"dossier": dossier.reference, "source": source.pseudonym},
    )
    return dossier


@transaction.atomic(durable=True)
def add_files_to_dossier(intake: Intake, *, by: User) -> list[Evidence]:
    """Add the files a reporter sent after adoption to the dossier, as exhibits."""
    intake = _lock_for(intake, by)
    if intake.dossier is None or not intake.organisation.has_member(by):
        raise PermissionDenied
    dossier = submission_services._lock_draft(
        intake.dossier, by=by, statuses=submission_services.ATTACHABLE
    )
    source = intake.source if intake.source and intake.source.dossier_id == dossier.pk else None
    added = []
    for row in intake.files.select_for_update().filter(evidence__isnull=True):
        if dossier.evidence.filter(sha256=row.sha256).exists():
            continue
        _adopt_file(row, dossier=dossier, source=source, incident=None, by=by, intake=intake)
        added.append(row.evidence)
    return added


def _adopt_file(row: IntakeFile, *, dossier, source, incident, by: User, intake: Intake) -> None:
    """Make one of the report's files an exhibit: the same stored bytes, the same hash."""
    provenance = _(
        "Received from the reporter through the portal's anonymous intake on %(date)s "
        "(report %(reference)s). SHA-256 when received: %(sha256)s."
    ) % {
        "date": timezone.localdate(row.created_at).isoformat(),
        "reference": intake.reference,
        "sha256": row.received_sha256 or row.sha256,
    }
    if row.received_sha256:
        provenance += " " + _(
            "At the reporter's request the portal removed the file's metadata; "
            "SHA-256 after removal: %(sha256)s."
        ) % {"sha256": row.sha256}
    evidence = Evidence(
        dossier=dossier,
        kind=Evidence.Kind.FILE,
        original_name=row.original_name,
        size=row.size,
        sha256=row.sha256,
        content_type=row.content_type,
        obtained_on=timezone.localdate(row.created_at),
        provenance=provenance,
        source=source,
        uploaded_by=by,
    )
    evidence.file.name = row.file.name  # the exhibit takes over the stored file: no copy
    evidence.save()
    if incident is not None:
        evidence.incidents.add(incident)
    row.evidence = evidence
    row.save(update_fields=["evidence"])
    audit.record(
        actor=by,
        action="evidence.added",
        target=evidence,
        data={
            "dossier": dossier.pk,
            "sha256": row.sha256,
            "received_sha256": row.received_sha256 or row.sha256,
            "size": row.size,
            "type": row.content_type,
            "via": "intake",
            "intake": intake.reference,
        },
    )
    submission_tasks.extract_evidence_metadata.delay_on_commit(evidence.pk)
    submission_tasks.scan_evidence.delay_on_commit(evidence.pk)


# Retention


def purge_intake(intake: Intake, *, by: User | None = None) -> None:
    """Delete a report whose time ran out, with the files no dossier took over."""
    with transaction.atomic():
        intake = Intake.objects.select_for_update().get(pk=intake.pk)
        if not Intake.objects.purgeable(timezone.now()).filter(pk=intake.pk).exists():
            raise ValidationError(_("This report is not due for deletion."))
        names = list(intake.files.filter(evidence__isnull=True).values_list("file", flat=True))
        audit.record(
            actor=by,
            action="intake.purged",
            target=intake,
            data={"status": intake.status, "files": len(names)},
        )
        intake.delete()
        for name in names:
            transaction.on_commit(partial(_storage().delete, name))


def purge_expired_intakes() -> list[str]:
    """Delete every report past its time; return their references."""
    purged = []
    for intake in Intake.objects.purgeable(timezone.now()).iterator():
        purge_intake(intake)
        purged.append(intake.reference)
    return purged


def record_intake_viewed(intake: Intake, *, by: User) -> None:
    """Write down who read a report (it holds the reporter's identity, decrypted)."""
    audit.record(actor=by, action="intake.viewed", target=intake)


def record_file_download(intake_file: IntakeFile, *, by: User) -> None:
    """Write down who took a copy of a reporter's file."""
    audit.record(
        actor=by,
        action="intake.file_downloaded",
        target=intake_file.intake,
        data={"sha256": intake_file.sha256},
    )


@transaction.atomic
def set_intake_listing(
    organisation: Organisation, *, by: User, accepts: bool, description: str
) -> Organisation:
    """An organisation admin opts in to (or out of) reports, with the text reporters read."""
    from portal.models import Membership

    if not Membership.objects.filter(
        organisation=organisation, user=by, role=Membership.Role.ADMIN
    ).exists():
        raise PermissionDenied
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    organisation.accepts_intakes, organisation.intake_description = accepts, description
    organisation.save(update_fields=["accepts_intakes", "intake_description"])
    audit.record(
        actor=by,
        action="organisation.intake_listing_changed",
        target=organisation,
        data={"accepts_intakes": accepts},
    )
    return organisation
