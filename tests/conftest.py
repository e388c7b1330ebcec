"""Personas and shared fixtures (design/style.md 3.10)."""

import pytest

from portal import services
from portal.models import Membership
from tests.factories import OrganisationFactory, UserFactory


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    """Give every test its own private file store."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "portal.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }


@pytest.fixture
def org_a(db):
    return OrganisationFactory(name="Org A")


@pytest.fixture
def org_b(db):
    return OrganisationFactory(name="Org B")


@pytest.fixture
def alice(org_a):
    """Member of NGO A."""
    return UserFactory(email="alice@org-a.example", membership__organisation=org_a)


@pytest.fixture
def bob(org_a):
    """Organisation admin of NGO A."""
    return UserFactory(
        email="bob@org-a.example",
        membership__organisation=org_a,
        membership__role=Membership.Role.ADMIN,
    )


@pytest.fixture
def mallory(org_b):
    """Member of NGO B: must never see NGO A's dossiers."""
    return UserFactory(email="mallory@org-b.example", membership__organisation=org_b)


@pytest.fixture
def rita(db):
    """Reviewer."""
    return services.grant_review_role(
        UserFactory(email="rita@review.example", no_organisation=True), by=None
    )


@pytest.fixture
def lena(db):
    """Lead reviewer."""
    return services.grant_review_role(
        UserFactory(email="lena@review.example", no_organisation=True), lead=True, by=None
    )
