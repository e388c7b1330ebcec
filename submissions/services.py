"""
Every operation that changes what an NGO filed. Each runs in one transaction, checks who may
do it and in which state, and writes an audit event.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from functools import partial

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from designations import tasks as designation_tasks
from portal import audit
from portal.models import Organisation, User
from reviews import tasks as review_tasks
from reviews.models import InformationRequest, Message

from . import dashboard, metadata, scanning, tasks, uploads
from .checklist import completeness, missing_in_words
from .models import (
    ChecklistAnswer,
    ChecklistVersion,
    Consent,
    Criterion,
    Dossier,
    Evidence,
    Incident,
    Involvement,
    Regime,
    Source,
    Subject,
    allocate_reference,
    evidence_key,
)


class TransitionNotAllowed(Exception):
    """The dossier cannot move from its current status to the requested one."""


class NotEditable(Exception):
    """The dossier is no longer a draft: what was filed cannot change."""

    def __init__(self, dossier: Dossier):
        self.dossier = dossier
        super().__init__(_("This dossier was submitted and can no longer be changed."))


def transition(dossier: Dossier, to: str, *, by: User, data: dict | None = None) -> None:
    """
    Move a locked dossier to status `to` if the table allows it, and audit the move.

    The caller holds the row lock, checks who may make the move, and saves the dossier
    (status, status_changed_at, updated_at) in the same transaction.
    """
    if not dossier.can_move_to(to):
        raise TransitionNotAllowed(f"{dossier.status} → {to}")
    audit.record(
        actor=by,
        action=f"dossier.{to}",
        target=dossier,
        data={"from": dossier.status, **(data or {})},
    )
    dossier.status = to
    dossier.status_changed_at = timezone.now()


def _lock(dossier: Dossier, *, by: User) -> Dossier:
    """Reload the dossier locked for update; only its organisation's members may change it."""
    locked = Dossier.objects.select_for_update().select_related("organisation").get(pk=dossier.pk)
    if not locked.organisation.has_member(by):
        raise PermissionDenied
    return locked


# While reviewers wait for an answer, the NGO may add exhibits (but not change the others).
ATTACHABLE = frozenset({Dossier.Status.DRAFT, Dossier.Status.INFORMATION_REQUESTED})


def _lock_draft(dossier: Dossier, *, by: User, statuses=frozenset({Dossier.Status.DRAFT})):
    locked = _lock(dossier, by=by)
    if locked.status not in statuses:
        raise NotEditable(dossier)
    return locked


def _check_draft(dossier: Dossier, *, by: User, statuses=frozenset({Dossier.Status.DRAFT})):
    """The same checks as _lock_draft, without a lock: for a quick refusal before slow work."""
    if not dossier.organisation.has_member(by):
        raise PermissionDenied
    if not Dossier.objects.filter(pk=dossier.pk, status__in=statuses).exists():
        raise NotEditable(dossier)


def _touch(dossier: Dossier) -> None:
    """Mark the dossier as changed now (its last activity)."""
    Dossier.objects.filter(pk=dossier.pk).update(updated_at=timezone.now())
    dashboard.changed(dossier.organisation_id)  # an update() sends no signal


def _check_regimes(regimes: Iterable[Regime]) -> list[Regime]:
    regimes = list(regimes)
    if not regimes:
        raise ValidationError(_("Choose at least one government to address."))
    closed = [r for r in regimes if not (r.status == "active" and r.accepts_submissions)]
    if closed:
        raise ValidationError(
            _("These regimes do not accept submissions: %(names)s."),
            params={"names": ", ".join(r.name for r in closed)},
        )
    return regimes


# The dossier itself


