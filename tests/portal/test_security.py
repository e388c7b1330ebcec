import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp

from portal import twofactor
from portal.models import AuditEvent, AuthenticatorDevice
from tests.conftest import PortalClient, with_authenticator
from tests.factories import PASSWORD, UserFactory


def current_code(device: AuthenticatorDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def sign_in(client: Client, user, password: str = PASSWORD):
    return client.post(reverse("login"), {"username": user.email, "password": password})


@pytest.fixture(autouse=True)
def _no_otp_throttle(settings):
    """django-otp slows down retries after a wrong code; these tests retry at once."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@review.example", is_staff=True, no_organisation=True)


def test_staff_without_an_authenticator_must_set_one_up_before_anything_else(staff):
    client = Client()
    sign_in(client, staff)
    for url in [reverse("admin:index"), reverse("home"), reverse("submissions:dossier-list")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("two_factor_setup"))


def test_setting_up_an_authenticator_gives_recovery_codes_and_opens_the_review_site(staff):
    client = Client()
    sign_in(client, staff)
    client.get(reverse("two_factor_setup"))
    device = AuthenticatorDevice.objects.get(user=staff, confirmed=False)

    response = client.post(reverse("two_factor_setup"), {"token": "000000"})
    assert "not right" in response.text
    assert not AuthenticatorDevice.objects.get(pk=device.pk).confirmed

    response = client.post(reverse("two_factor_setup"), {"token": current_code(device)})
    assert response.status_code == 200
    assert len(response.context["codes"]) == twofactor.RECOVERY_CODES
    assert client.get(reverse("admin:index")).status_code == 200
    assert AuditEvent.objects.filter(action="user.two_factor_enabled", actor=staff).exists()


def test_a_reviewer_with_an_authenticator_must_give_a_code_to_reach_admin(rita):
    client = Client()
    sign_in(client, rita)
    response = client.get(reverse("admin:index"))
    assert response.url.startswith(reverse("two_factor_verify"))

    response = client.post(reverse("two_factor_verify"), {"token": "123456"})
    assert "not right" in response.text
    assert AuditEvent.objects.filter(action="user.two_factor_failed").exists()

    device = AuthenticatorDevice.objects.get(user=rita)
    response = client.post(
        reverse("two_factor_verify"),
        {"token": current_code(device), "next": reverse("admin:index")},
    )
    assert response.url == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_recovery_code_works_exactly_once(rita):
    (code, *_) = twofactor.reset_recovery_codes(rita)
    client = Client()
    sign_in(client, rita)
    assert client.post(reverse("two_factor_verify"), {"token": code}).status_code == 302

    other = Client()
    sign_in(other, rita)
    assert "not right" in other.post(reverse("two_factor_verify"), {"token": code}).text


def test_the_review_site_refuses_a_signed_in_but_unverified_staff_member(rita):
    client = Client()
    client.force_login(rita)  # password only: no second factor in this session
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor_verify"))


def test_ngo_members_open_witness_identities_so_they_need_a_second_factor(org_a):
    member = UserFactory(membership__organisation=org_a, authenticator=False)
    client = Client()
    sign_in(client, member)
    response = client.get(reverse("submissions:dossier-list"))
    assert response.url.startswith(reverse("two_factor_setup"))

    with_authenticator(member)
    later = Client()
    sign_in(later, member)
    response = later.get(reverse("submissions:dossier-list"))
    assert response.url.startswith(reverse("two_factor_verify"))


def test_people_outside_any_organisation_need_no_second_factor_until_they_set_one_up(db):
    user = UserFactory(no_organisation=True)
    client = Client()
    sign_in(client, user)
    assert client.get(reverse("home")).status_code == 200

    with_authenticator(user)
    later = Client()
    sign_in(later, user)
    assert later.get(reverse("organisation")).url.startswith(reverse("two_factor_verify"))


def test_five_wrong_passwords_lock_the_account_from_that_address(alice):
    client = Client()
    for _ in range(4):
        response = sign_in(client, alice, password="not-the-password")
        assert response.status_code == 200
    assert sign_in(client, alice, password="not-the-password").status_code == 429
    response = sign_in(client, alice)  # even the right password, now
    assert response.status_code == 429
    assert "Sign-in paused" in response.text
    assert "_auth_user_id" not in client.session
    shouting = client.post(
        reverse("login"), {"username": alice.email.upper(), "password": PASSWORD}
    )
    assert shouting.status_code == 429  # another spelling of the address is the same account


PAGES = ["home", "login", "password_reset", "submissions:dossier-list", "admin:index"]


@pytest.mark.parametrize("name", PAGES)
def test_every_page_has_a_strict_content_security_policy(lena, name):
    client = PortalClient()
    client.force_login(lena)
    response = client.get(reverse(name))
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"


def test_pages_for_signed_in_users_are_never_cached(alice):
    client = PortalClient()
    client.force_login(alice)
    response = client.get(reverse("submissions:dossier-list"))
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_an_idle_session_ends(alice, settings):
    client = PortalClient()
    client.force_login(alice)
    client.get(reverse("home"))
    session = client.session
    session["last_activity"] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT - 5
    session.save()

    response = client.get(reverse("submissions:dossier-list"))
    assert response.url.startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_reviewers_sessions_end_sooner_when_idle(lena, settings):
    client = PortalClient()
    client.force_login(lena)
    client.get(reverse("admin:index"))
    session = client.session
    session["last_activity"] = int(time.time()) - settings.ADMIN_IDLE_TIMEOUT - 5
    session.save()
    assert client.get(reverse("admin:index")).url.startswith(reverse("login"))


def test_changing_the_password_ends_the_other_sessions(alice):
    stolen = PortalClient()
    stolen.force_login(alice)
    alice.set_password("a-completely-new-passphrase")
    alice.save()
    response = stolen.get(reverse("submissions:dossier-list"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# Settings refused or tightened at start-up, checked in a fresh process each.

ROOT = Path(__file__).resolve().parents[2]


def start_portal(tmp_path, code: str = "", **environment) -> subprocess.CompletedProcess:
    """Load the settings (and run `code` after django.setup()) in a new process."""
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTAL_DATA_DIR": str(tmp_path / "data"),
        **environment,
    }
    script = f"import django\ndjango.setup()\n{code}"
    return subprocess.run(  # noqa: S603 - the test's own interpreter and script
        [sys.executable, "-c", script], cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    "environment",
    [
        {"DJANGO_ALLOWED_HOSTS": "portal.example.org"},
        {"DJANGO_ALLOWED_HOSTS": "localhost,*"},
        {"DJANGO_ALLOWED_HOSTS": "192.168.1.20"},
        {"DJANGO_ALLOWED_HOSTS": ".example.org"},
        {"DJANGO_SECRET_KEY": "k7Jx2-a-real-production-key-9f8e7d6c5b4a3f2e1d0c"},
    ],
)
def test_debug_mode_is_refused_where_the_portal_looks_deployed(tmp_path, environment):
    result = start_portal(tmp_path, DJANGO_DEBUG="true", **environment)
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_DEBUG=true is refused" in result.stderr


def test_manage_py_says_why_the_settings_are_refused(tmp_path):
    """Not Django's later "Models aren't loaded yet", which hides the reason."""
    result = subprocess.run(  # noqa: S603 - the test's own interpreter and manage.py
        [sys.executable, str(ROOT / "manage.py"), "makemigrations", "--check", "--dry-run"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": os.environ["PATH"], "PORTAL_DATA_DIR": str(tmp_path / "data"),
             "DJANGO_DEBUG": "true",
             "DJANGO_SECRET_KEY": "k7Jx2-a-real-production-key-9f8e7d6c5b4a3f2e1d0c"},
    )  # fmt: skip
    assert result.returncode == 1
    assert "manage.py: the settings are refused: DJANGO_DEBUG=true is refused" in result.stderr
    assert "AppRegistryNotReady" not in result.stderr and "Traceback" not in result.stderr


def test_debug_mode_is_refused_with_a_production_secret_from_a_file(tmp_path):
    key = tmp_path / "secret_key"
    key.write_text("k7Jx2-a-real-production-key-9f8e7d6c5b4a3f2e1d0c\n")
    result = start_portal(tmp_path, DJANGO_DEBUG="true", DJANGO_SECRET_KEY_FILE=str(key))
    assert "DJANGO_DEBUG=true is refused" in result.stderr


@pytest.mark.parametrize(
    "environment",
    [
        {},  # what `make run`'s .env gives: secrets generated in the data folder
        {"DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1,[::1],portal.localhost"},
        {"DJANGO_SECRET_KEY": "django-insecure-for-my-laptop"},
    ],
)
def test_debug_mode_starts_on_this_machine_with_development_secrets(tmp_path, environment):
    result = start_portal(
        tmp_path, "from django.conf import settings\nassert settings.DEBUG", **environment,
        DJANGO_DEBUG="true",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_production_settings_are_not_refused(tmp_path):
    result = start_portal(
        tmp_path,
        DJANGO_ALLOWED_HOSTS="portal.example.org",
        DJANGO_SECRET_KEY="k7Jx2-a-real-production-key-9f8e7d6c5b4a3f2e1d0c",
        FIELD_ENCRYPTION_KEYS="8Qm5lE9TqkO6P4GVK0fQfW2s9cY5xkT8uJm0yD3hY6A=",
        AUDIT_HMAC_KEYS="t1:test-only-audit-key-not-for-any-deployment-0123456789",
        PORTAL_SIGNING_KEY=os.environ["PORTAL_SIGNING_KEY"],
    )
    assert result.returncode == 0, result.stderr


def test_the_sqlite_database_and_its_journal_are_readable_by_the_portals_user_only(tmp_path):
    os.umask(os.umask(0o022))  # the umask the subprocess inherits: files would be 0644
    code = (
        "import pathlib, stat\n"
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('CREATE TABLE t (x)')\n"
        "    cursor.execute('INSERT INTO t VALUES (1)')\n"
        "    for f in sorted(pathlib.Path(connection.settings_dict['NAME']).parent.iterdir()):\n"
        "        print(f.name, oct(stat.S_IMODE(f.stat().st_mode)))\n"
    )
    result = start_portal(tmp_path, code, DJANGO_DEBUG="true")
    assert result.returncode == 0, result.stderr
    modes = dict(line.split() for line in result.stdout.splitlines())
    # WAL mode: the write-ahead log and shared memory exist while a connection is open.
    assert {"db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm"} <= set(modes)
    assert set(modes.values()) == {"0o700", "0o600"}
    assert {name: mode for name, mode in modes.items() if name.startswith("db.")} == {
        "db.sqlite3": "0o600",
        "db.sqlite3-wal": "0o600",
        "db.sqlite3-shm": "0o600",
    }
    assert oct(stat.S_IMODE((tmp_path / "data").stat().st_mode)) == "0o700"


def test_an_existing_sqlite_database_is_made_private(tmp_path):
    database = tmp_path / "data" / "db.sqlite3"
    database.parent.mkdir()
    database.parent.chmod(0o755)
    database.touch()
    database.chmod(0o644)
    result = start_portal(tmp_path, DJANGO_DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert oct(stat.S_IMODE(database.stat().st_mode)) == "0o600"
    assert oct(stat.S_IMODE(database.parent.stat().st_mode)) == "0o700"


@pytest.mark.parametrize(
    "url,warned",
    [
        ("http://localhost:8000", True),
        ("https://127.0.0.1", True),
        ("http://portal.example.org", True),
        ("https://portal.example.org", False),
    ],
)
def test_check_deploy_warns_while_email_links_would_point_nowhere(settings, url, warned):
    from portal.checks import base_url_check

    settings.PORTAL_BASE_URL = url
    assert [w.id for w in base_url_check(None)] == (["portal.W010"] if warned else [])
