"""
Emails of outcome tracking: a government designated the person a delivered package asked for.

As in reviews.notifications, emails name dossiers and packages by reference only; the regime
and the listing date are public facts. Each person gets the email in their own language, with
the link to the page it concerns (the package on the review site, or the NGO's dossier page).
"""

from django.urls import reverse
from django.utils.translation import gettext as _

from portal import links
from portal.models import User
from reviews.notifications import _recipients, _send

from .models import PackageOutcome


def email_package_outcome(outcome: PackageOutcome) -> int:
    package, designation = outcome.package, outcome.designation
    package_link = links.absolute(reverse("admin:reviews_package_change", args=[package.pk]))

    def context(**more) -> dict:
        return {
            "package": package.reference,
            "regime": package.regime.key,
            "listed_on": designation.listing_date_text,
            **more,
        }

    def compose_for_lead():
        subject = _("Package %(package)s: a person was designated under %(regime)s") % context()
        body = (
            _(
                "The published list now designates a person of package %(package)s under "
                "%(regime)s (listed %(listed_on)s). Open the package in the review site to record "
                "the government's response in one click."
            )
            % context()
        )
        return subject, f"{body}\n\n{package_link}\n"

    sent = 0
    lead = package.created_by
    if lead.is_active:
        sent += _send(compose_for_lead, [(lead.email, lead.language)])
    for dossier in package.dossiers.order_by("pk"):

        def compose_for_members(dossier=dossier):
            subject = _(
                "A subject of dossier %(reference)s was designated under %(regime)s"
            ) % context(reference=dossier.reference)
            body = _(
                "A government has designated a person your dossier %(reference)s concerns, "
                "under %(regime)s (listed %(listed_on)s). Sign in to the portal to see your "
                "dossiers' designations."
            ) % context(reference=dossier.reference)
            return subject, f"{body}\n\n{links.dossier_for_members(dossier)}\n"

        members = User.objects.filter(
            is_active=True, memberships__organisation=dossier.organisation_id
        )
        sent += _send(compose_for_members, _recipients(members))
    return sent
