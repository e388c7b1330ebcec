"""API tokens: created after two-factor sign-in, shown once, hashed, scoped, expiring."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken
from portal.models import AuditEvent
from tests.api.conftest import ApiClient, make_token
from tests.conftest import with_authenticator
from tests.factories import DossierFactory, UserFactory

LIST = "/api/v1/dossiers/"


def test_the_token_page_sends_a_member_without_a_second_factor_to_set_one_up(client, org_a):
    client.force_login(UserFactory(membership__organisation=org_a, authenticator=False))
    response = client.get(reverse("api:token-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_setup"))


def test_reviewers_have_no_token_page(client, rita):
    client.force_login(rita)
    assert client.get(reverse("api:token-list")).status_code == 404


def test_a_verified_member_creates_a_token_shown_once_and_stored_as_a_hash(client, alice):
    client.force_login(with_authenticator(alice))
    response = client.post(
        reverse("api:token-list"), {"name": "Uwazi sync", "scope": "write", "days": "30"}
    )
    assert response.status_code == 200
    secret = response.context["created"]["secret"]
    token = ApiToken.objects.get()
    assert secret.startswith(f"mag_{token.prefix}_")
    assert token.token_hash == ApiToken.hash_secret(secret)
    assert secret not in str(ApiToken.objects.values().get())
    assert AuditEvent.objects.filter(action="api_token.created", actor=alice).exists()
    again = client.get(reverse("api:token-list"))
    assert secret not in again.content.decode()
    assert ApiClient(secret).get(LIST).status_code == 200


def test_a_revoked_token_is_refused_at_once(client, alice):
    raw = make_token(alice)
    api = ApiClient(raw)
    assert api.get(LIST).status_code == 200
    client.force_login(with_authenticator(alice))
    token = ApiToken.objects.get()
    client.post(reverse("api:token-revoke", args=[token.pk]))
    response = api.get(LIST)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert AuditEvent.objects.filter(action="api_token.revoked").exists()


def test_an_expired_token_is_refused(alice):
    raw = make_token(alice)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert ApiClient(raw).get(LIST).status_code == 401


def test_a_token_of_a_deactivated_user_is_refused(alice):
    raw = make_token(alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert ApiClient(raw).get(LIST).status_code == 401


def test_another_members_token_cannot_be_revoked(client, alice, bob):
    make_token(alice)
    client.force_login(with_authenticator(bob))
    token = ApiToken.objects.get()
    assert client.post(reverse("api:token-revoke", args=[token.pk])).status_code == 404
    assert ApiToken.objects.get().revoked_at is None


def test_the_api_does_not_accept_a_session_cookie(client, alice, org_a):
    DossierFactory(organisation=org_a)
    client.force_login(alice)
    assert client.get(LIST).status_code == 401
    assert client.post(LIST, {}, content_type="application/json").status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer mag_nothing", "Token x"])
def test_a_malformed_or_unknown_token_is_refused_with_a_problem(db, header):
    response = ApiClient().get(LIST, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    body = response.json()
    assert body["status"] == 401 and body["type"] and body["title"]


def test_last_use_is_recorded(alice):
    raw = make_token(alice, "read")
    ApiClient(raw).get(LIST)
    assert ApiToken.objects.get().last_used_at is not None


def test_requests_are_limited_per_token(alice, settings):
    settings.API_TOKEN_RATE = "3/minute"
    first, second = ApiClient(make_token(alice)), ApiClient(make_token(alice))
    assert [first.get(LIST).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert second.get(LIST).status_code == 200  # its own allowance
    limited = first.get(LIST)
    assert limited["Content-Type"] == "application/problem+json"
    assert "Retry-After" in limited


def test_a_state_change_with_a_token_is_audited(alice_api, alice):
    response = alice_api.post(
        LIST, {"title": "Case", "target_regimes": ["GB-HR"], "summary": "", "sensitivity": "high"}
    )
    assert response.status_code == 201, response.json()
    event = AuditEvent.objects.get(action="api_token.used")
    assert event.actor == alice
    assert event.data["method"] == "POST"
    assert AuditEvent.objects.filter(action="dossier.created", actor=alice).exists()
