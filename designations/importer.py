"""
Import of a published list file: streamed, idempotent, incremental and recorded.

The file is read once, through a reader that hashes it (SHA-256) and counts the bytes for the
progress bar. Entries are validated one by one as they are parsed (a malformed entry is
reported and never reaches the database) and written in batches, each batch in a transaction;
if a batch fails, its entries are written again one by one, each in its own savepoint, so that
only the entry at fault is reported and nothing of it is half-written. An entry that did not
change costs one UPDATE of its "last seen" run per batch. When the whole file has been read,
what the source published before but this file no longer holds is marked delisted, with the
date; nothing is deleted.
"""

import hashlib
import io
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from submissions.models import Regime

from . import names
from .models import DesignatedParty, Designation, ImportRun, NameKey
from .parsers import READERS, Entry, EntryError, ListFormatError

logger = logging.getLogger(__name__)

BATCH = 500
PROGRESS_EVERY = 2000
ERRORS_KEPT = 200
CHUNK = 1024 * 1024
# A run that has not reported progress for this long is taken for dead (its worker died).
STALE_AFTER = timedelta(hours=1)


class HashingReader(io.RawIOBase):
    """A binary stream that hashes and counts what is read through it."""

    def __init__(self, raw):
        self.raw = raw
        self.digest = hashlib.sha256()
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.digest.update(data)
        self.bytes_read += size
        return size

    def drain(self) -> None:
        """Hash whatever the parser did not need to read."""
        while chunk := self.raw.read(CHUNK):
            self.digest.update(chunk)
            self.bytes_read += len(chunk)


def content_hash(content: dict) -> str:
    payload = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class Tally:
    counts: Counter = field(default_factory=Counter)
    unknown: Counter = field(default_factory=Counter)
    errors: list = field(default_factory=list)  # (label, message), the first ERRORS_KEPT

    def error(self, label: str, message: str) -> None:
        self.counts["errors"] += 1
        if len(self.errors) < ERRORS_KEPT:  # a file of errors must not fill the memory
            self.errors.append((label, message))

    def add(self, other: "Tally") -> None:
        self.counts.update(other.counts)
        self.unknown.update(other.unknown)
        self.errors.extend(other.errors[: max(0, ERRORS_KEPT - len(self.errors))])


