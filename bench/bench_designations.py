"""
Benchmark of existing designations: import 1,000,000 generated FollowTheMoney entities (time,
peak memory) and screen one person against them (p50 / p95 over 50 runs; target p95 < 200 ms).

Runs inside a configured Django whose database is migrated (bench/run.py); builds its own data
under the source "bench-designations" and removes it afterwards. `run(quick=True)` uses 10,000
entities (the smoke test in tests/designations).
"""

import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

SOURCE = "bench-designations"
RUNS = 50
P95_TARGET_MS = 200.0
IMPORT_TARGET_S = 90.0  # 1M entities (issue #23)

# (Latin, Cyrillic) name parts: persons get a Cyrillic name and a Latin alias, as lists do.
FIRST = [("Ivan", "Иван"), ("Sergei", "Сергей"), ("Oleg", "Олег"), ("Pavel", "Павел"),
         ("Dmitry", "Дмитрий"), ("Alexei", "Алексей"), ("Nikolai", "Николай"),
         ("Mikhail", "Михаил"), ("Andrei", "Андрей"), ("Yuri", "Юрий"), ("Viktor", "Виктор"),
         ("Boris", "Борис"), ("Anna", "Анна"), ("Olga", "Ольга"), ("Elena", "Елена"),
         ("Irina", "Ирина"), ("Tatiana", "Татьяна"), ("Natalia", "Наталья"),
         ("Svetlana", "Светлана"), ("Maria", "Мария")]  # fmt: skip
MIDDLE = ["Ivanovich", "Sergeyevich", "Olegovich", "Pavlovich", "Dmitrievich", "Alexeyevich",
          "Nikolaevich", "Mikhailovich", "Andreyevich", "Yurievich", "Viktorovich",
          "Borisovich"]  # fmt: skip
LAST = ["Petrov", "Volkov", "Sidorov", "Ivanov", "Kuznetsov", "Popov", "Lebedev", "Kozlov",
        "Novikov", "Morozov", "Sokolov", "Pavlov", "Semenov", "Golubev", "Vinogradov",
        "Bogdanov", "Vorobyov", "Fedorov", "Mikhailov", "Belyaev", "Tarasov", "Belov",
        "Komarov", "Orlov", "Kiselev", "Makarov", "Andreev", "Kovalev", "Ilyin", "Gusev",
        "Titov", "Kuzmin", "Kudryavtsev", "Baranov", "Kulikov", "Alekseev", "Stepanov",
        "Yakovlev", "Sorokin", "Sergeev", "Romanov", "Zakharov", "Borisov", "Korolev",
        "Gerasimov", "Ponomarev", "Grigoriev", "Lazarev", "Medvedev", "Ershov"]  # fmt: skip
PROGRAMS = ["US-GLOMAG", "GB-HR", "GB-AC", "EU-HR", "CA-JVCFOA", "AU-HUMAN", "XX-BENCH"]


def _cyrillic(latin: str) -> str:
    table = {"a": "а", "b": "б", "v": "в", "g": "г", "d": "д", "e": "е", "z": "з", "i": "и",
             "y": "й", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "r": "р",
             "s": "с", "t": "т", "u": "у", "f": "ф", "h": "х", "c": "ц"}  # fmt: skip
    text = latin.lower().replace("kh", "х").replace("ch", "ч").replace("sh", "ш")
    text = text.replace("x", "кс")
    return "".join(table.get(c, c) for c in text).capitalize()


