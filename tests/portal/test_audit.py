import base64
import hashlib
import hmac
import importlib
import json
import os
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from portal import audit, tasks
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


# The keyed chain and its anchors (issue #18).


def _attacker_rechain(key: bytes, key_id: str) -> None:
    """Recompute every event's hash in order with `key` and move the head: a full re-chain."""
    _without_append_only_trigger()
    previous = audit.GENESIS_HASH
    for event in AuditEvent.objects.order_by("sequence"):
        target_type = event.target_type
        new_hash = audit.digest(
            hmac.new(key, digestmod=hashlib.sha256),
            previous,
            event.sequence,
            event.created_at,
            event.actor_id,
            event.actor_label,
            event.action,
            f"{target_type.app_label}.{target_type.model}" if target_type else "",
            event.target_id,
            event.target_label,
            event.data,
        )
        AuditEvent.objects.filter(pk=event.pk).update(
            previous_hash=previous, hash=new_hash, key_id=key_id
        )
        previous = new_hash
    last = AuditEvent.objects.order_by("-sequence").first()
    AuditChainHead.objects.filter(pk=1).update(sequence=last.sequence, hash=previous)


def _renumber(first_removed: int, removed: int) -> None:
    """Close the gap left by deleted events, as an attacker would before re-chaining."""
    for event in AuditEvent.objects.filter(sequence__gt=first_removed).order_by("sequence"):
        AuditEvent.objects.filter(pk=event.pk).update(sequence=event.sequence - removed)


def test_events_are_signed_with_the_first_configured_key(alice, settings):
    event = audit.record(actor=alice, action="test.done")
    key_id, key = settings.AUDIT_HMAC_KEYS[0]
    assert event.key_id == key_id
    # Not the plain SHA-256 of the content: without the key the hash cannot be recomputed.
    assert audit.verify_chain().ok
    settings.AUDIT_HMAC_KEYS = [(key_id, b"another-key-of-the-same-length-0123456789abcdef")]
    assert "#1 was altered" in audit.verify_chain().problem


def test_a_rechained_table_without_the_key_fails_verification(alice, org_a):
    """Remove the reveal and download events, re-hash the rest, move the head: caught."""
    audit.record(actor=alice, action="dossier.submitted", target=org_a)
    audit.record(actor=alice, action="identity_revealed", target=org_a, data={"witness": 7})
    audit.record(actor=alice, action="downloaded", target=org_a, data={"evidence": 3})
    audit.record(actor=alice, action="dossier.approved", target=org_a)
    assert audit.verify_chain().ok
    _without_append_only_trigger()
    AuditEvent.objects.filter(action__in=["identity_revealed", "downloaded"]).delete()
    _renumber(first_removed=1, removed=2)

    # The attacker knows the format but not the key: an unkeyed or guessed key does not pass,
    # nor does relabelling the events with an empty or made-up key id.
    for guessed_key, key_id in ((b"", "test1"), (b"guess" * 8, "test1"), (b"x" * 40, "")):
        _attacker_rechain(guessed_key, key_id)
        report = audit.verify_chain()
        assert not report.ok
        assert report.checked == 0
        assert "#1" in report.problem


def test_a_truncated_tail_and_a_moved_head_fail_against_a_checkpoint(alice, org_a, settings):
    for number in range(3):
        audit.record(actor=alice, action=f"test.{number}", target=org_a)
    audit.write_checkpoint()
    audit.record(actor=alice, action="identity_revealed", target=org_a)
    audit.record(actor=alice, action="downloaded", target=org_a)
    assert audit.verify_chain().ok
    _without_append_only_trigger()

    # Cutting events after the checkpoint and moving the head back is not caught by the
    # chain alone (that is what the next checkpoint is for) ...
    AuditEvent.objects.filter(sequence__gt=3).delete()
    first = AuditEvent.objects.get(sequence=3)
    AuditChainHead.objects.filter(pk=1).update(sequence=3, hash=first.hash)
    assert audit.verify_chain().ok
    # ... but cutting into what a checkpoint recorded is.
    AuditEvent.objects.filter(sequence=3).delete()
    second = AuditEvent.objects.get(sequence=2)
    AuditChainHead.objects.filter(pk=1).update(sequence=2, hash=second.hash)
    report = audit.verify_chain()
    assert not report.ok
    assert "events after #2 were removed: checkpoint checkpoint-000000000003-" in report.problem
    assert "records 3 events" in report.problem
    # The check of the chain alone (head moved with the tail) passes: the anchor is what fails.
    assert audit.verify_chain(with_checkpoints=False).ok