@transaction.atomic
def create_dossier(
    *,
    organisation: Organisation,
    by: User,
    title: str,
    summary: str = "",
    sensitivity: str = Dossier.Sensitivity.HIGH,
    target_regimes: Iterable[Regime],
) -> Dossier:
    """Start a draft dossier for `organisation`."""
    if not organisation.has_member(by):
        raise PermissionDenied
    regimes = _check_regimes(target_regimes)
    dossier = Dossier.objects.create(
        organisation=organisation,
        created_by=by,
        title=title,
        summary=summary,
        sensitivity=sensitivity,
        checklist_version=ChecklistVersion.objects.first(),
    )
    dossier.target_regimes.set(regimes)
    audit.record(
        actor=by,
        action="dossier.created",
        target=dossier,
        data={"regimes": [r.key for r in regimes]},
    )
    return dossier


@transaction.atomic
def update_dossier(
    dossier: Dossier,
    *,
    by: User,
    title: str,
    summary: str,
    sensitivity: str,
    target_regimes: Iterable[Regime],
) -> Dossier:
    """Change the basics of a draft."""
    dossier = _lock_draft(dossier, by=by)
    regimes = _check_regimes(target_regimes)
    dossier.title, dossier.summary, dossier.sensitivity = title, summary, sensitivity
    dossier.save(update_fields=["title", "summary", "sensitivity", "updated_at"])
    dossier.target_regimes.set(regimes)
    audit.record(
        actor=by,
        action="dossier.updated",
        target=dossier,
        data={"regimes": [r.key for r in regimes]},
    )
    return dossier


@transaction.atomic(durable=True)
def submit_dossier(dossier: Dossier, *, by: User) -> Dossier:
    """Submit a draft: refused while a blocking checklist item of a target regime is open."""
    dossier = _lock(dossier, by=by)
    if not dossier.can_move_to(Dossier.Status.SUBMITTED):
        raise TransitionNotAllowed(f"{dossier.status} → submitted")
    rows = completeness(dossier)
    if not rows:
        raise ValidationError(_("Choose at least one government to address."))
    missing = missing_in_words(rows)
    if missing:
        # One message per item, in words: the pages link each to where it is fixed.
        raise ValidationError(
            [
                ValidationError(
                    "%(name)s: %(missing)s",
                    code=item.criterion.code,
                    params={"name": item.name, "missing": item.missing, "url": item.url},
                )
                for item in missing
            ]
        )
    exhibits = list(dossier.evidence.order_by("pk").values_list("pk", "sha256"))
    transition(dossier, Dossier.Status.SUBMITTED, by=by, data={"exhibits": exhibits})
    dossier.submitted_at = timezone.now()
    dossier.checklist_version = ChecklistVersion.objects.first()
    dossier.save(
        update_fields=[
            "status",
            "status_changed_at",
            "submitted_at",
            "checklist_version",
            "updated_at",
        ]
    )
    review_tasks.notify_reviewers.delay_on_commit(dossier.pk)
    # Every subject is screened against the published designations once it is submitted.
    designation_tasks.screen_dossier.delay_on_commit(dossier.pk)
    return dossier


@transaction.atomic(durable=True)
def withdraw_dossier(dossier: Dossier, *, by: User, reason: str = "") -> Dossier:
    """Withdraw a dossier that reviewers have not decided on yet."""
    dossier = _lock(dossier, by=by)
    transition(dossier, Dossier.Status.WITHDRAWN, by=by, data={"reason": reason})
    dossier.save(update_fields=["status", "status_changed_at", "updated_at"])
    return dossier


@transaction.atomic(durable=True)
def reply_to_information_request(
    request, *, by: User, body: str, evidence: Iterable[Evidence] = ()
) -> Message:
    """Answer reviewers' question; the dossier goes back to review and its reviewers are told."""
    dossier = _lock(request.dossier, by=by)
    request = InformationRequest.objects.select_for_update().get(pk=request.pk)
    if not request.is_open:
        raise ValidationError(_("This question was answered already."))
    evidence = list(evidence)
    if any(e.dossier_id != dossier.pk for e in evidence):
        raise PermissionDenied
    message = Message.objects.create(request=request, author=by, body=body)
    message.evidence.set(evidence)
    request.answered_at = timezone.now()
    request.save(update_fields=["answered_at"])
    audit.record(
        actor=by,
        action="information_request.answered",
        target=dossier,
        data={"request": request.pk, "exhibits": [e.pk for e in evidence]},
    )
    if not dossier.information_requests.filter(answered_at__isnull=True).exists():
        transition(dossier, Dossier.Status.IN_REVIEW, by=by)
        dossier.save(update_fields=["status", "status_changed_at", "updated_at"])
    else:
        _touch(dossier)
    review_tasks.notify_information_received.delay_on_commit(dossier.pk)
    return message


