"""Every email links to the page it concerns (an absolute link) and reads in its recipient's
language."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from designations.models import Designation
from designations.notifications import email_package_outcome
from portal import twofactor
from portal.models import User
from reviews import notifications
from reviews.models import Assignment, InformationRequest


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.PORTAL_BASE_URL = "https://portal.example.org"


def ja(message: str) -> str:
    with translation.override("ja"):
        japanese = translation.gettext(message)
    assert japanese != message, f"no Japanese for {message!r}"
    return japanese


def speak(*users, language="ja"):
    User.objects.filter(pk__in=[u.pk for u in users]).update(language=language)


def review_link(dossier) -> str:
    return "https://portal.example.org" + reverse(
        "admin:submissions_dossier_change", args=[dossier.pk]
    )


def member_link(dossier) -> str:
    return "https://portal.example.org" + dossier.get_absolute_url()


def body_of(address: str) -> str:
    (message,) = [m for m in mail.outbox if m.to == [address]]
    return message.body


def test_the_organisation_gets_its_dossier_page_in_each_members_language(in_review, alice, bob):
    speak(alice)
    notifications.email_organisation(in_review, "information_requested")
    japanese, english = body_of(alice.email), body_of(bob.email)
    assert member_link(in_review) in japanese and member_link(in_review) in english
    assert ja("Read more on the dossier's page (you will be asked to sign in):") in japanese
    assert "Read more on the dossier's page" in english


def test_the_assigned_reviewer_gets_the_review_page_and_a_japanese_due_date(in_review, rita):
    speak(rita)
    assignment = Assignment.objects.get(dossier=in_review, reviewer=rita)
    Assignment.objects.filter(pk=assignment.pk).update(
        due_at=timezone.make_aware(timezone.datetime(2026, 3, 14, 12))
    )
    assignment.refresh_from_db()
    notifications.email_assigned_reviewer(assignment)
    body = body_of(rita.email)
    assert review_link(in_review) in body
    assert ja("Open the dossier on the review site:") in body
    assert "2026年3月14日" in body


@pytest.mark.parametrize("event", ["reviews_complete", "recused"])
def test_lead_reviewers_get_the_review_page(in_review, lena, event):
    speak(lena)
    notifications.email_lead_reviewers(in_review, event)
    body = body_of(lena.email)
    assert review_link(in_review) in body
    assert ja("Open the dossier on the review site:") in body


def test_lead_reviewers_are_told_of_a_submission_with_its_review_page(dossier, lena):
    speak(lena)
    notifications.email_submitted(dossier)
    body = body_of(lena.email)
    assert review_link(dossier) in body
    assert ja("Open the dossier on the review site:") in body


def test_reviewers_are_told_the_organisation_answered_with_its_review_page(in_review, rita, rob):
    speak(rob)
    InformationRequest.objects.create(dossier=in_review, asked_by=rita, question="Which date?")
    notifications.email_reviewers_answered(in_review)
    assert review_link(in_review) in body_of(rita.email)
    assert "Open the dossier on the review site:" in body_of(rita.email)
    assert ja("Open the dossier on the review site:") in body_of(rob.email)


def test_the_overdue_reminder_links_to_the_review_page(in_review, rita):
    speak(rita)
    Assignment.objects.filter(dossier=in_review, reviewer=rita).update(
        due_at=timezone.now() - timedelta(days=1)
    )
    notifications.remind_overdue()
    body = body_of(rita.email)
    assert review_link(in_review) in body
    assert ja("Open the dossier on the review site:") in body


def test_a_designation_email_links_the_lead_to_the_package_and_members_to_their_dossier(
    package, lena, alice, bob
):
    speak(lena, alice)
    outcome = SimpleNamespace(package=package, designation=Designation(listed_on=date(2026, 2, 1)))
    email_package_outcome(outcome)
    lead_body = body_of(lena.email)
    assert (
        "https://portal.example.org" + reverse("admin:reviews_package_change", args=[package.pk])
        in lead_body
    )
    assert "2026年2月1日" in lead_body
    (dossier,) = package.dossiers.all()
    assert member_link(dossier) in body_of(alice.email)
    assert "2026年2月1日" in body_of(alice.email)
    assert "2026-02-01" in body_of(bob.email)  # bob reads English


def test_the_second_factor_reset_email_links_to_sign_in(lena, alice):
    speak(alice)
    mail.outbox.clear()
    twofactor._send_reset_email(alice.pk, str(lena))
    body = body_of(alice.email)
    assert "https://portal.example.org" + reverse("login") in body
    assert ja("Sign in:") in body


def test_no_link_is_relative(in_review, rita, lena, alice):
    notifications.email_organisation(in_review, "in_review")
    notifications.email_lead_reviewers(in_review, "reviews_complete")
    assert mail.outbox
    for message in mail.outbox:
        assert settings.PORTAL_BASE_URL in message.body
