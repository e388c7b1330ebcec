"""The NGO dashboard's queries and its cached pages (issue #23)."""

import pytest
from django.urls import reverse

from submissions import services
from submissions.models import Regime
from tests.factories import DossierFactory, SubjectFactory

DASHBOARD = "submissions:dossier-list"


@pytest.fixture
def cached(settings):
    settings.VERSIONED_CACHE = True


def _fill(organisation, user, count: int):
    for _ in range(count):
        dossier = DossierFactory(organisation=organisation, created_by=user)
        SubjectFactory(dossier=dossier)
    return dossier


@pytest.mark.parametrize("count", [3, 60])
def test_the_dashboard_takes_at_most_six_queries_once_its_page_is_cached(
    client, alice, org_a, count, cached, django_assert_max_num_queries
):
    _fill(org_a, alice, count)
    client.force_login(alice)
    client.get(reverse("home"))  # the session's first request settles its 2FA state
    # The first view builds the page: a bounded number, whatever the dossiers (the checklist's
    # evaluation reads each set it computes from, subjects to consents, once for the page).
    with django_assert_max_num_queries(24):
        assert client.get(reverse(DASHBOARD)).status_code == 200
    # Then: session (none with Redis), user, alice's authenticator, her memberships. The page
    # and the designations since submission come from the shared cache.
    with django_assert_max_num_queries(4):
        response = client.get(reverse(DASHBOARD))
    assert response.status_code == 200
    assert response.text.count("MAG-") >= min(count, 50)


def test_a_change_to_a_dossier_shows_on_the_cached_dashboard(client, alice, org_a, cached):
    dossier = _fill(org_a, alice, 2)
    client.force_login(alice)
    assert "Renamed draft" not in client.get(reverse(DASHBOARD)).text

    services.update_dossier(
        dossier,
        by=alice,
        title="Renamed draft",
        summary=dossier.summary,
        sensitivity=dossier.sensitivity,
        target_regimes=Regime.objects.open_for_submissions()[:1],
    )
    assert "Renamed draft" in client.get(reverse(DASHBOARD)).text

    subject = dossier.subjects.first()
    services.remove_subject(subject, by=alice)
    SubjectFactory(dossier=dossier, name="A later subject")
    page = client.get(reverse(DASHBOARD)).text
    assert "Renamed draft" in page


def test_another_organisations_change_does_not_reach_this_dashboard(
    client, alice, org_a, mallory, org_b, cached
):
    _fill(org_a, alice, 1)
    client.force_login(alice)
    first = client.get(reverse(DASHBOARD)).text
    DossierFactory(organisation=org_b, created_by=mallory, title="Org B's secret draft")
    assert "Org B's secret draft" not in client.get(reverse(DASHBOARD)).text
    assert first.count("MAG-") == client.get(reverse(DASHBOARD)).text.count("MAG-")