# Subjects


@transaction.atomic
def save_subject(
    dossier: Dossier,
    *,
    by: User,
    subject: Subject | None = None,
    fields: dict,
    documents=None,
    positions=None,
    links=None,
) -> Subject:
    """
    Create or update a subject with its documents, positions and jurisdiction links.

    `documents`, `positions` and `links` are bound, valid model formsets (or None): saving them
    here keeps the whole subject in one transaction.
    """
    dossier = _lock_draft(dossier, by=by)
    if subject is None:
        subject = Subject(dossier=dossier)
    elif subject.dossier_id != dossier.pk:
        raise PermissionDenied
    for name, value in fields.items():
        setattr(subject, name, value)
    subject.full_clean()
    subject.save()
    for formset in (documents, positions, links):
        if formset is not None:
            formset.instance = subject
            formset.save()
    _touch(dossier)
    audit.record(actor=by, action="subject.saved", target=subject, data={"dossier": dossier.pk})
    return subject


@transaction.atomic
def remove_subject(subject: Subject, *, by: User) -> None:
    """Remove a subject from a draft (with its roles in incidents)."""
    dossier = _lock_draft(subject.dossier, by=by)
    audit.record(actor=by, action="subject.removed", target=subject, data={"dossier": dossier.pk})
    subject.delete()
    _touch(dossier)


# Incidents


@transaction.atomic
def save_incident(
    dossier: Dossier,
    *,
    by: User,
    incident: Incident | None = None,
    fields: dict,
    involvements: Iterable[dict] = (),
) -> Incident:
    """
    Create or update an incident and who took which role in it.

    `involvements`: dicts with subject, role and description; they replace the earlier ones.
    """
    dossier = _lock_draft(dossier, by=by)
    if incident is None:
        incident = Incident(dossier=dossier)
    elif incident.dossier_id != dossier.pk:
        raise PermissionDenied
    for name, value in fields.items():
        setattr(incident, name, value)
    if incident.end_date and incident.end_date < incident.start_date:
        raise ValidationError({"end_date": _("The last day cannot be before the first.")})
    incident.full_clean()
    incident.save()
    rows = []
    for involvement in involvements:
        if involvement["subject"].dossier_id != dossier.pk:
            raise PermissionDenied
        rows.append(Involvement(incident=incident, **involvement))
    incident.involvements.all().delete()
    Involvement.objects.bulk_create(rows, ignore_conflicts=True)
    _touch(dossier)
    audit.record(
        actor=by,
        action="incident.saved",
        target=incident,
        data={"dossier": dossier.pk, "involvements": len(rows)},
    )
    return incident


@transaction.atomic
def remove_incident(incident: Incident, *, by: User) -> None:
    dossier = _lock_draft(incident.dossier, by=by)
    audit.record(actor=by, action="incident.removed", target=incident, data={"dossier": dossier.pk})
    incident.delete()
    _touch(dossier)


# Sources and witnesses


def next_pseudonym(dossier: Dossier) -> str:
    """Return the next free pseudonym of the dossier: W-1, W-2 ..."""
    taken = set(dossier.sources.values_list("pseudonym", flat=True))
    number = len(taken) + 1
    while f"W-{number}" in taken:
        number += 1
    return f"W-{number}"


