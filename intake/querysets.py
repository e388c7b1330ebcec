from django.db import models
from django.db.models import Exists, OuterRef, Q


class IntakeQuerySet(models.QuerySet):
    def visible_to(self, user) -> "IntakeQuerySet":
        """
        Return the reports `user` may see: every view, admin page and download starts here.

        Members see the reports sent to their organisation. Lead reviewers (the portal's
        coordinators) see only the reports nobody was chosen for, so that they can route them.
        """
        if not user.is_authenticated or not user.is_active:
            return self.none()
        from portal.models import Membership

        rule = Q(
            Exists(Membership.objects.filter(organisation=OuterRef("organisation"), user=user))
        )
        if user.is_lead_reviewer:
            rule |= Q(organisation__isnull=True)
        return self.filter(rule)

    def purgeable(self, now) -> "IntakeQuerySet":
        """Reports nobody answered or adopted before their time ran out."""
        return self.filter(purge_after__lt=now)
