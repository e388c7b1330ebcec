"""
Operations of the transparency app: compute a snapshot of the public statistics, request and
render an oversight report, and gather an organisation's own outcomes for its impact page.
"""

import hashlib
import io
import uuid
from collections import defaultdict
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Min, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from pypdf import PdfReader

from portal import audit
from portal.models import User
from reviews.models import Package
from submissions.models import Dossier, Regime

from . import report, statistics, tasks
from .models import OversightReport, Snapshot


def latest_snapshot() -> Snapshot | None:
    """The snapshot the public page and downloads serve: the newest, and only that."""
    return Snapshot.objects.latest_first().first()


def compute_snapshot(*, until: date | None = None, now=None) -> Snapshot:
    """
    Count and protect the statistics up to `until` (default: the end of last month).

    Safe to run any number of times: if the result is the same as the latest snapshot's, that
    snapshot is returned and nothing is written. Two defences against differencing two
    snapshots to learn about one dossier:

    - the cut-off at a month's end: a daily run publishes a changed figure at most once a
      month, for a month's worth of events;
    - accumulation: new figures are published only when, since the latest snapshot, no
      dossier changed or at least the threshold's number did (submitted, or its regimes,
      year, categories or countries changed), and likewise for packages (delivered, or a
      decision). Until then the latest snapshot's figures stay, and only an organisation
      that withdrew its consent to be named is taken off its list.
    """
    now = now or timezone.now()
    until = until or statistics.previous_month_end(timezone.localdate(now))
    threshold = settings.TRANSPARENCY_THRESHOLD
    facts = statistics.read_facts(until)
    basis = statistics.basis(facts)
    latest = latest_snapshot()
    changed = statistics.changes(latest.basis, basis) if latest is not None else {}
    if latest is not None and any(0 < n < threshold for n in changed.values()):
        listed = set(facts.organisations)
        names = [n for n in latest.data["organisations"] if n in listed]
        if names == latest.data["organisations"]:
            return latest
        data = {**latest.data, "organisations": names}
        until, threshold, basis = latest.until, latest.threshold, latest.basis
    else:
        before = (
            None if latest is None else statistics.previous(latest.data, latest.basis, threshold)
        )
        data = statistics.build(facts, threshold, before)  # seconds, outside the transaction
    fingerprint = statistics.fingerprint(data)
    with transaction.atomic():
        latest = latest_snapshot()
        if latest is not None and latest.fingerprint == fingerprint:
            return latest
        snapshot = Snapshot.objects.create(
            computed_at=now, until=until, threshold=threshold, fingerprint=fingerprint,
            data=data, basis=basis,
        )  # fmt: skip
        audit.record(
            actor=None,
            action="transparency.snapshot_computed",
            target=snapshot,
            data={"until": until, "threshold": threshold, "fingerprint": fingerprint,
                  "changed": changed},
        )  # fmt: skip
    return snapshot


# Oversight reports


@transaction.atomic
def request_oversight_report(
    *, regime: Regime, year: int, language: str, by: User
) -> OversightReport:
    """Queue a report for one regime and year from the latest snapshot (lead reviewers)."""
    if not by.is_lead_reviewer:
        raise PermissionDenied
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Choose a language from the list."))
    if not 2000 <= year <= 2100:
        raise ValidationError(_("Give a year between 2000 and 2100."))
    snapshot = latest_snapshot()
    if snapshot is None:
        raise ValidationError(
            _("There are no published statistics yet: the daily snapshot has not run.")
        )
    created = OversightReport.objects.create(
        regime=regime, year=year, language=language, snapshot=snapshot, requested_by=by
    )
    audit.record(
        actor=by,
        action="oversight_report.requested",
        target=created,
        data={"regime": regime.key, "year": year, "language": language, "snapshot": snapshot.pk},
    )
    tasks.render_oversight_report.delay_on_commit(created.pk)
    return created


