"""
Every operation of the review site that changes state. Each runs in one transaction, checks who
may do it and in which state, writes an audit event, and leaves emails to tasks run on commit.

Roles: a reviewer works on the dossiers assigned to them; a lead reviewer assigns, and decides.
Nobody reviews or decides a dossier of an organisation they belong to.
"""

from collections.abc import Iterable, Mapping
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from portal.models import Membership, User
from submissions.models import (
    ChecklistAnswer,
    Dossier,
    Evidence,
    Level,
    RegimeCriterion,
    Source,
    Subject,
)
from submissions.services import TransitionNotAllowed, transition

from . import canonical, rubric, tasks
from .models import (
    Assignment,
    Decision,
    InformationRequest,
    MatchDecision,
    Person,
    Recommendation,
    RegimeDecision,
    Review,
    ReviewerVerification,
    RubricScore,
    SubjectLink,
    Verification,
)
from .querysets import OPEN_STATUSES, dossiers_for_review, dossiers_for_triage

S = Dossier.Status

# While these hold, reviewers verify, score and ask; decisions need `in_review`.
WORKING_STATUSES = frozenset({S.IN_REVIEW, S.INFORMATION_REQUESTED})


def reviews_required() -> int:
    """How many independent, submitted reviews a decision needs (four eyes by default)."""
    return getattr(settings, "REVIEWS_REQUIRED_FOR_DECISION", 2)


def review_due_days() -> int:
    return getattr(settings, "REVIEW_DUE_DAYS", 14)


# Guards


def is_conflicted(user: User, dossier: Dossier) -> bool:
    """A member of the submitting organisation may not assess its dossier."""
    return Membership.objects.filter(user=user, organisation_id=dossier.organisation_id).exists()


def _check_not_conflicted(user: User, dossier: Dossier) -> None:
    if is_conflicted(user, dossier):
        raise PermissionDenied(
            _("You belong to the organisation that filed this dossier: a conflict of interest.")
        )


def _lock(dossier: Dossier, *, by: User) -> Dossier:
    """Reload the dossier locked for update, if `by` may work on it in the review site."""
    if by is None or not by.is_authenticated or not by.is_reviewer:
        raise PermissionDenied
    _check_not_conflicted(by, dossier)
    locked = dossiers_for_review(by).select_for_update().filter(pk=dossier.pk).first()
    if locked is None:
        raise PermissionDenied
    return locked


def _require_lead(user: User) -> None:
    if user is None or not user.is_authenticated or not user.is_lead_reviewer:
        raise PermissionDenied(_("Only a lead reviewer may do this."))


def active_assignment(dossier: Dossier, user: User) -> Assignment | None:
    return Assignment.objects.active().filter(dossier=dossier, reviewer=user).first()


def _require_assignment(dossier: Dossier, user: User) -> Assignment:
    assignment = active_assignment(dossier, user)
    if assignment is None:
        raise PermissionDenied(_("Only a reviewer assigned to this dossier may do this."))
    return assignment


def _require_assigned_or_lead(dossier: Dossier, user: User) -> None:
    if not user.is_lead_reviewer:
        _require_assignment(dossier, user)


def _require_status(dossier: Dossier, statuses: Iterable[str], message: str) -> None:
    if dossier.status not in statuses:
        raise ValidationError(message, code="wrong_status")


def _save_status(dossier: Dossier) -> None:
    dossier.save(update_fields=["status", "status_changed_at", "updated_at"])


# Assignments and conflicts of interest