@transaction.atomic
def save_source(
    dossier: Dossier,
    *,
    by: User,
    source: Source | None = None,
    fields: dict,
    consents: Iterable[dict] | None = None,
) -> Source:
    """
    Create or update a source; its identity, contact and safety notes are stored encrypted.

    `consents`: dicts with regime, scope, given_on, method; a regime left out has no consent
    (a withdrawn consent keeps its row with the date it was withdrawn).
    """
    dossier = _lock_draft(dossier, by=by)
    if source is None:
        source = Source(dossier=dossier)
        if not fields.get("pseudonym"):
            # W-3 for the source whose reference is D14-W3, unless the NGO already used the name.
            source.number, source.reference = allocate_reference(dossier.pk, "sources")
            pseudonym = f"W-{source.number}"
            if dossier.sources.filter(pseudonym=pseudonym).exists():
                pseudonym = next_pseudonym(dossier)
            fields = {**fields, "pseudonym": pseudonym}
    elif source.dossier_id != dossier.pk:
        raise PermissionDenied
    for name, value in fields.items():
        setattr(source, name, value)
    source.full_clean(validate_constraints=False)
    if dossier.sources.filter(pseudonym=source.pseudonym).exclude(pk=source.pk).exists():
        raise ValidationError(
            {"pseudonym": _("Another source of this dossier has this pseudonym.")}
        )
    source.save()
    if consents is not None:
        given = {c["regime"].pk: c for c in consents}
        today = timezone.localdate()
        for record in source.consent_records.filter(withdrawn_on__isnull=True):
            if record.regime_id not in given:
                record.withdrawn_on = today
                record.save(update_fields=["withdrawn_on"])
        for regime_id, consent in given.items():
            Consent.objects.update_or_create(
                source=source,
                regime_id=regime_id,
                defaults={
                    "scope": consent["scope"],
                    "given_on": consent["given_on"],
                    "method": consent["method"],
                    "withdrawn_on": None,
                },
            )
    _touch(dossier)
    # The audit log names the pseudonym only: never the identity.
    audit.record(
        actor=by,
        action="source.saved",
        target=source,
        data={
            "dossier": dossier.pk,
            "reference": source.reference,
            "consents": sorted(c["regime"].key for c in consents or []),
        },
    )
    return source


@transaction.atomic
def remove_source(source: Source, *, by: User) -> None:
    dossier = _lock_draft(source.dossier, by=by)
    audit.record(actor=by, action="source.removed", target=source, data={"dossier": dossier.pk})
    source.delete()
    _touch(dossier)


# Evidence


class DuplicateEvidence(ValidationError):
    """The same bytes are already an exhibit of this dossier."""

    def __init__(self, existing: Evidence):
        self.existing = existing
        super().__init__(
            _("This file is already in the dossier as exhibit %(reference)s (%(name)s)."),
            params={"reference": existing.reference, "name": existing.original_name},
            code="duplicate",
        )


def attach_evidence_file(dossier: Dossier, *, by: User, upload, details: dict) -> Evidence:
    """
    Add an uploaded file (from uploads.HashingUploadHandler) as an exhibit.

    The file is copied to storage before the transaction, so that no database lock is held
    during slow I/O; if anything fails after that, the stored copy is deleted again.
    """
    storage = Evidence._meta.get_field("file").storage
    # Already in the object store if it streamed there as it arrived (uploads.StoredUpload).
    stored = getattr(upload, "stored_name", "")
    try:
        _check_draft(dossier, by=by, statuses=ATTACHABLE)  # fail early, before any copying
        if problem := uploads.check_upload(upload):
            raise ValidationError(problem, code="file_type")
        existing = Evidence.objects.filter(dossier=dossier, sha256=upload.sha256).first()
        if existing is not None:
            raise DuplicateEvidence(existing)
    except BaseException:
        if stored:
            storage.delete(stored)
        raise
    if not stored:
        stored = storage.save(evidence_key(None, upload.name), upload)
    try:
        with transaction.atomic(durable=True):
            dossier = _lock_draft(dossier, by=by, statuses=ATTACHABLE)
            evidence = Evidence(
                dossier=dossier,
                kind=Evidence.Kind.FILE,
                original_name=upload.name,
                size=upload.size,
                sha256=upload.sha256,
                content_type=upload.sniffed_type,
                uploaded_by=by,
                **details,
            )
            evidence.file.name = stored
            evidence.save()
            _touch(dossier)
            audit.record(
                actor=by,
                action="evidence.added",
                target=evidence,
                data={
                    "dossier": dossier.pk,
                    "reference": evidence.reference,
                    "sha256": upload.sha256,
                    "size": upload.size,
                    "type": upload.sniffed_type,
                },
            )
            tasks.extract_evidence_metadata.delay_on_commit(evidence.pk)
            tasks.scan_evidence.delay_on_commit(evidence.pk)
        upload.attached = True
    except IntegrityError:
        # Another upload of the same bytes won the race.
        storage.delete(stored)
        raise DuplicateEvidence(
            Evidence.objects.get(dossier=dossier, sha256=upload.sha256)
        ) from None
    except BaseException:
        storage.delete(stored)
        raise
    return evidence


