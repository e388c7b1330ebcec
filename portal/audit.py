"""
The audit log: record() appends a keyed, hash-chained event; verify_chain() checks the whole
chain; write_checkpoint() anchors its head outside the database.

Every state change in the portal calls record() inside the same transaction as the change.

Each event carries HMAC-SHA256(key, previous event's hash + its own content), with a key from
AUDIT_HMAC_KEYS (the environment or a file, never the database) whose id the event records. So
someone who can write to the database but does not hold the key cannot alter, remove or insert
an event and re-chain the rest. What such a person can still do is cut the tail off and move the
chain's head back: the checkpoints catch that. A checkpoint (last event, its hash, the count, the
time), signed with the HMAC key and optionally Ed25519, is written daily to a store outside the
database (settings.STORAGES["audit_anchor"]); verification checks the chain against every one.
"""

import base64
import hashlib
import hmac
import json
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, connections, transaction
from django.db.models import Max
from django.utils import timezone

from .models import AuditChainHead, AuditEvent

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
CHECKPOINT_FORMAT = "portal-audit-checkpoint/1"
CHECKPOINT_PREFIX = "checkpoint-"
# Rows fetched per round trip while verifying (a server-side cursor on PostgreSQL).
VERIFY_CHUNK_SIZE = 10_000
# Below this many events one process verifies the whole chain (starting processes costs more).
VERIFY_PARALLEL_MIN_EVENTS = 50_000

_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def _keys() -> dict[str, bytes]:
    return dict(settings.AUDIT_HMAC_KEYS)


def _signing_key() -> tuple[str, bytes]:
    return settings.AUDIT_HMAC_KEYS[0]


def record(*, actor, action: str, target=None, data: dict | None = None) -> AuditEvent:
    """Append an event to the audit chain; call it inside the transaction of the change."""
    # Store the data as JSON will give it back, so that the hash can be recomputed from the row.
    data = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))
    user = actor if actor is not None and actor.is_authenticated else None
    key_id, key = _signing_key()
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().get(pk=1)
        target_type = ContentType.objects.get_for_model(target) if target is not None else None
        event = AuditEvent(
            sequence=head.sequence + 1,
            created_at=timezone.now(),
            actor=user,
            actor_label=str(user) if user else "system",
            action=action,
            target_type=target_type,
            target_id=str(target.pk) if target is not None else "",
            target_label=str(target)[:200] if target is not None else "",
            data=data,
            previous_hash=head.hash,
            key_id=key_id,
        )
        event.hash = digest(
            hmac.new(key, digestmod=hashlib.sha256),
            event.previous_hash,
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
        event.save()
        head.sequence, head.hash = event.sequence, event.hash
        head.save(update_fields=["sequence", "hash"])
    return event


def digest(
    mac,
    previous_hash: str,
    sequence: int,
    created_at: datetime,
    actor_id,
    actor_label: str,
    action: str,
    target_type: str,
    target_id: str,
    target_label: str,
    data,
) -> str:
    """
    The chain hash of one event: `mac` is a fresh HMAC-SHA256 object of the event's key (a
    copy of a keyed one, which spares re-deriving the key for every row).
    """
    content = _dumps(
        [
            sequence,
            created_at.isoformat(),
            actor_id,
            actor_label,
            action,
            target_type,
            target_id,
            target_label,
            data,
        ]
    )
    mac.update(f"{previous_hash}\n{content}".encode())
    return mac.hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    problem: str = ""
    last_hash: str = GENESIS_HASH
    checkpoints: int = 0


@dataclass(frozen=True)
class Checkpoint:
    name: str
    sequence: int
    hash: str
    count: int
    created_at: str


@dataclass
class _Checkpoints:
    valid: list[Checkpoint] = field(default_factory=list)
    problem: str = ""


class _Mac:
    """
    HMAC-SHA256 of one key with its padded inner and outer hashes computed once: each event
    then costs two hash-state copies, not a new HMAC object (the same digest as hmac.new).
    """

    __slots__ = ("inner", "outer")

    def __init__(self, key: bytes):
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        self.inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
        self.outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))

    def hexdigest(self, message: bytes) -> str:
        inner = self.inner.copy()
        inner.update(message)
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


@dataclass(frozen=True)
class _Range:
    """What one slice of the chain (events lo..hi by sequence) looked like when checked."""

    first_sequence: int | None = None
    first_previous_hash: str = ""
    last_sequence: int = 0
    last_hash: str = ""
    checked: int = 0
    problem: str = ""


