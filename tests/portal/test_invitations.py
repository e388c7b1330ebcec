"""Organisation admins invite people by email and remove members."""

import hashlib
import json
import re
from datetime import timedelta

import factory
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from portal import audit, services
from portal.models import INVITATION_VALID_FOR, AuditEvent, Invitation, Membership, User
from tests.conftest import with_authenticator
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

NEW_PASSWORD = "a-long-and-unusual-passphrase"
CAROL = "Carol@Example.org"
LINK = re.compile(r"http://testserver(/invitations/[^/\s]+/)")


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    token_hash = factory.Sequence(lambda n: Invitation.hash_token(f"token-{n}"))
    expires_at = factory.LazyFunction(lambda: timezone.now() + INVITATION_VALID_FOR)


@pytest.fixture
def invite(client, bob, org_a, django_capture_on_commit_callbacks):
    """Let bob invite an address through the organisation page; return the emailed link's path."""

    def _invite(email: str, role: str = Membership.Role.MEMBER) -> str:
        client.force_login(bob)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("organisation-invite", args=[org_a.slug]), {"email": email, "role": role}
            )
        assert response.status_code == 302
        client.logout()
        return LINK.search(mail.outbox[-1].body)[1]

    return _invite


def _new_account(**overrides) -> dict:
    return {
        "full_name": "Carol Example",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
        **overrides,
    }


def _snapshot() -> tuple:
    return (
        list(User.objects.order_by("pk").values_list("pk", "email")),
        list(Membership.objects.order_by("pk").values_list("pk", "user", "organisation", "role")),
        list(Invitation.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )


# Inviting and accepting


def test_emailed_link_creates_the_account_and_the_membership(client, invite, bob, org_a):
    path = invite(CAROL, role=Membership.Role.ADMIN)

    (email,) = mail.outbox
    assert email.to == ["Carol@example.org"]
    assert "Org A" in email.subject
    assert f"{bob.full_name} invited you to join Org A" in email.body
    assert "http://testserver" + path in email.body
    page = client.get(path)
    assert page.status_code == 200
    assert "Carol@example.org" in page.text

    response = client.post(path, _new_account())

    assert response.status_code == 302
    assert response["Location"] == reverse("organisation")
    carol = User.objects.get(email__iexact=CAROL)
    assert carol.check_password(NEW_PASSWORD)
    assert carol.full_name == "Carol Example"
    assert Membership.objects.get(user=carol).role == Membership.Role.ADMIN
    assert Invitation.objects.get().accepted_at is not None
    assert int(client.session["_auth_user_id"]) == carol.pk
    # A member opens witness identities: the new account sets up its second factor first.
    response = client.get(reverse("organisation"))
    assert response.url.startswith(reverse("two_factor_setup"))


def test_signed_in_person_with_the_invited_address_joins_after_confirming(
    client, invite, mallory, org_a
):
    path = invite(mallory.email.upper())
    users_before = User.objects.count()
    client.force_login(mallory)

    assert "Join Org A" in client.get(path).text
    response = client.post(path)

    assert response.status_code == 302
    assert Membership.objects.filter(user=mallory, organisation=org_a).exists()
    assert User.objects.count() == users_before


def test_someone_signed_in_with_another_address_cannot_accept(client, invite, rita):
    path = invite(CAROL)
    client.force_login(rita)
    before = _snapshot()

    response = client.post(path)

    assert response.status_code == 400
    assert "Sign out, then open the link again" in response.text
    assert _snapshot() == before


def test_invited_address_that_has_an_account_is_asked_to_sign_in(client, invite, mallory):
    path = invite(mallory.email)
    before = _snapshot()

    page = client.get(path)
    assert reverse("login") + "?next=" in page.text
    assert 'name="password"' not in page.text

    response = client.post(path, _new_account())
    assert response.status_code == 400
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("expired", "This invitation has expired."),
        ("used", "This invitation has already been used."),
        ("revoked", "This invitation was withdrawn."),
    ],
)
def test_expired_used_or_withdrawn_links_are_refused_and_change_nothing(
    client, invite, bob, state, message
):
    path = invite(CAROL)
    invitation = Invitation.objects.get()
    if state == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    elif state == "used":
        assert client.post(path, _new_account()).status_code == 302
        client.logout()
    else:
        services.revoke_invitation(invitation, by=bob)
    before = _snapshot()

    page = client.get(path)
    response = client.post(path, _new_account(password=NEW_PASSWORD + "-2"))

    assert (page.status_code, response.status_code) == (410, 410)
    assert message in page.text and message in response.text
    assert _snapshot() == before
    assert "_auth_user_id" not in client.session


