"""Notifications and the daily reminder: thin tasks, idempotent, quiet when rows are gone."""

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from reviews import tasks
from reviews.models import Assignment
from tests.reviews.conftest import submit_review


def _overdue(dossier, reviewer):
    assignment = Assignment.objects.get(dossier=dossier, reviewer=reviewer)
    assignment.due_at = timezone.now() - timedelta(days=1)
    assignment.save(update_fields=["due_at"])
    return assignment


def test_the_daily_reminder_emails_each_overdue_reviewer_once_a_day(in_review, rita, rob):
    _overdue(in_review, rita)
    submit_review(in_review, rob)
    _overdue(in_review, rob)  # rob's review is in: nothing to remind

    assert tasks.remind_overdue_assignments.delay().get() == 1
    assert [m.to for m in mail.outbox] == [[rita.email]]
    assert "overdue" in mail.outbox[0].subject

    assert tasks.remind_overdue_assignments.delay().get() == 0  # a re-run sends nothing more
    Assignment.objects.filter(reviewer=rita).update(reminded_at=timezone.now() - timedelta(days=1))
    assert tasks.remind_overdue_assignments.delay().get() == 1  # the next day, again


def test_no_reminder_after_recusal_or_a_decision(in_review, rita, rob):
    _overdue(in_review, rita)
    _overdue(in_review, rob)
    from reviews import services

    services.recuse(in_review, by=rita, reason="Conflict.")
    in_review.status = "rejected"
    in_review.save(update_fields=["status"])
    assert tasks.remind_overdue_assignments.delay().get() == 0


def test_the_reminder_is_on_the_beat_schedule(settings):
    entries = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "reviews.tasks.remind_overdue_assignments" in entries


def test_tasks_return_quietly_when_the_rows_are_gone(db):
    assert tasks.notify_organisation.delay(0, "in_review").get() == 0
    assert tasks.notify_assigned_reviewer.delay(0).get() == 0
    assert tasks.notify_lead_reviewers.delay(0, "reviews_complete").get() == 0
    assert mail.outbox == []


def test_organisation_emails_name_the_dossier_and_never_its_content(in_review, alice, bob):
    tasks.notify_organisation.delay(in_review.pk, "in_review").get()
    assert sorted(m.to[0] for m in mail.outbox) == [alice.email, bob.email]
    assert all(in_review.reference in m.subject for m in mail.outbox)
    assert all("Ivan Petrov" not in m.body and "Torture" not in m.body for m in mail.outbox)


def test_reviewers_can_be_told_that_the_ngo_answered(in_review, rita, rob, lena):
    from reviews import services

    services.request_information(in_review, by=lena, question="Which unit?")
    services.recuse(in_review, by=rob, reason="Conflict.")
    mail.outbox.clear()

    assert tasks.notify_information_received.delay(in_review.pk).get() == 2
    assert sorted(m.to[0] for m in mail.outbox) == [lena.email, rita.email]
