"""
Benchmark, not a test: how long a brief takes to render, and how many pages it has.

Run with `make bench-briefs`; prints one line per size. Nothing here fails for being slow.
"""

import resource
import time
from datetime import date

import pytest

from reviews import packages
from reviews.models import BriefVersion, Person, SubjectLink
from submissions import services
from submissions.models import Regime
from submissions.uploads import uploaded_from_bytes
from tests.factories import (
    DossierFactory,
    IncidentFactory,
    SubjectFactory,
    answer_all_blocking,
    approve_without_review,
)
from tests.submissions.test_evidence import pdf_bytes

SIZES = [(1, 15), (5, 75), (20, 300)]  # (dossiers, exhibits)


def build(alice, org_a, lena, dossiers: int, exhibits: int):
    gb = Regime.objects.get(key="GB-HR")
    per_dossier = exhibits // dossiers
    chosen, persons = [], []
    for d in range(dossiers):
        dossier = DossierFactory(organisation=org_a, created_by=alice, target_regimes=[gb])
        subject = SubjectFactory(
            dossier=dossier, name=f"Official {d}", name_original=f"Чиновник {d}"
        )
        IncidentFactory(dossier=dossier)
        source = services.save_source(
            dossier, by=alice, fields={"kind": "witness", "identity": "x"},
            consents=[{"regime": gb, "scope": "anonymous", "given_on": date(2026, 1, 1), "method": "Signed"}],
        )  # fmt: skip
        for e in range(per_dossier):
            services.attach_evidence_file(
                dossier, by=alice,
                upload=uploaded_from_bytes(pdf_bytes(1) + f"%{d}-{e}".encode(), f"exhibit-{d}-{e}.pdf"),
                details={"description": f"Exhibit {e} of dossier {d}", "source": source,
                         "reliability": "B", "credibility": "2"},
            )  # fmt: skip
        answer_all_blocking(dossier, alice)
        approve_without_review(dossier, lena)
        person = Person.objects.create(
            name=subject.name, name_original=subject.name_original, created_by=lena
        )
        SubjectLink.objects.create(subject=subject, person=person, linked_by=lena)
        chosen.append(dossier)
        persons.append(person)
    package = packages.create_package(regime=gb, persons=persons, dossiers=chosen, by=lena)
    return packages.mark_ready(package, by=lena)


@pytest.mark.parametrize(("dossiers", "exhibits"), SIZES)
def test_brief_rendering(
    alice, org_a, lena, dossiers, exhibits, django_capture_on_commit_callbacks
):
    package = build(alice, org_a, lena, dossiers, exhibits)
    with django_capture_on_commit_callbacks(execute=False):
        version = packages.request_render(package, by=lena)
    started = time.perf_counter()
    packages.render_version(version)
    seconds = time.perf_counter() - started
    version = BriefVersion.objects.get(pk=version.pk)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nBRIEF {dossiers:>3} dossiers {exhibits:>4} exhibits: {seconds:6.2f} s, "
        f"{version.pages} pages, process peak RSS {peak_mib:.0f} MiB"
    )
    assert version.status == "done"