def test_a_checkpoint_catches_a_replaced_event_that_it_recorded(alice, org_a, settings):
    audit.record(actor=alice, action="test.one", target=org_a)
    audit.write_checkpoint()
    # Someone holding the key (a leaked key) rewrites the chain: the checkpoint still differs.
    _without_append_only_trigger()
    AuditEvent.objects.update(action="test.other")
    _attacker_rechain(*reversed(settings.AUDIT_HMAC_KEYS[0]))
    report = audit.verify_chain()
    assert not report.ok
    assert "#1 is not the one checkpoint" in report.problem


def test_checkpoints_are_signed_and_a_forged_one_fails(alice, settings):
    audit.record(actor=alice, action="test.done")
    checkpoint = audit.write_checkpoint()
    storage = audit.anchor_storage()
    with storage.open(checkpoint.name) as handle:
        content = json.loads(handle.read())
    assert content["sequence"] == content["count"] == 1
    assert content["key_id"] == settings.AUDIT_HMAC_KEYS[0][0]
    assert len(content["hmac"]) == 64
    assert audit.verify_chain().checkpoints == 1

    content["count"] = 0
    forged = checkpoint.name.replace(".json", "-forged.json")
    storage.save(forged, ContentFile(json.dumps(content).encode()))
    assert f"checkpoint {forged} has a bad signature" in audit.verify_chain().problem


def test_a_broken_chain_is_not_anchored(alice):
    audit.record(actor=alice, action="test.done")
    _without_append_only_trigger()
    AuditEvent.objects.update(action="test.forged")
    with pytest.raises(ValueError, match="no checkpoint written"):
        audit.write_checkpoint()
    location = audit.anchor_storage().location
    assert not os.path.exists(location) or os.listdir(location) == []


def test_key_rotation_verifies_old_events_with_their_own_key(alice, settings):
    old = settings.AUDIT_HMAC_KEYS[0]
    first = audit.record(actor=alice, action="test.before")
    new = ("k2", b"a-new-audit-key-for-rotation-0123456789abcdef")
    settings.AUDIT_HMAC_KEYS = [new, old]
    second = audit.record(actor=alice, action="test.after")
    assert (first.key_id, second.key_id) == (old[0], "k2")
    assert audit.verify_chain().ok

    settings.AUDIT_HMAC_KEYS = [new]  # the old key dropped too early
    assert "#1 names a key that is not configured" in audit.verify_chain().problem


def test_ed25519_signed_checkpoint(alice, settings):
    private_key = Ed25519PrivateKey.generate()
    settings.AUDIT_CHECKPOINT_SIGNING_KEY = private_key.private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    ).decode()
    audit.record(actor=alice, action="test.done")
    checkpoint = audit.write_checkpoint()
    with audit.anchor_storage().open(checkpoint.name) as handle:
        content = json.loads(handle.read())
    body = {k: content[k] for k in ("format", "sequence", "hash", "count", "created_at", "key_id")}
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    # Anyone with the public key alone can check it.
    private_key.public_key().verify(base64.b64decode(content["ed25519"]), payload)
    assert audit.verify_chain().ok

    settings.AUDIT_CHECKPOINT_SIGNING_KEY = (
        Ed25519PrivateKey.generate()
        .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        .decode()
    )
    assert "bad Ed25519 signature" in audit.verify_chain().problem


def test_audit_checkpoint_command_and_task(alice, capsys):
    audit.record(actor=alice, action="test.done")
    call_command("audit_checkpoint")
    assert "1 events, last #1" in capsys.readouterr().out
    assert tasks.write_audit_checkpoint() == 1
    call_command("verify_audit_log")
    assert "consistent with 2 checkpoints" in capsys.readouterr().out

    _without_append_only_trigger()
    AuditEvent.objects.update(action="test.forged")
    with pytest.raises(CommandError, match="no checkpoint written"):
        call_command("audit_checkpoint")
    assert tasks.write_audit_checkpoint() is None


def test_the_daily_beat_schedule_writes_a_checkpoint(settings):
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "portal.tasks.write_audit_checkpoint" in tasks_scheduled


def test_audit_hmac_keys_setting_is_parsed_strictly():
    from django.core.exceptions import ImproperlyConfigured

    from portal.settings import audit_hmac_keys

    assert audit_hmac_keys("new:" + "n" * 32 + ", old:" + "o" * 40) == [
        ("new", b"n" * 32),
        ("old", b"o" * 40),
    ]
    for bad in ("", "short:abc", "no-id" + "x" * 40, "a:" + "x" * 32 + ",a:" + "y" * 32):
        with pytest.raises(ImproperlyConfigured):
            audit_hmac_keys(bad)


