"""
Emails of outcome tracking: a government designated the person a delivered package asked for.

As in reviews.notifications, emails name dossiers and packages by reference only; the regime
and the listing date are public facts.
"""

from django.conf import settings
from django.core.mail import send_mass_mail
from django.utils.translation import gettext as _

from portal.models import User

from .models import PackageOutcome


def _send(subject: str, body: str, recipients) -> int:
    messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, [email]) for email in recipients]
    return send_mass_mail(messages, fail_silently=False) if messages else 0


def email_package_outcome(outcome: PackageOutcome) -> int:
    package, designation = outcome.package, outcome.designation
    context = {
        "package": package.reference,
        "regime": package.regime.key,
        "listed_on": designation.listing_date_text,
    }
    sent = 0
    lead = package.created_by
    if lead.is_active:
        subject = _("Package %(package)s: a person was designated under %(regime)s") % context
        body = (
            _(
                "The published list now designates a person of package %(package)s under "
                "%(regime)s (listed %(listed_on)s). Open the package in the review site to record "
                "the government's response in one click."
            )
            % context
        )
        sent += _send(subject, body + "\n", [lead.email])
    dossiers = list(package.dossiers.values_list("organisation_id", "reference"))
    for organisation_id, reference in dossiers:
        emails = list(
            User.objects.filter(is_active=True, memberships__organisation=organisation_id)
            .order_by("email")
            .values_list("email", flat=True)
            .distinct()
        )
        context["reference"] = reference
        subject = _("A subject of dossier %(reference)s was designated under %(regime)s") % context
        body = (
            _(
                "A government has designated a person your dossier %(reference)s concerns, under "
                "%(regime)s (listed %(listed_on)s). Sign in to the portal to see your dossiers' "
                "designations."
            )
            % context
        )
        sent += _send(subject, body + "\n", emails)
    return sent
