from datetime import timedelta

from django.db import models
from django.db.models import Exists, OuterRef, Q


class DossierQuerySet(models.QuerySet):
    def visible_to(self, user) -> "DossierQuerySet":
        """Return the dossiers `user` may see: every view, admin page and export starts here."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        from portal.models import Membership
        from reviews.models import Assignment

        # Members see their organisation's dossiers, drafts included.
        rule = Q(
            Exists(Membership.objects.filter(organisation=OuterRef("organisation"), user=user))
        )
        # Reviewers never see drafts: a draft is the NGO's own until it is submitted.
        if user.is_lead_reviewer:
            rule |= ~Q(status="draft")
        elif user.is_reviewer:
            assigned = Assignment.objects.filter(dossier=OuterRef("pk"), reviewer=user)
            rule |= Q(Exists(assigned)) & ~Q(status="draft")
        return self.filter(rule)

    def purgeable(self, now, days: int) -> "DossierQuerySet":
        """Withdrawn or rejected dossiers past the retention period and not on legal hold."""
        return self.filter(
            status__in=["withdrawn", "rejected"],
            status_changed_at__lt=now - timedelta(days=days),
            legal_hold=False,
        )


class DossierChildQuerySet(models.QuerySet):
    """For rows that belong to a dossier: visible exactly when their dossier is."""

    def visible_to(self, user):
        from .models import Dossier

        return self.filter(dossier__in=Dossier.objects.visible_to(user))


class EvidenceQuerySet(DossierChildQuerySet):
    def files(self):
        return self.filter(kind="file")


class RegimeQuerySet(models.QuerySet):
    def open_for_submissions(self):
        return self.filter(status="active", accepts_submissions=True)
