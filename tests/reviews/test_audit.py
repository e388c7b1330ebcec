"""The review site leaves a verifiable trail: actions, identity reveals and downloads."""

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from portal.models import AuditEvent
from reviews import services
from tests.reviews.conftest import submit_review
from tests.reviews.factories import EvidenceFactory, SourceFactory

QUEUE = "/admin/submissions/dossier/"


def _url(name, *args):
    return reverse(f"admin:submissions_dossier_{name}", args=args)


def _actions(actor) -> list[str]:
    return list(
        AuditEvent.objects.filter(actor=actor).order_by("sequence").values_list("action", flat=True)
    )


def test_admin_actions_write_audit_events(client, dossier, lena, rita):
    client.force_login(lena)
    client.post(
        QUEUE,
        {
            "action": "assign_reviewer_action",
            "_selected_action": [dossier.pk],
            "reviewer": rita.pk,
        },
    )
    client.force_login(rita)
    client.post(QUEUE, {"action": "start_review_action", "_selected_action": [dossier.pk]})

    assert "assignment.created" in _actions(lena)
    assert "dossier.in_review" in _actions(rita)


def test_identity_reveals_are_permission_checked_and_audited(client, in_review, rita, lena):
    source = SourceFactory(dossier=in_review, pseudonym="W-9")
    reveal = _url("reveal_identity", in_review.pk, source.pk)

    client.force_login(rita)
    assert client.get(reveal).status_code == 403
    assert client.post(reveal, {"reason": "Curious"}).status_code == 403

    client.force_login(lena)
    form = client.get(reveal)
    assert form.status_code == 200 and "Maria Ivanova" not in form.content.decode()
    assert client.post(reveal, {"reason": ""}).status_code == 200
    assert not AuditEvent.objects.filter(action="source.identity_revealed").exists()

    shown = client.post(reveal, {"reason": "Check consent before the brief."})
    assert "Maria Ivanova, born 1985, Kazan" in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    event = AuditEvent.objects.get(action="source.identity_revealed")
    assert event.actor == lena and event.target_label == "W-9"
    assert event.data["reason"] == "Check consent before the brief."


def test_evidence_downloads_are_audited(client, in_review, rita):
    exhibit = EvidenceFactory(dossier=in_review)
    exhibit.file.save("evidence/y", ContentFile(b"bytes"), save=True)
    client.force_login(rita)
    client.get(_url("evidence_download", in_review.pk, exhibit.pk))

    event = AuditEvent.objects.get(action="evidence.downloaded")
    assert event.actor == rita and event.data["sha256"] == exhibit.sha256


def test_every_step_of_a_review_is_in_the_audit_log(in_review, rita, rob, lena):
    answer = in_review.answers.first()
    services.verify_answers(
        in_review, by=rita, verifications=[{"answer": answer, "status": "verified"}]
    )
    submit_review(in_review, rita)
    submit_review(in_review, rob)
    services.decide_dossier(in_review, by=lena, outcome="rejected", reason="Not corroborated.")

    assert _actions(rita) == ["dossier.in_review", "checklist.verified", "review.submitted"]
    assert _actions(lena)[-1] == "dossier.rejected"


def _as_attacker():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")


def test_verify_audit_log_catches_an_altered_review_event(in_review, rita, capsys):
    submit_review(in_review, rita, score=1)
    call_command("verify_audit_log")
    assert "intact" in capsys.readouterr().out

    _as_attacker()
    event = AuditEvent.objects.get(action="review.submitted")
    forged = {**event.data, "scores": dict.fromkeys(event.data["scores"], 5)}
    AuditEvent.objects.filter(pk=event.pk).update(data=forged)
    with pytest.raises(CommandError, match=f"#{event.sequence} was altered"):
        call_command("verify_audit_log")


def test_verify_audit_log_catches_a_deleted_identity_reveal(in_review, lena, rita):
    source = SourceFactory(dossier=in_review)
    services.reveal_source_identity(source, by=lena, reason="Needed.")
    services.request_information(in_review, by=rita, question="More?")  # a later event

    _as_attacker()
    event = AuditEvent.objects.get(action="source.identity_revealed")
    AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(CommandError, match=f"#{event.sequence} is missing"):
        call_command("verify_audit_log")
