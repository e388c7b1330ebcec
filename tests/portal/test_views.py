import re

import pytest
from celery import Celery
from django.core import mail
from django.urls import reverse

from portal import health
from tests.factories import PASSWORD


def test_home_page_says_what_the_portal_is_without_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "standard of proof" in response.text
    assert reverse("login") in response.text


def test_pages_load_no_asset_from_another_host(client, alice):
    client.force_login(alice)
    html = client.get(reverse("home")).text + client.get(reverse("login")).text
    external = re.findall(r'(?:src|href)="((?:https?:)?//[^"]+)"', html)
    assert external == []
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html


def test_static_assets_are_served_by_the_portal(client):
    response = client.get("/static/vendor/bootstrap/bootstrap.min.css")
    assert response.status_code == 200


def test_pages_need_a_login_by_default(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_sign_in_with_email_and_sign_out(client, alice):
    response = client.post(
        reverse("login"), {"username": "Alice@org-a.example", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == alice.pk  # the second factor comes next

    client.post(reverse("logout"))
    assert not client.get(reverse("home")).context["user"].is_authenticated


def test_wrong_password_shows_a_message_and_signs_nobody_in(client, alice):
    response = client.post(reverse("login"), {"username": alice.email, "password": "nope"})
    assert response.status_code == 200
    assert "correct email address and password" in response.text
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_a_link_that_sets_a_new_password(client, alice):
    client.post(reverse("password_reset"), {"email": alice.email})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password-reset/\S+/)", mail.outbox[0].body)[1]

    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    response = client.post(
        form_url,
        {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-brand-new-passphrase")


def test_password_reset_does_not_reveal_unknown_addresses(client, db):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_healthz_is_200_when_everything_answers(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "storage": "ok"},
        "failing": [],
    }
    assert "no-cache" in response["Cache-Control"]


def test_healthz_names_a_broker_that_does_not_answer(client, db, monkeypatch):
    # Nothing listens on port 9 of loopback: a broker that is down.
    dead = Celery(broker="redis://127.0.0.1:9/0", set_as_current=False)
    monkeypatch.setattr(health, "app", dead)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]


def test_healthz_names_a_storage_that_cannot_be_written(client, db, settings, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the storage folder should be")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "portal.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(blocked)},
        },
    }
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["failing"] == ["storage"]


def test_healthz_names_a_database_that_does_not_answer(client, db, monkeypatch):
    def down():
        raise health.OperationalError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", down)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    assert "refused" not in response.text  # details go to the log, not to the caller


def test_private_storage_has_no_public_url(settings):
    from django.core.files.storage import default_storage

    with pytest.raises(NotImplementedError):
        default_storage.url("evidence/anything.pdf")


class _Inspect:
    """Celery's inspect, answering as the given workers would."""

    def __init__(self, replies):
        self.replies = replies

    def active_queues(self):
        return self.replies


def _workers(monkeypatch, replies):
    monkeypatch.setattr(
        health.app.control, "inspect", lambda timeout=None: _Inspect(replies), raising=False
    )


def test_healthz_is_503_naming_a_queue_that_no_worker_consumes(client, db, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    _workers(
        monkeypatch,
        {"default@a": [{"name": "default"}, {"name": "evidence"}, {"name": "designations"}]},
    )

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["queue:briefs"]
    assert body["checks"]["queue:default"] == "ok"
    assert body["checks"]["queue:briefs"] == "error"


def test_healthz_is_200_when_every_queue_has_a_live_worker(client, db, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queues = [{"name": name} for name in health.expected_queues()]
    _workers(monkeypatch, {"one@a": queues[:2], "two@b": queues[2:]})

    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert all(response.json()["checks"][f"queue:{q['name']}"] == "ok" for q in queues)


def test_healthz_names_every_queue_when_no_worker_answers(client, db, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    _workers(monkeypatch, None)  # inspect's answer when nobody replies in time

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["failing"] == [f"queue:{q}" for q in health.expected_queues()]


def test_healthz_asks_the_real_broker_and_finds_no_worker(client, db, settings):
    """No mock: the broadcast goes out through the configured broker, and no worker runs."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.HEALTHZ_WORKER_TIMEOUT = 0.3

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert "queue:briefs" in response.json()["failing"]
