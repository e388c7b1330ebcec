"""The review queue and the dossier page with the shared cache on, as with Redis (issue #23)."""

import pytest

from reviews import services
from submissions import services as submission_services
from tests.reviews.conftest import submit_review
from tests.reviews.test_admin import QUEUE, _fill_dossier, _fill_queue, change_url


@pytest.fixture
def cached(settings):
    settings.VERSIONED_CACHE = True


@pytest.mark.parametrize("rows", [20, 120])
def test_the_queue_takes_twelve_queries_once_its_choices_are_cached(
    client, lena, org_b, rows, cached, django_assert_max_num_queries
):
    _fill_queue(rows, lena, org_b)
    client.force_login(lena)
    client.get(QUEUE)
    # session (none with Redis), user, authenticator, groups; the capped count; the page;
    # prefetches (regimes, subjects, incidents, assignments, submitted reviews); permissions
    # (user, group) for the admin's menu; the count of dossiers waiting in triage (the link
    # above the queue). Filter choices and completeness come from the cache.
    with django_assert_max_num_queries(14):
        response = client.get(QUEUE)
    assert response.status_code == 200
    assert response.context["cl"].result_count == rows


@pytest.mark.parametrize("rows", [20, 200])
def test_the_dossier_page_takes_a_constant_number_of_queries_when_cached(
    client, in_review, rita, alice, rows, cached, django_assert_max_num_queries
):
    _fill_dossier(in_review, rows)
    submit_review(in_review, rita)
    question = services.request_information(in_review, by=rita, question="Who?")
    submission_services.reply_to_information_request(question, by=alice, body="Them.")
    client.force_login(rita)
    client.get(change_url(in_review))
    # Each reviewer's own checks, who resolved a dispute and the decisions per government
    # add one query each to the cached page; none grows with the rows.
    with django_assert_max_num_queries(27):
        response = client.get(change_url(in_review))
    assert response.status_code == 200
    assert f"exhibit-{rows - 1}.jpg" in response.content.decode()


def test_a_new_organisation_shows_in_the_queue_filter(client, lena, org_b, cached):
    from tests.factories import OrganisationFactory

    _fill_queue(1, lena, org_b)
    client.force_login(lena)
    assert "Newly founded NGO" not in client.get(QUEUE).content.decode()
    OrganisationFactory(name="Newly founded NGO")
    assert "Newly founded NGO" in client.get(QUEUE).content.decode()