on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the triggers are PostgreSQL's"
)


@on_postgresql
def test_postgresql_refuses_truncate_of_the_audit_tables(alice):
    audit.record(actor=alice, action="test.done")
    with connection.cursor() as cursor:
        # Check the deferred foreign keys now: TRUNCATE refuses to run while any are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table in ("portal_auditevent", "portal_auditchainhead"):
        with pytest.raises(Exception, match="TRUNCATE is refused"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {table} CASCADE")
    assert AuditEvent.objects.count() == 1


@on_postgresql
def test_postgresql_guards_the_chain_head(alice):
    first = audit.record(actor=alice, action="test.one")
    audit.record(actor=alice, action="test.two")
    for attempt in (
        lambda: AuditChainHead.objects.filter(pk=1).update(sequence=1, hash=first.hash),
        lambda: AuditChainHead.objects.filter(pk=1).update(sequence=9, hash="f" * 64),
        lambda: AuditChainHead.objects.filter(pk=1).delete(),
        lambda: AuditChainHead.objects.create(pk=2, sequence=0, hash=audit.GENESIS_HASH),
    ):
        with pytest.raises(Exception, match="append-only"), transaction.atomic():
            attempt()
    assert AuditChainHead.objects.get().sequence == 2
    assert audit.verify_chain().ok


def _legacy_chain(alice, org_a, count: int) -> None:
    """Events as the release before the keyed chain wrote them (plain SHA-256, no key id)."""
    upgrade = importlib.import_module("portal.migrations.0008_audit_keyed_chain_and_guards")
    for number in range(count):
        audit.record(actor=alice, action=f"test.{number}", target=org_a)
    _without_append_only_trigger()
    previous = audit.GENESIS_HASH
    for event in AuditEvent.objects.order_by("sequence"):
        event.previous_hash = previous
        previous = upgrade._legacy_digest(event, "portal.organisation")
        AuditEvent.objects.filter(pk=event.pk).update(
            previous_hash=event.previous_hash, hash=previous, key_id=""
        )
    AuditChainHead.objects.filter(pk=1).update(hash=previous)


def test_the_upgrade_checks_the_old_chain_and_signs_it(alice, org_a):
    from django.apps import apps

    upgrade = importlib.import_module("portal.migrations.0008_audit_keyed_chain_and_guards")
    _legacy_chain(alice, org_a, 3)
    # The unkeyed chain does not pass any more: no key signs it.
    assert "names a key that is not configured" in audit.verify_chain().problem
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    upgrade.sign_existing_chain(apps, _schema_editor())
    report = audit.verify_chain()
    assert report.ok and report.checked == 3


def test_the_upgrade_refuses_a_broken_old_chain(alice, org_a):
    from django.apps import apps

    upgrade = importlib.import_module("portal.migrations.0008_audit_keyed_chain_and_guards")
    _legacy_chain(alice, org_a, 3)
    AuditEvent.objects.filter(sequence=2).update(action="test.forged")
    with pytest.raises(RuntimeError, match="broken at event #2"):
        upgrade.sign_existing_chain(apps, _schema_editor())


def _schema_editor():
    """What the migration uses of a schema editor, inside the test's transaction."""

    def execute(sql, params=()):
        with connection.cursor() as cursor:
            cursor.execute(sql)

    return SimpleNamespace(connection=connection, execute=execute)


# Verification in slices (issue #23).


def test_the_fast_form_of_each_event_matches_digest(alice, org_a, monkeypatch):
    """Names, quotes, control characters and whole seconds hash the same either way."""
    audit.record(actor=alice, action="organisation.viewed", target=org_a, data={})
    audit.record(actor=None, action='quote " and \\ back', data={"é": "Алексей\n\t\x01", "a": 1})
    audit.record(actor=alice, action="test.emoji 🙂", target=org_a, data={"n": None})
    monkeypatch.setattr(audit, "_matches_slowly", lambda *args: False)

    assert audit.verify_chain().ok


def test_slices_are_joined_and_a_change_at_their_border_is_found(alice, org_a):
    events = [audit.record(actor=alice, action=f"test.{i}", target=org_a) for i in range(9)]
    assert audit.verify_chain(slices=3).ok

    _without_append_only_trigger()
    AuditEvent.objects.filter(pk=events[3].pk).update(action="test.forged")
    report = audit.verify_chain(slices=3)
    assert (report.ok, report.checked) == (False, 3)
    assert "#4 was altered" in report.problem

    AuditEvent.objects.filter(pk=events[3].pk).delete()
    assert "#4 is missing (found #5)" in audit.verify_chain(slices=3).problem
