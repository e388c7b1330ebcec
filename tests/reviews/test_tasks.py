"""Notifications and the daily reminder: thin tasks, idempotent, quiet when rows are gone."""

from datetime import timedelta

import pytest
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


# Redelivery: acks_late and a lost worker make the broker deliver a task again, with its id.


def test_a_redelivered_notification_task_sends_its_emails_once(in_review, alice, bob, rita, lena):
    """Each email task delivered twice (the same task id) sends once; a new task sends again."""
    from reviews.models import NotificationClaim

    assignment = Assignment.objects.get(dossier=in_review, reviewer=rita)
    runs = [
        (tasks.notify_reviewers, [in_review.pk]),
        (tasks.notify_organisation, [in_review.pk, "in_review"]),
        (tasks.notify_assigned_reviewer, [assignment.pk]),
        (tasks.notify_lead_reviewers, [in_review.pk, "recused"]),
        (tasks.notify_information_received, [in_review.pk]),
    ]
    for task, args in runs:
        mail.outbox.clear()
        first = task.apply(args=args, task_id=f"{task.name}-1").get()
        assert first >= 1 and len(mail.outbox) == first, task.name
        assert task.apply(args=args, task_id=f"{task.name}-1").get() == 0, task.name
        assert len(mail.outbox) == first, f"{task.name} sent twice"
        assert NotificationClaim.objects.get(key=f"{task.name}-1").sent_at is not None
        # Another event is another task (another id): it is sent.
        assert task.apply(args=args, task_id=f"{task.name}-2").get() == first


def test_a_failed_sending_gives_its_claim_back_so_the_retry_sends(in_review, alice, monkeypatch):
    from reviews import notifications
    from reviews.models import NotificationClaim

    real = notifications.send_mass_mail
    calls = []

    def flaky(messages, **kwargs):
        calls.append(len(messages))
        if len(calls) == 1:
            raise ConnectionRefusedError("SMTP down")
        return real(messages, **kwargs)

    monkeypatch.setattr(notifications, "send_mass_mail", flaky)
    args = [in_review.pk, "in_review"]
    # Celery's autoretry runs the task again, with the same id, after the OSError (eagerly here).
    result = tasks.notify_organisation.apply(args=args, task_id="t-flaky", throw=False)
    assert result.get() == 1
    assert calls == [1, 1]  # the first attempt failed, its retry sent
    assert [m.to for m in mail.outbox] == [[alice.email]]
    assert NotificationClaim.objects.get(key="t-flaky").sent_at is not None


def test_a_sending_in_progress_is_not_repeated_but_checked_again_later(in_review):
    """A redelivery while the first run is still sending backs off instead of sending."""
    from celery.exceptions import Retry

    from reviews.models import NotificationClaim

    NotificationClaim.objects.create(
        key="t-busy", task=tasks.notify_organisation.name, claimed_at=timezone.now()
    )
    with pytest.raises(Retry, match="600"):  # comes back after CLAIM_TIMEOUT
        tasks.notify_organisation.apply(args=[in_review.pk, "in_review"], task_id="t-busy")
    assert mail.outbox == []
    # A claim older than CLAIM_TIMEOUT without sent_at: its worker died; this run sends.
    NotificationClaim.objects.filter(key="t-busy").update(
        claimed_at=timezone.now() - tasks.CLAIM_TIMEOUT - timedelta(seconds=1)
    )
    assert (
        tasks.notify_organisation.apply(args=[in_review.pk, "in_review"], task_id="t-busy").get()
        == 1
    )