def write_entities(path: Path, count: int) -> int:
    """`count` entities: persons and organisations, each followed by one Sanction."""
    with path.open("w", encoding="utf-8") as out:
        for n in range(count // 2):
            first, first_cyr = FIRST[n % len(FIRST)]
            last = LAST[(n // len(FIRST)) % len(LAST)]
            middle = MIDDLE[(n // (len(FIRST) * len(LAST))) % len(MIDDLE)]
            if n % 10 == 9:
                entity = {"id": f"b{n}", "schema": "Organization",
                          "properties": {"name": [f"{last} Holdings {n}"], "country": ["ru"]}}  # fmt: skip
            else:
                entity = {
                    "id": f"b{n}",
                    "schema": "Person",
                    "properties": {
                        "name": [f"{first_cyr} {_cyrillic(middle)} {_cyrillic(last)}"],
                        "alias": [f"{first} {middle} {last}"],
                        "birthDate": [f"{1940 + n % 50}-{1 + n % 12:02d}-{1 + n % 28:02d}"],
                        "nationality": ["ru"],
                    },
                }
            sanction = {
                "id": f"bs{n}",
                "schema": "Sanction",
                "properties": {"entity": [f"b{n}"], "programId": [PROGRAMS[n % len(PROGRAMS)]],
                               "listingDate": [f"{2018 + n % 8}-06-01"]},
            }  # fmt: skip
            out.write(json.dumps(entity, ensure_ascii=False) + "\n")
            out.write(json.dumps(sanction) + "\n")
    return path.stat().st_size


class RssSampler:
    """Peak resident memory of this process while the import runs (sampled every 50 ms), and
    the growth of its child processes' (the parser's) from when each was first seen."""

    def __init__(self):
        self.peak = self.start = self._rss()
        self.children: dict[str, list[int]] = {}  # pid: [first seen, peak]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    @staticmethod
    def _children_rss() -> dict[str, int]:
        sizes = {}
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/children") as children:
                    pids = children.read().split()
                for pid in pids:
                    with open(f"/proc/{pid}/statm") as statm:
                        sizes[pid] = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            except OSError:  # a child that ended between the reads
                continue
        return sizes

    @property
    def children_growth(self) -> int:
        return max((peak - first for first, peak in self.children.values()), default=0)

    def _sample(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._rss())
            for pid, size in self._children_rss().items():
                first_peak = self.children.setdefault(pid, [size, size])
                first_peak[1] = max(first_peak[1], size)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())


def cleanup() -> None:
    from designations.models import (
        DesignatedParty,
        Designation,
        ImportRun,
        NameKey,
        PackageOutcome,
        ScreeningMatch,
    )

    # Raw deletes: a million rows through Django's cascade collector would take minutes.
    NameKey.objects.filter(party__source=SOURCE)._raw_delete("default")
    ScreeningMatch.objects.filter(party__source=SOURCE)._raw_delete("default")
    PackageOutcome.objects.filter(designation__source=SOURCE)._raw_delete("default")
    Designation.objects.filter(source=SOURCE)._raw_delete("default")
    DesignatedParty.objects.filter(source=SOURCE)._raw_delete("default")
    ImportRun.objects.filter(source=SOURCE)._raw_delete("default")


def _result(case, metric, value, unit, target=None, met=None, notes=""):
    return {"benchmark": "designations", "case": case, "metric": metric, "value": float(value),
            "unit": unit, "target": target, "met": met, "notes": notes}  # fmt: skip


def run(quick: bool = False) -> list[dict]:
    """Import generated FtM entities, then screen one person; return the measurements."""
    from django.db import connection

    from designations import importer, screening, services

    count = 10_000 if quick else 1_000_000
    batch = importer.BATCH_COPY if connection.vendor == "postgresql" else importer.BATCH
    case = f"{count:,} FtM entities ({connection.vendor})"
    cleanup()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-designations-") as folder:
        path = Path(folder) / "entities.ftm.json"
        size = write_entities(path, count)
        with RssSampler() as rss:
            started = time.perf_counter()
            run_row = services.import_designations(
                format="ftm", location=str(path), source=SOURCE, screen=False
            )
            elapsed = time.perf_counter() - started
    try:
        notes = (f"file {size / 2**20:.0f} MiB; {run_row.added:,} rows added, "
                 f"{run_row.errors} errors, status {run_row.status}")  # fmt: skip
        results += [
            _result(
                case,
                "import time",
                elapsed,
                "s",
                None if quick else f"<= {IMPORT_TARGET_S:.0f} s",
                None if quick else elapsed <= IMPORT_TARGET_S,
                notes=notes,
            ),
            _result(case, "import rate", count / elapsed, "entities/s", notes=notes),
            _result(
                case,
                "import peak memory (RSS growth)",
                (rss.peak - rss.start) / 2**20,
                "MiB",
                notes=f"streamed in batches of {batch} entries: does not grow with the file",
            ),  # fmt: skip
            _result(
                case,
                "parsing process peak memory (RSS growth)",
                rss.children_growth / 2**20,
                "MiB",
                notes=f"files of {importer.PARSE_APART_FROM / 2**20:.0f} MiB or more are parsed "
                "in a forked process, from its first sample",
            ),  # fmt: skip
        ]
        # Screen one person: a Cyrillic name with a Latin-listed twin among the entities.
        profile = screening.Profile(
            kind="person",
            names=["Ivan Sergeyevich Petrov", "Иван Сергеевич Петров"],
            birth_dates=["1940-01"],
            nationalities={"RU"},
        )
        timings, found = [], []
        for _ in range(RUNS):
            started = time.perf_counter()
            found = screening.candidates(profile)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[int(round(0.95 * (len(timings) - 1)))]
        notes = (
            f"{RUNS} runs; {len(found)} candidates, best score {found[0].score if found else '-'}"
        )
        results += [
            _result(case, "screening p50", p50, "ms", notes=notes),
            _result(
                case,
                "screening p95",
                p95,
                "ms",
                f"< {P95_TARGET_MS:.0f} ms",
                p95 < P95_TARGET_MS,
                notes,
            ),  # fmt: skip
        ]
    finally:
        cleanup()
    return results


if __name__ == "__main__":  # pragma: no cover - `python -m bench.bench_designations`
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    for row in run(quick=os.environ.get("QUICK") == "1"):
        print(row)
