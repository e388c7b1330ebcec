"""Where sign-in leads: members to their dossiers, and the second factor back to `next`."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from portal.models import AuthenticatorDevice, User
from tests.factories import PASSWORD, UserFactory
from tests.portal.test_two_factor import current_code


def sign_in(client: Client, user, **extra):
    return client.post(
        reverse("login"), {"username": user.email, "password": PASSWORD}, follow=True, **extra
    )


@pytest.mark.parametrize(
    "who,landing", [("alice", "submissions:dossier-list"), ("lena", "admin:index")]
)
def test_members_land_on_their_dossiers_and_reviewers_on_the_review_site(db, request, who, landing):
    user = request.getfixturevalue(who)
    client = Client()
    response = sign_in(client, user)
    # With an app: the code page first, then the landing page.
    assert response.redirect_chain[-1][0].startswith(reverse("two_factor_verify"))
    device = AuthenticatorDevice.objects.get(user=user, confirmed=True)
    response = client.post(
        reverse("two_factor_verify"),
        {"token": current_code(device), "next": response.context["next"]},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse(landing)
    assert response.status_code == 200


def test_someone_without_an_organisation_or_role_lands_on_the_home_page(db):
    person = UserFactory(no_organisation=True)
    response = sign_in(Client(), person)
    assert response.redirect_chain[-1][0] == reverse("home")


def test_i_have_kept_them_returns_where_the_member_was_going(org_a):
    member = UserFactory(membership__organisation=org_a, authenticator=False)
    client = Client()
    target = reverse("submissions:dossier-create")
    response = client.post(
        reverse("login") + f"?next={target}",
        {"username": member.email, "password": PASSWORD, "next": target},
        follow=True,
    )
    assert response.redirect_chain[-1][0].startswith(reverse("two_factor_setup"))
    assert response.context["next"] == target
    device = AuthenticatorDevice.objects.get(user=member)
    response = client.post(
        reverse("two_factor_setup"), {"token": current_code(device), "next": target}
    )
    assert response.context["next"] == target
    assert f'href="{target}"' in response.text
    assert client.get(target).status_code == 200


def test_i_have_kept_them_never_leads_off_the_site(org_a):
    member = UserFactory(membership__organisation=org_a, authenticator=False)
    client = Client()
    sign_in(client, member)
    device = AuthenticatorDevice.objects.get(user=member)
    response = client.post(
        reverse("two_factor_setup"),
        {"token": current_code(device), "next": "https://evil.example/"},
    )
    assert "evil.example" not in response.text
    assert response.context["next"] == reverse("after-sign-in")


def test_sign_in_keeps_the_language_of_the_page_on_the_account(alice):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    sign_in(client, alice)
    assert User.objects.get(pk=alice.pk).language == "ja"


def test_sign_in_fills_an_empty_language_from_the_browser_and_keeps_a_chosen_one(alice):
    User.objects.filter(pk=alice.pk).update(language="")
    sign_in(Client(), alice, HTTP_ACCEPT_LANGUAGE="ja")
    assert User.objects.get(pk=alice.pk).language == "ja"
    # No choice on this device: the language chosen before stays.
    sign_in(Client(), alice, HTTP_ACCEPT_LANGUAGE="en")
    assert User.objects.get(pk=alice.pk).language == "ja"
