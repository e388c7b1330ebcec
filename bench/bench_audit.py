"""
Audit log verification: `verify_audit_log` over 200,000 events of the keyed chain.

The events are made as record() makes them (HMAC-SHA256 with the first AUDIT_HMAC_KEYS key,
chained in order, with a mix of actors, targets and data) but computed in Python and inserted
in bulk, then the head is moved to the last one and a checkpoint is written, so that the
verification measured is the whole one: every HMAC, the head and the checkpoints.
Target (issue #23): at least 70,000 events per second.
"""

import datetime
import hashlib
import hmac

from django.conf import settings
from django.test import override_settings

from bench import common

SIZE = 200_000
QUICK_SIZE = 20_000
TARGET = 70_000
BATCH = 5_000
ACTIONS = ["dossier.submitted", "evidence.uploaded", "evidence.hashed", "identity_revealed",
           "downloaded", "review.submitted", "dossier.in_review", "subject.saved"]  # fmt: skip


def load(count: int) -> None:
    from django.contrib.contenttypes.models import ContentType

    from portal import audit
    from portal.models import AuditChainHead, AuditEvent, User
    from submissions.models import Dossier, Evidence

    actors = [
        User.objects.create_user(email=f"audit{n}.bench@bench.example", password=None)
        for n in range(5)
    ]
    types = [ContentType.objects.get_for_model(model) for model in (Dossier, Evidence)]
    key_id, key = settings.AUDIT_HMAC_KEYS[0]
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    previous, batch = audit.GENESIS_HASH, []
    for sequence in range(1, count + 1):
        actor = actors[sequence % len(actors)] if sequence % 7 else None
        target_type = types[sequence % len(types)]
        action = ACTIONS[sequence % len(ACTIONS)]
        data = {"dossier": sequence // 10, "from": "submitted", "fields": ["name", "role"]}
        if action == "evidence.hashed":
            data = {"sha256": hashlib.sha256(str(sequence).encode()).hexdigest()}
        event = AuditEvent(
            sequence=sequence,
            created_at=start + datetime.timedelta(seconds=sequence, microseconds=sequence % 997),
            actor=actor,
            actor_label=actor.email if actor else "system",
            action=action,
            target_type=target_type,
            target_id=str(sequence // 3),
            target_label=f"BENCH-{sequence // 3}: Detention of a journalist",
            data=data,
            previous_hash=previous,
            key_id=key_id,
        )
        event.hash = previous = audit.digest(
            hmac.new(key, digestmod=hashlib.sha256),
            previous,
            sequence,
            event.created_at,
            event.actor_id,
            event.actor_label,
            action,
            f"{target_type.app_label}.{target_type.model}",
            event.target_id,
            event.target_label,
            data,
        )
        batch.append(event)
        if len(batch) == BATCH:
            AuditEvent.objects.bulk_create(batch)
            batch = []
    AuditEvent.objects.bulk_create(batch)
    AuditChainHead.objects.filter(pk=1).update(sequence=count, hash=previous)


def run(quick: bool = False) -> list[dict]:
    from portal import audit
    from portal.models import AuditEvent

    count = QUICK_SIZE if quick else SIZE
    already = AuditEvent.objects.count()
    if already:  # events that other benchmarks recorded: start the chain afresh
        raise RuntimeError(f"bench_audit needs an empty audit log ({already} events)")
    load(count)
    common.analyze(vacuum=True)
    audit.write_checkpoint()
    runs = 2 if quick else 3
    reports = []
    # One process first (the floor of the parallel figure), then one per core, as configured.
    with override_settings(AUDIT_VERIFY_PROCESSES=1):
        serial = common.timed(lambda: reports.append(audit.verify_chain()), runs=runs)
    seconds = common.timed(lambda: reports.append(audit.verify_chain()), runs=runs)
    for report in reports:
        assert report.ok and report.checked == count and report.checkpoints == 1, report
    rate, serial_rate = count / common.median(seconds), count / common.median(serial)
    case = f"{count:,} events"
    processes = audit._processes(count)
    return [
        common.row("verify_audit_log", case, f"events/s ({processes} process{'es' if processes > 1 else ''})", rate,
                   "events/s", target=f">= {TARGET:,} events/s", met=rate >= TARGET,
                   reference=TARGET, ratio=rate / TARGET),
        common.row("verify_audit_log", case, "events/s (1 process)", serial_rate, "events/s"),
        common.row("verify_audit_log", case, "median", common.median(seconds), "s"),
    ]  # fmt: skip
