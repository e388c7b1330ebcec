"""
Every operation of the designations app that changes state: importing a list, screening,
a reviewer's answer to a candidate, flagging a package whose request came true and recording
it, and starting a package for a gap. Views, admin, commands and tasks call these.
"""

import hashlib
import logging
import os
import tempfile
import urllib.request
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from portal.models import User
from reviews import packages
from reviews.models import Package, Person
from reviews.querysets import dossiers_for_review
from submissions.models import Regime, Subject

from . import importer, screening, tasks
from .models import Designation, Format, ImportRun, PackageOutcome, ScreeningMatch
from .parsers import DEFAULT_SOURCES

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
FETCH_TIMEOUT = 120


# Import


def is_url(location: str) -> bool:
    return urlparse(location).scheme in ("http", "https")


def download(url: str) -> tuple[Path, str]:
    """Stream `url` to a temporary file; return its path and SHA-256."""
    if not is_url(url):
        raise ValidationError(_("Only http and https addresses can be fetched."))
    digest = hashlib.sha256()
    handle = tempfile.NamedTemporaryFile(prefix="designations-", delete=False)  # noqa: SIM115
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "magnitsky-portal"})  # noqa: S310
        # The scheme is checked above: http or https only, never file: or ftp:.
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310  # nosec B310
            while chunk := response.read(CHUNK):
                digest.update(chunk)
                handle.write(chunk)
    except BaseException:
        handle.close()
        os.unlink(handle.name)
        raise
    handle.close()
    return Path(handle.name), digest.hexdigest()


def import_designations(
    *,
    format: str,
    location: str,
    source: str = "",
    by: User | None = None,
    only_if_changed: bool = False,
    screen: bool = True,
) -> ImportRun | None:
    """
    Import a published list (a path, or an http(s) URL fetched first) into its source.

    Re-importing the same file changes nothing; what a newer file of the same source no longer
    holds is recorded as delisted. With `only_if_changed`, a file whose SHA-256 is that of the
    source's last completed import is not read again (returns None).
    """
    if format not in Format.values:
        raise ValidationError(
            _("Unknown format %(format)s: use one of %(formats)s."),
            params={"format": format, "formats": ", ".join(Format.values)},
        )
    source = source or DEFAULT_SOURCES[format]
    if by is not None and not by.is_lead_reviewer:
        raise PermissionDenied
    if importer.running_elsewhere(source):
        raise ValidationError(
            _("An import of %(source)s is already running."), params={"source": source}
        )
    downloaded = None
    if is_url(location):
        downloaded, sha256 = download(location)
        path = downloaded
    else:
        path = Path(location)
        if not path.is_file():
            raise ValidationError(_("No file at %(path)s."), params={"path": location})
        sha256 = None
    try:
        if only_if_changed:
            sha256 = sha256 or importer_file_sha256(path)
            last = (
                ImportRun.objects.filter(source=source, status=ImportRun.Status.DONE)
                .order_by("-started_at")
                .first()
            )
            if last is not None and last.sha256 == sha256:
                return None
        run = ImportRun.objects.create(
            source=source,
            format=format,
            location=location[:1000],
            bytes_total=path.stat().st_size,
            started_by=by,
            heartbeat_at=timezone.now(),
        )
        importer.run_import(run, path)
    finally:
        if downloaded is not None:
            downloaded.unlink(missing_ok=True)
    with transaction.atomic():
        audit.record(
            actor=by,
            action="designations.imported" if run.status == "done" else "designations.failed",
            target=run,
            data={
                "source": source,
                "format": format,
                "sha256": run.sha256,
                "added": run.added,
                "changed": run.changed,
                "delisted": run.delisted,
                "errors": run.errors,
                "unknown_programs": run.unknown_programs,
                "failure": run.failure,
            },
        )
    if run.status == ImportRun.Status.DONE:
        flag_outcomes(Designation.objects.filter(listed_in_run=run), run=run)
        if screen:
            tasks.screen_everyone.delay()
    return run


def importer_file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_configured_lists() -> list[ImportRun]:
    """Import each list of DESIGNATION_LIST_URLS whose file changed since its last import."""
    runs = []
    for format, url in settings.DESIGNATION_LIST_URLS.items():
        run = import_designations(format=format, location=url, only_if_changed=True)
        if run is not None:
            runs.append(run)
    return runs


# Screening


def _store(candidates: list, **target) -> list[ScreeningMatch]:
    """Keep the candidates of one person or subject; answered ones are left as answered."""
    existing = {m.party_id: m for m in ScreeningMatch.objects.filter(**target)}
    kept = []
    for candidate in candidates:
        match = existing.get(candidate.party.pk)
        fields = {
            "score": candidate.score,
            "name_score": candidate.name_score,
            "reasons": candidate.reasons,
        }
        if match is None:
            match = ScreeningMatch.objects.create(party=candidate.party, **target, **fields)
        elif match.status == ScreeningMatch.Status.PENDING:
            for name, value in fields.items():
                setattr(match, name, value)
            match.save(update_fields=[*fields, "updated_at"])
        kept.append(match.party_id)
    ScreeningMatch.objects.filter(status=ScreeningMatch.Status.PENDING, **target).exclude(
        party_id__in=kept
    ).delete()
    return list(
        ScreeningMatch.objects.filter(**target).select_related("party").order_by("status", "-score")
    )


