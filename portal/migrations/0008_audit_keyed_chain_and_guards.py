"""
Key the audit chain, and on PostgreSQL guard the chain's head and refuse TRUNCATE.

Existing events were chained with plain SHA-256, which anyone who can write to the database can
recompute. This migration first checks that old chain end to end (and stops if it is broken:
investigate before upgrading), then signs it again, in order, with the first key of
AUDIT_HMAC_KEYS. From then on only the key's holder can make a chain that verifies.

On PostgreSQL, TRUNCATE of the audit table and of its head is refused, the head cannot be
deleted, and it can only move forward to an event that exists (not back, which would hide a
removed tail).
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.db import migrations

GENESIS_HASH = "0" * 64
BATCH = 2000

GUARDS = """
CREATE OR REPLACE FUNCTION portal_audit_refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: TRUNCATE is refused', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER portal_auditevent_no_truncate
    BEFORE TRUNCATE ON portal_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION portal_audit_refuse_truncate();
CREATE TRIGGER portal_auditchainhead_no_truncate
    BEFORE TRUNCATE ON portal_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION portal_audit_refuse_truncate();

CREATE OR REPLACE FUNCTION portal_auditchainhead_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'portal_auditchainhead is append-only: the head cannot be deleted';
    END IF;
    IF TG_OP = 'INSERT' THEN
        -- Only into an empty table (a new database): there is one head.
        IF EXISTS (SELECT 1 FROM portal_auditchainhead) THEN
            RAISE EXCEPTION 'portal_auditchainhead is append-only: there is one head';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.id <> OLD.id OR NEW.sequence <= OLD.sequence OR NOT EXISTS (
        SELECT 1 FROM portal_auditevent WHERE sequence = NEW.sequence AND hash = NEW.hash
    ) THEN
        RAISE EXCEPTION
            'portal_auditchainhead is append-only: the head only moves forward to an event';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER portal_auditchainhead_guard
    BEFORE INSERT OR UPDATE OR DELETE ON portal_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION portal_auditchainhead_guard();
"""
DROP_GUARDS = """
DROP TRIGGER IF EXISTS portal_auditchainhead_guard ON portal_auditchainhead;
DROP FUNCTION IF EXISTS portal_auditchainhead_guard();
DROP TRIGGER IF EXISTS portal_auditchainhead_no_truncate ON portal_auditchainhead;
DROP TRIGGER IF EXISTS portal_auditevent_no_truncate ON portal_auditevent;
DROP FUNCTION IF EXISTS portal_audit_refuse_truncate();
"""


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _legacy_digest(event, target_type: str) -> str:
    """The unkeyed SHA-256 of portal/audit.py before this migration."""
    content = {
        "sequence": event.sequence,
        "created_at": event.created_at.isoformat(),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target_type": target_type,
        "target_id": event.target_id,
        "target_label": event.target_label,
        "data": event.data,
    }
    return hashlib.sha256((event.previous_hash + _dumps(content)).encode()).hexdigest()


def _keyed_digest(key: bytes, previous_hash: str, event, target_type: str) -> str:
    """portal.audit.digest as of this migration (a copy: migrations do not import app code)."""
    content = _dumps(
        [
            event.sequence,
            event.created_at.isoformat(),
            event.actor_id,
            event.actor_label,
            event.action,
            target_type,
            event.target_id,
            event.target_label,
            event.data,
        ]
    )
    return hmac.new(key, f"{previous_hash}\n{content}".encode(), hashlib.sha256).hexdigest()


def sign_existing_chain(apps, schema_editor):
    AuditEvent = apps.get_model("portal", "AuditEvent")
    AuditChainHead = apps.get_model("portal", "AuditChainHead")
    ContentType = apps.get_model("contenttypes", "ContentType")
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None or not AuditEvent.objects.exists():
        return
    labels = {ct.pk: f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.all()}
    key_id, key = settings.AUDIT_HMAC_KEYS[0]

    # First the old chain must hold, as the old verify_audit_log checked it.
    expected, previous = 1, GENESIS_HASH
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=BATCH):
        label = labels.get(event.target_type_id, "") if event.target_type_id else ""
        if (
            event.sequence != expected
            or event.previous_hash != previous
            or _legacy_digest(event, label) != event.hash
        ):
            raise RuntimeError(
                f"The audit chain is broken at event #{expected}: run verify_audit_log with "
                "the previous release and investigate before this upgrade signs the chain."
            )
        previous, expected = event.hash, expected + 1
    if (head.sequence, head.hash) != (expected - 1, previous):
        raise RuntimeError("The audit chain's head does not match its last event.")

    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE portal_auditevent DISABLE TRIGGER portal_auditevent_append_only"
        )
    previous, batch = GENESIS_HASH, []
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=BATCH):
        label = labels.get(event.target_type_id, "") if event.target_type_id else ""
        event.previous_hash = previous
        event.hash = previous = _keyed_digest(key, previous, event, label)
        event.key_id = key_id
        batch.append(event)
        if len(batch) >= BATCH:
            AuditEvent.objects.bulk_update(batch, ["previous_hash", "hash", "key_id"])
            batch = []
    AuditEvent.objects.bulk_update(batch, ["previous_hash", "hash", "key_id"])
    AuditChainHead.objects.filter(pk=1).update(hash=previous)
    if vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE portal_auditevent ENABLE TRIGGER portal_auditevent_append_only"
        )


def add_guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARDS, params=None)


def drop_guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_GUARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0007_auditevent_key_id"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        # Not reversible: the plain SHA-256 chain is exactly what must not come back.
        migrations.RunPython(sign_existing_chain, migrations.RunPython.noop),
        migrations.RunPython(add_guards, drop_guards),
    ]