@transaction.atomic
def assign_reviewer(dossier: Dossier, reviewer: User, *, by: User, due_at=None) -> Assignment:
    """Ask `reviewer` to review `dossier` (lead reviewers only); the reviewer is emailed."""
    _require_lead(by)
    dossier = _lock(dossier, by=by)
    _require_status(
        dossier, OPEN_STATUSES, _("Reviewers can be assigned only while a dossier is open.")
    )
    if not reviewer.is_reviewer:
        raise ValidationError(
            _("%(user)s is not a reviewer."), code="not_reviewer", params={"user": reviewer}
        )
    if is_conflicted(reviewer, dossier):
        raise ValidationError(
            _("%(user)s belongs to the organisation that filed this dossier and cannot review it."),
            code="conflict_of_interest",
            params={"user": reviewer},
        )
    existing = Assignment.objects.filter(dossier=dossier, reviewer=reviewer).first()
    if existing is not None:
        if existing.recused_at is not None:
            raise ValidationError(
                _("%(user)s recused from this dossier."), code="recused", params={"user": reviewer}
            )
        raise ValidationError(
            _("%(user)s is already assigned."), code="already_assigned", params={"user": reviewer}
        )
    due_at = due_at or timezone.now() + timedelta(days=review_due_days())
    assignment = Assignment.objects.create(
        dossier=dossier, reviewer=reviewer, assigned_by=by, due_at=due_at
    )
    audit.record(
        actor=by,
        action="assignment.created",
        target=dossier,
        data={"assignment": assignment.pk, "reviewer": reviewer.pk, "due_at": due_at},
    )
    tasks.notify_assigned_reviewer.delay_on_commit(assignment.pk)
    return assignment


def triage_queue(user: User):
    """The dossiers `user` may claim (querysets.dossiers_for_triage), oldest first."""
    return dossiers_for_triage(user, needed=reviews_required()).order_by("submitted_at", "pk")


@transaction.atomic
def claim_dossier(dossier: Dossier, *, by: User) -> Assignment:
    """
    Take a dossier from triage: `by` becomes one of its reviewers, and the lead reviewers are
    emailed. Refused to a member of the submitting organisation, to a reviewer who recused
    from it, and once the dossier has all the reviewers a decision needs.
    """
    if by is None or not by.is_authenticated or not by.is_reviewer:
        raise PermissionDenied
    # Lock the dossier row first: two reviewers claiming the last place queue here.
    locked = Dossier.objects.select_for_update().filter(pk=dossier.pk).first()
    if locked is None:
        raise PermissionDenied
    if is_conflicted(by, locked):
        raise ValidationError(
            _("You belong to the organisation that filed this dossier: a conflict of interest."),
            code="conflict_of_interest",
        )
    existing = Assignment.objects.filter(dossier=locked, reviewer=by).first()
    if existing is not None:
        if existing.recused_at is not None:
            raise ValidationError(_("You recused from this dossier."), code="recused")
        raise ValidationError(_("You already review this dossier."), code="already_assigned")
    if not triage_queue(by).filter(pk=locked.pk).exists():
        raise ValidationError(
            _("This dossier has all the reviewers it needs, or is no longer open."),
            code="not_in_triage",
        )
    due_at = timezone.now() + timedelta(days=review_due_days())
    assignment = Assignment.objects.create(
        dossier=locked, reviewer=by, assigned_by=by, due_at=due_at
    )
    audit.record(
        actor=by,
        action="assignment.claimed",
        target=locked,
        data={"assignment": assignment.pk, "reviewer": by.pk, "due_at": due_at},
    )
    tasks.notify_lead_reviewers.delay_on_commit(locked.pk, "claimed")
    return assignment


