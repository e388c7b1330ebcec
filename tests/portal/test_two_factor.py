"""The second factor cannot be replaced with a password alone, and its secrets are not in clear."""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_otp import devices_for_user
from django_otp.oath import totp

from portal import crypto, twofactor
from portal.models import AuditEvent, AuthenticatorDevice, RecoveryCode, RecoveryCodeDevice
from submissions.models import Source
from tests.conftest import PortalClient, with_authenticator
from tests.factories import PASSWORD, DossierFactory, UserFactory


def current_code(device, *, later: int = 0) -> str:
    """The code the app shows now (or `later` steps from now)."""
    return (
        f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + later):06d}"
    )


def sign_in(client: Client, user):
    return client.post(reverse("login"), {"username": user.email, "password": PASSWORD})


@pytest.fixture(autouse=True)
def _no_otp_throttle(settings):
    """django-otp slows down retries after a wrong code; these tests retry at once."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.fixture
def lena_codes(lena):
    """Lena's recovery codes (she has a confirmed authenticator app already)."""
    return twofactor.reset_recovery_codes(lena)


def _lenas_app(lena) -> AuthenticatorDevice:
    return AuthenticatorDevice.objects.get(user=lena, confirmed=True)


# The setup page


def test_a_password_alone_cannot_reach_or_complete_setup_when_a_second_factor_exists(
    lena, lena_codes
):
    original = _lenas_app(lena)
    attacker = Client()
    sign_in(attacker, lena)

    response = attacker.get(reverse("two_factor_setup"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor_verify"))

    # Posting a code of an app the attacker controls changes nothing either.
    response = attacker.post(reverse("two_factor_setup"), {"token": "123456"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor_verify"))
    assert list(AuthenticatorDevice.objects.filter(user=lena)) == [original]
    assert RecoveryCode.objects.filter(device__user=lena).count() == len(lena_codes)
    assert attacker.get(reverse("admin:index")).status_code == 302


def test_replacing_the_app_needs_a_code_from_the_current_one(lena, lena_codes):
    original = _lenas_app(lena)
    client = PortalClient()
    client.force_login(lena)  # a verified session (left open, or stolen)
    client.get(reverse("two_factor_setup"))
    new = AuthenticatorDevice.objects.get(user=lena, confirmed=False)

    response = client.post(reverse("two_factor_setup"), {"token": current_code(new)})
    assert response.status_code == 200 and "codes" not in response.context
    assert "current authenticator app" in response.text
    response = client.post(
        reverse("two_factor_setup"),
        {"token": current_code(new, later=1), "current_token": "000000"},
    )
    assert "codes" not in response.context
    assert AuthenticatorDevice.objects.get(pk=original.pk).confirmed
    assert AuditEvent.objects.filter(action="user.two_factor_replace_refused").count() == 1

    response = client.post(
        reverse("two_factor_setup"),
        {"token": current_code(new, later=-1), "current_token": current_code(original)},
    )
    assert len(response.context["codes"]) == twofactor.RECOVERY_CODES
    assert list(AuthenticatorDevice.objects.filter(user=lena)) == [new]
    assert AuthenticatorDevice.objects.get(pk=new.pk).confirmed
    # The old recovery codes went with the old app.
    assert twofactor.verify(lena, lena_codes[0]) is None
    assert AuditEvent.objects.filter(action="user.two_factor_replaced", actor=lena).exists()


def test_a_recovery_code_can_stand_in_for_a_lost_app_when_replacing_it(lena, lena_codes):
    client = PortalClient()
    client.force_login(lena)
    client.get(reverse("two_factor_setup"))
    new = AuthenticatorDevice.objects.get(user=lena, confirmed=False)
    response = client.post(
        reverse("two_factor_setup"),
        {"token": current_code(new), "current_token": lena_codes[3].upper()},
    )
    assert len(response.context["codes"]) == twofactor.RECOVERY_CODES
    assert AuthenticatorDevice.objects.get(user=lena, confirmed=True) == new


def test_reloading_setup_keeps_one_app_being_set_up_with_the_same_secret(db):
    newcomer = UserFactory(no_organisation=True, is_staff=True)
    client = Client()
    sign_in(client, newcomer)
    first = client.get(reverse("two_factor_setup"))
    for _ in range(3):
        again = client.get(reverse("two_factor_setup"))
    assert AuthenticatorDevice.objects.filter(user=newcomer).count() == 1
    assert again.context["secret"] == first.context["secret"]
    # And the database refuses a second one, whatever the code path.
    assert twofactor.pending_authenticator(newcomer) == AuthenticatorDevice.objects.get(
        user=newcomer
    )


def test_the_session_key_changes_after_the_second_factor(lena):
    client = Client()
    sign_in(client, lena)
    before = client.session.session_key
    response = client.post(reverse("two_factor_verify"), {"token": current_code(_lenas_app(lena))})
    assert response.status_code == 302
    assert client.session.session_key != before
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_session_key_changes_after_setting_up_a_first_app(db):
    newcomer = UserFactory(no_organisation=True, is_staff=True)
    client = Client()
    sign_in(client, newcomer)
    client.get(reverse("two_factor_setup"))
    before = client.session.session_key
    device = AuthenticatorDevice.objects.get(user=newcomer)
    response = client.post(reverse("two_factor_setup"), {"token": current_code(device)})
    assert len(response.context["codes"]) == twofactor.RECOVERY_CODES
    assert client.session.session_key != before
    assert client.get(reverse("admin:index")).status_code == 200


def test_new_recovery_codes_need_a_second_factor_in_this_session(lena, lena_codes):
    client = Client()
    sign_in(client, lena)
    response = client.post(reverse("two_factor_recovery_codes"))
    assert response.status_code == 302
    assert twofactor.verify(lena, lena_codes[0]) is not None  # the old codes still work


# Secrets at rest


def _raw(sql: str, *params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_authenticator_secrets_are_stored_encrypted(lena):
    device = _lenas_app(lena)
    ((stored,),) = _raw("SELECT key FROM portal_authenticatordevice WHERE id = %s", device.pk)
    assert len(device.key) == 40 and device.key not in stored
    assert device.bin_key.hex() not in stored.lower()
    assert crypto.decrypt(stored) == device.key


def test_recovery_codes_are_stored_only_as_keyed_hashes(lena, lena_codes):
    rows = _raw(
        "SELECT c.* FROM portal_recoverycode c JOIN portal_recoverycodedevice d "
        "ON c.device_id = d.id WHERE d.user_id = %s",
        lena.pk,
    )
    assert len(rows) == twofactor.RECOVERY_CODES
    stored = " ".join(str(value) for row in rows for value in row).lower()
    for code in lena_codes:
        assert code not in stored and code.replace("-", "") not in stored
    assert twofactor.verify(lena, lena_codes[0]) is not None


def test_recovery_codes_still_work_after_the_secret_key_is_rotated(lena, lena_codes, settings):
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 50
    assert twofactor.verify(lena, lena_codes[1]) is not None
    assert twofactor.verify(lena, lena_codes[1]) is None  # once only


def test_each_recovery_code_works_once_even_when_typed_differently(lena, lena_codes):
    assert isinstance(twofactor.verify(lena, lena_codes[2].upper()), RecoveryCodeDevice)
    assert twofactor.verify(lena, lena_codes[2].replace("-", "")) is None


# Members who open witness identities


@pytest.fixture
def source_of_org_a(org_a):
    dossier = DossierFactory(organisation=org_a)
    return Source.objects.create(
        dossier=dossier, pseudonym="W-1", kind=Source.Kind.WITNESS, identity="Real Name"
    )


def test_a_member_without_an_app_is_sent_to_set_one_up_before_any_identity(org_a, source_of_org_a):
    member = UserFactory(membership__organisation=org_a, authenticator=False)
    client = Client()
    sign_in(client, member)
    edit = reverse(
        "submissions:source-edit", args=[source_of_org_a.dossier.reference, source_of_org_a.pk]
    )
    for url in [reverse("submissions:dossier-list"), edit]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("two_factor_setup"))


def test_a_member_with_an_app_gives_a_code_before_any_identity(alice, source_of_org_a):
    client = Client()
    sign_in(client, alice)
    edit = reverse(
        "submissions:source-edit", args=[source_of_org_a.dossier.reference, source_of_org_a.pk]
    )
    response = client.get(edit)
    assert response.url.startswith(reverse("two_factor_verify"))
    assert "Real Name" not in response.text

    device = AuthenticatorDevice.objects.get(user=alice)
    client.post(reverse("two_factor_verify"), {"token": current_code(device)})
    assert "Real Name" in client.get(edit).text


def test_the_identity_page_checks_the_second_factor_itself(alice, source_of_org_a):
    """Even if the middleware's answer for the session were wrong, the page refuses."""
    client = Client()
    sign_in(client, alice)
    session = client.session
    session[twofactor.SESSION_KEY] = False  # as a session from before the rule would hold
    session.save()
    edit = reverse(
        "submissions:source-edit", args=[source_of_org_a.dossier.reference, source_of_org_a.pk]
    )
    response = client.get(edit)
    assert response.status_code == 302 and "Real Name" not in response.text


def test_joining_an_organisation_mid_session_needs_the_second_factor_at_once(db, org_a):
    user = UserFactory(no_organisation=True)
    client = Client()
    sign_in(client, user)
    assert client.get(reverse("home")).status_code == 200
    org_a.memberships.create(user=user)
    response = client.get(reverse("submissions:dossier-list"))
    assert response.url.startswith(reverse("two_factor_setup"))


def test_people_outside_any_organisation_or_review_role_need_no_second_factor(db):
    assert twofactor.is_required(UserFactory(no_organisation=True)) is False


# The administrators' reset


@pytest.fixture
def superuser(db):
    return with_authenticator(
        UserFactory(
            email="ada@review.example", is_staff=True, is_superuser=True, no_organisation=True
        )
    )


def _reset_action(client, *users):
    return client.post(
        reverse("admin:portal_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [u.pk for u in users]},
    )


def test_a_superuser_resets_a_lost_second_factor_audited_and_the_owner_is_told(
    superuser, lena, lena_codes, django_capture_on_commit_callbacks
):
    lena.language = "ja"
    lena.save(update_fields=["language"])
    client = PortalClient()
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        response = _reset_action(client, lena)
    assert response.status_code == 302
    assert not list(devices_for_user(lena))
    assert not RecoveryCode.objects.filter(device__user=lena).exists()
    event = AuditEvent.objects.get(action="user.two_factor_reset")
    assert event.actor == superuser and event.target_id == str(lena.pk)
    assert event.data == {"devices_removed": 2}

    (message,) = mail.outbox
    assert message.to == [lena.email]
    assert message.subject == "二要素サインインがリセットされました"  # in Lena's language
    assert superuser.email in message.body

    # Lena signs in and sets up a new app: no old code is asked for, as none is left.
    fresh = Client()
    sign_in(fresh, lena)
    assert fresh.get(reverse("admin:index")).url.startswith(reverse("two_factor_setup"))


def test_only_superusers_can_reset_a_second_factor(lena, rita):
    client = PortalClient()
    client.force_login(lena)  # a lead reviewer may see users, but not reset their factors
    lena.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    _reset_action(client, rita)
    assert AuthenticatorDevice.objects.filter(user=rita, confirmed=True).exists()
    assert not AuditEvent.objects.filter(action="user.two_factor_reset").exists()
    assert not mail.outbox


def test_the_admin_never_shows_an_authenticator_secret(superuser, lena):
    client = PortalClient()
    client.force_login(superuser)
    device = _lenas_app(lena)
    response = client.get(reverse("admin:portal_authenticatordevice_change", args=[device.pk]))
    assert response.status_code == 200
    assert device.key not in response.text
    assert client.get(reverse("admin:portal_authenticatordevice_changelist")).status_code == 200


# Moving django-otp's clear rows


def test_the_migration_encrypts_old_secrets_hashes_old_codes_and_empties_the_old_tables(lena):
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps

    migration = import_module("portal.migrations.0008_move_otp_devices_encrypted")
    AuthenticatorDevice.objects.filter(user=lena).delete()
    key = "3132333435363738393031323334353637383930"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE otp_totp_totpdevice (id integer primary key, user_id integer, "
            "name varchar(64), confirmed bool, key varchar(80), step integer, t0 integer, "
            "digits integer, tolerance integer, drift integer, last_t integer, "
            "throttling_failure_timestamp timestamp null, throttling_failure_count integer, "
            "created_at timestamp null, last_used_at timestamp null)"
        )
        cursor.execute(
            "INSERT INTO otp_totp_totpdevice VALUES "
            "(1, %s, 'Phone', true, %s, 30, 0, 6, 1, 0, -1, NULL, 0, NULL, NULL)",
            [lena.pk, key],
        )
        cursor.execute(
            "CREATE TABLE otp_static_staticdevice (id integer primary key, user_id integer, "
            "name varchar(64), confirmed bool)"
        )
        cursor.execute(
            "INSERT INTO otp_static_staticdevice VALUES (7, %s, 'Backup', true)", [lena.pk]
        )
        cursor.execute(
            "CREATE TABLE otp_static_statictoken (id integer primary key, device_id integer, "
            "token varchar(16))"
        )
        cursor.execute("INSERT INTO otp_static_statictoken VALUES (1, 7, 'abcd-ef01-2345')")

    migration.move_devices(apps, SimpleNamespace(connection=connection))

    device = _lenas_app(lena)
    assert device.key == key
    ((stored,),) = _raw("SELECT key FROM portal_authenticatordevice WHERE id = %s", device.pk)
    assert key not in stored
    assert _raw("SELECT COUNT(*) FROM otp_totp_totpdevice") == [(0,)]
    assert _raw("SELECT COUNT(*) FROM otp_static_statictoken") == [(0,)]
    assert twofactor.verify(lena, "ABCD-EF01-2345") is not None
    assert twofactor.verify(lena, "abcd-ef01-2345") is None