# The canonical content of an event, up to its data, as PostgreSQL writes it: the JSON array
# that digest() makes (compact, ensure_ascii=False) without its closing "data]". to_json()
# escapes strings exactly as Python's json does without ensure_ascii; created_at is written as
# datetime.isoformat() writes a UTC time. A row whose hash does not match this form is checked
# again through digest() before it is called altered, so a difference in the form can only
# cost time, never a false alarm.
_POSTGRESQL_ROWS = """
SELECT e.sequence,
       '[' || e.sequence || ','
           || to_json(to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
                      || CASE WHEN date_part('microseconds', e.created_at)::int %% 1000000 = 0
                              THEN '' ELSE to_char(e.created_at AT TIME ZONE 'UTC', '.US') END
                      || '+00:00')::text || ','
           || coalesce(e.actor_id::text, 'null') || ','
           || to_json(e.actor_label)::text || ',' || to_json(e.action)::text || ','
           || to_json(coalesce(t.app_label || '.' || t.model, ''))::text || ','
           || to_json(e.target_id)::text || ',' || to_json(e.target_label)::text || ',',
       e.data::text, e.previous_hash, e.hash, e.key_id
FROM portal_auditevent e LEFT JOIN django_content_type t ON t.id = e.target_type_id
WHERE e.sequence >= %s AND e.sequence <= %s
ORDER BY e.sequence
"""


def _python_rows(lo: int, hi: int, content_types: dict[int, str]):
    """The same rows as _POSTGRESQL_ROWS, made in Python (any database)."""
    rows = (
        AuditEvent.objects.filter(sequence__gte=lo, sequence__lte=hi)
        .order_by("sequence")
        .values_list(*_FIELDS)
        .iterator(chunk_size=VERIFY_CHUNK_SIZE)
    )
    for row in rows:
        yield row[0], _prefix(row, content_types), row[8], row[9], row[10], row[11]


_FIELDS = (
    "sequence",
    "created_at",
    "actor_id",
    "actor_label",
    "action",
    "target_type_id",
    "target_id",
    "target_label",
    "data",
    "previous_hash",
    "hash",
    "key_id",
)


def _prefix(row, content_types: dict[int, str]) -> str:
    sequence, created_at, actor_id, actor_label, action, target_type_id = row[:6]
    target_type = content_types.get(target_type_id, "") if target_type_id else ""
    head = [sequence, created_at.isoformat(), actor_id, actor_label, action, target_type]
    return _dumps([*head, row[6], row[7]])[:-1] + ","


def _content_types() -> dict[int, str]:
    return {
        pk: f"{app_label}.{model}"
        for pk, app_label, model in ContentType.objects.values_list("pk", "app_label", "model")
    }


def _verify_range(lo: int, hi: int, expected: dict[int, Checkpoint]) -> _Range:
    """
    Check events lo..hi: that they follow each other, that each one's HMAC is right and that
    the events checkpoints name are the ones they recorded. How this slice joins the slices
    around it is verify_chain()'s business.
    """
    keys = _keys()
    macs = {key_id: _Mac(key) for key_id, key in keys.items()}
    content_types = _content_types()
    canonical_data: dict = {}  # data as stored -> canonical JSON (many events share theirs)
    first_sequence, first_previous_hash = None, ""
    expected_sequence, previous_hash, checked = lo, "", 0

    def result(problem: str = "") -> _Range:
        return _Range(
            first_sequence, first_previous_hash, expected_sequence - 1, previous_hash, checked,
            problem,
        )  # fmt: skip

    if connection.vendor == "postgresql":
        rows = _postgresql_rows(lo, hi)
    else:
        rows = _python_rows(lo, hi, content_types)
    for sequence, prefix, data, event_previous_hash, event_hash, key_id in rows:
        if first_sequence is None:
            first_sequence, first_previous_hash = sequence, event_previous_hash
            expected_sequence, previous_hash = sequence, event_previous_hash
        if sequence != expected_sequence:
            return result(f"event #{expected_sequence} is missing (found #{sequence})")
        if event_previous_hash != previous_hash:
            return result(f"event #{sequence} does not follow its predecessor")
        mac = macs.get(key_id)
        if mac is None:
            return result(f"event #{sequence} names a key that is not configured ({key_id!r})")
        content = canonical_data.get(data) if isinstance(data, str) else None
        if content is None:
            content = _dumps(json.loads(data) if isinstance(data, str) else data)
            if isinstance(data, str) and len(canonical_data) < 10_000:
                canonical_data[data] = content
        computed = mac.hexdigest(f"{previous_hash}\n{prefix}{content}]".encode())
        if computed != event_hash and not _matches_slowly(sequence, keys[key_id], content_types):
            return result(f"event #{sequence} was altered")
        if sequence in expected and expected[sequence].hash != event_hash:
            checkpoint = expected[sequence]
            return result(f"event #{sequence} is not the one checkpoint {checkpoint.name} recorded")
        previous_hash, expected_sequence, checked = event_hash, sequence + 1, checked + 1
    return result()