def render_oversight_report(oversight: OversightReport) -> None:
    """
    Render a queued report to PDF in the default storage.

    Safe to run twice: the run that claims the report renders it; a run that finds it done
    (or claimed and finished by another) leaves it as it is and deletes any file of its own.
    """
    claimed = OversightReport.objects.filter(
        pk=oversight.pk,
        status__in=[OversightReport.Status.QUEUED, OversightReport.Status.RENDERING],
    ).update(status=OversightReport.Status.RENDERING)
    if not claimed:
        return
    storage = OversightReport._meta.get_field("pdf").storage
    stored = None
    try:
        pdf = report.render_pdf(report.assemble(oversight))
        digest = hashlib.sha256(pdf).hexdigest()
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        name = f"oversight/{oversight.regime.key}-{oversight.year}-{oversight.language}"
        stored = storage.save(f"{name}-{uuid.uuid4().hex[:12]}.pdf", ContentFile(pdf))
        with transaction.atomic():
            current = OversightReport.objects.select_for_update().get(pk=oversight.pk)
            if current.status == OversightReport.Status.DONE:  # another run finished first
                storage.delete(stored)
                return
            current.pdf.name = stored
            current.pdf_sha256, current.pages = digest, pages
            current.status, current.error = OversightReport.Status.DONE, ""
            current.rendered_at = timezone.now()
            current.save()
            audit.record(
                actor=None,
                action="oversight_report.rendered",
                target=current,
                data={"pdf_sha256": digest, "pages": pages},
            )
    except Exception as error:
        if stored:
            storage.delete(stored)
        OversightReport.objects.filter(pk=oversight.pk).exclude(
            status=OversightReport.Status.DONE
        ).update(status=OversightReport.Status.FAILED, error=f"{type(error).__name__}: {error}")
        raise


# An organisation's own outcomes

STATUS_BUCKETS = {
    "submitted": "in_review",
    "in_review": "in_review",
    "information_requested": "in_review",
    "approved": "approved",
    "packaged": "approved",
}


def organisation_impact(user: User) -> dict:
    """
    The outcomes of the dossiers of `user`'s own organisations, per year and per dossier.

    Starts from Dossier.objects.visible_to(user) and keeps only their organisations' dossiers
    (a reviewer sees others' dossiers in the review site, not here). Three queries.
    """
    dossiers = list(
        Dossier.objects.visible_to(user)
        .filter(organisation__memberships__user=user, submitted_at__isnull=False)
        .select_related("organisation")
        .prefetch_related(
            "target_regimes",
            Prefetch(
                "packages",
                queryset=Package.objects.filter(deliveries__isnull=False)
                .annotate(first_delivery=Min("deliveries__delivered_on"))
                .select_related("regime")
                .order_by("first_delivery"),
            ),
        )
        .order_by("-submitted_at")
        .distinct()
    )
    years: dict = defaultdict(lambda: defaultdict(int))
    rows = []
    for dossier in dossiers:
        year = timezone.localtime(dossier.submitted_at).year
        counts = years[year]
        counts["submitted"] += 1
        counts[STATUS_BUCKETS.get(dossier.status, dossier.status)] += 1
        outcomes = []
        for package in dossier.packages.all():
            decided_on = package.response_on or package.designated_on
            outcome = package.response if package.response in ("designated", "declined") else ""
            days = (decided_on - package.first_delivery).days if outcome and decided_on else None
            outcomes.append(
                {
                    "regime": package.regime,
                    "delivered_on": package.first_delivery,
                    "outcome": outcome,
                    "response": package.get_response_display() if package.response else "",
                    "decided_on": decided_on if outcome else None,
                    "days": days,
                }
            )
        if outcomes:
            counts["delivered"] += 1
        if any(o["outcome"] == "designated" for o in outcomes):
            counts["designated"] += 1
        rows.append({"dossier": dossier, "year": year, "outcomes": outcomes})
    columns = ["submitted", "in_review", "approved", "rejected", "withdrawn", "delivered",
               "designated"]  # fmt: skip
    per_year = [
        {"year": year, **dict.fromkeys(columns, 0), **counts}
        for year, counts in sorted(years.items())
    ]
    return {"dossiers": rows, "years": per_year}