@transaction.atomic
def attach_evidence_link(dossier: Dossier, *, by: User, details: dict) -> Evidence:
    """Add a web page or social-media post (with its capture record) as an exhibit."""
    dossier = _lock_draft(dossier, by=by, statuses=ATTACHABLE)
    evidence = Evidence(dossier=dossier, kind=Evidence.Kind.LINK, uploaded_by=by, **details)
    evidence.full_clean(exclude=["file", "thumbnail"])
    evidence.save()
    _touch(dossier)
    audit.record(
        actor=by,
        action="evidence.added",
        target=evidence,
        data={"dossier": dossier.pk, "reference": evidence.reference, "url": evidence.url},
    )
    return evidence


@transaction.atomic
def update_evidence(
    evidence: Evidence,
    *,
    by: User,
    fields: dict,
    incidents: Iterable[Incident] = (),
    criteria: Iterable[Criterion] = (),
) -> Evidence:
    """Change an exhibit's description, grades, source and what it supports."""
    dossier = _lock_draft(evidence.dossier, by=by)
    incidents = list(incidents)
    if any(incident.dossier_id != dossier.pk for incident in incidents):
        raise PermissionDenied
    if fields.get("source") is not None and fields["source"].dossier_id != dossier.pk:
        raise PermissionDenied
    if "translation_of" in fields:
        _check_translation(evidence, fields["translation_of"], dossier)
    for name, value in fields.items():
        setattr(evidence, name, value)
    evidence.save()
    evidence.incidents.set(incidents)
    evidence.criteria.set(list(criteria))
    _touch(dossier)
    audit.record(
        actor=by,
        action="evidence.updated",
        target=evidence,
        data={
            "dossier": dossier.pk,
            "grade": evidence.grade,
            "translation_of": getattr(evidence.translation_of, "reference", None),
            "keep_metadata_in_copies": evidence.keep_metadata_in_copies,
        },
    )
    return evidence


def _check_translation(evidence: Evidence, original: Evidence | None, dossier: Dossier) -> None:
    """A translation's original is another exhibit of the same dossier, never one of its own
    translations (no loop)."""
    if original is None:
        return
    if original.dossier_id != dossier.pk:
        raise PermissionDenied
    seen, current = {evidence.pk}, original
    while current is not None:
        if current.pk in seen:
            raise ValidationError(
                {"translation_of": _("An exhibit cannot be a translation of itself.")},
                code="translation_loop",
            )
        seen.add(current.pk)
        current = current.translation_of


@transaction.atomic
def remove_evidence(evidence: Evidence, *, by: User) -> None:
    """Remove an exhibit from a draft; its file is deleted once the removal is committed."""
    dossier = _lock_draft(evidence.dossier, by=by)
    audit.record(
        actor=by,
        action="evidence.removed",
        target=evidence,
        data={"dossier": dossier.pk, "sha256": evidence.sha256},
    )
    for name in (evidence.file.name, evidence.thumbnail.name):
        if name:
            transaction.on_commit(partial(evidence.file.storage.delete, name))
    evidence.delete()
    _touch(dossier)


