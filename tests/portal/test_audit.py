import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from portal import audit
from portal.models import AuditChainHead, AuditEvent


def _without_append_only_trigger():
    """Let a test play the attacker who edits the table directly (PostgreSQL has a trigger)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Ordinary triggers do not fire for a replica session (this transaction only).
            cursor.execute("SET LOCAL session_replication_role = replica")


def test_record_chains_each_event_to_the_one_before(alice, org_a):
    first = audit.record(actor=alice, action="organisation.viewed", target=org_a)
    second = audit.record(actor=None, action="system.checked", data={"count": 2})

    assert (first.sequence, second.sequence) == (1, 2)
    assert first.previous_hash == audit.GENESIS_HASH
    assert second.previous_hash == first.hash
    assert first.actor_label == alice.email and second.actor_label == "system"
    assert first.target_label == "Org A"
    assert AuditChainHead.objects.get().hash == second.hash
    assert audit.verify_chain().ok


def test_verify_detects_an_altered_event(alice, org_a):
    audit.record(actor=alice, action="organisation.viewed", target=org_a)
    event = audit.record(actor=alice, action="organisation.changed", target=org_a)
    audit.record(actor=alice, action="organisation.viewed", target=org_a)
    _without_append_only_trigger()
    AuditEvent.objects.filter(pk=event.pk).update(action="organisation.viewed")

    report = audit.verify_chain()

    assert not report.ok
    assert report.checked == 1
    assert "#2 was altered" in report.problem


def test_verify_detects_a_removed_event_and_a_removed_tail(alice, org_a):
    events = [audit.record(actor=alice, action=f"test.{i}", target=org_a) for i in range(4)]
    _without_append_only_trigger()

    AuditEvent.objects.filter(pk=events[3].pk).delete()
    assert "after #3 were removed" in audit.verify_chain().problem

    AuditEvent.objects.filter(pk=events[1].pk).delete()
    assert "#2 is missing" in audit.verify_chain().problem


def test_events_cannot_be_changed_or_deleted_through_the_orm(alice):
    event = audit.record(actor=alice, action="test.done")
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_update_and_delete_of_audit_rows(alice):
    event = audit.record(actor=alice, action="test.done")
    for attempt in (
        lambda: AuditEvent.objects.filter(pk=event.pk).update(action="x"),
        lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises(Exception, match="append-only"), transaction.atomic():
            attempt()


def test_verify_audit_log_command_reports_and_fails(alice, capsys):
    audit.record(actor=alice, action="test.done")
    call_command("verify_audit_log")
    assert "intact: 1 events" in capsys.readouterr().out

    _without_append_only_trigger()
    AuditEvent.objects.update(data={"forged": True})
    with pytest.raises(CommandError, match="altered"):
        call_command("verify_audit_log")
