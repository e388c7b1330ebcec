"""The impact page (members see their own outcomes) and the choice to be named publicly."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import AuditEvent, Organisation
from tests.transparency.conftest import UNTIL
from transparency import services
from transparency.models import Snapshot

pytestmark = pytest.mark.django_db


def test_members_see_their_own_dossiers_outcomes_and_nobody_elses(client, world, alice,
                                                                  mallory):  # fmt: skip
    dossiers, _packages = world
    client.force_login(alice)
    html = client.get(reverse("transparency:impact")).content.decode()
    assert dossiers[0].reference in html  # Org A's
    assert "Designated on" in html and "Declined on" in html
    assert dossiers[8].reference not in html  # Org B's
    client.force_login(mallory)
    html = client.get(reverse("transparency:impact")).content.decode()
    assert dossiers[8].reference in html and dossiers[0].reference not in html


def test_the_impact_page_reads_a_fixed_number_of_rows(client, world, alice, org_a,
                                                      django_assert_num_queries):  # fmt: skip
    from tests.transparency.conftest import submitted_dossier

    client.force_login(alice)
    client.get(reverse("transparency:impact"))  # the first request settles the session
    # 1 session (none when sessions are read from Redis), 2 user, 3 the verified second
    # factor's device, 4 groups, 5 dossiers, 6 their regimes, 7 their packages
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("transparency:impact"))
    assert len(few) <= 7
    for index in range(5):
        submitted_dossier(org_a, year=2026, subject=f"More {index}")
    with django_assert_num_queries(len(few)):
        response = client.get(reverse("transparency:impact"))
    assert response.status_code == 200


def test_a_reviewer_without_an_organisation_sees_no_dossier(client, world, lena):
    client.force_login(lena)
    response = client.get(reverse("transparency:impact"))
    assert response.status_code == 200
    assert "has not submitted a dossier yet" in response.content.decode()


def test_an_organisation_admin_chooses_to_be_named_and_it_is_audited(
    client, world, bob, org_a, django_capture_on_commit_callbacks
):
    client.force_login(bob)
    url = reverse("transparency:organisation-listing", args=[org_a.slug])
    client.post(url, {"listed_publicly": "on"})
    assert Organisation.objects.get(pk=org_a.pk).listed_publicly is True
    assert AuditEvent.objects.filter(action="organisation.listing_changed", actor=bob).exists()
    assert "Org A" in services.compute_snapshot(until=UNTIL).data["organisations"]
    # Opting out takes the name off at once: a new snapshot is computed after commit.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {})
    assert Organisation.objects.get(pk=org_a.pk).listed_publicly is False
    assert "Org A" not in Snapshot.objects.latest_first().first().data["organisations"]


def test_a_member_who_is_not_admin_cannot_change_the_choice(client, world, alice, org_a):
    client.force_login(alice)
    response = client.post(
        reverse("transparency:organisation-listing", args=[org_a.slug]),
        {"listed_publicly": "on"},
        follow=True,
    )
    assert "Only an organisation admin" in response.content.decode()
    assert Organisation.objects.get(pk=org_a.pk).listed_publicly is False


def test_another_organisations_admin_gets_a_404(client, world, org_a):
    from tests.factories import UserFactory

    other_admin = UserFactory(membership__organisation=Organisation.objects.get(name="Org B"),
                              membership__role="admin")  # fmt: skip
    client.force_login(other_admin)
    url = reverse("transparency:organisation-listing", args=[org_a.slug])
    assert client.post(url, {"listed_publicly": "on"}).status_code == 404