def record_matches(person_id: int) -> Q:
    """The screening matches of a canonical record: its own and its linked subjects'."""
    return Q(person_id=person_id) | Q(subject__person_link__person_id=person_id)


def settle_record(person_id: int | None) -> int:
    """
    A party confirmed for a canonical record (on the record or on any subject linked to it) is
    not asked again for that record: pending matches of the same party on the record and its
    other subjects are removed. Returns how many.
    """
    if person_id is None:
        return 0
    matches = ScreeningMatch.objects.filter(record_matches(person_id))
    confirmed = matches.filter(status=ScreeningMatch.Status.CONFIRMED).values("party_id")
    deleted, _rows = matches.filter(
        status=ScreeningMatch.Status.PENDING, party_id__in=confirmed
    ).delete()
    return deleted


@transaction.atomic
def screen_person(person: Person) -> list[ScreeningMatch]:
    """Screen a canonical person (with its linked subjects' details) against designations."""
    _store(screening.candidates(screening.profile_of_person(person)), person=person)
    settle_record(person.pk)
    return list(
        ScreeningMatch.objects.filter(person=person)
        .select_related("party")
        .order_by("status", "-score")
    )


@transaction.atomic
def screen_subject(subject: Subject) -> list[ScreeningMatch]:
    """Screen one subject of a dossier against designations."""
    _store(screening.candidates(screening.profile_of_subject(subject)), subject=subject)
    link = getattr(subject, "person_link", None)
    settle_record(link.person_id if link else None)
    return list(
        ScreeningMatch.objects.filter(subject=subject)
        .select_related("party")
        .order_by("status", "-score")
    )


def screen_dossier(dossier_id: int) -> int:
    """Screen the subjects of a dossier (on submission)."""
    subjects = Subject.objects.filter(dossier_id=dossier_id).prefetch_related("documents")
    for subject in subjects:
        screen_subject(subject)
    return len(subjects)


def screen_everyone() -> int:
    """Screen every canonical person, and every subject of a filed dossier not yet linked."""
    count = 0
    for person in Person.objects.order_by("pk").iterator(chunk_size=200):
        screen_person(person)
        count += 1
    subjects = (
        Subject.objects.exclude(dossier__status="draft")
        .filter(person_link__isnull=True)
        .prefetch_related("documents")
        .order_by("pk")
    )
    for subject in subjects.iterator(chunk_size=200):
        screen_subject(subject)
        count += 1
    return count


def matches_visible_to(user: User) -> QuerySet[ScreeningMatch]:
    """Screening matches of the persons and subjects `user` may see in the review site."""
    if not user.is_authenticated or not user.is_reviewer:
        return ScreeningMatch.objects.none()
    return ScreeningMatch.objects.filter(
        Q(person__in=Person.objects.visible_to(user))
        | Q(subject__dossier__in=dossiers_for_review(user))
    )


@transaction.atomic
def decide_match(match: ScreeningMatch, *, by: User, confirm: bool) -> ScreeningMatch:
    """A reviewer says whether a designated party is the person (or subject) screened."""
    if not matches_visible_to(by).filter(pk=match.pk).exists():
        raise PermissionDenied
    match = ScreeningMatch.objects.select_for_update().select_related("party").get(pk=match.pk)
    status = ScreeningMatch.Status.CONFIRMED if confirm else ScreeningMatch.Status.REJECTED
    if match.status == status:
        return match
    before = match.status
    match.status, match.decided_by, match.decided_at = status, by, timezone.now()
    match.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    audit.record(
        actor=by,
        action="designation.match_confirmed" if confirm else "designation.match_rejected",
        target=match,
        data={
            "party": f"{match.party.source}:{match.party.external_id}",
            "person": match.person_id,
            "subject": match.subject_id,
            "score": match.score,
            "before": before,
        },
    )
    if confirm:
        link = getattr(match.subject, "person_link", None) if match.subject_id else None
        settle_record(match.person_id or (link.person_id if link else None))
        flag_outcomes(Designation.objects.filter(party_id=match.party_id))
    return match


# Outcomes of delivered packages


def confirmed_persons(party_ids: Iterable[int]) -> dict[int, set[int]]:
    """{party id: ids of the canonical persons confirmed as that party (directly or via a
    linked subject)}."""
    rows = ScreeningMatch.objects.filter(
        status=ScreeningMatch.Status.CONFIRMED, party_id__in=list(party_ids)
    ).values_list("party_id", "person_id", "subject__person_link__person_id")
    found: dict[int, set[int]] = defaultdict(set)
    for party_id, person_id, linked_person_id in rows:
        for pk in (person_id, linked_person_id):
            if pk is not None:
                found[party_id].add(pk)
    return found