# Checklist


def _check_judgement(criterion: Criterion) -> None:
    if criterion.is_computed:
        raise ValidationError(
            _("“%(name)s” is computed from what the dossier holds: it cannot be typed."),
            params={"name": criterion.name},
            code="computed",
        )


def _write_answers(dossier, regimes, criterion, answer, by, own_evidence) -> list[ChecklistAnswer]:
    """Write one answer to each regime in `regimes` (the same judgement, once per row)."""
    if not answer["status"]:
        ChecklistAnswer.objects.filter(
            dossier=dossier, regime__in=regimes, criterion=criterion
        ).delete()
        return []
    evidence = list(answer.get("evidence") or [])
    if any(e.pk not in own_evidence for e in evidence):
        raise PermissionDenied
    saved = []
    for regime in regimes:
        row, _created = ChecklistAnswer.objects.update_or_create(
            dossier=dossier,
            regime=regime,
            criterion=criterion,
            defaults={
                "question": criterion.question,
                "status": answer["status"],
                "explanation": answer.get("explanation", ""),
                "answered_by": by,
            },
        )
        row.evidence.set(evidence)
        saved.append(row)
    return saved


@transaction.atomic
def answer_checklist_items(
    dossier: Dossier, *, by: User, answers: Iterable[dict]
) -> list[ChecklistAnswer]:
    """
    Record the submitter's judgements, each once for every government that asks it.

    `answers`: dicts with criterion, regime (only for an item asked per government; None
    otherwise), status, explanation and evidence (exhibits of this dossier). An empty status
    clears the answer. Computed items are refused: the dossier's data closes them.
    """
    dossier = _lock_draft(dossier, by=by)
    targets = list(dossier.target_regimes.all())
    asking: dict[int, list[Regime]] = {}
    for regime_id, criterion_id in Regime.criteria.through.objects.filter(
        regime__in=targets
    ).values_list("regime_id", "criterion_id"):
        asking.setdefault(criterion_id, []).append(next(r for r in targets if r.pk == regime_id))
    own_evidence = set(dossier.evidence.values_list("pk", flat=True))
    saved = []
    for answer in answers:
        criterion = answer["criterion"]
        _check_judgement(criterion)
        regimes = asking.get(criterion.pk, [])
        if criterion.per_government:
            regime = answer.get("regime")
            if regime is None or regime.pk not in {r.pk for r in regimes}:
                raise PermissionDenied
            regimes = [regime]
        elif not regimes:
            raise PermissionDenied
        saved += _write_answers(dossier, regimes, criterion, answer, by, own_evidence)
    _touch(dossier)
    audit.record(
        actor=by,
        action="checklist.answered",
        target=dossier,
        data={"answers": {f"{a.regime.key}:{a.criterion.code}": a.status for a in saved}},
    )
    return saved


@transaction.atomic
def answer_checklist(
    dossier: Dossier, regime: Regime, *, by: User, answers: Iterable[dict]
) -> list[ChecklistAnswer]:
    """
    Record judgements through one target regime (the API's per-regime endpoint).

    A question shared by several governments is answered once for all of them, as on the
    checklist page; computed items are refused.
    """
    answers = list(answers)
    for answer in answers:
        _check_judgement(answer["criterion"])
    if not dossier.target_regimes.filter(pk=regime.pk).exists():
        raise PermissionDenied
    applicable = set(regime.checklist.values_list("criterion_id", flat=True))
    if any(answer["criterion"].pk not in applicable for answer in answers):
        raise PermissionDenied
    return answer_checklist_items(
        dossier,
        by=by,
        answers=[{**answer, "regime": regime} for answer in answers],
    )


# Background work on exhibits


