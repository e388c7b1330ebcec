import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from portal.models import AuditEvent
from reviews.models import InformationRequest
from submissions import services
from submissions.models import ChecklistAnswer, Dossier, Regime, Source
from tests.factories import (
    DossierFactory,
    SourceFactory,
    SubjectFactory,
    make_ready_to_submit,
)


@pytest.fixture
def dossier(alice, org_a):
    return DossierFactory(organisation=org_a, created_by=alice)


def test_create_dossier_records_regimes_checklist_version_and_audit(alice, org_a):
    regimes = Regime.objects.filter(key__in=["GB-HR", "EU-HR"])
    dossier = services.create_dossier(
        organisation=org_a, by=alice, title="Case", target_regimes=regimes
    )
    assert dossier.status == Dossier.Status.DRAFT
    assert dossier.reference.startswith("MAG-") and len(dossier.reference) == 13
    assert dossier.checklist_version.version == "2026.1"
    assert set(dossier.target_regimes.values_list("key", flat=True)) == {"GB-HR", "EU-HR"}
    assert AuditEvent.objects.filter(action="dossier.created", actor=alice).exists()


def test_create_dossier_refuses_a_regime_that_takes_no_submissions(alice, org_a):
    with pytest.raises(ValidationError, match="do not accept submissions"):
        services.create_dossier(
            organisation=org_a,
            by=alice,
            title="Case",
            target_regimes=Regime.objects.filter(key="JP-PROPOSED"),
        )
    assert not Dossier.objects.exists()


def test_only_members_file_for_an_organisation(mallory, org_a):
    with pytest.raises(PermissionDenied):
        services.create_dossier(
            organisation=org_a,
            by=mallory,
            title="Case",
            target_regimes=Regime.objects.filter(key="GB-HR"),
        )


def test_submit_refuses_while_a_blocking_item_is_open_and_names_it(alice, dossier):
    with pytest.raises(ValidationError) as error:
        services.submit_dossier(dossier, by=alice)
    # Named in words, with what is missing: never the internal code.
    assert any(
        message.startswith("The subject's name: Add the subject")
        for message in error.value.messages
    )
    assert not any("subject-name" in message for message in error.value.messages)
    assert Dossier.objects.get(pk=dossier.pk).status == Dossier.Status.DRAFT


def test_not_applicable_closes_a_blocking_item_only_with_a_reason(alice, dossier):
    regime = Regime.objects.get(key="GB-HR")
    make_ready_to_submit(dossier, alice)
    criterion = regime.checklist.get(criterion__code="redaction").criterion
    services.answer_checklist(
        dossier,
        regime,
        by=alice,
        answers=[{"criterion": criterion, "status": "not_applicable", "explanation": " "}],
    )
    with pytest.raises(ValidationError, match="Protected witnesses pseudonymised"):
        services.submit_dossier(dossier, by=alice)

    services.answer_checklist(
        dossier,
        regime,
        by=alice,
        answers=[
            {
                "criterion": criterion,
                "status": "not_applicable",
                "explanation": "All material is from public court records.",
            }
        ],
    )
    services.submit_dossier(dossier, by=alice)
    assert Dossier.objects.get(pk=dossier.pk).status == Dossier.Status.SUBMITTED


def test_partly_met_does_not_close_a_blocking_item(alice, dossier):
    regime = Regime.objects.get(key="GB-HR")
    make_ready_to_submit(dossier, alice)
    criterion = regime.checklist.get(criterion__code="exculpatory").criterion
    services.answer_checklist(
        dossier, regime, by=alice, answers=[{"criterion": criterion, "status": "partly"}]
    )
    with pytest.raises(ValidationError, match="Contrary information disclosed"):
        services.submit_dossier(dossier, by=alice)


def test_submit_moves_to_submitted_notifies_after_commit_and_locks_the_dossier(
    alice, dossier, django_capture_on_commit_callbacks
):
    make_ready_to_submit(dossier, alice)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.submit_dossier(dossier, by=alice)

    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.SUBMITTED and dossier.submitted_at
    assert AuditEvent.objects.filter(action="dossier.submitted", actor=alice).exists()
    # The reviewers' notification and the screening against designations wait for the commit.
    # (With Redis, the shared cache's version moves after the commit too: not a task.)
    tasks = [callback for callback in callbacks if hasattr(callback, "func")]
    assert [callback.func.__self__.name for callback in tasks] == [
        "reviews.tasks.notify_reviewers",
        "designations.tasks.screen_dossier",
    ]
    with pytest.raises(services.NotEditable):
        services.save_subject(dossier, by=alice, fields={"name": "Someone"})
    with pytest.raises(services.TransitionNotAllowed):
        services.submit_dossier(dossier, by=alice)


def test_submitting_notifies_lead_reviewers_by_email(
    alice, dossier, lena, mailoutbox, django_capture_on_commit_callbacks
):
    make_ready_to_submit(dossier, alice)
    with django_capture_on_commit_callbacks(execute=True):  # eager: the task runs here
        services.submit_dossier(dossier, by=alice)
    assert [m.to for m in mailoutbox] == [[lena.email]]
    assert dossier.reference in mailoutbox[0].subject
    assert dossier.summary not in mailoutbox[0].body  # no content in email


def test_mallory_cannot_change_another_organisations_dossier(mallory, dossier):
    with pytest.raises(PermissionDenied):
        services.save_subject(dossier, by=mallory, fields={"name": "Someone"})
    with pytest.raises(PermissionDenied):
        services.withdraw_dossier(dossier, by=mallory)