DELIVERED = (Package.Status.DELIVERED, Package.Status.RESPONSE_RECORDED)


def flag_outcomes(designations: QuerySet[Designation], *, run=None) -> list[PackageOutcome]:
    """
    Flag each delivered package one of whose persons `designations` list under the package's
    regime, on or after its delivery; tell its lead reviewer and the submitting organisations.
    """
    from .gaps import appeared_since_an_import

    designations = list(
        appeared_since_an_import(designations)
        .filter(
            delisted_on__isnull=True,
            regime__isnull=False,
            party__matches__status=ScreeningMatch.Status.CONFIRMED,
        )
        .distinct()
        .select_related("regime")
    )
    if not designations:
        return []
    persons_of = confirmed_persons(d.party_id for d in designations)
    flagged = []
    with transaction.atomic():
        for designation in designations:
            persons = persons_of.get(designation.party_id, set())
            candidates = (
                Package.objects.filter(
                    regime=designation.regime_id, status__in=DELIVERED, persons__in=persons
                )
                .exclude(response=Package.Response.DESIGNATED)
                .annotate(delivered_on=Min("deliveries__delivered_on"))
                .distinct()
            )
            if designation.listing_date is None and not designation.appeared_since_an_import:
                continue  # undated and in its list's first import: it may long predate us
            for package in candidates:
                if package.delivered_on and designation.listed_by < package.delivered_on:
                    continue  # listed before the package was delivered: not its outcome
                person = package.persons.filter(pk__in=persons).order_by("pk").first()
                outcome, created = PackageOutcome.objects.get_or_create(
                    package=package,
                    designation=designation,
                    defaults={"person": person, "run": run},
                )
                if created:
                    audit.record(
                        actor=None,
                        action="package.designation_detected",
                        target=package,
                        data={
                            "program": designation.program_key,
                            "reference": designation.reference,
                            "listed_on": designation.listed_on,
                            "person": person.pk,
                        },
                    )
                    tasks.notify_package_outcome.delay_on_commit(outcome.pk)
                    flagged.append(outcome)
    return flagged


@transaction.atomic(durable=True)
def record_designated(outcome: PackageOutcome, *, by: User) -> Package:
    """Record, in one click, that the government designated the package's person."""
    if not by.is_lead_reviewer:
        raise PermissionDenied
    outcome = (
        PackageOutcome.objects.select_for_update()
        .select_related("designation", "package")
        .filter(pk=outcome.pk, package__in=Package.objects.visible_to(by))
        .first()
    )
    if outcome is None:
        raise PermissionDenied
    if outcome.recorded_at is not None:
        raise ValidationError(_("This designation was already recorded."))
    designation = outcome.designation
    note = _("Listed under %(program)s, reference %(reference)s (%(source)s), %(date)s.") % {
        "program": designation.program_key,
        "reference": designation.reference or "-",
        "source": designation.source,
        "date": designation.listing_date_text,
    }
    package = packages.apply_response(
        outcome.package,
        by=by,
        response=Package.Response.DESIGNATED,
        response_on=timezone.localdate(),
        designated_on=designation.listing_date,
        designation_date_unknown=designation.listing_date is None,
        note=note,
    )
    now = timezone.now()
    PackageOutcome.objects.filter(package=package, recorded_at__isnull=True).update(
        recorded_at=now, recorded_by=by
    )
    audit.record(
        actor=by,
        action="package.designation_recorded",
        target=package,
        data={"outcome": outcome.pk, "program": designation.program_key},
    )
    return package


# Gaps


def start_gap_package(*, regime: Regime, persons: Iterable[Person], by: User) -> Package:
    """
    Start a draft package asking `regime`'s government to follow the others: the persons, the
    approved dossiers filed for that regime that concern them, and a cover note listing the
    existing designations.
    """
    from .gaps import designations_of, split_by_government

    if not by.is_lead_reviewer:
        raise PermissionDenied
    persons = list(Person.objects.visible_to(by).filter(pk__in=[p.pk for p in persons]))
    if not persons:
        raise ValidationError(_("Select at least one person."))
    dossiers = (
        dossiers_for_review(by)
        .filter(
            status__in=["approved", "packaged"],
            target_regimes=regime,
            subjects__person_link__person__in=persons,
        )
        .distinct()
    )
    packages.check_regime(regime)
    existing = designations_of([p.pk for p in persons])
    lines = [_("Already designated by other governments:")]
    for person in persons:
        _own, others = split_by_government(existing.get(person.pk, []), regime)
        listed = [
            f"{d.program_key} {d.listing_date_text} ({d.reference or d.source})" for d in others
        ]
        lines.append(f"- {person.name}: {'; '.join(listed) or '-'}")
    return packages.create_package(
        regime=regime,
        persons=persons,
        dossiers=list(dossiers),
        by=by,
        cover_note="\n".join(lines),
    )
