"""Fixtures of the review site's tests, on top of the personas in tests/conftest.py."""

import pytest

from portal import services as portal_services
from reviews import services
from submissions import services as submission_services
from tests.conftest import with_authenticator
from tests.factories import DossierFactory, SubjectFactory, UserFactory, answer_all_blocking


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
    answer_all_blocking(dossier, alice)
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
