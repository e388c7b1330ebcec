"""Personas and shared fixtures: one factory per role, tests read as a story."""

import os

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user
from hypothesis import settings as hypothesis_settings

from portal import services
from portal.models import AuthenticatorDevice, Membership
from tests.factories import OrganisationFactory, UserFactory

# `make test` and CI replay the same generated inputs every run, so that a result never
# depends on luck; HYPOTHESIS_EXPLORE=1 explores new ones (it has found real bugs: NUL
# characters, huge extensions, and the open disclosure defect of issue #18).
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if not os.environ.get("HYPOTHESIS_EXPLORE"):
    hypothesis_settings.load_profile("ci")


class PortalClient(Client):
    """A test client whose force_login also passes the second factor, if the user has one."""

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        device = next(devices_for_user(user, confirmed=True), None)
        if device is not None:
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()


@pytest.fixture(autouse=True)
def _fresh_shared_cache():
    """Cached dashboard pages and sessions of one test are gone in the next (Redis outlives it)."""
    from django.core.cache import caches

    caches["shared"].clear()


@pytest.fixture(autouse=True)
def _portal_language():
    """Each test starts in the portal's default language, whatever a request before it chose."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def client():
    return PortalClient()


def with_authenticator(user):
    """Give `user` a confirmed authenticator app, if it has none, and return the user."""
    AuthenticatorDevice.objects.get_or_create(
        user=user, confirmed=True, defaults={"name": "Authenticator app"}
    )
    return user


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    """Give every test its own private file store (and store of audit checkpoints)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "portal.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
        "audit_anchor": {
            "BACKEND": "portal.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "audit-checkpoints")},
        },
    }


@pytest.fixture(autouse=True, scope="session")
def _flush_past_the_audit_guards():
    """
    On PostgreSQL the audit tables refuse TRUNCATE (portal migration 0008), which is how Django
    empties the database after a transactional test. The test database's superuser flushes in
    replica mode, where those triggers do not fire; nothing else changes.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with self.connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            original(self, sql_list)
        finally:
            with self.connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original


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
    """Reviewer (with an authenticator app, as the review site requires)."""
    user = UserFactory(email="rita@review.example", no_organisation=True)
    return with_authenticator(services.grant_review_role(user, by=None))


@pytest.fixture
def lena(db):
    """Lead reviewer (with an authenticator app)."""
    user = UserFactory(email="lena@review.example", no_organisation=True)
    return with_authenticator(services.grant_review_role(user, lead=True, by=None))


def pytest_terminal_summary(terminalreporter):
    """Say how many hostile inputs the fuzz tests tried, and how many the portal mishandled."""
    from tests import test_fuzz

    if test_fuzz.HOSTILE["tried"]:
        terminalreporter.write_line(
            f"Hostile inputs tried: {test_fuzz.HOSTILE['tried']}, "
            f"mishandled: {test_fuzz.HOSTILE['failures']}"
        )
