"""Triage: reviewers find dossiers that still need reviewers, and take one."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from portal.models import AuditEvent
from reviews import services
from reviews.models import Assignment
from reviews.querysets import dossiers_for_review


def test_a_new_dossier_waits_in_triage_for_every_reviewer(dossier, rita, rob, lena):
    for user in (rita, rob, lena):
        assert list(services.triage_queue(user)) == [dossier]
    assert not dossiers_for_review(rita).filter(pk=dossier.pk).exists()


def test_a_reviewer_claims_and_the_lead_is_emailed(
    dossier, rita, lena, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assignment = services.claim_dossier(dossier, by=rita)

    assert assignment.reviewer == rita and assignment.assigned_by == rita
    assert assignment.due_at is not None
    assert dossiers_for_review(rita).filter(pk=dossier.pk).exists()
    assert AuditEvent.objects.filter(action="assignment.claimed", actor=rita).exists()
    [email] = mail.outbox
    assert email.to == [lena.email]
    assert dossier.reference in email.subject
    assert rita.get_full_name() in email.body


def test_a_claimed_dossier_leaves_the_claimants_triage_and_fills_up(dossier, rita, rob, lena):
    services.claim_dossier(dossier, by=rita)
    assert not services.triage_queue(rita).exists()
    assert services.triage_queue(rob).get().active_reviewers == 1

    services.claim_dossier(dossier, by=rob)  # two reviewers: all a decision needs
    assert not services.triage_queue(lena).exists()
    with pytest.raises(ValidationError) as error:
        services.claim_dossier(dossier, by=lena)
    assert error.value.code == "not_in_triage"


def test_a_member_of_the_filing_organisation_cannot_claim(dossier, conrad):
    assert not services.triage_queue(conrad).exists()
    with pytest.raises(ValidationError) as error:
        services.claim_dossier(dossier, by=conrad)
    assert error.value.code == "conflict_of_interest"
    assert not Assignment.objects.exists()


def test_a_reviewer_who_recused_cannot_claim_again(dossier, rita):
    services.claim_dossier(dossier, by=rita)
    services.recuse(dossier, by=rita, reason="I know the subject's family.")

    assert not services.triage_queue(rita).exists()
    with pytest.raises(ValidationError) as error:
        services.claim_dossier(dossier, by=rita)
    assert error.value.code == "recused"


def test_a_recusal_returns_the_dossier_to_triage_for_others(dossier, rita, rob):
    services.claim_dossier(dossier, by=rita)
    services.claim_dossier(dossier, by=rob)
    services.recuse(dossier, by=rita, reason="A former colleague filed it.")
    assert services.triage_queue(rob).count() == 0  # rob already reviews it
    assert services.triage_queue(rita).count() == 0  # rita recused


def test_members_and_strangers_see_no_triage_and_cannot_claim(dossier, alice):
    assert not services.triage_queue(alice).exists()
    with pytest.raises(PermissionDenied):
        services.claim_dossier(dossier, by=alice)


def test_triage_page_shows_title_and_governments_but_no_witness_data(client, dossier, rita):
    from tests.reviews.factories import SourceFactory

    SourceFactory(dossier=dossier, pseudonym="Witness K", identity="Real Name Secret")
    client.force_login(rita)
    response = client.get(reverse("admin:submissions_dossier_triage"))
    assert response.status_code == 200
    html = response.content.decode()
    assert dossier.title in html and dossier.reference in html
    assert dossier.target_regimes.first().name in html
    assert "Witness K" not in html and "Real Name Secret" not in html

    queue = client.get(reverse("admin:submissions_dossier_changelist"))
    assert "To triage: 1 dossier" in queue.content.decode()

    response = client.post(reverse("admin:submissions_dossier_claim", args=[dossier.pk]))
    assert response.status_code == 302
    assert response.url == reverse("admin:submissions_dossier_change", args=[dossier.pk])
    assert client.get(response.url).status_code == 200


def test_claiming_by_get_changes_nothing(client, dossier, rita):
    client.force_login(rita)
    response = client.get(reverse("admin:submissions_dossier_claim", args=[dossier.pk]))
    assert response.status_code == 405
    assert not Assignment.objects.exists()


def test_a_draft_cannot_be_claimed_and_its_existence_does_not_leak(client, rita, alice, org_a):
    from tests.factories import DossierFactory

    draft = DossierFactory(organisation=org_a, created_by=alice)
    client.force_login(rita)
    response = client.post(reverse("admin:submissions_dossier_claim", args=[draft.pk]))
    assert response.status_code == 404
    assert not Assignment.objects.exists()
