"""
Background work for reviewers: emails on the `default` queue (brief rendering goes to `briefs`).

Each task takes ids, fetches the rows again and returns quietly if they have gone; the emails
themselves are written in notifications.py. Every email task claims its sending first
(`sends_once`), so that a task the broker delivers twice sends its emails once.
"""

import functools
from datetime import timedelta

from celery import shared_task
from django.db import IntegrityError, transaction
from django.utils import timezone

from submissions.models import Dossier

from . import notifications
from .models import Assignment, NotificationClaim

RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}

# How long a claim protects a sending in progress. A task that finds a younger claim without a
# sent_at comes back after this long: if the first worker died before sending, it sends then.
CLAIM_TIMEOUT = timedelta(minutes=10)


class SendingInProgress(Exception):
    """Another run of the same task holds the claim and has not finished."""


def claim_sending(key: str, task: str, now) -> bool:
    """
    Claim the sending of task run `key`: True if this run should send, False if it was sent.

    Raises SendingInProgress while another run holds a claim younger than CLAIM_TIMEOUT; an
    older unfinished claim is taken over (its worker died), by compare-and-swap.
    """
    try:
        with transaction.atomic():
            NotificationClaim.objects.create(key=key, task=task, claimed_at=now)
        return True
    except IntegrityError:
        pass
    claim = NotificationClaim.objects.get(key=key)
    if claim.sent_at is not None:
        return False
    if claim.claimed_at > now - CLAIM_TIMEOUT:
        raise SendingInProgress(key)
    return bool(
        NotificationClaim.objects.filter(
            pk=claim.pk, sent_at__isnull=True, claimed_at=claim.claimed_at
        ).update(claimed_at=now)
    )


def sends_once(function):
    """
    Run a bound email task at most once per task id: claim, send, mark sent.

    A failed sending gives its claim back, so that the retry (same task id) sends; a run that
    finds another in progress retries after CLAIM_TIMEOUT. Called without a task id (directly,
    not through Celery), it simply sends.
    """

    @functools.wraps(function)
    def wrapper(self, *args, **kwargs):
        key = getattr(self.request, "id", None)
        if not key:
            return function(self, *args, **kwargs)
        now = timezone.now()
        try:
            claimed = claim_sending(key, self.name, now)
        except SendingInProgress as busy:
            raise self.retry(exc=busy, countdown=CLAIM_TIMEOUT.total_seconds()) from None
        if not claimed:
            return 0
        try:
            sent = function(self, *args, **kwargs)
        except BaseException:
            NotificationClaim.objects.filter(key=key, claimed_at=now, sent_at__isnull=True).delete()
            raise
        NotificationClaim.objects.filter(key=key, claimed_at=now).update(sent_at=timezone.now())
        return sent

    return wrapper


@shared_task(bind=True, **RETRY)
@sends_once
def notify_reviewers(self, dossier_id: int) -> int:
    """Tell the lead reviewers that a dossier was submitted (reference only, no content)."""
    dossier = Dossier.objects.filter(pk=dossier_id).select_related("organisation").first()
    if dossier is None:
        return 0
    return notifications.email_submitted(dossier)


@shared_task(bind=True, **RETRY)
@sends_once
def notify_organisation(self, dossier_id: int, event: str) -> int:
    """Email the submitting organisation about a status change or a question."""
    dossier = Dossier.objects.filter(pk=dossier_id).select_related("decision").first()
    if dossier is None:
        return 0
    return notifications.email_organisation(dossier, event)


@shared_task(bind=True, **RETRY)
@sends_once
def notify_assigned_reviewer(self, assignment_id: int) -> int:
    """Email a reviewer about a new assignment."""
    assignment = (
        Assignment.objects.filter(pk=assignment_id, recused_at__isnull=True)
        .select_related("dossier", "reviewer")
        .first()
    )
    if assignment is None:
        return 0
    return notifications.email_assigned_reviewer(assignment)


@shared_task(bind=True, **RETRY)
@sends_once
def notify_lead_reviewers(self, dossier_id: int, event: str) -> int:
    """Email the lead reviewers: a dossier has its reviews, or a reviewer recused."""
    dossier = Dossier.objects.filter(pk=dossier_id).first()
    if dossier is None:
        return 0
    return notifications.email_lead_reviewers(dossier, event)


@shared_task(bind=True, **RETRY)
@sends_once
def notify_information_received(self, dossier_id: int) -> int:
    """Email the reviewers that the organisation answered a question (for the NGO's reply)."""
    dossier = Dossier.objects.filter(pk=dossier_id).first()
    if dossier is None:
        return 0
    return notifications.email_reviewers_answered(dossier)


@shared_task(**RETRY)
def remind_overdue_assignments() -> int:
    """Remind reviewers of overdue reviews (daily, from CELERY_BEAT_SCHEDULE)."""
    return notifications.remind_overdue()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def render_brief(version_id: int) -> None:
    """Render one version of a package's brief (the `briefs` queue); safe to run twice."""
    from . import packages
    from .models import BriefVersion

    version = BriefVersion.objects.filter(pk=version_id).select_related("package").first()
    if version is None:
        return
    packages.render_version(version)
