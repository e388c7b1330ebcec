"""
Reads of the review site. Every dossier a reviewer sees comes from Dossier.objects.visible_to
(through "review", `dossiers_for_review`); every package from Package.objects.visible_to.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

# Where a dossier waits for reviewers; approved, rejected, packaged and withdrawn are done.
OPEN_STATUSES = frozenset({"submitted", "in_review", "information_requested"})


def count_together(capped, *others) -> list[int]:
    """
    COUNT(*) of each queryset in one statement: the rows of `capped` (sliced, so counted up to
    its limit), then of each of `others`. Saves a round trip a page where a page shows counts.
    """
    parts, params = [], []
    for queryset in (capped, *others):
        query = queryset if capped is queryset else queryset.order_by().values("pk")
        try:
            sql, part_params = query.query.sql_with_params()
        except EmptyResultSet:  # a filter that can match nothing (queryset.none())
            parts.append("0")
            continue
        # Django's own compiled SQL; its values stay parameters.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted_{len(parts)})")  # noqa: S608  # nosec B608
        params += part_params
    with connections[capped.db].cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)  # nosec B608
        return list(cursor.fetchone())


def dossiers_for_review(user):
    """
    Return the dossiers `user` may work on in the review site: the review side of the one
    rule, `Dossier.objects.visible_to(user, through="review")` (never a draft, never their own
    organisation's, and for a reviewer who is not a lead only with an assignment they have not
    recused from).
    """
    from submissions.models import Dossier

    return Dossier.objects.visible_to(user, through="review")


def dossiers_for_triage(user, *, needed: int):
    """
    Return the dossiers `user` may claim from triage: open dossiers with fewer active
    reviewers than a decision needs (`needed`), which the user is not assigned to, has not
    recused from, and whose organisation they do not belong to (a conflict of interest).

    Triage shows only what a reviewer needs to choose (title, governments, categories), never
    exhibits, sources or witnesses: claiming is what opens the dossier through
    `dossiers_for_review`.
    """
    from portal.models import Membership
    from submissions.models import Dossier

    from .models import Assignment

    if not user.is_authenticated or not user.is_reviewer:
        return Dossier.objects.none()
    active_count = (
        Assignment.objects.active()
        .filter(dossier=OuterRef("pk"))
        .order_by()
        .values("dossier")
        .annotate(n=models.Count("pk"))
        .values("n")
    )
    member = Membership.objects.filter(organisation=OuterRef("organisation"), user=user)
    own = Assignment.objects.filter(dossier=OuterRef("pk"), reviewer=user)  # recused ones too
    return (
        Dossier.objects.filter(status__in=OPEN_STATUSES)
        .filter(~Exists(member), ~Exists(own))
        .annotate(
            active_reviewers=Coalesce(Subquery(active_count, output_field=models.IntegerField()), 0)
        )
        .filter(active_reviewers__lt=needed)
    )


class PackageQuerySet(models.QuerySet):
    def visible_to(self, user) -> "PackageQuerySet":
        """
        Return the packages `user` may see and act on: a lead reviewer's, and only those every
        dossier of which the lead may see in the review site. A lead who belongs to an
        organisation that filed one of its dossiers never reaches the package.
        """
        if not user.is_authenticated or not user.is_lead_reviewer:
            return self.none()
        from .models import Package

        hidden = Package.dossiers.through.objects.filter(package=OuterRef("pk")).exclude(
            dossier__in=dossiers_for_review(user)
        )
        return self.filter(~Exists(hidden))


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


def approved_for(regime, dossiers=None):
    """
    Return the dossiers (of `dossiers`, by default all) approved for `regime`: decided
    approved or packaged, and approved for this regime by its RegimeDecision. A dossier
    approved for Canada but rejected for the EU never goes into an EU package.
    """
    from submissions.models import Dossier

    from .models import RegimeDecision

    approved_here = RegimeDecision.objects.filter(
        decision__dossier=OuterRef("pk"), regime=regime, outcome="approved"
    )
    dossiers = Dossier.objects.all() if dossiers is None else dossiers
    return dossiers.filter(status__in=("approved", "packaged")).filter(Exists(approved_here))


# What a government brief may say from the NGO's checklist answers.

# The answers that become parts of a brief, by criterion: an allow-list, so that a criterion
# added to the checklist stays out of every brief until someone decides where it belongs.
BRIEF_SECTIONS = {
    "conduct-category": "assessment",
    "conduct-threshold": "assessment",
    "subject-role": "assessment",
    "subject-official-status": "assessment",
    "victim-status": "assessment",
    "corroboration": "corroboration",
    "exculpatory": "contrary",
    "domestic-remedies": "remedies",
    "jurisdiction-link": "jurisdiction",
    "existing-designations": "designations",
    "policy-interest": "policy",
    "public-summary": "reasons",
}
# Never in a brief or a manifest, whatever the lists above say (domain.md R7-R9).
NEVER_EXPORTED = frozenset({"safety-assessment", "victim-consent", "redaction", "submitter-info"})


def answers_for_export(*, regime, dossier_ids, withheld_evidence_ids):
    """
    Return the checklist answers a brief for `regime` may quote: the one rule for what exports.

    An answer exports when the NGO claimed it met or partly met, the settled verification
    (`answer.verification.status`) is "verified", its criterion is in BRIEF_SECTIONS and not
    in NEVER_EXPORTED, and none of its evidence is withheld from this government (text that
    rests on a source who did not consent stays out with the source). Disputed, insufficient
    and unverified answers never export.
    """
    from submissions.models import ChecklistAnswer

    allowed = set(BRIEF_SECTIONS) - NEVER_EXPORTED
    return (
        ChecklistAnswer.objects.filter(
            dossier_id__in=dossier_ids,
            regime=regime,
            status__in=[ChecklistAnswer.Status.MET, ChecklistAnswer.Status.PARTLY],
            verification__status="verified",
            criterion__code__in=allowed,
        )
        .exclude(evidence__in=list(withheld_evidence_ids))
        .select_related("criterion", "verification")
        .prefetch_related("evidence")
        .order_by("criterion__position", "dossier_id", "pk")
    )