def _postgresql_rows(lo: int, hi: int):
    """Stream _POSTGRESQL_ROWS through a server-side cursor, VERIFY_CHUNK_SIZE at a time."""
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(_POSTGRESQL_ROWS, [lo, hi])
        while rows := cursor.fetchmany(VERIFY_CHUNK_SIZE):
            yield from rows


def _matches_slowly(sequence: int, key: bytes, content_types: dict[int, str]) -> bool:
    """Recompute one event's hash with digest() from its row (the form everything else uses)."""
    row = AuditEvent.objects.filter(sequence=sequence).values_list(*_FIELDS).first()
    if row is None:
        return False
    (sequence, created_at, actor_id, actor_label, action, target_type_id, target_id,
     target_label, data, previous_hash, event_hash, _key_id) = row  # fmt: skip
    computed = digest(
        hmac.new(key, digestmod=hashlib.sha256),
        previous_hash,
        sequence,
        created_at,
        actor_id,
        actor_label,
        action,
        content_types.get(target_type_id, "") if target_type_id else "",
        target_id,
        target_label,
        data,
    )
    return computed == event_hash


def _verify_range_in_child(lo: int, hi: int, expected: dict[int, Checkpoint]) -> _Range:
    # verify_chain() closed its connections before forking: this process opens its own.
    try:
        return _verify_range(lo, hi, expected)
    finally:
        connections.close_all()


