"""Fixtures of the review site's tests, on top of the personas in tests/conftest.py."""

from datetime import date

import pytest

from portal import services as portal_services
from reviews import packages, services
from reviews.models import Person, SubjectLink
from submissions import services as submission_services
from submissions.models import Regime
from submissions.uploads import uploaded_from_bytes
from tests.conftest import with_authenticator
from tests.factories import (
    DossierFactory,
    IncidentFactory,
    SubjectFactory,
    UserFactory,
    answer_all_blocking,
    approve_without_review,
    make_ready_to_submit,
)
from tests.submissions.test_evidence import PDF, jpeg_bytes


@pytest.fixture
def rob(db):
    """A second reviewer (with an authenticator app): decisions need two reviews."""
    user = UserFactory(email="rob@review.example", full_name="Rob Reviewer", no_organisation=True)
    return with_authenticator(portal_services.grant_review_role(user, by=None))


@pytest.fixture
def conrad(org_a):
    """A reviewer who is also a member of NGO A: conflicted on its dossiers."""
    user = UserFactory(email="conrad@org-a.example", membership__organisation=org_a)
    return with_authenticator(portal_services.grant_review_role(user, by=None))


@pytest.fixture
def dossier(alice, org_a):
    """NGO A's dossier about Ivan Petrov, submitted through the services: in the queue."""
    dossier = DossierFactory(organisation=org_a, created_by=alice, title="Torture in Moscow")
    SubjectFactory(dossier=dossier)
    make_ready_to_submit(dossier, alice)
    return submission_services.submit_dossier(dossier, by=alice)


@pytest.fixture
def assigned(dossier, lena, rita, rob):
    """The dossier with rita and rob assigned by lena."""
    services.assign_reviewer(dossier, rita, by=lena)
    services.assign_reviewer(dossier, rob, by=lena)
    return dossier


@pytest.fixture
def in_review(assigned, rita):
    """The dossier taken into review by rita."""
    return services.start_review(assigned, by=rita)


def full_scores(score: int = 4, note: str = "ok") -> dict:
    from reviews import rubric

    return {code: {"score": score, "note": note} for code in rubric.codes()}


def submit_review(dossier, reviewer, score: int = 4, recommendation: str = "approve"):
    return services.save_review(
        dossier,
        by=reviewer,
        scores=full_scores(score, note=f"{reviewer.email} says {score}"),
        recommendation=recommendation,
        summary=f"Summary by {reviewer.email}",
        submit=True,
    )


# Packages: an approved dossier on two persons, and a package ready to render.


@pytest.fixture
def approved(alice, org_a, lena):
    """An approved GB-HR dossier: two subjects linked to persons, two witnesses (one without
    consent for the UK), three exhibits."""
    gb = Regime.objects.get(key="GB-HR")
    dossier = DossierFactory(organisation=org_a, created_by=alice, target_regimes=[gb])
    volkov = SubjectFactory(dossier=dossier, name="Sergei Volkov", name_original="Сергей Волков")
    wang = SubjectFactory(
        dossier=dossier, name="Wang Wei", name_original="王伟", nationalities=["CN"]
    )
    IncidentFactory(dossier=dossier)
    consenting = submission_services.save_source(
        dossier,
        by=alice,
        fields={"kind": "witness", "identity": "Maria Ivanova of Kazan"},
        consents=[
            {"regime": gb, "scope": "anonymous", "given_on": date(2026, 1, 1), "method": "Signed"}
        ],
    )
    refusing = submission_services.save_source(
        dossier, by=alice, fields={"kind": "witness", "identity": "Oleg Secretov"}, consents=[]
    )
    exhibits = [
        submission_services.attach_evidence_file(
            dossier, by=alice, upload=uploaded_from_bytes(PDF, "ruling.pdf"),
            details={"description": "Court ruling", "reliability": "A", "credibility": "1"},
        ),
        submission_services.attach_evidence_file(
            dossier, by=alice, upload=uploaded_from_bytes(jpeg_bytes(), "photo.jpg"),
            details={"description": "Photo of the cell", "source": consenting},
        ),
        submission_services.attach_evidence_file(
            dossier, by=alice, upload=uploaded_from_bytes(PDF + b"%secret", "statement.pdf"),
            details={"description": "WITHHELD-STATEMENT", "source": refusing},
        ),
    ]  # fmt: skip
    answer_all_blocking(dossier, alice)
    approve_without_review(dossier, lena)
    dossier.refresh_from_db()
    persons = []
    for subject in (volkov, wang):
        person = Person.objects.create(
            name=subject.name, name_original=subject.name_original, created_by=lena
        )
        SubjectLink.objects.create(subject=subject, person=person, linked_by=lena)
        persons.append(person)
    return dossier, persons, exhibits


@pytest.fixture
def package(approved, lena):
    dossier, persons, _exhibits = approved
    package = packages.create_package(
        regime=Regime.objects.get(key="GB-HR"),
        persons=persons,
        dossiers=[dossier],
        by=lena,
        cover_note="Two officials responsible for the torture of a journalist.",
    )
    return packages.mark_ready(package, by=lena)
