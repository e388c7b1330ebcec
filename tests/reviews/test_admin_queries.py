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
def test_the_queue_takes_ten_queries_once_its_choices_are_cached(
    client, lena, org_b, rows, cached, settings, django_assert_max_num_queries
):
    _fill_queue(rows, lena, org_b)
    client.force_login(lena)
    client.get(QUEUE)
    # session (none with Redis), user, authenticator, groups; the capped count together with
    # the count of dossiers waiting in triage (the link above the queue); the page; prefetches
    # (regimes, subjects, incidents, assignments with whether each reviewer's review is in);
    # permissions (user's and groups' in one) for the admin's menu. Filter choices and
    # completeness come from the cache.
    sessions_cached = settings.SESSION_ENGINE.endswith("cached_db")  # with Redis
    with django_assert_max_num_queries(10 if sessions_cached else 11):
        response = client.get(QUEUE)
    assert response.status_code == 200
    assert response.context["cl"].result_count == rows


def test_the_queue_shows_the_triage_count_and_whose_review_is_in(client, lena, rita, org_b, cached):
    from reviews.services import triage_queue
    from tests.factories import DossierFactory
    from tests.reviews.factories import AssignmentFactory

    _fill_queue(3, lena, org_b)
    dossier = org_b.dossiers.order_by("pk").first()
    AssignmentFactory(dossier=dossier, reviewer=rita, assigned_by=lena)
    services.start_review(dossier, by=lena)
    submit_review(dossier, rita)
    DossierFactory(organisation=org_b, status="submitted")  # new, nobody assigned: in triage
    client.force_login(lena)
    response = client.get(QUEUE)
    waiting = triage_queue(lena).count()
    assert waiting > 0
    assert response.context["triage_count"] == waiting
    html = response.content.decode()
    assert f"To triage: {waiting} dossier" in html
    assert f"{rita.get_full_name()} ✓" in html
    assert f"{lena.get_full_name()} ✓" not in html


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
