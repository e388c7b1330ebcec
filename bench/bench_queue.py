"""
The review site and the NGO dashboard at volume, through the Django test client.

- The queue (admin changelist) with 10k, 100k and 1M dossiers: plain, filtered (status and
  regime) and searched (a subject's surname), as a lead reviewer sees it (every dossier).
- The admin dossier page of a dossier with 500 exhibits.
- The NGO dashboard of an organisation with 1,000 dossiers.

Each page is reported beside the floor (/bench/floor/: the base template alone) fetched by the
same client in the same run: its median and p95 as a ratio to the floor's median. The figures
are the steady state: one warm-up request fills the shared cache (filter choices, completeness,
the dashboard's page) as the first reviewer of the day would.

Dossiers, subjects, incidents, regimes and assignments are cloned from template rows in SQL
(INSERT ... SELECT generate_series); the trigram search indexes are rebuilt after each load,
as a bulk import would do.
"""

# ruff: noqa: S608 - SQL built from the benchmark's own constants and integer ids

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench import common
from submissions import dashboard

SIZES = [10_000, 100_000, 1_000_000]
QUICK_SIZES = [1_000, 5_000]
TARGET_P95 = 0.15
TARGET_QUERIES = {"admin queue": 10, "admin dossier page": 12, "NGO dashboard": 6}

GIVEN = ["Ivan", "Aleksey", "Sergey", "Olga", "Mohammed", "Li", "Carlos", "Timur", "Anna", "Omar"]
SURNAMES = ["Petrov", "Smirnov", "Kuznetsov", "Popov", "Sokolov", "Lebedev", "Kozlov", "Novikov",
            "Morozov", "Volkov", "Alekseev", "Fedorov", "Zhukov", "Orlov", "Titov", "Gusev",
            "Belov", "Frolov", "Krylov", "Osipov", "Karimov", "Rahimov", "Wang", "Zhang", "Chen",
            "Hernandez", "Lopez", "Diaz", "Nguyen", "Tran", "Aziz", "Hussein", "Said", "Ali",
            "Rashidov", "Yusupov", "Nazarov", "Sultanov", "Ibragimov", "Tsoi"]  # fmt: skip
SEARCH = "Kuznetsov"  # one surname in 40
TRGM = [
    ("submissions_subject_name_trgm", "submissions_subject", "name"),
    ("submissions_subject_name_original_trgm", "submissions_subject", "name_original"),
    ("submissions_dossier_title_trgm", "submissions_dossier", "title"),
]


def sql_array(values) -> str:
    return "(ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "])"


def mix(expression: str, salt: int) -> str:
    """SQL for a pseudo-random non-negative integer from `expression` (one stream per salt)."""
    return f"(hashtext(({expression})::text || '-{salt}') & 2147483647)"


