"""
Each reviewer's verification kept apart, the settled status derived from them, disputes that
stop approval for the regimes they concern, and decisions per government.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from portal.models import AuditEvent
from reviews import services
from reviews.models import Decision, RegimeDecision, ReviewerVerification, Verification
from submissions import services as submission_services
from submissions.models import Dossier, Regime
from tests.factories import DossierFactory, SubjectFactory, make_ready_to_submit
from tests.reviews.conftest import submit_review


@pytest.fixture
def two_governments(alice, org_a, lena, rita, rob):
    """A dossier filed for Canada and the EU, in review by rita and rob."""
    regimes = list(Regime.objects.filter(key__in=["CA-JVCFOA", "EU-HR"]))
    dossier = DossierFactory(organisation=org_a, created_by=alice, target_regimes=regimes)
    SubjectFactory(dossier=dossier)
    make_ready_to_submit(dossier, alice)
    dossier = submission_services.submit_dossier(dossier, by=alice)
    services.claim_dossier(dossier, by=rita)
    services.claim_dossier(dossier, by=rob)
    return services.start_review(dossier, by=rita)


def _regime(key):
    return Regime.objects.get(key=key)


def _blocking_answer(dossier, key):
    return (
        dossier.answers.filter(
            regime__key=key,
            criterion__in=_regime(key).checklist.filter(level="blocking").values("criterion"),
        )
        .order_by("criterion__position")
        .first()
    )


def _check(dossier, reviewer, answer, status, note=""):
    return services.verify_answers(
        dossier, by=reviewer, verifications=[{"answer": answer, "status": status, "note": note}]
    )


def test_a_second_reviewers_check_never_overwrites_the_first(two_governments, rita, rob):
    answer = _blocking_answer(two_governments, "EU-HR")
    _check(two_governments, rita, answer, "disputed", "The date contradicts exhibit 2.")
    _check(two_governments, rob, answer, "verified", "Consistent.")

    checks = {c.reviewer: c for c in ReviewerVerification.objects.filter(answer=answer)}
    assert checks[rita].status == "disputed"
    assert checks[rita].note == "The date contradicts exhibit 2."
    assert checks[rob].status == "verified"
    settled = Verification.objects.get(answer=answer)
    assert settled.status == "disputed" and settled.is_open_dispute
    assert "disagree" in settled.note


def test_reviewers_who_agree_settle_the_status(two_governments, rita, rob):
    answer = _blocking_answer(two_governments, "EU-HR")
    _check(two_governments, rita, answer, "disputed", "First.")
    _check(two_governments, rob, answer, "verified")
    _check(two_governments, rita, answer, "verified", "Exhibit 2 re-read: consistent.")

    settled = Verification.objects.get(answer=answer)
    assert settled.status == "verified"
    assert settled.note == "Exhibit 2 re-read: consistent."


def _decide(dossier, lena, **outcomes):
    return services.decide_dossier(
        dossier,
        by=lena,
        reason="Decided per government.",
        regimes={
            _regime(key.replace("_", "-")).pk: {"outcome": outcome, "reason": reason}
            for key, (outcome, reason) in outcomes.items()
        },
    )


def test_approval_and_rejection_per_government(two_governments, lena, rita, rob):
    submit_review(two_governments, rita)
    submit_review(two_governments, rob)

    decision = _decide(
        two_governments,
        lena,
        CA_JVCFOA=("approved", ""),
        EU_HR=("rejected", "No EU nexus shown."),
    )

    assert decision.outcome == "approved"
    by_regime = {d.regime.key: d for d in RegimeDecision.objects.filter(decision=decision)}
    assert by_regime["CA-JVCFOA"].outcome == "approved"
    assert by_regime["EU-HR"].outcome == "rejected"
    assert by_regime["EU-HR"].reason == "No EU nexus shown."
    assert Dossier.objects.get(pk=two_governments.pk).status == "approved"
    event = AuditEvent.objects.filter(action="dossier.approved").latest("sequence")
    assert event.data["regimes"] == {"CA-JVCFOA": "approved", "EU-HR": "rejected"}


def test_a_rejection_needs_its_reason_and_every_government_an_outcome(
    two_governments, lena, rita, rob
):
    submit_review(two_governments, rita)
    submit_review(two_governments, rob)
    with pytest.raises(ValidationError) as error:
        _decide(two_governments, lena, CA_JVCFOA=("approved", ""), EU_HR=("rejected", ""))
    assert error.value.code == "reason_required"
    with pytest.raises(ValidationError) as error:
        _decide(two_governments, lena, CA_JVCFOA=("approved", ""))
    assert error.value.code == "invalid_outcome"
    assert not Decision.objects.exists()


def test_all_rejected_rejects_the_dossier(two_governments, lena, rita, rob):
    submit_review(two_governments, rita)
    submit_review(two_governments, rob)
    _decide(two_governments, lena, CA_JVCFOA=("rejected", "Weak."), EU_HR=("rejected", "Weak."))
    assert Dossier.objects.get(pk=two_governments.pk).status == "rejected"


def test_a_disputed_blocking_item_stops_approval_for_its_regime_only(
    two_governments, lena, rita, rob
):
    answer = _blocking_answer(two_governments, "EU-HR")
    _check(two_governments, rita, answer, "disputed", "Contradicted.")
    _check(two_governments, rob, answer, "verified")
    submit_review(two_governments, rita)
    submit_review(two_governments, rob)

    assert list(services.open_disputes(two_governments)) == [_regime("EU-HR").pk]
    with pytest.raises(ValidationError) as error:
        _decide(two_governments, lena, CA_JVCFOA=("approved", ""), EU_HR=("approved", ""))
    assert error.value.code == "disputed"
    assert "EU-HR" in error.value.messages[0] and "CA-JVCFOA" not in error.value.messages[0]
    assert not Decision.objects.exists()

    # Canada can be approved while the EU item is disputed, if the EU is refused.
    _decide(two_governments, lena, CA_JVCFOA=("approved", ""), EU_HR=("rejected", "Disputed."))
    assert Dossier.objects.get(pk=two_governments.pk).status == "approved"


def test_the_lead_resolves_a_dispute_and_approval_is_possible(two_governments, lena, rita, rob):
    answer = _blocking_answer(two_governments, "EU-HR")
    _check(two_governments, rita, answer, "disputed")
    _check(two_governments, rob, answer, "verified")
    with pytest.raises(PermissionDenied):
        services.resolve_verification(answer, by=rita, status="verified")

    services.resolve_verification(answer, by=lena, status="verified", note="Exhibit 4 settles it.")

    settled = Verification.objects.get(answer=answer)
    assert settled.status == "verified" and settled.resolved_by == lena
    assert services.open_disputes(two_governments) == {}
    # A later check by a reviewer is kept, but the lead's resolution stands.
    _check(two_governments, rita, answer, "insufficient")
    assert Verification.objects.get(answer=answer).status == "verified"
    assert AuditEvent.objects.filter(action="checklist.resolved", actor=lena).exists()

    submit_review(two_governments, rita)
    submit_review(two_governments, rob)
    _decide(two_governments, lena, CA_JVCFOA=("approved", ""), EU_HR=("approved", ""))
    assert Dossier.objects.get(pk=two_governments.pk).status == "approved"


def test_a_dispute_on_an_advisory_item_blocks_nothing(two_governments, lena, rita, rob):
    regime = _regime("EU-HR")
    advisory = regime.checklist.filter(level="advisory").first()
    if advisory is None:
        pytest.skip("EU-HR has no advisory item in this checklist version")
    answer = two_governments.answers.create(
        regime=regime,
        criterion=advisory.criterion,
        question=advisory.criterion.question,
        status="met",
        answered_by=two_governments.created_by,
    )
    _check(two_governments, rita, answer, "disputed")
    assert services.open_disputes(two_governments) == {}


def test_the_dossier_page_shows_each_reviewers_check_side_by_side(
    client, two_governments, lena, rita, rob
):
    answer = _blocking_answer(two_governments, "EU-HR")
    _check(two_governments, rita, answer, "disputed", "Rita's doubt")
    _check(two_governments, rob, answer, "verified", "Rob's agreement")

    client.force_login(lena)
    page = client.get(
        reverse("admin:submissions_dossier_change", args=[two_governments.pk])
    ).content.decode()
    assert "Rita&#x27;s doubt" in page and "Rob&#x27;s agreement" in page
    assert "Resolve as verified" in page
    assert "cannot be approved while a blocking item is disputed" in page

    response = client.post(
        reverse("admin:submissions_dossier_resolve", args=[two_governments.pk, answer.pk]),
        {"resolution": "verified", f"note-{answer.pk}": "Settled by exhibit 4."},
    )
    assert response.status_code == 302
    assert Verification.objects.get(answer=answer).resolved_by == lena


def test_a_dossier_rejected_for_a_government_is_not_approved_for_it(
    two_governments, lena, rita, rob
):
    from reviews.querysets import approved_for

    submit_review(two_governments, rita)
    submit_review(two_governments, rob)
    _decide(two_governments, lena, CA_JVCFOA=("approved", ""), EU_HR=("rejected", "No nexus."))

    assert list(approved_for(_regime("CA-JVCFOA"))) == [two_governments]
    assert not approved_for(_regime("EU-HR")).exists()


def test_a_package_takes_a_dossier_only_for_a_government_it_was_approved_for(
    two_governments, lena, rita, rob
):
    from reviews import packages

    submit_review(two_governments, rita)
    submit_review(two_governments, rob)
    _decide(two_governments, lena, CA_JVCFOA=("approved", ""), EU_HR=("rejected", "No nexus."))
    dossier = Dossier.objects.get(pk=two_governments.pk)
    person = services.create_person(dossier.subjects.get(), by=lena)

    assert list(packages.proposable_regimes(dossier)) == [_regime("CA-JVCFOA")]
    with pytest.raises(ValidationError, match="not approved for EU-HR"):
        packages.create_package(
            regime=_regime("EU-HR"), persons=[person], dossiers=[dossier], by=lena
        )
    package = packages.create_package(
        regime=_regime("CA-JVCFOA"), persons=[person], dossiers=[dossier], by=lena
    )
    assert list(package.dossiers.all()) == [dossier]


def test_verified_coverage_never_exceeds_100_percent(in_review, alice, rita, rob):
    """
    An answer to an item that does not apply (for entities, in a dossier about a person) and a
    second reviewer's check of the same answers count nothing extra.
    """
    from reviews.admin import DossierAdmin
    from submissions.models import Criterion

    regime = in_review.target_regimes.get()
    extra = regime.checklist.filter(criterion__applies_to=Criterion.AppliesTo.ENTITY).first()
    if extra is not None:
        in_review.answers.get_or_create(
            regime=regime,
            criterion=extra.criterion,
            defaults={
                "question": extra.criterion.question,
                "status": "met",
                "answered_by": alice,
            },
        )
    answers = list(in_review.answers.all())
    for reviewer in (rita, rob):
        services.verify_answers(
            in_review,
            by=reviewer,
            verifications=[{"answer": a, "status": "verified"} for a in answers],
        )

    answers = list(in_review.answers.select_related("verification"))
    [row] = DossierAdmin._coverage(in_review, answers)
    assert row["verified"] <= row["applicable"]
    assert row["percent"] <= 100


def test_the_organisation_reads_the_outcome_per_government(
    client, two_governments, alice, lena, rita, rob, django_capture_on_commit_callbacks
):
    from django.core import mail

    submit_review(two_governments, rita)
    submit_review(two_governments, rob)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _decide(
            two_governments,
            lena,
            CA_JVCFOA=("approved", ""),
            EU_HR=("rejected", "No EU nexus shown."),
        )

    body = next(m.body for m in mail.outbox if alice.email in m.to)
    assert "No EU nexus shown." in body and _regime("EU-HR").name in body
    client.force_login(alice)
    page = client.get(
        reverse("submissions:dossier-detail", args=[two_governments.reference])
    ).content.decode()
    assert "No EU nexus shown." in page
