"""The review workflow's services: each guard, each transition, each audit event and email."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from portal import services as portal_services
from portal.models import AuditEvent, Membership
from reviews import services
from reviews.models import Assignment, Decision, InformationRequest, Review, Verification
from reviews.querysets import dossiers_for_review
from submissions import services as submission_services
from submissions.models import Dossier
from submissions.services import TransitionNotAllowed
from tests.reviews.conftest import full_scores, submit_review
from tests.reviews.factories import SourceFactory


def _status(dossier) -> str:
    return Dossier.objects.get(pk=dossier.pk).status


# Assignment and conflicts of interest


def test_lead_assigns_a_reviewer_who_is_emailed_after_commit(
    dossier, lena, rita, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assignment = services.assign_reviewer(dossier, rita, by=lena)

    assert len(callbacks) == 1
    assert assignment.due_at is not None and assignment.assigned_by == lena
    assert AuditEvent.objects.filter(action="assignment.created", actor=lena).exists()
    assert [m.to for m in mail.outbox] == [[rita.email]]
    assert dossier.reference in mail.outbox[0].subject


def test_a_reviewer_cannot_assign(dossier, rita, rob):
    with pytest.raises(PermissionDenied):
        services.assign_reviewer(dossier, rob, by=rita)
    assert not Assignment.objects.exists()


def test_a_conflicted_reviewer_cannot_be_assigned(dossier, lena, conrad):
    with pytest.raises(ValidationError) as error:
        services.assign_reviewer(dossier, conrad, by=lena)
    assert error.value.code == "conflict_of_interest"
    assert not Assignment.objects.exists()


def test_a_reviewer_who_joins_the_organisation_loses_the_dossier(in_review, rita, org_a):
    portal_services.add_member(org_a, rita, role=Membership.Role.MEMBER, by=None)

    assert not dossiers_for_review(rita).filter(pk=in_review.pk).exists()
    with pytest.raises(PermissionDenied, match="conflict of interest"):
        services.save_review(in_review, by=rita, scores=full_scores())
    assert not Review.objects.exists()


def test_a_conflicted_lead_cannot_decide(in_review, rita, rob, org_a, lena):
    submit_review(in_review, rita)
    submit_review(in_review, rob)
    portal_services.add_member(org_a, lena, by=None)
    with pytest.raises(PermissionDenied):
        services.decide_dossier(in_review, by=lena, outcome="approved", reason="Strong.")
    assert _status(in_review) == Dossier.Status.IN_REVIEW


def test_a_non_reviewer_is_not_assignable(dossier, lena, alice, mallory):
    with pytest.raises(ValidationError, match="not a reviewer"):
        services.assign_reviewer(dossier, mallory, by=lena)


def test_assigning_twice_is_refused(assigned, lena, rita):
    with pytest.raises(ValidationError) as error:
        services.assign_reviewer(assigned, rita, by=lena)
    assert error.value.code == "already_assigned"


def test_recusal_needs_a_reason_then_removes_access_and_tells_the_leads(
    assigned, rita, lena, django_capture_on_commit_callbacks
):
    with pytest.raises(ValidationError):
        services.recuse(assigned, by=rita, reason="  ")

    with django_capture_on_commit_callbacks(execute=True):
        assignment = services.recuse(assigned, by=rita, reason="I worked for the accused.")

    assert assignment.recused_at is not None
    assert not dossiers_for_review(rita).filter(pk=assigned.pk).exists()
    assert AuditEvent.objects.filter(action="assignment.recused", actor=rita).exists()
    assert [m.to for m in mail.outbox] == [[lena.email]]
    with pytest.raises(ValidationError) as error:
        services.assign_reviewer(assigned, rita, by=lena)
    assert error.value.code == "recused"


def test_only_an_assigned_reviewer_may_recuse(assigned, lena):
    with pytest.raises(PermissionDenied):
        services.recuse(assigned, by=lena, reason="Not mine.")


# Start, ask, answer


def test_start_review_moves_submitted_to_in_review_and_tells_the_ngo(
    assigned, rita, alice, bob, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.start_review(assigned, by=rita)

    assert _status(assigned) == Dossier.Status.IN_REVIEW
    assert AuditEvent.objects.filter(action="dossier.in_review", actor=rita).exists()
    assert sorted(m.to[0] for m in mail.outbox) == [alice.email, bob.email]


def test_an_unassigned_reviewer_cannot_start_a_review(dossier, rita):
    with pytest.raises(PermissionDenied):
        services.start_review(dossier, by=rita)
    assert _status(dossier) == Dossier.Status.SUBMITTED


def test_a_review_cannot_start_twice(in_review, rita):
    with pytest.raises(TransitionNotAllowed):
        services.start_review(in_review, by=rita)


def test_asking_for_information_waits_for_the_ngo_and_its_answer_returns_the_dossier(
    in_review, rita, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_information(
            in_review, by=rita, question="Which unit did the guards belong to?"
        )

    assert _status(in_review) == Dossier.Status.INFORMATION_REQUESTED
    assert request.is_open and request.asked_by == rita
    assert AuditEvent.objects.filter(action="information_request.created").exists()
    assert "question" in mail.outbox[0].subject
    assert "Which unit" not in mail.outbox[0].body  # the email names the dossier only

    submission_services.reply_to_information_request(request, by=alice, body="The 2nd OMON unit.")
    assert _status(in_review) == Dossier.Status.IN_REVIEW


def test_a_second_question_while_waiting_keeps_the_dossier_waiting(in_review, rita, lena):
    services.request_information(in_review, by=rita, question="First?")
    services.request_information(in_review, by=lena, question="Second?")
    assert InformationRequest.objects.filter(dossier=in_review).count() == 2
    assert _status(in_review) == Dossier.Status.INFORMATION_REQUESTED


def test_an_empty_question_is_refused(in_review, rita):
    with pytest.raises(ValidationError):
        services.request_information(in_review, by=rita, question=" ")
    assert _status(in_review) == Dossier.Status.IN_REVIEW


# Verification


def test_verification_records_each_status_and_audits_the_change(in_review, rita):
    answers = list(in_review.answers.all()[:2])
    services.verify_answers(
        in_review,
        by=rita,
        verifications=[
            {"answer": answers[0], "status": "verified", "note": "Passport scan, exhibit 1."},
            {"answer": answers[1], "status": "disputed", "note": "Dates do not match."},
        ],
    )
    services.verify_answers(
        in_review,
        by=rita,
        verifications=[{"answer": answers[1], "status": "insufficient", "note": "One source."}],
    )

    assert Verification.objects.get(answer=answers[0]).status == "verified"
    assert Verification.objects.get(answer=answers[1]).status == "insufficient"
    events = AuditEvent.objects.filter(action="checklist.verified").order_by("sequence")
    assert [e.data["answers"][str(answers[1].pk)] for e in events] == [
        {"from": "", "to": "disputed", "settled_from": "", "settled_to": "disputed"},
        {
            "from": "disputed",
            "to": "insufficient",
            "settled_from": "disputed",
            "settled_to": "insufficient",
        },
    ]


def test_verification_waits_for_the_review_to_start(assigned, rita):
    answer = assigned.answers.first()
    with pytest.raises(ValidationError):
        services.verify_answers(
            assigned, by=rita, verifications=[{"answer": answer, "status": "verified"}]
        )
    assert not Verification.objects.exists()


def test_verification_refuses_an_answer_of_another_dossier(in_review, rita, alice, org_a):
    from tests.factories import DossierFactory, make_ready_to_submit

    other = DossierFactory(organisation=org_a, created_by=alice)
    make_ready_to_submit(other, alice)
    with pytest.raises(PermissionDenied):
        services.verify_answers(
            in_review,
            by=rita,
            verifications=[{"answer": other.answers.first(), "status": "verified"}],
        )


# Reviews and hidden scores


def test_submitting_a_review_needs_every_rubric_line_and_a_recommendation(in_review, rita):
    partial = full_scores()
    partial.pop("corroboration")
    with pytest.raises(ValidationError) as error:
        services.save_review(in_review, by=rita, scores=partial, submit=True)
    assert "Corroboration" in str(error.value)
    assert "recommendation" in error.value.message_dict

    draft = services.save_review(in_review, by=rita, scores=partial)
    assert not draft.is_submitted and draft.scores.count() == len(partial)


def test_scores_outside_zero_to_five_are_refused(in_review, rita):
    scores = full_scores()
    scores["severity" if "severity" in scores else "corroboration"]["score"] = 6
    with pytest.raises(ValidationError):
        services.save_review(in_review, by=rita, scores=scores)
    assert not Review.objects.exists()


def test_a_submitted_review_cannot_change(in_review, rita):
    submit_review(in_review, rita, score=3)
    with pytest.raises(ValidationError, match="submitted"):
        services.save_review(in_review, by=rita, scores=full_scores(5), recommendation="reject")
    assert {s.score for s in Review.objects.get(reviewer=rita).scores.all()} == {3}


def test_only_assigned_reviewers_write_reviews(in_review, lena):
    with pytest.raises(PermissionDenied):
        services.save_review(in_review, by=lena, scores=full_scores())


def test_scores_stay_hidden_from_a_reviewer_until_their_own_review_is_in(in_review, rita, rob):
    submit_review(in_review, rob, score=2)

    assert not services.can_see_scores(rita, in_review)
    services.save_review(in_review, by=rita, scores=full_scores(4))  # a draft is not enough
    assert not services.can_see_scores(rita, in_review)

    submit_review(in_review, rita)
    assert services.can_see_scores(rita, in_review)


def test_a_lead_sees_scores_unless_waiting_to_submit_their_own(in_review, lena, rob):
    assert services.can_see_scores(lena, in_review)
    services.assign_reviewer(in_review, lena, by=lena)
    assert not services.can_see_scores(lena, in_review)


def test_leads_are_emailed_once_a_dossier_has_its_reviews(
    in_review, rita, rob, lena, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit_review(in_review, rita)
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        submit_review(in_review, rob)
    assert [m.to for m in mail.outbox] == [[lena.email]]
    assert "has its reviews" in mail.outbox[0].subject


# Decisions: four eyes


def test_a_reviewer_cannot_approve(in_review, rita, rob):
    submit_review(in_review, rita)
    submit_review(in_review, rob)
    with pytest.raises(PermissionDenied):
        services.decide_dossier(in_review, by=rita, outcome="approved", reason="Strong case.")
    assert _status(in_review) == Dossier.Status.IN_REVIEW
    assert not Decision.objects.exists()


def test_no_approval_before_two_independent_reviews(in_review, rita, lena):
    submit_review(in_review, rita)
    with pytest.raises(ValidationError) as error:
        services.decide_dossier(in_review, by=lena, outcome="approved", reason="Strong case.")
    assert error.value.code == "too_few_reviews"
    assert _status(in_review) == Dossier.Status.IN_REVIEW


def test_a_draft_or_recused_review_does_not_count(in_review, rita, rob, lena):
    submit_review(in_review, rita)
    services.save_review(in_review, by=rob, scores=full_scores())  # draft only
    with pytest.raises(ValidationError):
        services.decide_dossier(in_review, by=lena, outcome="approved", reason="Strong case.")

    submit_review(in_review, rob)
    services.recuse(in_review, by=rob, reason="Conflict found after review.")
    with pytest.raises(ValidationError):
        services.decide_dossier(in_review, by=lena, outcome="approved", reason="Strong case.")


def test_the_number_of_reviews_needed_follows_the_setting(in_review, rita, lena, settings):
    settings.REVIEWS_REQUIRED_FOR_DECISION = 1
    submit_review(in_review, rita)
    services.decide_dossier(in_review, by=lena, outcome="rejected", reason="Too thin.")
    assert _status(in_review) == Dossier.Status.REJECTED


def test_a_decision_needs_a_written_reason(in_review, rita, rob, lena):
    submit_review(in_review, rita)
    submit_review(in_review, rob)
    with pytest.raises(ValidationError) as error:
        services.decide_dossier(in_review, by=lena, outcome="approved", reason="  ")
    assert error.value.code == "reason_required"


def test_approval_records_the_decision_and_sends_the_ngo_its_reason(
    in_review, rita, rob, lena, alice, django_capture_on_commit_callbacks
):
    submit_review(in_review, rita)
    submit_review(in_review, rob)
    with django_capture_on_commit_callbacks(execute=True):
        decision = services.decide_dossier(
            in_review, by=lena, outcome="approved", reason="Two sources corroborate each act."
        )

    assert _status(in_review) == Dossier.Status.APPROVED
    assert decision.reviews.count() == 2 and decision.decided_by == lena
    event = AuditEvent.objects.get(action="dossier.approved")
    assert event.actor == lena and sorted(event.data["reviews"]) == sorted(
        decision.reviews.values_list("pk", flat=True)
    )
    ngo_mail = [m for m in mail.outbox if alice.email in m.to]
    assert "Two sources corroborate each act." in ngo_mail[0].body


def test_a_decision_needs_the_dossier_in_review(assigned, rita, rob, lena):
    with pytest.raises(TransitionNotAllowed):
        services.decide_dossier(assigned, by=lena, outcome="approved", reason="Fine.")
    assert _status(assigned) == Dossier.Status.SUBMITTED


# Witness identities


def test_revealing_an_identity_needs_the_permission(in_review, rita):
    source = SourceFactory(dossier=in_review)
    with pytest.raises(PermissionDenied):
        services.reveal_source_identity(source, by=rita, reason="Curious.")
    assert not AuditEvent.objects.filter(action="source.identity_revealed").exists()


def test_a_lead_reveals_an_identity_with_a_reason_and_the_audit_log_keeps_no_identity(
    in_review, lena
):
    source = SourceFactory(dossier=in_review)
    with pytest.raises(ValidationError):
        services.reveal_source_identity(source, by=lena, reason="")

    revealed = services.reveal_source_identity(
        source, by=lena, reason="Consent check with the ministry."
    )

    assert revealed["identity"] == "Maria Ivanova, born 1985, Kazan"
    event = AuditEvent.objects.get(action="source.identity_revealed")
    assert event.actor == lena and event.data["reason"] == "Consent check with the ministry."
    assert "Maria" not in str(event.data) and "Maria" not in event.target_label
