"""
The audit log: record() appends a hash-chained event; verify_chain() checks the whole chain.

Every state change in the portal calls record() inside the same transaction as the change.
"""

import hashlib
import json
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64


def record(*, actor, action: str, target=None, data: dict | None = None) -> AuditEvent:
    """Append an event to the audit chain; call it inside the transaction of the change."""
    # Store the data as JSON will give it back, so that the hash can be recomputed from the row.
    data = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))
    user = actor if actor is not None and actor.is_authenticated else None
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().get(pk=1)
        event = AuditEvent(
            sequence=head.sequence + 1,
            created_at=timezone.now(),
            actor=user,
            actor_label=str(user) if user else "system",
            action=action,
            target_type=ContentType.objects.get_for_model(target) if target is not None else None,
            target_id=str(target.pk) if target is not None else "",
            target_label=str(target)[:200] if target is not None else "",
            data=data,
            previous_hash=head.hash,
        )
        event.hash = _digest(event)
        event.save()
        head.sequence, head.hash = event.sequence, event.hash
        head.save(update_fields=["sequence", "hash"])
    return event


def _digest(event: AuditEvent) -> str:
    target_type = (
        ContentType.objects.get_for_id(event.target_type_id) if event.target_type_id else None
    )
    content = {
        "sequence": event.sequence,
        "created_at": event.created_at.isoformat(),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target_type": f"{target_type.app_label}.{target_type.model}" if target_type else "",
        "target_id": event.target_id,
        "target_label": event.target_label,
        "data": event.data,
    }
    payload = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((event.previous_hash + payload).encode()).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    problem: str = ""


def verify_chain() -> ChainReport:
    """Recompute every hash in order; report the first event that does not fit."""
    expected_sequence, previous_hash, checked = 1, GENESIS_HASH, 0
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=2000):
        if event.sequence != expected_sequence:
            return ChainReport(
                False, checked, f"event #{expected_sequence} is missing (found #{event.sequence})"
            )
        if event.previous_hash != previous_hash:
            return ChainReport(
                False, checked, f"event #{event.sequence} does not follow its predecessor"
            )
        if _digest(event) != event.hash:
            return ChainReport(False, checked, f"event #{event.sequence} was altered")
        previous_hash, expected_sequence, checked = event.hash, event.sequence + 1, checked + 1
    head = AuditChainHead.objects.get(pk=1)
    if (head.sequence, head.hash) != (checked, previous_hash):
        return ChainReport(False, checked, f"events after #{checked} were removed")
    return ChainReport(True, checked)