@transaction.atomic
def recuse(dossier: Dossier, *, by: User, reason: str) -> Assignment:
    """Step back from an assigned dossier, with a reason; lead reviewers are told."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give a reason for the recusal."), code="reason_required")
    if not Dossier.objects.filter(pk=dossier.pk, status__in=OPEN_STATUSES).exists():
        raise ValidationError(_("This dossier has been decided."), code="wrong_status")
    assignment = (
        Assignment.objects.select_for_update()
        .active()
        .filter(dossier_id=dossier.pk, reviewer=by)
        .first()
    )
    if assignment is None:
        raise PermissionDenied(_("You are not assigned to this dossier."))
    assignment.recused_at = timezone.now()
    assignment.recusal_reason = reason
    assignment.save(update_fields=["recused_at", "recusal_reason"])
    audit.record(
        actor=by,
        action="assignment.recused",
        target=dossier,
        data={"assignment": assignment.pk, "reason": reason},
    )
    tasks.notify_lead_reviewers.delay_on_commit(dossier.pk, "recused")
    return assignment


# The workflow


@transaction.atomic(durable=True)
def start_review(dossier: Dossier, *, by: User) -> Dossier:
    """Take a submitted dossier into review (an assigned reviewer, or a lead reviewer)."""
    dossier = _lock(dossier, by=by)
    _require_assigned_or_lead(dossier, by)
    transition(dossier, S.IN_REVIEW, by=by)
    _save_status(dossier)
    tasks.notify_organisation.delay_on_commit(dossier.pk, "in_review")
    return dossier


@transaction.atomic(durable=True)
def request_information(dossier: Dossier, *, by: User, question: str) -> InformationRequest:
    """
    Ask the organisation a question; the dossier waits in `information_requested`.

    The NGO sees the question on its dashboard and is emailed; its answer returns the dossier
    to review (submissions.services.reply_to_information_request).
    """
    question = (question or "").strip()
    if not question:
        raise ValidationError(_("Write the question to the organisation."), code="required")
    dossier = _lock(dossier, by=by)
    _require_assigned_or_lead(dossier, by)
    if dossier.status != S.INFORMATION_REQUESTED:  # a further question while one is open
        transition(dossier, S.INFORMATION_REQUESTED, by=by)
        _save_status(dossier)
    request = InformationRequest.objects.create(dossier=dossier, question=question, asked_by=by)
    audit.record(
        actor=by,
        action="information_request.created",
        target=dossier,
        data={"request": request.pk},
    )
    tasks.notify_organisation.delay_on_commit(dossier.pk, "information_requested")
    return request


def open_disputes(dossier: Dossier) -> dict[int, list[ChecklistAnswer]]:
    """
    Return, per regime id, the dossier's answers to that regime's *blocking* items whose
    settled verification is disputed and not yet resolved by a lead reviewer: each stops the
    dossier's approval for that regime.
    """
    blocking = RegimeCriterion.objects.filter(
        regime=OuterRef("regime"), criterion=OuterRef("criterion"), level=Level.BLOCKING
    )
    answers = (
        ChecklistAnswer.objects.filter(
            dossier=dossier,
            verification__status=Verification.Status.DISPUTED,
            verification__resolved_at__isnull=True,
        )
        .filter(Exists(blocking))
        .select_related("criterion")
        .order_by("regime_id", "criterion__position")
    )
    found: dict[int, list[ChecklistAnswer]] = {}
    for answer in answers:
        found.setdefault(answer.regime_id, []).append(answer)
    return found


@transaction.atomic(durable=True)
def decide_dossier(
    dossier: Dossier,
    *,
    by: User,
    reason: str,
    outcome: str = "",
    regimes: Mapping[int, Mapping] | None = None,
) -> Decision:
    """
    Decide a dossier in review (lead reviewers only), government by government.

    `regimes` maps each target regime's id to {"outcome": "approved"|"rejected", "reason"}:
    every target regime needs an outcome, and a rejection its reason. Without `regimes`,
    `outcome` applies to every target regime (and `reason` to each rejection). `reason` is
    the general reason the organisation receives. Needs `REVIEWS_REQUIRED_FOR_DECISION`
    submitted, independent reviews from reviewers who have not recused; a regime cannot be
    approved while one of its blocking items is disputed (open_disputes). The dossier becomes
    approved when at least one regime is approved, else rejected.
    """
    _require_lead(by)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            _("Write the reason for the decision: the organisation receives it."),
            code="reason_required",
        )
    dossier = _lock(dossier, by=by)
    if dossier.status != S.IN_REVIEW:
        raise TransitionNotAllowed(f"{dossier.status} → {outcome or 'decision'}")
    targets = {regime.pk: regime for regime in dossier.target_regimes.all()}
    if regimes is None:
        if outcome not in Decision.Outcome.values:
            raise ValidationError(_("Choose approve or reject."), code="invalid_outcome")
        regimes = {pk: {"outcome": outcome, "reason": reason} for pk in targets}
    outcomes: dict[int, tuple[str, str]] = {}
    for pk, item in regimes.items():
        if pk not in targets:
            raise PermissionDenied
        chosen = item.get("outcome")
        if chosen not in Decision.Outcome.values:
            continue
        outcomes[pk] = (chosen, (item.get("reason") or "").strip())
    missing = [targets[pk].key for pk in targets if pk not in outcomes]
    if missing:
        raise ValidationError(
            _("Approve or reject the dossier for each government: %(regimes)s."),
            code="invalid_outcome",
            params={"regimes": ", ".join(missing)},
        )
    unexplained = [
        targets[pk].key
        for pk, (chosen, why) in outcomes.items()
        if chosen == "rejected" and not why
    ]
    if unexplained:
        raise ValidationError(
            _("Give the reason for each rejection: %(regimes)s."),
            code="reason_required",
            params={"regimes": ", ".join(unexplained)},
        )
    disputes = open_disputes(dossier)
    blocked = [
        targets[pk].key
        for pk, (chosen, _why) in outcomes.items()
        if chosen == "approved" and disputes.get(pk)
    ]
    if blocked:
        raise ValidationError(
            _(
                "A blocking checklist item is disputed for %(regimes)s: a lead reviewer resolves "
                "it before the dossier can be approved there."
            ),
            code="disputed",
            params={"regimes": ", ".join(blocked)},
        )
    counted = list(Review.objects.counted().filter(dossier=dossier))
    if len(counted) < reviews_required():
        raise ValidationError(
            _("A decision needs %(required)s independent reviews; %(count)s submitted so far."),
            code="too_few_reviews",
            params={"required": reviews_required(), "count": len(counted)},
        )
    overall = (
        Decision.Outcome.APPROVED
        if any(chosen == "approved" for chosen, _why in outcomes.values())
        else Decision.Outcome.REJECTED
    )
    decision = Decision.objects.create(
        dossier=dossier, outcome=overall, reason=reason, decided_by=by
    )
    decision.reviews.set(counted)
    RegimeDecision.objects.bulk_create(
        RegimeDecision(decision=decision, regime_id=pk, outcome=chosen, reason=why)
        for pk, (chosen, why) in outcomes.items()
    )
    transition(
        dossier,
        overall,
        by=by,
        data={
            "decision": decision.pk,
            "reviews": [r.pk for r in counted],
            "regimes": {targets[pk].key: chosen for pk, (chosen, _why) in outcomes.items()},
        },
    )
    _save_status(dossier)
    tasks.notify_organisation.delay_on_commit(dossier.pk, overall)
    return decision


# Verification: each reviewer's own check, and the settled status derived from them


def _settle(answer: ChecklistAnswer, *, by: User) -> tuple[str, str]:
    """
    Bring the answer's settled Verification in line with its reviewers' checks; return the
    status (before, after). Reviewers who agree settle it; reviewers who disagree make it
    disputed. A lead reviewer's resolution stands until the lead changes it.
    """
    current = Verification.objects.select_for_update().filter(answer=answer).first()
    before = current.status if current else ""
    if current is not None and current.is_resolved:
        return before, before
    recused = Assignment.objects.filter(
        dossier_id=answer.dossier_id, recused_at__isnull=False
    ).values("reviewer")
    checks = list(ReviewerVerification.objects.filter(answer=answer).exclude(reviewer__in=recused))
    if not checks:
        return before, before
    statuses = sorted({check.status for check in checks})
    if len(statuses) == 1:
        status = statuses[0]
        note = " / ".join(dict.fromkeys(c.note for c in checks if c.note))
    else:
        status = Verification.Status.DISPUTED
        labels = ", ".join(str(Verification.Status(s).label) for s in statuses)
        note = _("Reviewers disagree (%(statuses)s).") % {"statuses": labels}
    if current is not None and (current.status, current.note) == (status, note):
        return before, before
    Verification.objects.update_or_create(
        answer=answer, defaults={"status": status, "note": note, "verified_by": by}
    )
    return before, status


@transaction.atomic
def verify_answers(
    dossier: Dossier, *, by: User, verifications: Iterable[Mapping]
) -> list[ReviewerVerification]:
    """
    Record `by`'s own checks of the NGO's checklist claims: dicts of answer, status and note.

    A dict with an empty status leaves that answer as it is. Each reviewer's check is kept
    apart (another reviewer's never overwrites it); the answer's settled Verification then
    follows (_settle). Each change is audited with the statuses before and after.
    """
    dossier = _lock(dossier, by=by)
    _require_assigned_or_lead(dossier, by)
    _require_status(
        dossier, WORKING_STATUSES, _("Start the review before verifying the checklist.")
    )
    wanted = [v for v in verifications if v.get("status")]
    answers = {
        a.pk: a
        for a in ChecklistAnswer.objects.filter(
            dossier=dossier, pk__in=[v["answer"].pk for v in wanted]
        )
    }
    own = {
        check.answer_id: check
        for check in ReviewerVerification.objects.filter(answer__in=answers.values(), reviewer=by)
    }
    saved, changes = [], {}
    for item in wanted:
        answer = answers.get(item["answer"].pk)
        if answer is None:
            raise PermissionDenied
        if item["status"] not in Verification.Status.values:
            raise ValidationError(_("Choose verified, disputed or insufficient."))
        note = (item.get("note") or "").strip()
        current = own.get(answer.pk)
        if current is not None and (current.status, current.note) == (item["status"], note):
            continue
        check, _created = ReviewerVerification.objects.update_or_create(
            answer=answer, reviewer=by, defaults={"status": item["status"], "note": note}
        )
        settled_before, settled_after = _settle(answer, by=by)
        changes[str(answer.pk)] = {
            "from": current.status if current else "",
            "to": item["status"],
            "settled_from": settled_before,
            "settled_to": settled_after,
        }
        saved.append(check)
    if changes:
        audit.record(
            actor=by, action="checklist.verified", target=dossier, data={"answers": changes}
        )
    return saved


RESOLUTIONS = (Verification.Status.VERIFIED, Verification.Status.INSUFFICIENT)


@transaction.atomic
def resolve_verification(
    answer: ChecklistAnswer, *, by: User, status: str, note: str = ""
) -> Verification:
    """
    Settle a disputed checklist claim (lead reviewers only): verified or insufficient, with a
    note. The reviewers' own checks stay as they were; the resolution stands over them.
    """
    _require_lead(by)
    dossier = _lock(answer.dossier, by=by)
    _require_status(
        dossier, WORKING_STATUSES, _("Start the review before verifying the checklist.")
    )
    if status not in RESOLUTIONS:
        raise ValidationError(_("Resolve as verified or insufficient."), code="invalid_status")
    current = (
        Verification.objects.select_for_update()
        .filter(answer_id=answer.pk, answer__dossier=dossier)
        .first()
    )
    if current is None or current.status != Verification.Status.DISPUTED:
        raise ValidationError(_("Only a disputed item needs resolving."), code="not_disputed")
    current.status = status
    current.note = (note or "").strip()
    current.verified_by = by
    current.resolved_by = by
    current.resolved_at = timezone.now()
    current.save()
    audit.record(
        actor=by,
        action="checklist.resolved",
        target=dossier,
        data={"answer": answer.pk, "from": Verification.Status.DISPUTED, "to": status},
    )
    return current


# Reviews


def own_review(dossier: Dossier, user: User) -> Review | None:
    return Review.objects.filter(dossier=dossier, reviewer=user).first()


def scores_visible(user: User, *, own_review_submitted: bool, awaiting_own_review: bool) -> bool:
    """
    The rule for seeing the reviewers' scores: once one's own review is in, or as a lead
    reviewer who is not waiting to submit a review of their own. Callers supply the facts
    (from annotations or prefetched rows), so that lists need no query per row.
    """
    return own_review_submitted or (user.is_lead_reviewer and not awaiting_own_review)


def can_see_scores(user: User, dossier: Dossier) -> bool:
    """Whether `user` may see the reviewers' scores on `dossier` (scores_visible, by query)."""
    own = own_review(dossier, user)
    return scores_visible(
        user,
        own_review_submitted=own is not None and own.is_submitted,
        awaiting_own_review=active_assignment(dossier, user) is not None,
    )


@transaction.atomic
def save_review(
    dossier: Dossier,
    *,
    by: User,
    scores: Mapping[str, Mapping],
    recommendation: str = "",
    summary: str = "",
    submit: bool = False,
) -> Review:
    """
    Save the assigned reviewer's review: `scores` maps rubric codes to {"score", "note"}.

    Saved as a draft until `submit`; a submitted review needs a score on every rubric line and
    a recommendation, and cannot change afterwards (it was written without seeing the others).
    """
    dossier = _lock(dossier, by=by)
    _require_assignment(dossier, by)
    _require_status(dossier, WORKING_STATUSES, _("Start the review before scoring."))
    review, _created = Review.objects.select_for_update().get_or_create(
        dossier=dossier, reviewer=by
    )
    if review.is_submitted:
        raise ValidationError(
            _("Your review was submitted and can no longer change."), code="submitted"
        )
    known = set(rubric.codes())
    errors = {}
    cleaned = {}
    for code, item in scores.items():
        if code not in known:
            raise ValidationError(_("Unknown rubric line %(code)s."), params={"code": code})
        value = item.get("score")
        if value in (None, ""):
            continue
        try:
            value = int(value)
        except (TypeError, ValueError):
            value = -1
        if not 0 <= value <= rubric.MAX_SCORE:
            errors[code] = _("Score from 0 to 5.")
            continue
        cleaned[code] = (value, (item.get("note") or "").strip())
    if recommendation and recommendation not in Recommendation.values:
        errors["recommendation"] = _("Choose a recommendation from the list.")
    if submit:
        missing = [code for code in rubric.codes() if code not in cleaned]
        if missing:
            errors["scores"] = _("Score every rubric line before submitting: %(lines)s.") % {
                "lines": ", ".join(rubric.name_of(code) for code in missing)
            }
        if not recommendation:
            errors["recommendation"] = _("Choose a recommendation before submitting.")
    if errors:
        raise ValidationError(errors)
    RubricScore.objects.filter(review=review).exclude(line__in=cleaned).delete()
    for code, (value, note) in cleaned.items():
        RubricScore.objects.update_or_create(
            review=review, line=code, defaults={"score": value, "note": note}
        )
    review.recommendation = recommendation
    review.summary = (summary or "").strip()
    if submit:
        review.submitted_at = timezone.now()
    review.save()
    audit.record(
        actor=by,
        action="review.submitted" if submit else "review.saved",
        target=dossier,
        data={
            "review": review.pk,
            "scores": {code: value for code, (value, _note) in cleaned.items()},
            "recommendation": recommendation,
        },
    )
    if submit and Review.objects.counted().filter(dossier=dossier).count() == reviews_required():
        tasks.notify_lead_reviewers.delay_on_commit(dossier.pk, "reviews_complete")
    return review


# Witness identities and exhibits: reading them is audited


def can_reveal_identities(user: User) -> bool:
    return user.is_authenticated and user.has_perm("reviews.reveal_identity")


@transaction.atomic
def reveal_source_identity(source: Source, *, by: User, reason: str) -> dict[str, str]:
    """
    Return a source's real identity, contact and safety notes, and audit who read them and why.

    Needs the `reviews.reveal_identity` permission (lead reviewers) and access to the dossier.
    The audit event names the pseudonym and the reason, never the identity.
    """
    if not can_reveal_identities(by):
        raise PermissionDenied(_("You may not reveal witness identities."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why you need to see this identity."), code="reason_required")
    _check_not_conflicted(by, source.dossier)
    if not dossiers_for_review(by).filter(pk=source.dossier_id).exists():
        raise PermissionDenied
    source = Source.objects.get(pk=source.pk)
    audit.record(
        actor=by,
        action="source.identity_revealed",
        target=source,
        data={"dossier": source.dossier_id, "pseudonym": source.pseudonym, "reason": reason},
    )
    return {
        "identity": source.identity,
        "contact": source.contact,
        "safety_notes": source.safety_notes,
    }


@transaction.atomic
def allow_flagged_exhibit_in_bundles(evidence: Evidence, *, by: User, reason: str) -> Evidence:
    """
    Let a file that a check flagged as possibly malicious go into government bundles.

    Lead reviewers only, with a reason, audited; the manifest of every bundle it goes into says
    that it was flagged and let through.
    """
    _require_lead(by)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why this file may go to a government."), code="reason")
    _check_not_conflicted(by, evidence.dossier)
    if not dossiers_for_review(by).filter(pk=evidence.dossier_id).exists():
        raise PermissionDenied
    evidence = Evidence.objects.select_for_update().get(pk=evidence.pk)
    if not evidence.is_flagged:
        raise ValidationError(_("This exhibit is not flagged."), code="not_flagged")
    if evidence.bundle_override_at is None:
        evidence.bundle_override_at = timezone.now()
        evidence.bundle_override_by = by
        evidence.bundle_override_reason = reason
        evidence.save(
            update_fields=["bundle_override_at", "bundle_override_by", "bundle_override_reason"]
        )
        audit.record(
            actor=by,
            action="evidence.bundle_override",
            target=evidence,
            data={
                "dossier": evidence.dossier_id,
                "sha256": evidence.sha256,
                "warning": evidence.malware_warning,
                "reason": reason,
            },
        )
    return evidence


@transaction.atomic
def record_evidence_download(evidence: Evidence, *, by: User) -> None:
    """Audit that `by` downloaded an exhibit (the caller streams it after this returns)."""
    if not dossiers_for_review(by).filter(pk=evidence.dossier_id).exists():
        raise PermissionDenied
    audit.record(
        actor=by,
        action="evidence.downloaded",
        target=evidence,
        data={"dossier": evidence.dossier_id, "sha256": evidence.sha256},
    )


# Persons across dossiers


def _subject_for_review(subject: Subject, by: User) -> Subject:
    if by is None or not by.is_authenticated or not by.is_reviewer:
        raise PermissionDenied
    found = (
        Subject.objects.filter(pk=subject.pk, dossier__in=dossiers_for_review(by))
        .select_related("dossier")
        .first()
    )
    if found is None:
        raise PermissionDenied
    return found


def _person_from(subject: Subject, *, by: User) -> Person:
    person = Person.objects.create(
        kind=subject.kind,
        name=subject.name,
        name_original=subject.name_original,
        aliases=list(subject.aliases or []),
        birth_date=subject.birth_date,
        nationalities=list(subject.nationalities),
        created_by=by,
    )
    audit.record(
        actor=by,
        action="person.created",
        target=person,
        data={"from_subject": subject.pk, "kind": person.kind},
    )
    return person


def _link(subject: Subject, person: Person, *, by: User, score: float | None) -> SubjectLink:
    if subject.kind != person.kind:
        raise ValidationError(
            _("A person and an organisation cannot be the same canonical record.")
        )
    try:
        with transaction.atomic():
            link = SubjectLink.objects.create(
                subject=subject, person=person, linked_by=by, score=score
            )
    except IntegrityError:
        raise ValidationError(
            _("%(subject)s is already linked to a person."), params={"subject": subject}
        ) from None
    audit.record(
        actor=by,
        action="subject.linked",
        target=subject,
        data={"person": person.pk, "dossier": subject.dossier_id, "score": score},
    )
    canonical.absorb(person, subject, by=by)
    return link


def _record_match(subject: Subject, *, by: User, accepted: bool, score, person=None, other=None):
    if other is not None and other.pk < subject.pk:
        subject, other = other, subject
    MatchDecision.objects.update_or_create(
        subject=subject,
        person=person,
        other=other,
        defaults={"accepted": accepted, "score": score, "decided_by": by},
    )


@transaction.atomic
def accept_match(
    subject: Subject,
    *,
    by: User,
    person: Person | None = None,
    other: Subject | None = None,
    score: float | None = None,
) -> Person:
    """
    Record that `subject` is `person`, or the same person as subject `other` of another
    dossier: both are linked to one canonical person (created from `subject` if neither has
    one yet). Returns the person.
    """
    if (person is None) == (other is None):
        raise ValueError("Give a person or another subject.")
    subject = _subject_for_review(subject, by)
    current = getattr(subject, "person_link", None)
    if person is not None:
        if current is not None:
            raise ValidationError(_("This subject is already linked to a person."))
        person = Person.objects.visible_to(by).get(pk=person.pk)
        _link(subject, person, by=by, score=score)
        _record_match(subject, by=by, accepted=True, score=score, person=person)
        return person
    other = _subject_for_review(other, by)
    if other.pk == subject.pk:
        raise ValidationError(_("A subject cannot be matched with itself."))
    other_link = getattr(other, "person_link", None)
    if current is not None and other_link is not None:
        if current.person_id == other_link.person_id:
            return current.person
        raise ValidationError(
            _("Both subjects are already linked to different persons."), code="two_persons"
        )
    if current is not None:
        target = current.person
        _link(other, target, by=by, score=score)
    elif other_link is not None:
        target = other_link.person
        _link(subject, target, by=by, score=score)
    else:
        target = _person_from(subject, by=by)
        _link(subject, target, by=by, score=score)
        _link(other, target, by=by, score=score)
    _record_match(subject, by=by, accepted=True, score=score, other=other)
    return target


@transaction.atomic
def create_person(subject: Subject, *, by: User) -> Person:
    """
    Record that `subject` matches nobody known yet: a new canonical record (a person or an
    organisation, as the subject is) is made from it and linked, so that it can be named in
    packages and screened against designations.
    """
    subject = _subject_for_review(subject, by)
    if getattr(subject, "person_link", None) is not None:
        raise ValidationError(_("This subject is already linked to a person."))
    person = _person_from(subject, by=by)
    _link(subject, person, by=by, score=None)
    return person


@transaction.atomic
def reject_match(
    subject: Subject,
    *,
    by: User,
    person: Person | None = None,
    other: Subject | None = None,
    score: float | None = None,
) -> None:
    """Record that `subject` is not `person` (or not subject `other`): never suggested again."""
    if (person is None) == (other is None):
        raise ValueError("Give a person or another subject.")
    subject = _subject_for_review(subject, by)
    if other is not None:
        other = _subject_for_review(other, by)
    else:
        person = Person.objects.visible_to(by).get(pk=person.pk)
    _record_match(subject, by=by, accepted=False, score=score, person=person, other=other)
    audit.record(
        actor=by,
        action="subject.match_rejected",
        target=subject,
        data={
            "person": person.pk if person else None,
            "other": other.pk if other else None,
            "score": score,
        },
    )


@transaction.atomic
def unlink_subject(subject: Subject, *, by: User) -> None:
    """Undo a link made in error; the pair is remembered as rejected."""
    subject = _subject_for_review(subject, by)
    link = SubjectLink.objects.select_for_update().filter(subject=subject).first()
    if link is None:
        return
    _record_match(subject, by=by, accepted=False, score=link.score, person=link.person)
    audit.record(
        actor=by,
        action="subject.unlinked",
        target=subject,
        data={"person": link.person_id, "dossier": subject.dossier_id},
    )
    link.delete()


PERSON_FIELDS = ("name", "name_original", "aliases", "birth_date", "nationalities", "notes")


@transaction.atomic
def update_person(person: Person, *, by: User, fields: Mapping) -> Person:
    """Correct a canonical person's names, birth date, nationalities or notes."""
    if not Person.objects.visible_to(by).filter(pk=person.pk).exists():
        raise PermissionDenied
    person = Person.objects.select_for_update().get(pk=person.pk)
    changed = {}
    for name, value in fields.items():
        if name not in PERSON_FIELDS:
            raise ValueError(f"Not a person field: {name}")
        if getattr(person, name) != value:
            changed[name] = True
            setattr(person, name, value)
    person.full_clean()
    person.save()
    audit.record(actor=by, action="person.updated", target=person, data={"fields": sorted(changed)})
    return person
