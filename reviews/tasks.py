"""Background work for reviewers (the `default` queue; brief rendering goes to `briefs`)."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mass_mail
from django.utils.translation import gettext as _

from portal.models import LEAD_REVIEWERS_GROUP, User
from submissions.models import Dossier


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
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
