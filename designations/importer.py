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

A batch costs a fixed handful of queries whatever its size: one to find which of its parties
(and one which of its listings) exist, then new rows in one statement a table, changed ones in
one executemany, unchanged ones in one UPDATE. On PostgreSQL new rows go in by COPY (parties
with keys taken from their sequence beforehand, so that their listings and blocking keys can
point at them) and a batch's commit does not wait for the disk; other databases take the
ORM's bulk_create.

The file is parsed in a process of its own (forked, for files of PARSE_APART_FROM bytes or
more) while this one writes: parsing (JSON or XML, FollowTheMoney's proxies, the content
hashes and the blocking keys) and writing each take about half of the time, and now overlap.
The parsing process sends its entries in order, in batches, through a pipe whose small buffer
holds it back when the writer falls behind, so that memory stays constant in both; it touches
no database. Where a process cannot be forked, the file is parsed here, with the same result.
"""

import hashlib
import io
import logging
import multiprocessing
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import orjson
from django.db import DatabaseError, connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from submissions.models import Regime

from . import names
from .models import DesignatedParty, Designation, ImportRun, NameKey
from .parsers import READERS, Entry, EntryError, ListFormatError, PartyEntry, SanctionEntry

logger = logging.getLogger(__name__)

BATCH = 500  # entries a transaction
BATCH_COPY = 2000  # ... on PostgreSQL, whose new rows go in by COPY
ANALYZE_AFTER = 10_000  # rows added or changed
PROGRESS_EVERY = 2000
ERRORS_KEPT = 200
CHUNK = 1024 * 1024
PARSE_APART_FROM = 4 * 1024 * 1024  # bytes of file from which a separate process parses it
SEND_EVERY = 500  # entries a message from the parsing process
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
    """SHA-256 of the content as sorted, compact JSON in UTF-8 (orjson writes the very bytes of
    json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":")), only faster)."""
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


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
        # PostgreSQL takes new rows through COPY: no model instance, no SQL to compile.
        self.copy = connection.vendor == "postgresql"
        self.batch_size = BATCH_COPY if self.copy else BATCH

    # Feeding

    def feed(self, item: Entry | EntryError) -> None:
        self.tally.counts["entries"] += 1
        if isinstance(item, EntryError):
            self.tally.error(item.label, item.message)
        elif item.skipped:
            self.tally.counts["skipped"] += 1
        else:
            self.batch.append(item)
            if len(self.batch) >= self.batch_size:
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
        if self.copy:
            # A batch's commit need not wait for the disk: the run's last save (a normal
            # commit) flushes every batch before it, and a run cut short is read again anyway.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
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
        if not wanted:
            return {}
        # {external id: (pk, content hash, delisted on, last seen run)}, one query a batch
        existing = existing_rows(
            DesignatedParty,
            self.source,
            list(wanted),
            ["pk", "content_hash", "delisted_on", "last_seen_run_id"],
        )
        run_pk = self.run.pk
        new, changed, unchanged = [], [], []  # (party, digest); (pk, party, digest); pk
        for external_id, entry in wanted.items():
            party = entry.party
            digest = party.digest or content_hash(party.content())
            current = existing.get(external_id)
            if current is None:
                new.append((party, digest))
                continue
            pk, current_digest, delisted_on, last_seen_run_id = current
            if last_seen_run_id == run_pk:
                tally.error(entry.label, f"{external_id} appears twice in the file")
                entry.sanctions = []
            elif current_digest != digest or delisted_on is not None:
                changed.append((pk, party, digest))
            else:
                unchanged.append(pk)
        new_pks = self._insert_parties(new)
        if changed:
            self._update_parties(changed)
            NameKey.objects.filter(party__in=[pk for pk, _party, _digest in changed]).delete()
        if unchanged:
            DesignatedParty.objects.filter(pk__in=unchanged).update(last_seen_run=self.run)
        written_parties = [
            *zip(new_pks, (party for party, _digest in new), strict=True),
            *((pk, party) for pk, party, _digest in changed),
        ]
        insert_keys(
            [
                (pk, key)
                for pk, party in written_parties
                for key in (party.keys or party_keys(party))
            ],
            copy=self.copy,
        )
        tally.counts["added"] += len(new)
        tally.counts["changed"] += len(changed)
        tally.counts["unchanged"] += len(unchanged)
        written = {party.external_id: pk for pk, party in written_parties}
        written.update({external_id: current[0] for external_id, current in existing.items()})
        return written

    PARTY_FIELDS = ["kind", "schema", "name", "names", "birth_dates", "nationalities",
                    "identifiers", "content_hash", "last_seen_run", "updated_at"]  # fmt: skip

    def _party_values(self, party, digest: str) -> list:
        """The values of PARTY_FIELDS."""
        return [party.kind, party.schema, party.name, party.names, party.birth_dates,
                party.nationalities, party.identifiers, digest, self.run.pk, self.now]  # fmt: skip

    def _insert_parties(self, new: list) -> list[int]:
        """Insert the new parties [(party, digest)]; return their primary keys, in order."""
        if not new:
            return []
        if not self.copy:
            rows = []
            for party, digest in new:
                fields = dict(
                    zip(self.PARTY_FIELDS, self._party_values(party, digest), strict=True)
                )
                fields["last_seen_run_id"] = fields.pop("last_seen_run")
                rows.append(
                    DesignatedParty(
                        source=self.source,
                        external_id=party.external_id,
                        first_seen_run=self.run,
                        first_seen_at=self.now,
                        **fields,
                    )
                )
            DesignatedParty.objects.bulk_create(rows)
            return [row.pk for row in rows]
        pks = reserve_pks(DesignatedParty, len(new))
        copy_rows(
            DesignatedParty,
            ["id", "source", "external_id", "first_seen_run", "first_seen_at", *self.PARTY_FIELDS],
            (
                [pk, self.source, party.external_id, self.run.pk, self.now,
                 *self._party_values(party, digest)]
                for pk, (party, digest) in zip(pks, new, strict=True)
            ),
        )  # fmt: skip
        return pks

    def _update_parties(self, changed: list) -> None:
        update_rows(
            DesignatedParty,
            [*self.PARTY_FIELDS, "delisted_on"],
            [[*self._party_values(party, digest), None, pk] for pk, party, digest in changed],
        )

    DESIGNATION_FIELDS = ["party", "party_ref", "program_key", "regime", "authority",
                          "reference", "listed_on", "content_hash", "last_seen_run",
                          "listed_in_run", "delisted_on"]  # fmt: skip

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
                **{
                    external_id: row[0]
                    for external_id, row in existing_rows(
                        DesignatedParty, self.source, list(missing_refs), ["pk"]
                    ).items()
                },
            }
        # {external id: (pk, content hash, delisted on, last seen run, party, listed in run)}
        existing = existing_rows(
            Designation, self.source, list(wanted),
            ["pk", "content_hash", "delisted_on", "last_seen_run_id", "party_id",
             "listed_in_run_id"],
        )  # fmt: skip
        run_pk = self.run.pk
        new, changed, unchanged = [], [], []  # values of DESIGNATION_FIELDS (+ pk); pk
        for external_id, (entry, sanction) in wanted.items():
            regime_id = self.regimes.get(sanction.program_key)
            if regime_id is None:
                tally.unknown[sanction.program_key or "(none)"] += 1
            digest = sanction.digest or content_hash(sanction.content())
            current = existing.get(external_id)
            if current is not None and current[3] == run_pk:
                tally.error(entry.label, f"{external_id} appears twice in the file")
                continue
            party_id = parties.get(sanction.party_ref)
            values = [party_id, sanction.party_ref, sanction.program_key, regime_id,
                      sanction.authority, sanction.reference, sanction.listed_on, digest,
                      run_pk]  # fmt: skip
            if current is None:
                new.append((external_id, values))
                continue
            pk, current_digest, delisted_on, _seen, current_party_id, listed_in_run_id = current
            if (
                current_digest != digest
                or delisted_on is not None
                or (current_party_id is None and party_id is not None)
            ):
                if delisted_on is not None:
                    listed_in_run_id = run_pk  # listed again
                changed.append([*values, listed_in_run_id, None, pk])
            else:
                unchanged.append(pk)
        self._insert_designations(new)
        update_rows(Designation, self.DESIGNATION_FIELDS, changed)
        if unchanged:
            Designation.objects.filter(pk__in=unchanged).update(last_seen_run=self.run)
        tally.counts["added"] += len(new)
        tally.counts["changed"] += len(changed)
        tally.counts["unchanged"] += len(unchanged)

    def _insert_designations(self, new: list) -> None:
        """Insert the new designations [(external id, values of DESIGNATION_FIELDS[:-2])]."""
        if not new:
            return
        fields = self.DESIGNATION_FIELDS[:-2]  # listed in this run, and not delisted
        tail = [self.run.pk, self.now]
        if self.copy:
            copy_rows(
                Designation,
                ["source", "external_id", *fields, "listed_in_run", "first_seen_at",
                 "first_seen_run"],
                ([self.source, external_id, *values, *tail, self.run.pk]
                 for external_id, values in new),
            )  # fmt: skip
            return
        rows = []
        for external_id, values in new:
            row = Designation(
                source=self.source,
                external_id=external_id,
                first_seen_run=self.run,
                listed_in_run=self.run,
                first_seen_at=self.now,
                **{name + "_id" if name in ("party", "regime", "last_seen_run") else name: value
                   for name, value in zip(fields, values, strict=True)},
            )  # fmt: skip
            rows.append(row)
        Designation.objects.bulk_create(rows)

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
        from submissions.dashboard import changed

        from .gaps import DESIGNATIONS  # rows written by COPY and update() send no signal

        changed(DESIGNATIONS)
        if self.copy and self.tally.counts["added"] + self.tally.counts["changed"] >= ANALYZE_AFTER:
            # Fresh statistics, so that screening right after a large import plans well.
            analyze(DesignatedParty, Designation, NameKey)
        return self.tally.counts


def existing_rows(model, source: str, external_ids: list[str], names: list[str]) -> dict:
    """{external id: (values of `names`)} of the rows of `source` among `external_ids`. On
    PostgreSQL the ids go as one array parameter: an IN list of thousands costs more to
    build, bind and parse than the lookup itself."""
    if connection.vendor != "postgresql":
        return {
            row[0]: row[1:]
            for row in model.objects.filter(source=source, external_id__in=external_ids)
            .values_list("external_id", *names)
            .iterator()
        }
    quote = connection.ops.quote_name
    opts = model._meta
    columns = ", ".join(
        quote(opts.pk.column if name == "pk" else opts.get_field(name.removesuffix("_id")).column)
        for name in names
    )
    # Identifiers come from the model and are quoted; the values are parameters.
    sql = (
        f"SELECT {quote('external_id')}, {columns} FROM {quote(opts.db_table)} "  # noqa: S608  # nosec B608
        f"WHERE {quote('source')} = %s AND {quote('external_id')} = ANY(%s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [source, external_ids])
        return {row[0]: row[1:] for row in cursor.fetchall()}


def insert_keys(rows: list, *, copy: bool = False) -> None:
    """Insert (party id, key) rows: several keys a party, millions a list, where building a
    model instance for each costs more than the insert itself."""
    if not rows:
        return
    if copy:
        copy_rows(NameKey, ["party", "key"], rows)
        return
    quote = connection.ops.quote_name
    table = quote(NameKey._meta.db_table)
    # Identifiers come from the model and are quoted; the values are parameters.
    sql = f"INSERT INTO {table} ({quote('party_id')}, {quote('key')}) VALUES (%s, %s)"  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def reserve_pks(model, count: int) -> list[int]:
    """`count` primary keys from the table's sequence (PostgreSQL), for rows COPY will write."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [connection.ops.quote_name(table), model._meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def copy_rows(model, names: list[str], rows) -> None:
    """Write `rows` (values of the fields `names`, ready for the database) into `model`'s
    table with one COPY (PostgreSQL): the fastest way in, and all or nothing like an INSERT."""
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    json_at = [i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"]
    columns = ", ".join(quote(f.column) for f in fields)
    # Identifiers come from the model and are quoted; the rows go through the COPY stream.
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"  # nosec B608
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                for i in json_at:
                    row[i] = json_dumps(row[i])
                copy.write_row(row)


def update_rows(model, names: list[str], rows: list) -> None:
    """UPDATE rows of `model` [values of the fields `names` ..., pk] with one executemany."""
    if not rows:
        return
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    # Identifiers come from the model and are quoted; the values are parameters.
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(model._meta.pk.column)} = %s"  # noqa: S608, E501  # nosec B608
    params = [
        [f.get_db_prep_save(value, connection) for f, value in zip(fields, row, strict=False)]
        + [row[-1]]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def analyze(*models) -> None:
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def json_dumps(value) -> str:
    return orjson.dumps(value).decode()


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


def party_keys(party) -> frozenset:
    return frozenset(names.blocking_keys(n["name"] for n in party.names))


def prepare(item: Entry | EntryError) -> Entry | EntryError:
    """Compute what writing `item` needs that depends on it alone (in the parsing process)."""
    if isinstance(item, Entry):
        if item.party is not None:
            item.party.digest = content_hash(item.party.content())
            item.party.keys = party_keys(item.party)
        for sanction in item.sanctions:
            sanction.digest = content_hash(sanction.content())
    return item


@dataclass
class Reading:
    """What reading a file found besides its entries."""

    bytes_read: int = 0
    sha256: str = ""
    failure: str = ""  # the file could not be read on (the entries before it stand)


def read_entries(format: str, path, reading: Reading) -> Iterator[Entry | EntryError]:
    """The entries of the file at `path`, prepared; `reading` follows the reading."""
    with open(path, "rb") as raw:
        hashing = HashingReader(raw)
        stream = io.BufferedReader(hashing, buffer_size=CHUNK)
        try:
            for item in READERS[format](stream):
                reading.bytes_read = hashing.bytes_read
                yield prepare(item)
            hashing.drain()
            reading.sha256 = hashing.digest.hexdigest()
        except (ListFormatError, UnicodeDecodeError, OSError) as error:
            reading.failure = str(error)
        reading.bytes_read = hashing.bytes_read


# Entries cross the pipe as JSON (orjson): several times cheaper to write and read back than
# pickled dataclasses, and the values (strings, lists, dicts, dates) come back the same.


def _pack(item: Entry | EntryError) -> list:
    if isinstance(item, EntryError):
        return [item.label, item.message]
    party = item.party
    if party is not None:
        party = [party.external_id, party.kind, party.schema, party.name, party.names,
                 party.birth_dates, party.nationalities, party.identifiers, party.digest,
                 sorted(party.keys)]  # fmt: skip
    sanctions = [[s.external_id, s.party_ref, s.program_key, s.authority, s.reference,
                  s.listed_on, s.digest] for s in item.sanctions]  # fmt: skip
    return [item.label, party, sanctions, item.skipped]


def _unpack(packed: list) -> Entry | EntryError:
    if len(packed) == 2:
        return EntryError(*packed)
    label, party, sanctions, skipped = packed
    if party is not None:
        *fields, keys = party
        party = PartyEntry(*fields, keys=frozenset(keys))
    return Entry(
        label,
        party=party,
        sanctions=[
            SanctionEntry(
                ext,
                ref,
                program,
                authority,
                reference,
                date.fromisoformat(listed) if listed else None,
                digest,
            )
            for ext, ref, program, authority, reference, listed, digest in sanctions
        ],  # fmt: skip
        skipped=skipped,
    )


def _read_apart(format: str, path, pipe) -> None:
    """The parsing process: send batches of entries [bytes read, [packed entry ...]], then
    the Reading ({...}), or the traceback of what broke it (a string)."""
    reading, batch = Reading(), []
    try:
        for item in read_entries(format, path, reading):
            batch.append(_pack(item))
            if len(batch) >= SEND_EVERY:
                pipe.send_bytes(orjson.dumps([reading.bytes_read, batch]))
                batch = []
        pipe.send_bytes(orjson.dumps([reading.bytes_read, batch]))
        pipe.send_bytes(orjson.dumps(vars(reading)))
    except BaseException:  # noqa: BLE001 - whatever it is, the writer must hear of it
        pipe.send_bytes(orjson.dumps(traceback.format_exc()))
    finally:
        pipe.close()


def read_entries_apart(format: str, path, reading: Reading) -> Iterator[Entry | EntryError]:
    """read_entries(), parsed in a forked process while the caller writes what it yields."""
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    parser = context.Process(target=_read_apart, args=(format, path, sending), daemon=True)
    parser.start()
    sending.close()
    try:
        while True:
            try:
                message = orjson.loads(receiving.recv_bytes())
            except EOFError:
                raise RuntimeError(f"The parsing process stopped ({parser.exitcode})") from None
            if isinstance(message, dict):
                vars(reading).update(message)
                return
            if isinstance(message, str):
                raise RuntimeError(f"The parsing process failed:\n{message}")
            reading.bytes_read, batch = message
            for packed in batch:
                yield _unpack(packed)
    finally:
        receiving.close()
        if parser.is_alive():
            parser.terminate()
        parser.join()


def _can_fork() -> bool:
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    # A daemonic process (a multiprocessing pool's worker) may not start one.
    return not multiprocessing.current_process().daemon


def run_import(run: ImportRun, path) -> ImportRun:
    """Read the file at `path` into `run`'s source; record everything on the run."""
    importer = Importer(run)
    reading = Reading()
    apart = run.bytes_total >= PARSE_APART_FROM and _can_fork()
    entries = (read_entries_apart if apart else read_entries)(run.format, path, reading)
    try:
        for item in entries:
            importer.feed(item)
            if importer.tally.counts["entries"] % PROGRESS_EVERY == 0:
                save_progress(run, importer.tally, reading.bytes_read)
    finally:
        entries.close()  # the parsing process ends with it
    importer.flush()
    if reading.failure:
        return _finish(run, importer.tally, reading)
    importer.finish()
    return _finish(run, importer.tally, reading)


def _finish(run: ImportRun, tally: Tally, reading: Reading) -> ImportRun:
    counts = tally.counts
    failure = reading.failure
    run.sha256 = reading.sha256 if not failure else ""
    run.bytes_read = reading.bytes_read
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