def execute(sql: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def templates(lena, rita):
    """One dossier as the review site holds it, with what its row in the queue shows."""
    from portal.models import Organisation
    from reviews.models import Assignment
    from tests.factories import IncidentFactory, OrganisationFactory, SubjectFactory
    from tests.reviews.factories import SubmittedDossierFactory

    organisations = [OrganisationFactory(name=f"Queue bench NGO {n}") for n in range(20)]
    author = common.member("author.queue@bench.example", organisations[0])
    dossier = SubmittedDossierFactory(organisation=organisations[0], created_by=author)
    subject = SubjectFactory(dossier=dossier)
    incident = IncidentFactory(dossier=dossier)
    assignment = Assignment.objects.create(dossier=dossier, reviewer=rita, assigned_by=lena)
    regime_link = dossier.target_regimes.through.objects.get(dossier=dossier)
    ids = list(
        Organisation.objects.filter(pk__in=[o.pk for o in organisations]).values_list(
            "pk", flat=True
        )
    )
    return dossier, subject, incident, assignment, regime_link, ids


def load(first: int, count: int, tmpl, lena) -> None:
    """Add `count` dossiers numbered from `first`, each with a subject, incident and regime."""
    from submissions.models import Regime, ViolationCategory

    dossier, subject, incident, assignment, regime_link, organisations = tmpl
    regimes = list(Regime.objects.values_list("pk", flat=True))
    categories = list(ViolationCategory.objects.values_list("pk", flat=True))
    statuses = ["submitted", "in_review", "information_requested", "approved", "rejected"]
    after = last_id()
    common.clone(
        "submissions_dossier",
        dossier.pk,
        count,
        {
            "reference": f"'BENCH-' || ({first} + g)",
            "title": f"{sql_array(['Detention of a journalist', 'Torture in custody', 'Seizure of a company', 'Killing of a protester', 'Disappearance of a lawyer'])}[1 + g % 5] || ' ' || ({first} + g)",
            "status": f"{sql_array(statuses)}[1 + g % 5]",
            "organisation_id": f"(ARRAY{organisations})[1 + {mix('g', 1)} % {len(organisations)}]",
            "status_changed_at": "now() - ((g % 200000) * interval '1 minute')",
        },
    )
    new = (
        f"SELECT id, row_number() OVER (ORDER BY id) g FROM submissions_dossier WHERE id > {after}"
    )
    common.clone_per(
        "submissions_subject",
        subject.pk,
        new,
        {
            "dossier_id": "p.id",
            "name": f"{sql_array(GIVEN)}[1 + {mix('p.g', 2)} % {len(GIVEN)}] || ' ' || {sql_array(SURNAMES)}[1 + {mix('p.g', 3)} % {len(SURNAMES)}]",
            "name_original": "''",
        },
    )
    common.clone_per(
        "submissions_incident",
        incident.pk,
        new,
        {
            "dossier_id": "p.id",
            "category_id": f"(ARRAY{categories})[1 + {mix('p.g', 4)} % {len(categories)}]",
            "country": f"{sql_array(['RU', 'BY', 'CN', 'IR', 'SA', 'VE', 'MM', 'NI'])}[1 + {mix('p.g', 5)} % 8]",
        },
    )
    common.clone_per(
        "submissions_dossier_target_regimes",
        regime_link.pk,
        new,
        {
            "dossier_id": "p.id",
            "regime_id": f"(ARRAY{regimes})[1 + {mix('p.g', 6)} % {len(regimes)}]",
        },
    )
    common.clone_per(
        "reviews_assignment",
        assignment.pk,
        f"SELECT * FROM ({new}) n WHERE {mix('n.g', 7)} % 10 = 0",
        {"dossier_id": "p.id"},
    )


_last = {"id": 0}


def last_id() -> int:
    return _last["id"]


def remember_last() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM submissions_dossier")
        _last["id"] = cursor.fetchone()[0]


def measure(client, url: str, runs: int) -> tuple[list[float], int]:
    """Seconds of each run of GET url (after one warm-up), and the most queries one took."""
    seconds, counts = [], []
    for index in range(runs + 1):
        with CaptureQueriesContext(connection) as captured:
            started = common.time.perf_counter()
            response = client.get(url)
            elapsed = common.time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        if index:
            seconds.append(elapsed)
            counts.append(len(captured.captured_queries))
    return seconds, max(counts)


def floor(client, runs: int) -> float:
    """Median seconds of the floor page (the base template alone) for the same client."""
    seconds, _queries = measure(client, reverse("bench-floor"), runs)
    return common.median(seconds)


def page_rows(benchmark, case, name, seconds, queries, floor_median, *, at_scale=True,
              baseline=None, target_p95=TARGET_P95) -> list:  # fmt: skip
    """Median (with the floor as reference), p95 and queries of one page."""
    p95, median = common.p95(seconds), common.median(seconds)
    prefix = f"{name} " if name else ""
    limit = TARGET_QUERIES[benchmark]
    constant = f"constant, <= {limit}" if baseline is not None else f"<= {limit}"
    met_queries = queries <= limit and (baseline is None or queries == baseline)
    return [
        common.row(benchmark, case, f"{prefix}median", median * 1000, "ms",
                   reference=floor_median * 1000, ratio=median / floor_median,
                   notes="reference: the floor page's median for the same client"),
        common.row(benchmark, case, f"{prefix}p95", p95 * 1000, "ms",
                   reference=floor_median * 1000, ratio=p95 / floor_median,
                   target=f"<= {target_p95 * 1000:.0f} ms" if target_p95 else None,
                   met=p95 <= target_p95 if at_scale and target_p95 else None),
        common.row(benchmark, case, f"{prefix}queries", queries, "queries", target=constant,
                   met=met_queries),
    ]  # fmt: skip


def run(quick: bool = False) -> list[dict]:
    from reviews.models import Assignment
    from submissions.models import Dossier, Evidence
    from tests.factories import OrganisationFactory

    lena = common.reviewer("lena.queue@bench.example", lead=True)
    rita = common.reviewer("rita.queue@bench.example")
    tmpl = templates(lena, rita)
    client = common.test_client(lena)
    changelist = reverse("admin:submissions_dossier_changelist")
    urls = {
        "changelist": changelist,
        "filtered": f"{changelist}?status=in_review&regime=GB-HR",
        "searched": f"{changelist}?q={SEARCH}",
    }
    rows, loaded, baselines = [], 1, {}
    sizes = QUICK_SIZES if quick else SIZES
    for size in sizes:
        for name, _table, _column in TRGM:
            execute(f"DROP INDEX IF EXISTS {name}")
        remember_last()
        load(loaded, size - loaded, tmpl, lena)
        loaded = size
        for name, table, column in TRGM:
            execute(f"CREATE INDEX {name} ON {table} USING gin (UPPER({column}) gin_trgm_ops)")
        common.analyze()
        dashboard.changed(dashboard.GLOBAL)  # rows made in SQL send no signal
        runs = 5 if quick else (11 if size >= 1_000_000 else 15)
        case = f"{size:,} dossiers"
        floor_median = floor(client, runs)
        for name, url in urls.items():
            seconds, queries = measure(client, url, runs)
            rows += page_rows("admin queue", case, name, seconds, queries, floor_median,
                              at_scale=size >= 1_000_000,
                              baseline=baselines.setdefault(name, queries))  # fmt: skip

    # The dossier page with 500 exhibits.
    dossier = tmpl[0]
    Evidence.objects.bulk_create(
        Evidence(dossier=dossier, kind="file", file=f"evidence/bench/{n}.pdf",
                 original_name=f"exhibit-{n}.pdf", size=1024 * n, sha256=f"{n:064x}",
                 content_type="application/pdf", description=f"Exhibit {n}", reliability="B",
                 credibility="2", uploaded_by=dossier.created_by)
        for n in range(1, 501)
    )  # fmt: skip
    Assignment.objects.filter(dossier=dossier).update(reviewer=rita)
    dashboard.changed(dashboard.GLOBAL)
    runs = 5 if quick else 15
    floor_median = floor(client, runs)
    seconds, queries = measure(
        client, reverse("admin:submissions_dossier_change", args=[dossier.pk]), runs
    )
    rows += page_rows("admin dossier page", "500 exhibits", "", seconds, queries, floor_median)

    # The NGO dashboard of an organisation with 1,000 dossiers (a page of 50 shown).
    organisation = OrganisationFactory(name="Dashboard bench NGO")
    member = common.member("member.dashboard@bench.example", organisation)
    own = tmpl[0]
    Dossier.objects.filter(pk=own.pk).update(organisation=organisation)
    remember_last()
    common.clone(
        "submissions_dossier", own.pk, 999,
        {"reference": "'DASH-' || g", "status": "(ARRAY['draft', 'submitted', 'in_review'])[1 + g % 3]",
         "updated_at": "now() - g * interval '1 hour'"},
    )  # fmt: skip
    common.clone_per(
        "submissions_dossier_target_regimes",
        tmpl[4].pk,
        f"SELECT id FROM submissions_dossier WHERE id > {last_id()}",
        {"dossier_id": "p.id"},
    )
    common.analyze()
    dashboard.changed(dashboard.GLOBAL)
    member_client = common.test_client(member)
    floor_median = floor(member_client, runs)
    seconds, queries = measure(member_client, reverse("submissions:dossier-list"), runs)
    rows += page_rows("NGO dashboard", "1,000 dossiers", "", seconds, queries, floor_median,
                      target_p95=None)  # fmt: skip
    return rows
