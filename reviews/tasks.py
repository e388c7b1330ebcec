"""
Background work for reviewers: emails on the `default` queue (brief rendering goes to `briefs`).

Each task takes ids, fetches the rows again and returns quietly if they have gone; the emails
themselves are written in notifications.py.
"""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mass_mail
from django.utils.translation import gettext as _

from portal.models import LEAD_REVIEWERS_GROUP, User
from submissions.models import Dossier

from . import notifications
from .models import Assignment

RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}


@shared_task(**RETRY)
def notify_reviewers(dossier_id: int) -> int:
    """Tell the lead reviewers that a dossier was submitted (reference only, no content)."""
    dossier = Dossier.objects.filter(pk=dossier_id).select_related("organisation").first()
    if dossier is None:
        return 0
    recipients = User.objects.filter(is_active=True, groups__name=LEAD_REVIEWERS_GROUP).values_list(
        "email", flat=True
    )
    subject = _("Dossier %(reference)s was submitted") % {"reference": dossier.reference}
    body = _(
        "Dossier %(reference)s from %(organisation)s is waiting in the review queue.\n"
        "Sign in to the review site to assign it."
    ) % {"reference": dossier.reference, "organisation": dossier.organisation.name}
    messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, [email]) for email in recipients]
    return send_mass_mail(messages, fail_silently=False)


@shared_task(**RETRY)
def notify_organisation(dossier_id: int, event: str) -> int:
    """Email the submitting organisation about a status change or a question."""
    dossier = Dossier.objects.filter(pk=dossier_id).select_related("decision").first()
    if dossier is None:
        return 0
    return notifications.email_organisation(dossier, event)


@shared_task(**RETRY)
def notify_assigned_reviewer(assignment_id: int) -> int:
    """Email a reviewer about a new assignment."""
    assignment = (
        Assignment.objects.filter(pk=assignment_id, recused_at__isnull=True)
        .select_related("dossier", "reviewer")
        .first()
    )
    if assignment is None:
        return 0
    return notifications.email_assigned_reviewer(assignment)


@shared_task(**RETRY)
def notify_lead_reviewers(dossier_id: int, event: str) -> int:
    """Email the lead reviewers: a dossier has its reviews, or a reviewer recused."""
    dossier = Dossier.objects.filter(pk=dossier_id).first()
    if dossier is None:
        return 0
    return notifications.email_lead_reviewers(dossier, event)


@shared_task(**RETRY)
def notify_information_received(dossier_id: int) -> int:
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
