"""
The portal under load: requests per second and p50/p99 latency of the NGO dashboard and of a
draft save, at 10 and 50 concurrent users, with zero errors, each beside the floor: the same
users on /bench/floor/, a page of nothing but the base template (Django, the middleware, the
session and the template on this machine). A page's throughput is reported as a ratio to the
floor's in the same run, so that the figures mean the same on a laptop and on a server.

gunicorn serves the portal (2 x cores + 1 sync workers, persistent database connections as
production would set them) and bench/loadgen.py, a second process on loopback, plays the users:
each signed in with their own session, each saving their own draft, no think time between
requests (so every user always has a request in flight: the hardest case for the server).
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from bench import common

USERS = [10, 50]
SECONDS = 20
QUICK_SECONDS = 3
TARGET_P99 = 0.25
# A page's throughput as a share of the floor's (the base template alone), at 50 users.
TARGET_RATIO = {"dashboard": 0.5}
DOSSIERS_EACH = 10


def plans(members, regime_pk: int) -> dict[str, list[dict]]:
    from django.urls import reverse

    floor, dashboard, save = [], [], []
    for user, dossier, cookie in members:
        floor.append(
            {"method": "GET", "path": reverse("bench-floor"), "headers": {"Cookie": cookie}}
        )
        dashboard.append(
            {"method": "GET", "path": reverse("submissions:dossier-list"),
             "headers": {"Cookie": cookie}}
        )  # fmt: skip
        body = urlencode(
            {
                "title": f"Draft of {user.email}",
                "target_regimes": regime_pk,
                "summary": "Who did what to whom, when and where (saved under load).",
                "sensitivity": "high",
            }
        )
        save.append(
            {
                "method": "POST",
                "path": reverse("submissions:dossier-basics", args=[dossier.reference]),
                "headers": {
                    "Cookie": cookie,
                    "X-CSRFToken": common.CSRF_TOKEN,
                    "Content-Type": "application/x-www-form-urlencoded",
                },
                "body": body,
            }
        )
    return {"floor": floor, "dashboard": dashboard, "draft save": save}


def drive(port: int, users: list[dict], seconds: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as plan:
        json.dump({"port": port, "seconds": seconds, "users": users}, plan)
    try:
        finished = subprocess.run(  # noqa: S603 - our own script, our own arguments
            [sys.executable, str(Path(__file__).with_name("loadgen.py")), plan.name],
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        os.unlink(plan.name)
    return json.loads(finished.stdout)


def run(quick: bool = False) -> list[dict]:
    from django.conf import settings

    from submissions.models import Regime
    from tests.factories import DossierFactory, OrganisationFactory

    regime = Regime.objects.open_for_submissions().get(key="GB-HR")
    members = []
    for n in range(max(USERS)):
        organisation = OrganisationFactory(name=f"Load bench NGO {n}")
        user = common.member(f"member{n}.load@bench.example", organisation)
        # A dashboard with a few dossiers (bench_queue has one with 1,000); the first one is
        # the draft saved under load.
        dossiers = [
            DossierFactory(organisation=organisation, created_by=user, target_regimes=[regime])
            for _ in range(DOSSIERS_EACH)
        ]
        members.append((user, dossiers[0], common.cookie_header(user)))
    common.analyze()
    workers = 2 * (os.cpu_count() or 1) + 1
    seconds = QUICK_SECONDS if quick else SECONDS
    rows = []
    environment = {"DATABASE_CONN_MAX_AGE": "60"}
    log = Path(settings.DATA_DIR) / "gunicorn-load.log"
    with common.gunicorn(workers=workers, log=log, env=environment) as (port, _master):
        all_plans = plans(members, regime.pk)
        drive(port, all_plans["dashboard"][:workers], 2)  # warm every worker up
        floors = {}
        for name, users in all_plans.items():
            for count in USERS:
                result = drive(port, users[:count], seconds)
                latencies = result["latencies"]
                rate = result["requests"] / result["elapsed"]
                p99 = common.percentile(latencies, 99)
                case = f"{name}, {count} users"
                if name == "floor":
                    floors[count] = rate
                    reference, ratio, target, met = None, None, None, None
                else:
                    reference, ratio = floors[count], rate / floors[count]
                    wanted = TARGET_RATIO.get(name)
                    target = f">= {wanted}x the floor at 50 users" if wanted else None
                    met = ratio >= wanted if wanted and count >= 50 else None
                at_50 = count >= 50 and name != "floor"
                rows += [
                    common.row("load", case, "requests/s", rate, "req/s", reference=reference,
                               ratio=ratio, target=target, met=met,
                               notes=f"{result['requests']} requests in {result['elapsed']:.0f} s, "
                               f"{workers} gunicorn workers; reference: the floor's req/s"),
                    common.row("load", case, "p50", common.percentile(latencies, 50) * 1000, "ms"),
                    common.row("load", case, "p99", p99 * 1000, "ms", target="<= 250 ms at 50 users",
                               met=p99 <= TARGET_P99 if at_50 else None),
                    common.row("load", case, "errors", result["errors"], "requests", target="0",
                               met=result["errors"] == 0, notes=json.dumps(result["statuses"])),
                ]  # fmt: skip
    return rows
