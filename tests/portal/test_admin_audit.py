"""Changes made in the review site (Django admin) to people, roles and devices are audited."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from portal import audit
from portal.admin import AuditedAdminMixin
from portal.models import LEAD_REVIEWERS_GROUP, AuditEvent, AuthenticatorDevice, Membership
from tests.conftest import with_authenticator
from tests.factories import UserFactory


@pytest.fixture
def root(db):
    """A superuser with an authenticator app, signed in to the review site."""
    user = UserFactory(
        email="root@portal.example", is_staff=True, is_superuser=True, no_organisation=True
    )
    return with_authenticator(user)


@pytest.fixture
def admin_client(client, root):
    client.force_login(root)
    return client


def user_form(user, **changes) -> dict:
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "is_active": "on",
        "groups": [g.pk for g in user.groups.all()],
        "user_permissions": [],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not False}


def last_event(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).order_by("-sequence").first()


def test_granting_superuser_status_and_a_group_is_audited(admin_client, root, alice):
    lead = Group.objects.get(name=LEAD_REVIEWERS_GROUP)
    response = admin_client.post(
        reverse("admin:portal_user_change", args=[alice.pk]),
        user_form(alice, is_staff="on", is_superuser="on", groups=[lead.pk]),
    )
    assert response.status_code == 302, response.content[:2000]

    event = last_event("user.changed_in_admin")
    assert event.actor == root and event.target_id == str(alice.pk)
    assert event.data["before"] == {"groups": [], "is_staff": False, "is_superuser": False}
    assert event.data["after"] == {
        "groups": [LEAD_REVIEWERS_GROUP],
        "is_staff": True,
        "is_superuser": True,
    }
    assert event.data["via"] == "admin"
    assert audit.verify_chain().ok


def test_adding_and_deleting_a_user_is_audited(admin_client, root):
    phrase = "a long pass phrase 42"
    response = admin_client.post(
        reverse("admin:portal_user_add"),
        {"email": "new@portal.example", "password1": phrase, "password2": phrase},
    )
    assert response.status_code == 302
    added = last_event("user.added_in_admin")
    assert added.target_label == "new@portal.example"
    assert added.data["after"]["is_superuser"] is False
    assert "password" not in str(added.data).replace("password1", "")

    user_id = added.target_id
    response = admin_client.post(
        reverse("admin:portal_user_delete", args=[user_id]), {"post": "yes"}
    )
    assert response.status_code == 302
    deleted = last_event("user.deleted_in_admin")
    assert deleted.target_id == user_id and deleted.actor == root
    assert deleted.data["before"]["email"] == "new@portal.example"


def test_a_password_change_in_admin_is_audited_without_the_hash(admin_client, alice):
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[alice.pk]),
        {"password1": "another long phrase 77", "password2": "another long phrase 77"},
    )
    assert response.status_code == 302
    event = last_event("user.changed_in_admin")
    assert "password" in str(event.data["changes"]).lower()
    alice.refresh_from_db()
    assert alice.password not in str(event.data)


def test_membership_changes_through_the_organisation_are_audited(admin_client, org_a, alice, bob):
    alice_membership = Membership.objects.get(user=alice)
    bob_membership = Membership.objects.get(user=bob)
    data = {
        "name": org_a.name,
        "slug": org_a.slug,
        "country": org_a.country,
        "website": org_a.website,
        "description": org_a.description,
        "memberships-TOTAL_FORMS": "2",
        "memberships-INITIAL_FORMS": "2",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": alice_membership.pk,
        "memberships-0-organisation": org_a.pk,
        "memberships-0-user": alice.pk,
        "memberships-0-role": "admin",  # alice promoted
        "memberships-1-id": bob_membership.pk,
        "memberships-1-organisation": org_a.pk,
        "memberships-1-user": bob.pk,
        "memberships-1-role": "admin",
        "memberships-1-DELETE": "on",  # bob removed
    }
    response = admin_client.post(reverse("admin:portal_organisation_change", args=[org_a.pk]), data)
    assert response.status_code == 302, response.content[:3000]

    event = last_event("organisation.changed_in_admin")
    assert event.data["before"]["memberships"] == [
        "alice@org-a.example (member)",
        "bob@org-a.example (admin)",
    ]
    assert event.data["after"]["memberships"] == ["alice@org-a.example (admin)"]


def test_group_changes_are_audited(admin_client):
    group = Group.objects.get(name=LEAD_REVIEWERS_GROUP)
    response = admin_client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": "Lead reviewers (renamed)", "permissions": []},
    )
    assert response.status_code == 302
    event = last_event("group.changed_in_admin")
    assert event.data["before"]["name"] == LEAD_REVIEWERS_GROUP
    assert event.data["after"]["name"] == "Lead reviewers (renamed)"
    assert event.data["before"]["permissions"] != []  # the reveal permission was taken away
    assert event.data["after"]["permissions"] == []


def test_authenticator_devices_change_only_through_the_audited_reset(admin_client, lena):
    # The device admin is audited, and shows no way to add, change or delete a device: the
    # only way is the user admin's reset action (audited, the owner told by email).
    assert isinstance(admin.site._registry[AuthenticatorDevice], AuditedAdminMixin)
    device = AuthenticatorDevice.objects.get(user=lena)
    response = admin_client.post(
        reverse("admin:portal_authenticatordevice_delete", args=[device.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert AuthenticatorDevice.objects.filter(pk=device.pk).exists()