def _ranges(last: int, count: int) -> list[tuple[int, int]]:
    """Split sequences 1..last into `count` slices; the last one is open-ended."""
    size = max(1, -(-last // count))
    bounds = [(start, start + size - 1) for start in range(1, last + 1, size)] or [(1, 1)]
    bounds[-1] = (bounds[-1][0], 2**63 - 1)
    return bounds


def _processes(events: int) -> int:
    """How many processes verify: one unless PostgreSQL, a big log and no open transaction."""
    wanted = settings.AUDIT_VERIFY_PROCESSES or os.cpu_count() or 1
    if (
        connection.vendor != "postgresql"
        or connection.in_atomic_block
        or events < VERIFY_PARALLEL_MIN_EVENTS
    ):
        return 1
    return max(1, min(wanted, events // VERIFY_PARALLEL_MIN_EVENTS * 2))


def verify_chain(*, with_checkpoints: bool = True, slices: int = 1) -> ChainReport:
    """
    Recompute every event's HMAC in order, then compare with the head and every checkpoint;
    report the first thing that does not fit.

    Each event stores its predecessor's hash, so the chain is checked in slices of sequence
    numbers, in parallel processes on PostgreSQL (AUDIT_VERIFY_PROCESSES, by default one per
    core), and the slices are joined here: each must start where the one before ended.
    `slices` asks for at least that many slices (tests check the joins with it).
    """
    anchors = _read_checkpoints() if with_checkpoints else _Checkpoints()
    if anchors.problem:
        return ChainReport(False, 0, anchors.problem)
    expected = {}
    for checkpoint in anchors.valid:
        expected.setdefault(checkpoint.sequence, checkpoint)
    head = AuditChainHead.objects.get(pk=1)
    last = max(head.sequence, AuditEvent.objects.aggregate(last=Max("sequence"))["last"] or 0)
    processes = _processes(last)
    ranges = _ranges(last, max(processes, slices))
    if processes > 1:
        connections.close_all()  # the forked processes open their own
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
            lows, highs = [lo for lo, _hi in ranges], [hi for _lo, hi in ranges]
            checked_slices = list(
                pool.map(_verify_range_in_child, lows, highs, [expected] * len(ranges))
            )
    else:
        checked_slices = [_verify_range(lo, hi, expected) for lo, hi in ranges]

    expected_sequence, previous_hash, checked = 1, GENESIS_HASH, 0

    def broken(problem: str) -> ChainReport:
        return ChainReport(False, checked, problem, previous_hash, len(anchors.valid))

    for piece in checked_slices:
        if piece.first_sequence is None:  # no events in this slice
            continue
        if piece.first_sequence != expected_sequence:
            return broken(f"event #{expected_sequence} is missing (found #{piece.first_sequence})")
        if piece.first_previous_hash != previous_hash:
            return broken(f"event #{piece.first_sequence} does not follow its predecessor")
        if piece.problem:
            checked, previous_hash = checked + piece.checked, piece.last_hash
            return broken(piece.problem)
        expected_sequence, previous_hash = piece.last_sequence + 1, piece.last_hash
        checked += piece.checked
    for checkpoint in anchors.valid:
        if checkpoint.sequence > checked or checkpoint.count > checked:
            return broken(
                f"events after #{checked} were removed: checkpoint {checkpoint.name} "
                f"({checkpoint.created_at}) records {checkpoint.count} events"
            )
    head = AuditChainHead.objects.get(pk=1)
    if (head.sequence, head.hash) != (checked, previous_hash):
        # The head is written in the same transaction as each event: a head ahead of the last
        # event means events were removed; behind it, that it was moved back.
        return broken(
            f"events after #{checked} were removed"
            if head.sequence > checked
            else f"the chain's head was moved (#{head.sequence}, events go to #{checked})"
        )
    return ChainReport(True, checked, "", previous_hash, len(anchors.valid))


# Checkpoints: the chain's head anchored outside the database.


def anchor_storage():
    return storages["audit_anchor"]


def _checkpoint_body(sequence: int, hash_: str, count: int, created_at: str, key_id: str) -> dict:
    return {
        "format": CHECKPOINT_FORMAT,
        "sequence": sequence,
        "hash": hash_,
        "count": count,
        "created_at": created_at,
        "key_id": key_id,
    }


def _ed25519_private_key():
    if not settings.AUDIT_CHECKPOINT_SIGNING_KEY:
        return None
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(settings.AUDIT_CHECKPOINT_SIGNING_KEY.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("AUDIT_CHECKPOINT_SIGNING_KEY must be an Ed25519 private key (PEM).")
    return key


def write_checkpoint() -> Checkpoint:
    """
    Verify the chain, then write a signed checkpoint of its last event to the anchor store.
    Refuses to anchor a broken chain (that would vouch for the damage).
    """
    report = verify_chain()
    if not report.ok:
        raise ValueError(f"The audit chain is broken, no checkpoint written: {report.problem}")
    key_id, key = _signing_key()
    now = timezone.now()
    body = _checkpoint_body(
        report.checked, report.last_hash, report.checked, now.isoformat(), key_id
    )
    payload = _dumps(body).encode()
    signed = {**body, "hmac": hmac.new(key, payload, hashlib.sha256).hexdigest()}
    if private_key := _ed25519_private_key():
        signed["ed25519"] = base64.b64encode(private_key.sign(payload)).decode()
    name = f"{CHECKPOINT_PREFIX}{report.checked:012d}-{now:%Y%m%dT%H%M%S%fZ}.json"
    storage = anchor_storage()
    saved = storage.save(name, ContentFile(json.dumps(signed, indent=2).encode() + b"\n"))
    if settings.AUDIT_TSA_URL:
        from . import timestamps

        try:
            token = timestamps.request_token(settings.AUDIT_TSA_URL, payload)
        except (OSError, timestamps.TimestampError):
            # The checkpoint stands without it; the next one asks again.
            log.exception("No RFC 3161 timestamp for audit checkpoint %s", saved)
        else:
            storage.save(saved.removesuffix(".json") + ".tsr", ContentFile(token))
    log.info("Audit checkpoint %s: %s events", saved, report.checked)
    return Checkpoint(saved, report.checked, report.last_hash, report.checked, body["created_at"])


def _read_checkpoints() -> _Checkpoints:
    """Every checkpoint in the anchor store, each checked against its signatures."""
    storage = anchor_storage()
    try:
        _dirs, files = storage.listdir("")
    except FileNotFoundError:
        return _Checkpoints()
    keys = _keys()
    private_key = _ed25519_private_key()
    public_key = private_key.public_key() if private_key else None
    found = _Checkpoints()
    for name in sorted(files):
        if not (name.startswith(CHECKPOINT_PREFIX) and name.endswith(".json")):
            continue
        try:
            with storage.open(name, "rb") as handle:
                signed = json.loads(handle.read())
            body = _checkpoint_body(
                int(signed["sequence"]),
                str(signed["hash"]),
                int(signed["count"]),
                str(signed["created_at"]),
                str(signed["key_id"]),
            )
            if signed.get("format") != CHECKPOINT_FORMAT:
                raise ValueError("unknown format")
        except (OSError, ValueError, KeyError, TypeError) as error:
            found.problem = f"checkpoint {name} cannot be read ({error})"
            return found
        key = keys.get(body["key_id"])
        if key is None:
            found.problem = f"checkpoint {name} names a key that is not configured"
            return found
        payload = _dumps(body).encode()
        mac = hmac.new(key, payload, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(mac, str(signed.get("hmac", ""))):
            found.problem = f"checkpoint {name} has a bad signature"
            return found
        if public_key is not None and "ed25519" in signed:
            from cryptography.exceptions import InvalidSignature

            try:
                public_key.verify(base64.b64decode(signed["ed25519"]), payload)
            except (InvalidSignature, ValueError):
                found.problem = f"checkpoint {name} has a bad Ed25519 signature"
                return found
        found.valid.append(
            Checkpoint(name, body["sequence"], body["hash"], body["count"], body["created_at"])
        )
    return found