def test_unknown_link_is_not_found(client, db):
    response = client.get(reverse("invitation-accept", args=["not-a-real-token"]))
    assert response.status_code == 404
    assert "This invitation link is not valid." in response.text


def test_weak_or_mismatched_password_is_refused_and_creates_nobody(client, invite):
    path = invite(CAROL)
    before = _snapshot()

    weak = client.post(path, _new_account(password="short", password_again="short"))
    mismatched = client.post(path, _new_account(password_again="something-else-entirely"))

    assert weak.status_code == mismatched.status_code == 400
    assert "This password is too short." in weak.text
    assert "The two passwords are not the same." in mismatched.text
    assert _snapshot() == before


def test_reinviting_replaces_the_pending_invitation(client, invite):
    first = invite(CAROL)
    second = invite(CAROL.lower(), role=Membership.Role.ADMIN)

    assert Invitation.objects.pending().count() == 1
    assert Invitation.objects.pending().get().role == Membership.Role.ADMIN
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_inviting_someone_who_is_already_a_member_is_refused(client, bob, alice, org_a):
    client.force_login(bob)

    response = client.post(
        reverse("organisation-invite", args=[org_a.slug]),
        {"email": alice.email.upper(), "role": Membership.Role.MEMBER},
    )

    assert response.status_code == 400
    assert "is already a member of this organisation." in response.text
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_invitation_email_is_sent_only_after_commit(bob, org_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.invite_member(org_a, email=CAROL, role=Membership.Role.MEMBER, by=bob)

    assert len(callbacks) == 1
    assert mail.outbox == []


def test_token_is_stored_only_as_its_hash(bob, org_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invite_member(
            org_a,
            email=CAROL,
            role=Membership.Role.MEMBER,
            by=bob,
            build_absolute_uri=lambda path: "https://portal.example" + path,
        )

    raw = re.search(r"https://portal\.example/invitations/([^/\s]+)/", mail.outbox[0].body)[1]
    assert invitation.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = json.dumps(list(Invitation.objects.values()), default=str)
    logged = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert raw not in stored
    assert raw not in logged


# Who may do what


def test_member_cannot_invite_and_other_organisations_are_not_found(
    client, alice, bob, mallory, org_a
):
    invitation = InvitationFactory(organisation=org_a, invited_by=bob)
    bob_membership = Membership.objects.get(user=bob)
    url_invite = reverse("organisation-invite", args=[org_a.slug])
    url_remove = reverse("organisation-member-remove", args=[org_a.slug, bob_membership.pk])
    url_revoke = reverse("organisation-invitation-revoke", args=[org_a.slug, invitation.pk])
    data = {"email": "eve@example.org", "role": Membership.Role.ADMIN}
    before = _snapshot()

    client.force_login(alice)
    assert client.post(url_invite, data).status_code == 403
    assert client.post(url_remove).status_code == 403
    assert client.post(url_revoke).status_code == 403

    client.force_login(mallory)
    assert client.post(url_invite, data).status_code == 404
    assert client.post(url_remove).status_code == 404
    assert client.post(url_revoke).status_code == 404

    assert _snapshot() == before
    assert mail.outbox == []


def test_services_refuse_anyone_but_an_admin_of_the_organisation(alice, bob, mallory, org_a):
    invitation = InvitationFactory(organisation=org_a, invited_by=bob)
    bob_membership = Membership.objects.get(user=bob)
    for actor in (alice, mallory):
        with pytest.raises(PermissionDenied):
            services.invite_member(org_a, email=CAROL, role="member", by=actor)
        with pytest.raises(PermissionDenied):
            services.revoke_invitation(invitation, by=actor)
        with pytest.raises(PermissionDenied):
            services.remove_member(bob_membership, by=actor)


def test_members_see_members_and_invitations_without_controls(client, alice, bob, org_a):
    InvitationFactory(organisation=org_a, invited_by=bob, email="dave@example.org")
    client.force_login(alice)

    page = client.get(reverse("organisation")).text

    assert "bob@org-a.example" in page and "dave@example.org" in page
    assert reverse("organisation-invite", args=[org_a.slug]) not in page
    assert "/remove/" not in page and "/revoke/" not in page


def test_admins_see_the_invite_form_and_the_buttons(client, alice, bob, org_a):
    InvitationFactory(organisation=org_a, invited_by=bob, email="dave@example.org")
    client.force_login(bob)

    page = client.get(reverse("organisation")).text

    assert reverse("organisation-invite", args=[org_a.slug]) in page
    assert page.count("/remove/") == 2 and page.count("/revoke/") == 1
    field_id = f"id_invite_{org_a.pk}_email"
    assert f'for="{field_id}"' in page and f'id="{field_id}"' in page


def test_organisation_page_needs_a_login(client, db):
    response = client.get(reverse("organisation"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_organisation_page_queries_do_not_grow_with_members(
    client, bob, org_a, org_b, django_assert_max_num_queries
):
    MembershipFactory(user=bob, organisation=org_b, role=Membership.Role.ADMIN)
    for organisation in (org_a, org_b):
        MembershipFactory.create_batch(8, organisation=organisation)
        InvitationFactory.create_batch(4, organisation=organisation, invited_by=bob)
    client.force_login(bob)
    client.get(reverse("organisation"))  # the session's first request settles its 2FA state

    # 1 session, 2 user, 3 bob's authenticator app (django-otp: the session's second factor),
    # 4 bob's memberships with their organisations, 5 those organisations' members with their
    # users, 6 pending invitations with inviters
    with django_assert_max_num_queries(6):
        response = client.get(reverse("organisation"))
    assert response.status_code == 200
    assert response.text.count("/remove/") == 2 * 9  # bob and eight others in each


# Removing members


def test_admin_removes_a_member(client, alice, bob, org_a):
    client.force_login(bob)
    membership = Membership.objects.get(user=alice)

    response = client.post(
        reverse("organisation-member-remove", args=[org_a.slug, membership.pk]), follow=True
    )

    assert "alice@org-a.example is no longer a member of Org A." in response.text
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert User.objects.filter(pk=alice.pk).exists()
    event = AuditEvent.objects.get(action="membership.removed")
    assert event.actor == bob
    assert event.data == {"user": alice.pk, "organisation": org_a.pk, "role": "member"}


def test_last_admin_cannot_be_removed_but_one_of_two_can(client, bob, org_a):
    own = Membership.objects.get(user=bob)
    client.force_login(bob)

    response = client.post(
        reverse("organisation-member-remove", args=[org_a.slug, own.pk]), follow=True
    )

    assert "An organisation needs at least one admin." in response.text
    assert Membership.objects.filter(pk=own.pk).exists()
    with pytest.raises(ValidationError):
        services.remove_member(own, by=bob)

    MembershipFactory(organisation=org_a, role=Membership.Role.ADMIN)
    services.remove_member(own, by=bob)
    assert not Membership.objects.filter(pk=own.pk).exists()


def test_admin_withdraws_an_invitation(client, bob, org_a):
    invitation = InvitationFactory(organisation=org_a, invited_by=bob, email="dave@example.org")
    client.force_login(bob)

    response = client.post(
        reverse("organisation-invitation-revoke", args=[org_a.slug, invitation.pk]), follow=True
    )

    assert "The invitation to dave@example.org was withdrawn." in response.text
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    with pytest.raises(ValidationError):
        services.revoke_invitation(invitation, by=bob)


# The audit trail


def test_every_change_is_audited_in_the_chain(client, invite, alice, bob, org_a):
    path = invite(CAROL)
    client.post(path, _new_account())
    carol = User.objects.get(email__iexact=CAROL)
    withdrawn = InvitationFactory(organisation=org_a, invited_by=bob)
    services.revoke_invitation(withdrawn, by=bob)
    services.remove_member(Membership.objects.get(user=alice), by=bob)

    actions = {
        (event.action, event.actor_id) for event in AuditEvent.objects.select_related("actor")
    }

    assert actions == {
        ("invitation.created", bob.pk),
        ("user.created", carol.pk),
        ("invitation.accepted", carol.pk),
        ("membership.created", carol.pk),
        ("invitation.revoked", bob.pk),
        ("membership.removed", bob.pk),
    }
    assert audit.verify_chain().ok


def test_expiry_is_seven_days_after_the_invitation(bob, org_a):
    invitation = services.invite_member(org_a, email=CAROL, role="member", by=bob)
    assert invitation.expires_at - invitation.created_at == pytest.approx(
        timedelta(days=7), abs=timedelta(seconds=5)
    )


# The review site


def test_review_site_shows_invitations_read_only(client, bob, org_a):
    InvitationFactory.create_batch(3, organisation=org_a, invited_by=bob)
    admin_user = UserFactory(is_staff=True, is_superuser=True, no_organisation=True)
    client.force_login(with_authenticator(admin_user))

    changelist = client.get(reverse("admin:portal_invitation_changelist"))
    add = client.get(reverse("admin:portal_invitation_add"))

    assert changelist.status_code == 200
    assert add.status_code == 403
    assert "token_hash" not in changelist.text
