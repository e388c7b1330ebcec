"""The packages part of a dossier's review page: its packages, and "propose to government X"."""

from django import template

from reviews import packages
from reviews.models import Package

register = template.Library()


@register.inclusion_tag("admin/reviews/package/_propose.html", takes_context=True)
def dossier_packages(context, dossier):
    """For a lead reviewer: the packages the dossier is in, and the regimes to propose it to."""
    user = context["request"].user
    if not getattr(user, "is_lead_reviewer", False):
        return {"show": False}
    return {
        "show": True,
        "dossier": dossier,
        "dossier_packages": Package.objects.visible_to(user)
        .filter(dossiers=dossier)
        .select_related("regime")
        .order_by("created_at"),
        "proposable_regimes": packages.proposable_regimes(dossier),
    }
