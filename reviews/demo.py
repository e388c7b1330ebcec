"""Demo data for the review site: the demo reviewer and lead are assigned to the demo dossiers."""

from portal.models import User
from submissions.models import Dossier

from . import services
from .models import Assignment
from .querysets import OPEN_STATUSES

REVIEWER_EMAIL = "reviewer@demo.example"
LEAD_EMAIL = "lead@demo.example"
DEMO_ORGANISATION = "demo-ngo"


def seed() -> int:
    """
    Assign the demo reviewer and lead reviewer to every open dossier of the demo NGO, so that
    a reviewer can walk the whole path (queue, verify, score, ask, decide). Idempotent; does
    nothing when the users or dossiers are missing. Returns the number of new assignments.
    """
    lead = User.objects.filter(email__iexact=LEAD_EMAIL).first()
    reviewer = User.objects.filter(email__iexact=REVIEWER_EMAIL).first()
    if lead is None or not lead.is_lead_reviewer:
        return 0
    reviewers = [user for user in (reviewer, lead) if user is not None and user.is_reviewer]
    dossiers = Dossier.objects.filter(
        organisation__slug=DEMO_ORGANISATION, status__in=OPEN_STATUSES
    ).order_by("pk")
    created = 0
    for dossier in dossiers:
        for user in reviewers:
            if Assignment.objects.filter(dossier=dossier, reviewer=user).exists():
                continue
            if services.is_conflicted(user, dossier):
                continue
            services.assign_reviewer(dossier, user, by=lead)
            created += 1
    return created
