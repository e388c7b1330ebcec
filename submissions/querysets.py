from datetime import timedelta

from django.db import models
from django.db.models import Exists, OuterRef, Q

# The ways in to a dossier (DossierQuerySet.visible_to's `through`).
THROUGH_ORGANISATION = "organisation"
THROUGH_REVIEW = "review"


class DossierQuerySet(models.QuerySet):
    def visible_to(self, user, *, through: str | None = None) -> "DossierQuerySet":
        """
        Return the dossiers `user` may see: the one access rule behind every page, download,
        export, API view and package.

        - A member sees their organisations' dossiers, drafts included.
        - A lead reviewer sees every dossier past draft; a reviewer, those past draft with an
          assignment they have not recused from.
        - Nobody sees a dossier through the review role when they belong to the organisation
          that filed it (a conflict of interest): they see it as a member only.

        `through` keeps one way in: "organisation" for the NGO's pages and the API, "review"
        for the review site, packages and briefs.
        """
        if through not in (None, THROUGH_ORGANISATION, THROUGH_REVIEW):
            raise ValueError(f"Unknown way in: {through!r}")
        if not user.is_authenticated or not user.is_active:
            return self.none()
        from portal.models import Membership
        from reviews.models import Assignment

        member = Q(
            Exists(Membership.objects.filter(organisation=OuterRef("organisation"), user=user))
        )
        if through == THROUGH_ORGANISATION:  # the review role plays no part (nor its query)
            return self.filter(member)
        if user.is_lead_reviewer:
            reviewing = ~member & ~Q(status="draft")
        elif user.is_reviewer:
            active = Assignment.objects.filter(
                dossier=OuterRef("pk"), reviewer=user, recused_at__isnull=True
            )
            reviewing = ~member & ~Q(status="draft") & Q(Exists(active))
        else:
            reviewing = None
        if through == THROUGH_ORGANISATION:
            return self.filter(member)
        if through == THROUGH_REVIEW:
            return self.filter(reviewing) if reviewing is not None else self.none()
        return self.filter(member | reviewing if reviewing is not None else member)

    def purgeable(self, now, days: int) -> "DossierQuerySet":
        """Withdrawn or rejected dossiers past the retention period and not on legal hold."""
        return self.filter(
            status__in=["withdrawn", "rejected"],
            status_changed_at__lt=now - timedelta(days=days),
            legal_hold=False,
        )


class DossierChildQuerySet(models.QuerySet):
    """For rows that belong to a dossier: visible exactly when their dossier is."""

    def visible_to(self, user, *, through: str | None = None):
        from .models import Dossier

        return self.filter(dossier__in=Dossier.objects.visible_to(user, through=through))


class EvidenceQuerySet(DossierChildQuerySet):
    def files(self):
        return self.filter(kind="file")


class RegimeQuerySet(models.QuerySet):
    def open_for_submissions(self):
        return self.filter(status="active", accepts_submissions=True)
