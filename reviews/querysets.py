"""
Reads of the review site. Every dossier a reviewer sees starts from Dossier.objects.visible_to;
`dossiers_for_review` narrows it to what belongs in the review site.
"""

from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone

# Where a dossier waits for reviewers; approved, rejected, packaged and withdrawn are done.
OPEN_STATUSES = frozenset({"submitted", "in_review", "information_requested"})


def dossiers_for_review(user):
    """
    Return the dossiers `user` may work on in the review site.

    Starts from `Dossier.objects.visible_to(user)` and narrows it: never a draft, never a
    dossier of an organisation the user belongs to (a conflict of interest), and for a
    reviewer who is not a lead, only dossiers with an assignment they have not recused from.
    """
    from portal.models import Membership
    from submissions.models import Dossier

    from .models import Assignment

    if not user.is_authenticated or not user.is_reviewer:
        return Dossier.objects.none()
    own_organisation = Membership.objects.filter(user=user, organisation=OuterRef("organisation"))
    dossiers = (
        Dossier.objects.visible_to(user)
        .exclude(status=Dossier.Status.DRAFT)
        .exclude(Exists(own_organisation))
    )
    if user.is_lead_reviewer:
        return dossiers
    active = Assignment.objects.active().filter(dossier=OuterRef("pk"), reviewer=user)
    return dossiers.filter(Exists(active))


class AssignmentQuerySet(models.QuerySet):
    def active(self) -> "AssignmentQuerySet":
        """Return assignments the reviewer has not recused from."""
        return self.filter(recused_at__isnull=True)

    def awaiting_review(self) -> "AssignmentQuerySet":
        """Return active assignments on open dossiers whose reviewer has not submitted yet."""
        from .models import Review

        submitted = Review.objects.submitted().filter(
            dossier=OuterRef("dossier"), reviewer=OuterRef("reviewer")
        )
        return self.active().filter(dossier__status__in=OPEN_STATUSES).filter(~Exists(submitted))

    def overdue(self, now=None) -> "AssignmentQuerySet":
        """Return assignments awaiting review past their due time."""
        return self.awaiting_review().filter(due_at__lt=now or timezone.now())


class ReviewQuerySet(models.QuerySet):
    def submitted(self) -> "ReviewQuerySet":
        return self.filter(submitted_at__isnull=False)

    def counted(self) -> "ReviewQuerySet":
        """Return submitted reviews whose author has not recused: these count for a decision."""
        from .models import Assignment

        active = Assignment.objects.active().filter(
            dossier=OuterRef("dossier"), reviewer=OuterRef("reviewer")
        )
        return self.submitted().filter(Exists(active))


class PersonQuerySet(models.QuerySet):
    def visible_to(self, user) -> "PersonQuerySet":
        """Canonical persons are reviewers' working data: reviewers see them, nobody else."""
        if not user.is_authenticated or not user.is_reviewer:
            return self.none()
        return self
