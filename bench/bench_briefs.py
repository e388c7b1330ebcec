"""
Brief rendering for 1, 5 and 20 dossiers (15, 75 and 300 exhibits): seconds, pages and the
rendering process's peak memory. The data is built as bench/test_brief_rendering.py builds it
(through the services: real PDFs as exhibits, sources with consent, linked persons); each
render runs in a fresh process (bench/render_brief.py), as a `briefs` worker would.
"""

import json
import subprocess
import sys
from pathlib import Path

from bench import common

SIZES = [(1, 15), (5, 75), (20, 300)]
QUICK_SIZES = [(1, 3), (2, 6)]
TARGET_SECONDS, TARGET_MIB = 20, 1024


def render(version_id: int) -> dict:
    finished = subprocess.run(  # noqa: S603 - our own script, our own arguments
        [sys.executable, str(Path(__file__).with_name("render_brief.py")), str(version_id)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(finished.stdout)


def run(quick: bool = False) -> list[dict]:
    from django.db.models import Max

    from bench.test_brief_rendering import build
    from reviews.models import BriefVersion
    from tests.factories import OrganisationFactory

    organisation = OrganisationFactory(name="Briefs bench NGO")
    alice = common.member("alice.briefs@bench.example", organisation)
    lena = common.reviewer("lena.briefs@bench.example", lead=True)
    runs = 1 if quick else 3
    rows = []
    for dossiers, exhibits in QUICK_SIZES if quick else SIZES:
        package = build(alice, organisation, lena, dossiers, exhibits)
        results = []
        for _ in range(runs):
            number = (package.versions.aggregate(n=Max("number"))["n"] or 0) + 1
            version = BriefVersion.objects.create(package=package, number=number, requested_by=lena)
            result = render(version.pk)
            if result["status"] != "done":
                raise RuntimeError(f"the brief was not rendered: {result}")
            results.append(result)
        seconds = common.median([r["seconds"] for r in results])
        peak = max(r["peak_mib"] for r in results)
        case = f"{dossiers} dossiers, {exhibits} exhibits"
        at_target = dossiers >= 20
        rows += [
            common.row("brief", case, "seconds (median)", seconds, "s", target="< 20 s for 20",
                       met=seconds < TARGET_SECONDS if at_target else None,
                       notes=f"{runs} renders"),
            common.row("brief", case, "pages", results[0]["pages"], "pages"),
            common.row("brief", case, "peak RSS of the rendering process", peak, "MiB",
                       target="< 1 GiB for 20", met=peak < TARGET_MIB if at_target else None,
                       notes=f"{results[0]['before_mib']:.0f} MiB before rendering"),
        ]  # fmt: skip
    return rows
