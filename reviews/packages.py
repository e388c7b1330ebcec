"""
Services for sanctions packages: build one from approved dossiers, render its brief (a new
version each time), record its delivery and the government's response. Lead reviewers only,
and only on packages in Package.objects.visible_to(them): never one drawing on a dossier of
their own organisation.

Every change of a package's status goes through `transition` (the table in
models.PACKAGE_TRANSITIONS), in a durable transaction, and is audited.
"""

import hashlib
import io
import json
import uuid
from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from pypdf import PdfReader

from portal import audit
from portal.models import User
from submissions import services as dossier_services
from submissions.models import ChecklistAnswer, Dossier, Evidence, Incident, Regime, Subject
from submissions.services import record_evidence_scan

from . import briefs, profiles, querysets, signing, tasks
from .models import (
    BriefText,
    BriefVersion,
    Delivery,
    Package,
    Person,
    RecipientKey,
    RegimeDecision,
)
from .querysets import dossiers_for_review


def _lead(user: User) -> None:
    if user is None or not user.is_authenticated or not user.is_lead_reviewer:
        raise PermissionDenied


def _lock(package: Package, *, by: User) -> Package:
    """Reload the package locked for update, if `by` may act on it; PermissionDenied if not."""
    _lead(by)
    locked = Package.objects.visible_to(by).select_for_update().filter(pk=package.pk).first()
    if locked is None:
        raise PermissionDenied
    return locked


def transition(package: Package, to: str, *, by: User | None, data: dict | None = None) -> None:
    """
    Move a locked package to status `to` if the table allows it, audit the move and save it.

    The caller holds the row lock (`_lock`), checks who may make the move, and runs in the
    transaction of the change the move belongs to.
    """
    if not package.can_move_to(to):
        raise dossier_services.TransitionNotAllowed(f"{package.status} → {to}")
    audit.record(
        actor=by,
        action=f"package.{to}",
        target=package,
        data={"from": package.status, **(data or {})},
    )
    package.status = to
    package.status_changed_at = timezone.now()
    package.save(update_fields=["status", "status_changed_at", "updated_at"])