class Importer:
    """Writes parsed entries of one run."""

    def __init__(self, run: ImportRun):
        self.run = run
        self.source = run.source
        self.batch: list[Entry] = []
        self.tally = Tally()
        self.regimes: dict[str, int] = {}
        for pk, key, os_key in Regime.objects.values_list("pk", "key", "opensanctions_key"):
            self.regimes.setdefault(key, pk)
            if os_key:
                self.regimes[os_key] = pk
        self.now = timezone.now()

    # Feeding

    def feed(self, item: Entry | EntryError) -> None:
        self.tally.counts["entries"] += 1
        if isinstance(item, EntryError):
            self.tally.error(item.label, item.message)
        elif item.skipped:
            self.tally.counts["skipped"] += 1
        else:
            self.batch.append(item)
            if len(self.batch) >= BATCH:
                self.flush()

    def flush(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        try:
            with transaction.atomic():
                tally = self._write(batch)
        except DatabaseError:
            logger.warning("Batch of %s failed; writing its entries one by one", len(batch))
            tally = Tally()
            for entry in batch:
                try:
                    with transaction.atomic():
                        tally.add(self._write([entry]))
                except DatabaseError as error:
                    tally.error(entry.label, f"{type(error).__name__}: {error}"[:500])
        self.tally.add(tally)

    # Writing

    def _write(self, entries: list[Entry]) -> Tally:
        tally = Tally()
        parties = self._write_parties(entries, tally)
        self._write_designations(entries, parties, tally)
        return tally

    def _write_parties(self, entries: list[Entry], tally: Tally) -> dict[str, int]:
        """Write the batch's parties; return {external id: pk} of those written."""
        wanted = {}
        for entry in entries:
            party = entry.party
            if party is None:
                continue
            if party.external_id in wanted:
                tally.error(entry.label, f"{party.external_id} appears twice")
                entry.sanctions = []
                continue
            wanted[party.external_id] = entry
        existing = {
            p.external_id: p
            for p in DesignatedParty.objects.filter(
                source=self.source, external_id__in=list(wanted)
            ).only("pk", "external_id", "content_hash", "delisted_on", "last_seen_run_id")
        }
        new, changed, unchanged = [], [], []
        for external_id, entry in wanted.items():
            party = entry.party
            digest = content_hash(party.content())
            current = existing.get(external_id)
            if current is not None and current.last_seen_run_id == self.run.pk:
                tally.error(entry.label, f"{external_id} appears twice in the file")
                entry.sanctions = []
                continue
            if current is None:
                new.append(
                    DesignatedParty(
                        source=self.source,
                        external_id=external_id,
                        first_seen_run=self.run,
                        first_seen_at=self.now,
                        **self._party_fields(party, digest),
                    )
                )
            elif current.content_hash != digest or current.delisted_on is not None:
                for name, value in self._party_fields(party, digest).items():
                    setattr(current, name, value)
                changed.append(current)
            else:
                unchanged.append(current.pk)
        DesignatedParty.objects.bulk_create(new)
        DesignatedParty.objects.bulk_update(changed, [*self.PARTY_FIELDS, "delisted_on"])
        DesignatedParty.objects.filter(pk__in=unchanged).update(last_seen_run=self.run)
        NameKey.objects.filter(party__in=changed).delete()
        insert_keys(
            (party.pk, key)
            for party in [*new, *changed]
            for key in names.blocking_keys(n["name"] for n in party.names)
        )
        tally.counts["added"] += len(new)
        tally.counts["changed"] += len(changed)
        tally.counts["unchanged"] += len(unchanged)
        written = {p.external_id: p.pk for p in [*new, *changed]}
        written.update({external_id: current.pk for external_id, current in existing.items()})
        return written

    PARTY_FIELDS = ["kind", "schema", "name", "names", "birth_dates", "nationalities",
                    "identifiers", "content_hash", "last_seen_run", "updated_at"]  # fmt: skip

    def _party_fields(self, party, digest: str) -> dict:
        return {
            "kind": party.kind,
            "schema": party.schema,
            "name": party.name,
            "names": party.names,
            "birth_dates": party.birth_dates,
            "nationalities": party.nationalities,
            "identifiers": party.identifiers,
            "content_hash": digest,
            "last_seen_run": self.run,
            "updated_at": self.now,
            "delisted_on": None,
        }

    def _write_designations(self, entries: list[Entry], parties: dict[str, int], tally) -> None:
        wanted = {}
        for entry in entries:
            for sanction in entry.sanctions:
                if sanction.external_id in wanted:
                    tally.error(entry.label, f"{sanction.external_id} appears twice")
                    continue
                wanted[sanction.external_id] = (entry, sanction)
        if not wanted:
            return
        missing_refs = {s.party_ref for _e, s in wanted.values()} - parties.keys()
        if missing_refs:
            parties = {
                **parties,
                **dict(
                    DesignatedParty.objects.filter(
                        source=self.source, external_id__in=list(missing_refs)
                    ).values_list("external_id", "pk")
                ),
            }
        existing = {
            d.external_id: d
            for d in Designation.objects.filter(
                source=self.source, external_id__in=list(wanted)
            ).only(
                "pk", "external_id", "content_hash", "delisted_on", "last_seen_run_id", "party_id"
            )  # fmt: skip
        }
        new, changed, unchanged = [], [], []
        for external_id, (entry, sanction) in wanted.items():
            regime_id = self.regimes.get(sanction.program_key)
            if regime_id is None:
                tally.unknown[sanction.program_key or "(none)"] += 1
            digest = content_hash(sanction.content())
            current = existing.get(external_id)
            if current is not None and current.last_seen_run_id == self.run.pk:
                tally.error(entry.label, f"{external_id} appears twice in the file")
                continue
            fields = {
                "party_id": parties.get(sanction.party_ref),
                "party_ref": sanction.party_ref,
                "program_key": sanction.program_key,
                "regime_id": regime_id,
                "authority": sanction.authority,
                "reference": sanction.reference,
                "listed_on": sanction.listed_on,
                "content_hash": digest,
                "last_seen_run": self.run,
            }
            if current is None:
                new.append(
                    Designation(
                        source=self.source,
                        external_id=external_id,
                        first_seen_run=self.run,
                        listed_in_run=self.run,
                        first_seen_at=self.now,
                        **fields,
                    )
                )
            elif (
                current.content_hash != digest
                or current.delisted_on is not None
                or (current.party_id is None and fields["party_id"] is not None)
            ):
                if current.delisted_on is not None:
                    current.listed_in_run = self.run  # listed again
                for name, value in fields.items():
                    setattr(current, name, value)
                current.delisted_on = None
                changed.append(current)
            else:
                unchanged.append(current.pk)
        Designation.objects.bulk_create(new)
        Designation.objects.bulk_update(
            changed,
            ["party", "party_ref", "program_key", "regime", "authority", "reference", "listed_on",
             "content_hash", "last_seen_run", "listed_in_run", "delisted_on"],
        )  # fmt: skip
        Designation.objects.filter(pk__in=unchanged).update(last_seen_run=self.run)
        tally.counts["added"] += len(new)
        tally.counts["changed"] += len(changed)
        tally.counts["unchanged"] += len(unchanged)

    # Finishing

    def finish(self) -> dict:
        """Link sanctions read before their entity, drop those with none, delist the missing."""
        self.flush()
        today = timezone.localdate()
        Designation.objects.filter(source=self.source, party__isnull=True).update(
            party=Subquery(
                DesignatedParty.objects.filter(
                    source=self.source, external_id=OuterRef("party_ref")
                ).values("pk")[:1]
            )
        )
        # Sanctions on what this portal does not import (vessels, aircraft) have no party.
        orphans = Designation.objects.filter(source=self.source, party__isnull=True)
        new_orphans = orphans.filter(first_seen_run=self.run).count()
        dropped, _detail = orphans.delete()
        self.tally.counts["added"] -= new_orphans
        self.tally.counts["skipped"] += dropped
        delisted = (
            DesignatedParty.objects.filter(source=self.source, delisted_on__isnull=True)
            .exclude(last_seen_run=self.run)
            .update(delisted_on=today)
        )
        delisted += (
            Designation.objects.filter(source=self.source, delisted_on__isnull=True)
            .filter(~Q(last_seen_run=self.run) | Q(party__delisted_on__isnull=False))
            .update(delisted_on=today)
        )
        self.tally.counts["delisted"] += delisted
        return self.tally.counts


def insert_keys(rows) -> None:
    """Insert (party id, key) rows with one executemany: several keys a party, millions a
    list, where building a model instance for each costs more than the insert itself."""
    rows = list(rows)
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(NameKey._meta.db_table)
    # Identifiers come from the model and are quoted; the values are parameters.
    sql = f"INSERT INTO {table} ({quote('party_id')}, {quote('key')}) VALUES (%s, %s)"  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def save_progress(run: ImportRun, tally: Tally, bytes_read: int) -> None:
    counts = tally.counts
    ImportRun.objects.filter(pk=run.pk).update(
        bytes_read=bytes_read,
        entries=counts["entries"],
        added=counts["added"],
        changed=counts["changed"],
        unchanged=counts["unchanged"],
        skipped=counts["skipped"],
        errors=counts["errors"],
        finished_at=None,
        heartbeat_at=timezone.now(),
    )


def run_import(run: ImportRun, path) -> ImportRun:
    """Read the file at `path` into `run`'s source; record everything on the run."""
    reader_of = READERS[run.format]
    importer = Importer(run)
    with open(path, "rb") as raw:
        hashing = HashingReader(raw)
        stream = io.BufferedReader(hashing, buffer_size=CHUNK)
        try:
            for item in reader_of(stream):
                importer.feed(item)
                if importer.tally.counts["entries"] % PROGRESS_EVERY == 0:
                    save_progress(run, importer.tally, hashing.bytes_read)
            importer.flush()
            hashing.drain()
        except (ListFormatError, UnicodeDecodeError, OSError) as error:
            importer.flush()
            return _finish(run, importer.tally, hashing, failure=str(error))
    importer.finish()
    return _finish(run, importer.tally, hashing)


def _finish(run: ImportRun, tally: Tally, hashing: HashingReader, failure: str = "") -> ImportRun:
    counts = tally.counts
    run.sha256 = hashing.digest.hexdigest() if not failure else ""
    run.bytes_read = hashing.bytes_read
    run.entries = counts["entries"]
    run.added, run.changed = counts["added"], counts["changed"]
    run.unchanged, run.skipped = counts["unchanged"], counts["skipped"]
    run.delisted = counts["delisted"]
    run.errors = counts["errors"]
    run.error_log = [{"entry": label, "message": message} for label, message in tally.errors]
    run.unknown_programs = dict(sorted(tally.unknown.items()))
    run.failure = failure
    run.status = ImportRun.Status.FAILED if failure else ImportRun.Status.DONE
    run.finished_at = run.heartbeat_at = timezone.now()
    run.save()
    return run


def running_elsewhere(source: str, exclude: int | None = None) -> bool:
    """Another import of `source` is running (and still alive)."""
    alive = timezone.now() - STALE_AFTER
    return (
        ImportRun.objects.filter(source=source, status=ImportRun.Status.RUNNING)
        .filter(Q(heartbeat_at__gte=alive) | Q(heartbeat_at__isnull=True, started_at__gte=alive))
        .exclude(pk=exclude)
        .exists()
    )