def record_evidence_metadata(evidence: Evidence) -> None:
    """Extract an exhibit's metadata and thumbnail once; a re-delivered task changes nothing."""
    if evidence.metadata.get("extracted") or not evidence.file:
        return
    found, thumbnail = metadata.extract(evidence.file, evidence.content_type)
    storage = evidence.file.storage
    thumbnail_name = (
        storage.save(f"thumbnails/{uuid.uuid4().hex}.jpg", thumbnail) if thumbnail else ""
    )
    capture = _capture_record(evidence, found.get("capture") or {})
    claimed = Evidence.objects.filter(pk=evidence.pk, metadata__extracted__isnull=True).update(
        metadata={**found, "extracted": True}, thumbnail=thumbnail_name, **capture
    )
    if not claimed:  # another worker got there first: keep its result, drop ours
        if thumbnail_name:
            storage.delete(thumbnail_name)
        return
    audit.record(
        actor=None,
        action="evidence.metadata_extracted",
        target=evidence,
        data={"keys": sorted(found), **{k: str(v) for k, v in capture.items()}},
    )


def _capture_record(evidence: Evidence, capture: dict) -> dict:
    """
    The page address and capture time a web archive gives, for the exhibit's fields the NGO
    left empty (what the NGO typed wins). Only http(s) addresses are taken.
    """
    fields = {}
    url = str(capture.get("url") or "")[:2000]
    if url and not evidence.url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            pass
        else:
            fields["url"] = url
    if capture.get("captured_at") and not evidence.captured_at:
        fields["captured_at"] = datetime.fromisoformat(capture["captured_at"])
    return fields


def record_evidence_scan(evidence: Evidence) -> None:
    """Scan an exhibit once; flag it (never delete it) if it may be malicious."""
    if evidence.scanned_at or not evidence.file:
        return
    warning = scanning.scan(evidence.file, evidence.content_type)
    claimed = Evidence.objects.filter(pk=evidence.pk, scanned_at__isnull=True).update(
        scanned_at=timezone.now(), malware_warning=warning[:300]
    )
    if claimed and warning:
        audit.record(
            actor=None, action="evidence.flagged", target=evidence, data={"warning": warning}
        )


def record_evidence_download(evidence: Evidence, *, by: User) -> None:
    """Write down who took a copy of an exhibit, if they may reach it through the NGO's side."""
    if not Evidence.objects.visible_to(by, through="organisation").filter(pk=evidence.pk).exists():
        raise PermissionDenied
    audit.record(
        actor=by,
        action="evidence.downloaded",
        target=evidence,
        data={"dossier": evidence.dossier_id, "sha256": evidence.sha256},
    )


# Retention


def purge_dossier(dossier: Dossier, *, by: User | None) -> dict:
    """Delete a withdrawn or rejected dossier past retention, with its files; audited."""
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update().get(pk=dossier.pk)
        if (
            not Dossier.objects.purgeable(timezone.now(), settings.RETENTION_DAYS)
            .filter(pk=dossier.pk)
            .exists()
        ):
            raise ValidationError(_("This dossier is not due for purging."))
        files = [
            name
            for pair in dossier.evidence.values_list("file", "thumbnail")
            for name in pair
            if name
        ]
        counts = {
            "exhibits": dossier.evidence.count(),
            "subjects": dossier.subjects.count(),
            "sources": dossier.sources.count(),
            "files": len(files),
        }
        audit.record(
            actor=by,
            action="dossier.purged",
            target=dossier,
            data={"reference": dossier.reference, "status": dossier.status, **counts},
        )
        dossier.delete()
        storage = Evidence._meta.get_field("file").storage
        for name in files:
            transaction.on_commit(partial(storage.delete, name))
    return counts


def purge_expired_dossiers(*, by: User | None = None) -> list[str]:
    """Purge every dossier past retention; return their references."""
    due = Dossier.objects.purgeable(timezone.now(), settings.RETENTION_DAYS)
    purged = []
    for dossier in due.iterator():
        purge_dossier(dossier, by=by)
        purged.append(dossier.reference)
    return purged
