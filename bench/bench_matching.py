"""
Person matching: suggestions for one subject against 10k, 100k and 1M canonical persons.

Persons are generated from pools of given names and surnames (a few thousand distinct
surnames, so that common words are shared by tens of thousands of persons, as real names
are) and loaded with COPY, with their blocking keys. A planted person, spelled differently
from the subject, must come first: a fast answer that misses it would not count.
"""

# ruff: noqa: S311 - generated names, not secrets

import io
import itertools
import json
import random

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import common

SIZES = [10_000, 100_000, 1_000_000]
QUICK_SIZES = [2_000, 10_000]
TARGET_SECONDS = 0.2

GIVEN = [
    "Aleksandr", "Aleksey", "Andrey", "Anna", "Boris", "Dmitry", "Elena", "Fatima", "Gulnara",
    "Igor", "Irina", "Ivan", "Kirill", "Leyla", "Mikhail", "Nadezhda", "Nikolay", "Oleg",
    "Olga", "Pavel", "Rustam", "Sergey", "Svetlana", "Timur", "Vladimir", "Yuri", "Zarina",
    "Mohammed", "Ahmed", "Hassan", "Omar", "Li", "Wei", "Min", "Thanh", "Somchai", "Aung",
    "Carlos", "Jose", "Maria", "Juan", "Luis", "Ana", "Pedro", "Miguel", "Victor", "Daniel",
]  # fmt: skip
ROOTS = [
    "Petr", "Ivan", "Sidor", "Kuznets", "Smirn", "Popov", "Volk", "Sokol", "Lebed", "Kozl",
    "Novik", "Morozh", "Pavl", "Semen", "Golub", "Vinogr", "Bogdan", "Vorob", "Fedor", "Mikhayl",
    "Beliaev", "Tarasen", "Belov", "Komar", "Orlov", "Kisel", "Makar", "Andre", "Kovalch",
    "Ilin", "Gusev", "Titov", "Kuzmin", "Kudr", "Baran", "Kulik", "Alekse", "Stepan", "Yakovl",
    "Sorok", "Sergey", "Romanov", "Zakhar", "Borisov", "Korolen", "Gerasim", "Ponomar", "Grigor",
    "Lazar", "Medved", "Ershov", "Nikitin", "Sobol", "Ryabov", "Poliak", "Tsvetk", "Danilov",
    "Zhukov", "Frolov", "Zhuravl", "Nikolaev", "Krylov", "Maksim", "Sidorenk", "Osipov",
]  # fmt: skip
ENDINGS = ["ov", "ev", "in", "enko", "sky", "ovich", "uk", "ic", "ovsky", "yan", "ashvili", "ski"]
PLANTED = ("Alexei Navalny", "1976-06-04")  # the subject is "Aleksey Naval'nyy" / Cyrillic


def names(count: int, seed: int):
    """(name, birth date) pairs: deterministic, with a fifth of the birth dates unknown."""
    rng = random.Random(seed)
    surnames = [root + ending for root, ending in itertools.product(ROOTS, ENDINGS)]
    for _ in range(count):
        name = f"{rng.choice(GIVEN)} {rng.choice(surnames)}"
        year = rng.randint(1940, 1999)
        birth = "" if rng.random() < 0.2 else f"{year}-{rng.randint(1, 12):02d}"
        yield name, birth


def load_persons(start: int, count: int, created_by: int, seed: int) -> None:
    """COPY `count` persons (ids from `start`) and their blocking keys."""
    from reviews.matching import keys_for

    key_cache: dict[str, set[str]] = {}

    def keys(name: str) -> set[str]:
        found = set()
        for word in name.split():
            if word not in key_cache:
                key_cache[word] = keys_for(word)
            found |= key_cache[word]
        # A word's keys do not depend on its neighbours (normalise works word by word).
        return found

    persons, name_keys = io.StringIO(), io.StringIO()
    for offset, (name, birth) in enumerate(names(count, seed)):
        pk = start + offset
        persons.write(f"{pk}\t{name}\t\t[]\t{birth}\t\t\t{created_by}\tnow\tnow\tperson\n")
        for key in keys(name):
            name_keys.write(f"{key}\t{birth[:4]}\t{pk}\n")
    with connection.cursor() as cursor:
        with cursor.copy(
            "COPY reviews_person (id, name, name_original, aliases, birth_date, nationalities,"
            " notes, created_by_id, created_at, updated_at, kind) FROM STDIN"
        ) as copy:
            copy.write(persons.getvalue())
        with cursor.copy("COPY reviews_namekey (key, birth_year, person_id) FROM STDIN") as copy:
            copy.write(name_keys.getvalue())
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('reviews_person', 'id'), %s)",
            [start + count],
        )


def run(quick: bool = False) -> list[dict]:
    from reviews import matching
    from reviews.models import Person
    from submissions.models import Dossier, Subject
    from tests.factories import OrganisationFactory, SubjectFactory
    from tests.reviews.factories import SubmittedDossierFactory

    lena = common.reviewer("lena.matching@bench.example", lead=True)
    organisation = OrganisationFactory(name="Matching bench NGO")
    author = common.member("author.matching@bench.example", organisation)
    dossier = SubmittedDossierFactory(organisation=organisation, created_by=author)
    Dossier.objects.filter(pk=dossier.pk).update(status="in_review")
    planted_subject = SubjectFactory(
        dossier=dossier,
        name="Aleksey Naval'nyy",
        name_original="Алексей Навальный",
        birth_date="1976-06-04",
        nationalities=["RU"],
    )
    # Other queries: names that are common in the generated data (worst case for blocking).
    queries = [planted_subject] + [
        SubjectFactory(dossier=dossier, name=name, name_original="", birth_date=birth)
        for name, birth in itertools.islice(names(20, seed=99), 9)
    ]
    sizes = QUICK_SIZES if quick else SIZES
    runs = 2 if quick else 3
    rows, loaded = [], 0
    Person.objects.create(name=PLANTED[0], birth_date=PLANTED[1], created_by=lena)
    for size in sizes:
        load_persons(start=10_000_000 + loaded, count=size - loaded, created_by=lena.pk, seed=size)
        loaded = size
        common.analyze(vacuum=True)

        first = matching.suggest(planted_subject, user=lena)
        found = bool(first) and first[0].candidate.name == PLANTED[0]
        seconds, counts = [], []
        for _ in range(runs):
            for query in queries:
                subject = Subject.objects.get(pk=query.pk)  # nothing cached from a past run
                with CaptureQueriesContext(connection) as captured:
                    seconds += common.timed(
                        lambda s=subject: matching.suggest(s, user=lena), 1, warmup=0
                    )
                counts.append(len(captured.captured_queries))
        case = f"{size:,} persons"
        rows += [
            common.row("matching", case, "median", common.median(seconds) * 1000, "ms",
                       notes=f"{len(queries)} names x {runs} runs"),
            common.row("matching", case, "p95", common.p95(seconds) * 1000, "ms",
                       target="< 200 ms at 1M", met=common.p95(seconds) < TARGET_SECONDS
                       if size >= 1_000_000 else None),
            common.row("matching", case, "queries", max(counts), "queries",
                       notes="constant" if min(counts) == max(counts) else f"min {min(counts)}"),
            common.row("matching", case, "planted person ranked first", found, "",
                       met=found, notes=json.dumps(first[0].score) if first else "none"),
        ]  # fmt: skip
    return rows