def test_withdraw_from_draft_and_submitted_but_not_after_a_decision(alice, dossier):
    services.withdraw_dossier(dossier, by=alice, reason="The witness asked us to.")
    assert Dossier.objects.get(pk=dossier.pk).status == Dossier.Status.WITHDRAWN
    event = AuditEvent.objects.get(action="dossier.withdrawn")
    assert event.data["reason"] == "The witness asked us to."

    approved = DossierFactory(organisation=dossier.organisation, status="approved")
    with pytest.raises(services.TransitionNotAllowed):
        services.withdraw_dossier(approved, by=alice)


def test_subject_with_partial_birth_date_and_invalid_dates_refused(alice, dossier):
    subject = services.save_subject(
        dossier, by=alice, fields={"name": "Ivan Petrov", "birth_date": "1970-03"}
    )
    assert subject.birth_date == "1970-03"
    for bad in ["1970-13", "70", "1970-02-30", "1850"]:
        with pytest.raises(ValidationError):
            services.save_subject(dossier, by=alice, fields={"name": "X", "birth_date": bad})


def test_incident_range_must_not_end_before_it_starts(alice, dossier):
    subject = SubjectFactory(dossier=dossier)
    from submissions.models import InvolvementRole, ViolationCategory

    fields = {
        "title": "Detention",
        "category": ViolationCategory.objects.get(code="detention"),
        "start_date": "2023-05",
        "end_date": "2023-04",
        "country": "RU",
        "narrative": "Held without charge.",
    }
    with pytest.raises(ValidationError):
        services.save_incident(dossier, by=alice, fields=fields)
    incident = services.save_incident(
        dossier,
        by=alice,
        fields={**fields, "end_date": "2023-09"},
        involvements=[
            {
                "subject": subject,
                "role": InvolvementRole.objects.get(code="responsible"),
                "description": "Ordered it",
            }
        ],
    )
    assert incident.involvements.get().role.code == "responsible"


def test_witness_identity_is_encrypted_in_the_database(alice, dossier):
    source = services.save_source(
        dossier,
        by=alice,
        fields={"kind": "witness", "identity": "Maria Ivanova, Kazan", "contact": "+7 900"},
        consents=[],
    )
    assert source.pseudonym == "W-1"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT identity, contact FROM submissions_source WHERE id = %s", [source.pk]
        )
        identity, contact = cursor.fetchone()
    assert "Maria" not in identity and "Ivanova" not in identity and "+7" not in contact
    assert Source.objects.get(pk=source.pk).identity == "Maria Ivanova, Kazan"
    event = AuditEvent.objects.get(action="source.saved")
    assert "Maria" not in str(event.data) and "Maria" not in event.target_label


def test_consent_is_recorded_per_government_and_withdrawn_when_removed(alice, dossier):
    gb = Regime.objects.get(key="GB-HR")
    source = SourceFactory(dossier=dossier)
    consent = {"regime": gb, "scope": "anonymous", "given_on": "2026-01-10", "method": "Signed"}
    services.save_source(dossier, by=alice, source=source, fields={}, consents=[consent])
    assert source.consent_records.get().withdrawn_on is None

    services.save_source(dossier, by=alice, source=source, fields={}, consents=[])
    assert source.consent_records.get().withdrawn_on is not None


def test_answers_keep_the_question_as_asked(alice, dossier):
    make_ready_to_submit(dossier, alice)
    answer = ChecklistAnswer.objects.filter(dossier=dossier).first()
    assert answer.question == answer.criterion.question


def test_reply_to_a_question_returns_the_dossier_to_review(alice, dossier, lena):
    make_ready_to_submit(dossier, alice)
    services.submit_dossier(dossier, by=alice)
    Dossier.objects.filter(pk=dossier.pk).update(status="information_requested")
    question = InformationRequest.objects.create(
        dossier=dossier, question="Which unit?", asked_by=lena
    )
    services.reply_to_information_request(question, by=alice, body="The 2nd battalion.")

    question.refresh_from_db()
    assert question.answered_at and question.messages.get().body == "The 2nd battalion."
    assert Dossier.objects.get(pk=dossier.pk).status == Dossier.Status.IN_REVIEW
    with pytest.raises(ValidationError):
        services.reply_to_information_request(question, by=alice, body="Again")


def test_reply_to_a_question_emails_the_reviewers_after_commit(
    alice, dossier, lena, rita, mailoutbox, django_capture_on_commit_callbacks
):
    from reviews import services as review_services

    make_ready_to_submit(dossier, alice)
    services.submit_dossier(dossier, by=alice)
    review_services.assign_reviewer(dossier, rita, by=lena)
    review_services.start_review(dossier, by=rita)
    question = review_services.request_information(dossier, by=lena, question="Which unit?")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.reply_to_information_request(question, by=alice, body="The 2nd battalion.")
    tasks = [callback for callback in callbacks if hasattr(callback, "func")]  # not the cache's
    assert len(tasks) == 1  # nothing is sent before the reply is committed
    assert mailoutbox == []

    tasks[0]()
    # The assigned reviewer and the lead reviewer who asked; never the organisation.
    assert sorted(email for m in mailoutbox for email in m.to) == [lena.email, rita.email]
    assert all(dossier.reference in m.subject for m in mailoutbox)
    assert "2nd battalion" not in mailoutbox[0].body  # the answer stays in the portal
