"""A world of submitted dossiers and delivered packages, made directly for volume."""

from datetime import UTC, date, datetime

import pytest

from reviews.models import BriefVersion, Delivery, Package
from submissions.models import Dossier, Regime, ViolationCategory
from tests.factories import DossierFactory, IncidentFactory, SourceFactory, SubjectFactory

UNTIL = date(2026, 10, 31)


def submitted_dossier(organisation, *, regimes=("GB-HR",), year=2025, category="torture",
                      country="RU", subject="Ivan Petrov", witness="Maria Ivanova",
                      title=None, status="submitted"):  # fmt: skip
    """A dossier submitted in `year` with one subject, one incident and one witness."""
    dossier = DossierFactory(
        organisation=organisation,
        target_regimes=[Regime.objects.get(key=k) for k in regimes],
        title=title or f"Dossier about {subject}",
    )
    Dossier.objects.filter(pk=dossier.pk).update(
        status=status, submitted_at=datetime(year, 3, 15, tzinfo=UTC)
    )
    SubjectFactory(dossier=dossier, name=subject, name_original="")
    IncidentFactory(
        dossier=dossier,
        category=ViolationCategory.objects.get(code=category),
        country=country,
        place=f"Secret place of {subject}",
        narrative=f"{subject} did it; {witness} saw it.",
    )
    SourceFactory(dossier=dossier, identity=witness)
    dossier.refresh_from_db()
    return dossier


def delivered_package(lead, regime_key, dossiers, *, delivered_on, response="",
                      response_on=None, designated_on=None):  # fmt: skip
    """A package delivered on `delivered_on`, with the government's answer if any."""
    package = Package.objects.create(
        regime=Regime.objects.get(key=regime_key),
        recipient="Sanctions unit",
        created_by=lead,
        status="response_recorded" if response else "delivered",
        response=response,
        response_on=response_on,
        designated_on=designated_on,
    )
    package.dossiers.set(dossiers)
    Dossier.objects.filter(pk__in=[d.pk for d in dossiers]).update(status="packaged")
    version = BriefVersion.objects.create(
        package=package, number=1, status="done", requested_by=lead
    )
    Delivery.objects.create(
        package=package, version=version, delivered_on=delivered_on, recipient="Unit",
        channel="Secure email", delivered_by=lead,
    )  # fmt: skip
    return package


@pytest.fixture
def world(org_a, org_b, alice, lena):
    """
    Org A (not listed) and Org B (listed): 14 dossiers, 9 packages to three governments.

    GB-HR: 6 packages (4 designated, 1 declined, 1 awaiting); US-GLOMAG: 2 (1 designated);
    CA-JVCFOA: 1 (declined).
    """
    org_b.listed_publicly = True
    org_b.save(update_fields=["listed_publicly"])
    dossiers = []
    for index in range(8):
        dossiers.append(
            submitted_dossier(org_a, year=2025, subject=f"Subject A{index}",
                              witness=f"Witness A{index}")
        )  # fmt: skip
    for index in range(4):
        dossiers.append(
            submitted_dossier(org_b, regimes=("US-GLOMAG",), year=2026, category="killing",
                              country="CN", subject=f"Subject B{index}",
                              witness=f"Witness B{index}")
        )  # fmt: skip
    dossiers.append(
        submitted_dossier(org_a, regimes=("CA-JVCFOA",), year=2026, country="BY",
                          subject="Subject C", witness="Witness C")
    )  # fmt: skip
    dossiers.append(submitted_dossier(org_a, year=2026, subject="Subject D", witness="W D"))
    day = date(2025, 6, 1)
    packages = []
    for index, (response, decided) in enumerate(
        [("designated", date(2025, 9, 1)), ("designated", date(2025, 10, 1)),
         ("designated", date(2025, 11, 1)), ("designated", date(2026, 1, 10)),
         ("declined", date(2025, 12, 1)), ("", None)]
    ):  # fmt: skip
        packages.append(
            delivered_package(
                lena, "GB-HR", [dossiers[index]], delivered_on=day, response=response,
                response_on=decided, designated_on=decided if response == "designated" else None,
            )
        )  # fmt: skip
    packages.append(
        delivered_package(lena, "US-GLOMAG", dossiers[8:10], delivered_on=date(2026, 4, 1),
                          response="designated", response_on=date(2026, 7, 1),
                          designated_on=date(2026, 7, 1))
    )  # fmt: skip
    packages.append(
        delivered_package(lena, "US-GLOMAG", dossiers[10:12], delivered_on=date(2026, 5, 1))
    )
    packages.append(
        delivered_package(lena, "CA-JVCFOA", [dossiers[12]], delivered_on=date(2026, 5, 2),
                          response="declined", response_on=date(2026, 8, 1))
    )  # fmt: skip
    return dossiers, packages