def _reviewable(dossiers: Iterable[Dossier], *, by: User) -> list[Dossier]:
    """The dossiers as stored now, each one `by` may work on (never their own NGO's)."""
    wanted = {d.pk for d in dossiers}
    found = list(dossiers_for_review(by).filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise PermissionDenied
    return found


def check_regime(regime: Regime) -> None:
    """
    Only a regime in force takes packages: a proposed one (JP-PROPOSED, no law yet) has no
    legal standard a brief could claim, so it is not offered at all.
    """
    if regime.status != Regime.Status.ACTIVE:
        raise ValidationError(
            _("%(regime)s is not a designation regime in force: no package can be made for it."),
            params={"regime": regime.key},
        )


def check_contents(regime: Regime, persons: list[Person], dossiers: list[Dossier]) -> None:
    check_regime(regime)
    if not persons:
        raise ValidationError(_("Name at least one person to be designated."))
    not_approved = [d.reference for d in dossiers if d.status not in ("approved", "packaged")]
    if not_approved:
        raise ValidationError(
            _("Only approved dossiers can go into a package: %(refs)s."),
            params={"refs": ", ".join(not_approved)},
        )
    filed_for = set(
        Dossier.target_regimes.through.objects.filter(
            dossier_id__in=[d.pk for d in dossiers], regime=regime
        ).values_list("dossier_id", flat=True)
    )
    other_regime = [d.reference for d in dossiers if d.pk not in filed_for]
    if other_regime:
        raise ValidationError(
            _("These dossiers were not filed for %(regime)s: %(refs)s."),
            params={"regime": regime.key, "refs": ", ".join(other_regime)},
        )
    approved_here = set(
        querysets.approved_for(
            regime, Dossier.objects.filter(pk__in=[d.pk for d in dossiers])
        ).values_list("pk", flat=True)
    )
    refused_here = [d.reference for d in dossiers if d.pk not in approved_here]
    if refused_here:
        raise ValidationError(
            _("These dossiers were not approved for %(regime)s: %(refs)s."),
            params={"regime": regime.key, "refs": ", ".join(refused_here)},
        )
    linked = set(
        Person.objects.filter(
            pk__in=[p.pk for p in persons], subject_links__subject__dossier__in=dossiers
        ).values_list("pk", flat=True)
    )
    unsupported = [p.name for p in persons if p.pk not in linked]
    if unsupported:
        raise ValidationError(
            _("No dossier in the package concerns: %(names)s."),
            params={"names": ", ".join(unsupported)},
        )


def _usable_key(key: RecipientKey | None) -> RecipientKey | None:
    if key is not None and not RecipientKey.objects.filter(pk=key.pk, active=True).exists():
        raise ValidationError(_("That recipient key is no longer active."))
    return key


def _brief_language(code: str) -> str:
    if code not in dict(settings.LANGUAGES):
        raise ValidationError(
            _("Briefs can be written in: %(languages)s.")
            % {"languages": ", ".join(dict(settings.LANGUAGES))}
        )
    return code


@transaction.atomic
def create_package(
    *,
    regime: Regime,
    persons: Iterable[Person],
    dossiers: Iterable[Dossier],
    by: User,
    recipient: str = "",
    cover_note: str = "",
    language: str = "en",
    recipient_key: RecipientKey | None = None,
) -> Package:
    """Start a package for one government's regime from approved dossiers."""
    _lead(by)
    persons = list(persons)
    dossiers = _reviewable(dossiers, by=by)
    check_contents(regime, persons, dossiers)
    package = Package.objects.create(
        regime=regime,
        recipient=recipient or regime.receiving_authority,
        cover_note=cover_note,
        language=_brief_language(language),
        recipient_key=_usable_key(recipient_key),
        created_by=by,
    )
    package.persons.set(persons)
    package.dossiers.set(dossiers)
    audit.record(
        actor=by,
        action="package.created",
        target=package,
        data={
            "regime": regime.key,
            "dossiers": [d.reference for d in dossiers],
            "encrypted_to": recipient_key.fingerprint if recipient_key else None,
        },
    )
    return package


@transaction.atomic
def update_package(
    package: Package,
    *,
    by: User,
    recipient: str,
    cover_note: str,
    handling_marking: str,
    persons: Iterable[Person],
    dossiers: Iterable[Dossier],
    language: str | None = None,
    recipient_key: RecipientKey | None = None,
) -> Package:
    """Change a draft package."""
    package = _lock(package, by=by)
    if package.status != Package.Status.DRAFT:
        raise ValidationError(_("Only a draft package can be changed."))
    persons = list(persons)
    dossiers = _reviewable(dossiers, by=by)
    check_contents(package.regime, persons, dossiers)
    package.recipient = recipient or package.regime.receiving_authority
    package.cover_note, package.handling_marking = cover_note, handling_marking
    if language is not None:
        package.language = _brief_language(language)
    package.recipient_key = _usable_key(recipient_key)
    package.save(
        update_fields=["recipient", "cover_note", "handling_marking", "language",
                       "recipient_key", "updated_at"]
    )  # fmt: skip
    package.persons.set(persons)
    package.dossiers.set(dossiers)
    audit.record(
        actor=by,
        action="package.updated",
        target=package,
        data={
            "dossiers": [d.reference for d in dossiers],
            "encrypted_to": recipient_key.fingerprint if recipient_key else None,
        },
    )
    return package


@transaction.atomic(durable=True)
def mark_ready(package: Package, *, by: User) -> Package:
    """Check the package once more and let it be rendered."""
    package = _lock(package, by=by)
    if package.status != Package.Status.DRAFT:
        raise ValidationError(_("Only a draft package can be marked ready."))
    dossiers = list(package.dossiers.all())
    check_contents(package.regime, list(package.persons.all()), dossiers)
    assessed = set(
        ChecklistAnswer.objects.filter(
            dossier__in=dossiers,
            regime=package.regime,
            criterion__code="safety-assessment",
            status="met",
        ).values_list("dossier_id", flat=True)
    )
    unsafe = [d.reference for d in dossiers if d.pk not in assessed]
    if unsafe:  # domain.md R8: no package leaves without a safety assessment
        raise ValidationError(
            _("These dossiers have no safety assessment for this government: %(refs)s."),
            params={"refs": ", ".join(unsafe)},
        )
    transition(package, Package.Status.READY, by=by)
    return package


@transaction.atomic
def request_render(package: Package, *, by: User) -> BriefVersion:
    """Queue a new version of the brief; earlier versions are kept."""
    package = _lock(package, by=by)
    if package.status == Package.Status.DRAFT:
        raise ValidationError(_("Mark the package ready before rendering it."))
    profiles.profile_for(package.regime)  # a regime without a brief (JP-PROPOSED) is refused
    number = (package.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = BriefVersion.objects.create(package=package, number=number, requested_by=by)
    audit.record(actor=by, action="brief.requested", target=package, data={"version": number})
    tasks.render_brief.delay_on_commit(version.pk)
    return version


def _progress(version: BriefVersion, percent: int) -> None:
    BriefVersion.objects.filter(pk=version.pk).update(progress=percent)


def _scan_unscanned_exhibits(package: Package) -> None:
    """A file whose scan never ran (a lost task) is scanned now, before it can ship."""
    unscanned = Evidence.objects.filter(
        dossier__in=package.dossiers.all(), scanned_at__isnull=True
    ).exclude(file="")
    for evidence in unscanned.iterator():
        record_evidence_scan(evidence)


def render_version(version: BriefVersion) -> None:
    """
    Render a queued version: PDF, manifest and bundle, with their hashes.

    Safe to run twice: the files of a second run that finds the version done are deleted, so
    each version keeps one set of files.
    """
    claimed = BriefVersion.objects.filter(
        pk=version.pk, status__in=[BriefVersion.Status.QUEUED, BriefVersion.Status.RENDERING]
    ).update(status=BriefVersion.Status.RENDERING, progress=5)
    if not claimed:
        return
    package = version.package
    storage = BriefVersion._meta.get_field("pdf").storage
    stored = []
    try:
        _scan_unscanned_exhibits(package)
        # The brief speaks the receiving government's language, whoever asked for it.
        with translation.override(package.language):
            content = briefs.assemble(package, version.number)
            content.signing_key = signing.current_fingerprint()
            _progress(version, 30)
            pdf = briefs.render_pdf(content)
            pages = len(PdfReader(io.BytesIO(pdf)).pages)
        pdf = signing.sign_pdf(
            pdf, reason=f"Brief {package.reference} v{version.number} for {package.recipient}"
        )
        pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        _progress(version, 70)
        extra = {"keys.json": signing.keys_json(), **signing.verifier_files()}
        files = briefs.bundle_files(content, pdf, extra)
        head = briefs.audit_head()
        manifest = briefs.manifest_json(
            briefs.manifest(content, pdf_sha256, files=files, audit_head=head)
        )
        signature = signing.sign_manifest(manifest)
        prefix = f"briefs/{package.reference}/v{version.number}-{uuid.uuid4().hex[:8]}"
        stored.append(storage.save(f"{prefix}/brief.pdf", ContentFile(pdf)))
        stored.append(storage.save(f"{prefix}/manifest.json", ContentFile(manifest)))
        bundle_path = briefs.temporary_bundle_path()
        try:
            briefs.write_bundle(bundle_path, manifest, signature, files)
            with bundle_path.open("rb") as handle:
                bundle_sha256 = briefs.hash_stream(handle)
                handle.seek(0)
                stored.append(storage.save(f"{prefix}/bundle.zip", File(handle)))
        finally:
            bundle_path.unlink(missing_ok=True)
        _progress(version, 95)
        with transaction.atomic(durable=True):
            current = BriefVersion.objects.select_for_update().get(pk=version.pk)
            if current.status == BriefVersion.Status.DONE:  # another run finished first
                for name in stored:
                    storage.delete(name)
                return
            current.pdf.name, current.manifest.name, current.bundle.name = stored
            current.manifest_signature = signature.decode()
            current.signing_key = content.signing_key
            current.pdf_sha256 = pdf_sha256
            current.manifest_sha256 = hashlib.sha256(manifest).hexdigest()
            current.bundle_sha256 = bundle_sha256
            current.pages = pages
            current.exhibits = len(content.exhibits)
            current.withheld = content.withheld
            current.warnings = content.warnings
            current.status = BriefVersion.Status.DONE
            current.progress = 100
            current.rendered_at = timezone.now()
            current.error = ""
            current.save()
            locked = Package.objects.select_for_update().get(pk=package.pk)
            if locked.status == Package.Status.READY:  # a re-render leaves the status as it is
                transition(
                    locked, Package.Status.RENDERED, by=None, data={"version": version.number}
                )
            audit.record(
                actor=None,
                action="brief.rendered",
                target=package,
                data={
                    "version": version.number,
                    "pdf_sha256": pdf_sha256,
                    "pages": pages,
                    "exhibits": len(content.exhibits),
                    "withheld": content.withheld,
                    "warnings": content.warnings,
                    "manifest_sha256": current.manifest_sha256,
                    "signing_key": content.signing_key,
                    "audit_head": head,
                    "timestamped": json.loads(signature)["timestamp"] is not None,
                },
            )
    except Exception as error:
        for name in stored:
            storage.delete(name)
        BriefVersion.objects.filter(pk=version.pk).exclude(status=BriefVersion.Status.DONE).update(
            status=BriefVersion.Status.FAILED, error=f"{type(error).__name__}: {error}"
        )
        raise


def record_delivery(
    package: Package,
    version: BriefVersion,
    *,
    by: User,
    delivered_on: date,
    recipient: str,
    channel: str,
    note: str = "",
    recipient_key: RecipientKey | None = None,
) -> Delivery:
    """
    Record that a rendered brief was handed to a government; its approved dossiers move to
    `packaged`, each through the dossier transition (audited, with its timestamp). With a
    recipient key (the package's, or one chosen for this delivery), the bundle is encrypted to
    it (age) and that encrypted file is what the delivery hands over.
    """
    _lead(by)
    if not Package.objects.visible_to(by).filter(pk=package.pk).exists():
        raise PermissionDenied
    key = recipient_key or package.recipient_key
    if package.recipient_key_id and key.pk != package.recipient_key_id:
        raise ValidationError(
            _("This package leaves the portal only encrypted to %(key)s.")
            % {"key": package.recipient_key}
        )
    if key is not None and not key.active:
        raise ValidationError(_("That recipient key is no longer active."))
    encrypted = _encrypt_bundle(version, key) if key is not None else None
    try:
        return _record_delivery(
            package, version, by=by, delivered_on=delivered_on, recipient=recipient,
            channel=channel, note=note, key=key, encrypted=encrypted,
        )  # fmt: skip
    except BaseException:
        if encrypted is not None:
            Delivery._meta.get_field("encrypted_bundle").storage.delete(encrypted[0])
        raise


def _encrypt_bundle(version: BriefVersion, key: RecipientKey) -> tuple[str, str]:
    """Encrypt the version's bundle to `key` into storage; return (name, SHA-256 of it)."""
    import pyrage

    if version.status != BriefVersion.Status.DONE:
        raise ValidationError(_("Only a rendered version of this package can be delivered."))
    storage = Delivery._meta.get_field("encrypted_bundle").storage
    target = briefs.temporary_bundle_path()
    try:
        with version.bundle.open("rb") as source, target.open("wb") as out:
            pyrage.encrypt_io(source, out, [pyrage.x25519.Recipient.from_str(key.public_key)])
        with target.open("rb") as handle:
            digest = briefs.hash_stream(handle)
            handle.seek(0)
            name = storage.save(
                f"deliveries/{version.package.reference}/v{version.number}-"
                f"{uuid.uuid4().hex[:8]}/bundle.zip.age",
                File(handle),
            )
    finally:
        target.unlink(missing_ok=True)
    return name, digest


@transaction.atomic(durable=True)
def _record_delivery(
    package, version, *, by, delivered_on, recipient, channel, note, key, encrypted
) -> Delivery:
    package = _lock(package, by=by)
    version = BriefVersion.objects.filter(pk=version.pk).first()
    if (
        version is None
        or version.package_id != package.pk
        or version.status != BriefVersion.Status.DONE
    ):
        raise ValidationError(_("Only a rendered version of this package can be delivered."))
    if not package.can_move_to(Package.Status.DELIVERED):
        raise ValidationError(_("This package cannot be delivered in its present state."))
    if package.recipient_key_id and (key is None or key.pk != package.recipient_key_id):
        raise ValidationError(_("The package's recipient key changed: deliver again."))
    delivery = Delivery.objects.create(
        package=package,
        version=version,
        delivered_on=delivered_on,
        recipient=recipient,
        channel=channel,
        note=note,
        delivered_by=by,
        recipient_key=key,
        key_fingerprint=key.fingerprint if key else "",
        encrypted_bundle=encrypted[0] if encrypted else "",
        encrypted_sha256=encrypted[1] if encrypted else "",
    )
    transition(
        package,
        Package.Status.DELIVERED,
        by=by,
        data={
            "version": version.number,
            "recipient": recipient,
            "channel": channel,
            "encrypted_to": key.fingerprint if key else None,
            "encrypted_sha256": encrypted[1] if encrypted else None,
        },
    )
    approved = (
        Dossier.objects.select_for_update()
        .filter(packages=package, status=Dossier.Status.APPROVED)
        .order_by("pk")
    )
    for dossier in approved:
        dossier_services.transition(
            dossier, Dossier.Status.PACKAGED, by=by, data={"package": package.reference}
        )
        dossier.save(update_fields=["status", "status_changed_at", "updated_at"])
    return delivery


@transaction.atomic
def register_recipient_key(
    *, recipient: str, label: str, public_key: str, by: User
) -> RecipientKey:
    """Keep a ministry's age public key, so that briefs can be encrypted to it."""
    _lead(by)
    key = RecipientKey(recipient=recipient, label=label, public_key=public_key.strip(),
                       created_by=by)  # fmt: skip
    key.full_clean()
    key.save()
    audit.record(
        actor=by,
        action="recipient_key.registered",
        target=key,
        data={"recipient": recipient, "fingerprint": key.fingerprint},
    )
    return key


@transaction.atomic
def deactivate_recipient_key(key: RecipientKey, *, by: User) -> RecipientKey:
    """Stop using a ministry's key for new deliveries (it stays named by past ones)."""
    _lead(by)
    RecipientKey.objects.filter(pk=key.pk).update(active=False)
    key.active = False
    audit.record(actor=by, action="recipient_key.deactivated", target=key,
                 data={"fingerprint": key.fingerprint})  # fmt: skip
    return key


@transaction.atomic(durable=True)
def record_response(
    package: Package,
    *,
    by: User,
    response: str,
    response_on: date,
    designated_on: date | None = None,
    note: str = "",
) -> Package:
    """Record what the government answered."""
    return apply_response(
        package,
        by=by,
        response=response,
        response_on=response_on,
        designated_on=designated_on,
        note=note,
    )


def apply_response(
    package: Package,
    *,
    by: User,
    response: str,
    response_on: date,
    designated_on: date | None = None,
    note: str = "",
    designation_date_unknown: bool = False,
) -> Package:
    """
    record_response inside a transaction the caller holds (durable there), for a change that
    records the response together with something else (designations.services).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("apply_response runs inside the caller's transaction.")
    package = _lock(package, by=by)
    if not package.can_move_to(Package.Status.RESPONSE_RECORDED):
        raise ValidationError(_("Record a response only for a delivered package."))
    if response not in Package.Response.values or not response:
        raise ValidationError(_("Choose the government's response."))
    # A list that publishes no listing date (the SDN file) leaves the date unknown: better
    # than the day of an import, which a brief would then print as the designation's date.
    if (
        response == Package.Response.DESIGNATED
        and designated_on is None
        and not designation_date_unknown
    ):
        raise ValidationError(_("Give the date of the designation."))
    package.response, package.response_on = response, response_on
    package.designated_on, package.response_note = designated_on, note
    package.save(
        update_fields=["response", "response_on", "designated_on", "response_note", "updated_at"]
    )
    transition(
        package,
        Package.Status.RESPONSE_RECORDED,
        by=by,
        data={"response": response, "designated_on": designated_on},
    )
    return package


@transaction.atomic
def edit_brief_text(
    *,
    regime: Regime,
    subject: Subject,
    by: User,
    text: str,
    answer: ChecklistAnswer | None = None,
    incident: Incident | None = None,
) -> BriefText | None:
    """
    Word one finding (a checklist answer's text or an incident's narrative) about one subject
    for the briefs of one regime. What the NGO filed is not changed. An empty text removes the
    lead's wording (the brief goes back to the NGO's). Lead reviewers only, on dossiers they
    may work on; audited with the text before and after.
    """
    _lead(by)
    if (answer is None) == (incident is None):
        raise ValidationError(_("Word either a checklist answer or an incident."))
    _reviewable([subject.dossier], by=by)
    owner = answer.dossier_id if answer is not None else incident.dossier_id
    if owner != subject.dossier_id or (answer is not None and answer.regime_id != regime.pk):
        raise ValidationError(_("That finding is not part of this subject's dossier."))
    if incident is not None and not incident.involvements.filter(subject=subject).exists():
        raise ValidationError(_("The subject had no role in that incident."))
    lookup = {"regime": regime, "subject": subject, "answer": answer, "incident": incident}
    current = BriefText.objects.select_for_update().filter(**lookup).first()
    before = current.text if current else None
    text = text.strip()
    if not text:
        if current is not None:
            current.delete()
        result = None
    elif current is None:
        result = BriefText.objects.create(**lookup, text=text, edited_by=by)
    else:
        current.text, current.edited_by = text, by
        current.save(update_fields=["text", "edited_by", "edited_at"])
        result = current
    audit.record(
        actor=by,
        action="brief_text.edited",
        target=subject.dossier,
        data={
            "regime": regime.key,
            "subject": subject.pk,
            "answer": answer.pk if answer else None,
            "incident": incident.pk if incident else None,
            "before": before,
            "after": text or None,
        },
    )
    return result


# Proposing an approved dossier to a government


def package_warnings(package: Package, *, by: User) -> list[str]:
    """
    What the lead should know before this package goes further: a dossier that is already in
    another package for the same regime, a person or organisation the government of the
    regime has already designated. Warnings, not refusals.
    """
    from designations.gaps import designations_of, split_by_government

    warnings = []
    others = Package.objects.filter(regime=package.regime_id).exclude(pk=package.pk)
    for dossier in package.dossiers.order_by("reference"):
        found = list(others.filter(dossiers=dossier).values_list("pk", flat=True))
        if not found:
            continue
        # A package the lead may not see is counted, never named.
        shown = list(
            Package.objects.visible_to(by)
            .filter(pk__in=found)
            .order_by("created_at")
            .values_list("reference", flat=True)
        )
        parts = shown.copy()
        if len(found) > len(shown):
            parts.append(_("%(count)s you cannot see") % {"count": len(found) - len(shown)})
        references = ", ".join(parts)
        warnings.append(
            _("Dossier %(dossier)s is already in another package for %(regime)s: %(packages)s.")
            % {"dossier": dossier.reference, "regime": package.regime.key, "packages": references}
        )
    persons = list(package.persons.order_by("name", "pk"))
    listed = designations_of([p.pk for p in persons])
    for person in persons:
        own, _others = split_by_government(listed.get(person.pk, []), package.regime)
        if own:
            warnings.append(
                _("%(name)s is already designated by this government: %(listings)s.")
                % {
                    "name": person.name,
                    "listings": "; ".join(f"{d.program_key} {d.listing_date_text}" for d in own),
                }
            )
    return warnings


def proposable_regimes(dossier: Dossier):
    """The regimes a dossier may be proposed to: filed for, in force and approved for."""
    if dossier.status not in (Dossier.Status.APPROVED, Dossier.Status.PACKAGED):
        return Regime.objects.none()
    approved_here = RegimeDecision.objects.filter(
        decision__dossier=dossier, regime=OuterRef("pk"), outcome="approved"
    )
    return (
        dossier.target_regimes.filter(status=Regime.Status.ACTIVE)
        .filter(Exists(approved_here))
        .order_by("position")
    )


def draft_packages_for(regime: Regime, *, by: User):
    """Draft packages for `regime` that `by` may extend."""
    return (
        Package.objects.visible_to(by)
        .filter(regime=regime, status=Package.Status.DRAFT)
        .order_by("-created_at")
    )


NEW = "new"


@transaction.atomic
def propose_to_government(
    dossier: Dossier,
    regime: Regime,
    *,
    by: User,
    subjects: dict,
    package: Package | None = None,
) -> Package:
    """
    Put an approved dossier into a draft package for `regime`'s government: `package` (a
    draft for that regime) is extended, or a new one is started. `subjects` maps each subject
    of the dossier to put in the package to its canonical record: the record it is already
    linked to, a record ("person-<id>") or another dossier's subject ("subject-<id>") a
    suggestion named, or NEW. Links go through the matching services (audited); the
    package's contents are checked as any package's are.
    """
    from . import services as review_services

    _lead(by)
    (dossier,) = _reviewable([dossier], by=by)
    check_regime(regime)
    if not proposable_regimes(dossier).filter(pk=regime.pk).exists():
        raise ValidationError(
            _("Dossier %(dossier)s is not approved for %(regime)s."),
            params={"dossier": dossier.reference, "regime": regime.key},
        )
    if not subjects:
        raise ValidationError(_("Choose at least one subject for the package."))
    persons = []
    for subject, choice in subjects.items():
        if subject.dossier_id != dossier.pk:
            raise PermissionDenied
        persons.append(_record_for(subject, choice, by=by, services=review_services))
    if package is None:
        return create_package(regime=regime, persons=persons, dossiers=[dossier], by=by)
    package = _lock(package, by=by)
    if package.status != Package.Status.DRAFT or package.regime_id != regime.pk:
        raise ValidationError(_("Only a draft package for the same regime can be extended."))
    persons = list({p.pk: p for p in [*package.persons.all(), *persons]}.values())
    dossiers = _reviewable([*package.dossiers.all(), dossier], by=by)
    check_contents(regime, persons, dossiers)
    package.persons.set(persons)
    package.dossiers.set(dossiers)
    package.save(update_fields=["updated_at"])
    audit.record(
        actor=by,
        action="package.extended",
        target=package,
        data={"dossier": dossier.reference, "persons": sorted(p.pk for p in persons)},
    )
    return package


def _record_for(subject, choice: str, *, by: User, services) -> Person:
    """The canonical record of `subject`, linking or making it as `choice` says."""
    from submissions.models import Subject

    link = getattr(Subject.objects.select_related("person_link").get(pk=subject.pk),
                   "person_link", None)  # fmt: skip
    if link is not None:
        return link.person
    if choice == NEW:
        return services.create_person(subject, by=by)
    kind, _sep, pk = choice.partition("-")
    if kind == "person" and pk.isdigit():
        person = Person.objects.visible_to(by).filter(pk=int(pk)).first()
        if person is None:
            raise PermissionDenied
        return services.accept_match(subject, by=by, person=person)
    if kind == "subject" and pk.isdigit():
        other = Subject.objects.filter(pk=int(pk)).first()
        if other is None:
            raise PermissionDenied
        return services.accept_match(subject, by=by, other=other)
    raise ValidationError(
        _("Say who %(name)s is: a suggested match or a new record."), params={"name": subject}
    )
