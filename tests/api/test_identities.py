"""Witness identities leave the API only under their own scope, and every read is audited."""

import pytest

from portal.models import AuditEvent
from submissions import services as filing
from tests.api.conftest import ApiClient, make_token
from tests.factories import DossierFactory

IDENTITY = {
    "identity": "Maria Ivanova, Kazan, passport 92 0012345",
    "contact": "+7 900 000 00 00 via Signal",
    "safety_notes": "Followed by police since March.",
}


@pytest.fixture
def source(alice, org_a):
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    return filing.save_source(dossier, by=alice, fields={"kind": "witness", **IDENTITY})


def base(source) -> str:
    return f"/api/v1/dossiers/{source.dossier.reference}/sources/"


def leaks(response) -> bool:
    text = response.content.decode()
    return any(value in text for value in IDENTITY.values())


@pytest.mark.parametrize("scope", ["read", "write"])
def test_a_token_without_the_identities_scope_gets_no_identity_field(alice, source, scope):
    api = ApiClient(make_token(alice, scope))
    for response in (api.get(base(source)), api.get(f"{base(source)}{source.pk}/")):
        assert response.status_code == 200
        assert not leaks(response)
        rows = response.json().get("results", [response.json()])
        assert all(not set(IDENTITY) & set(row) for row in rows)
        assert rows[0]["pseudonym"] == source.pseudonym
    assert not AuditEvent.objects.filter(action="source.identity_read").exists()


def test_an_identities_token_reads_them_and_each_read_is_audited(alice, source):
    api = ApiClient(make_token(alice, "read", identities=True))

    listed = api.get(base(source))
    assert listed.json()["results"][0]["identity"] == IDENTITY["identity"]
    shown = api.get(f"{base(source)}{source.pk}/")
    assert shown.json()["contact"] == IDENTITY["contact"]

    events = AuditEvent.objects.filter(action="source.identity_read").order_by("sequence")
    assert events.count() == 2
    for event in events:
        assert event.actor == alice and event.target_id == str(source.pk)
        assert event.data["pseudonym"] == source.pseudonym and event.data["via"] == "api"
        assert not any(value in str(event.data) for value in IDENTITY.values())


def test_a_write_token_files_a_new_identity_but_neither_reads_nor_replaces_one(alice, source):
    api = ApiClient(make_token(alice, "write"))

    created = api.post(base(source), {"kind": "victim", "identity": "Oleg, Ufa"})
    assert created.status_code == 201, created.json()
    assert "identity" not in created.json()
    assert source.dossier.sources.get(pk=created.json()["id"]).identity == "Oleg, Ufa"

    changed = api.patch(f"{base(source)}{source.pk}/", {"contact": "attacker@example.com"})
    assert changed.status_code == 403
    source.refresh_from_db()
    assert source.contact == IDENTITY["contact"]

    graded = api.patch(f"{base(source)}{source.pk}/", {"reliability": "B"})
    assert graded.status_code == 200 and not leaks(graded)


def test_the_identities_scope_is_chosen_on_the_token_page_and_audited(client, alice):
    from django.urls import reverse

    from api.models import ApiToken
    from tests.conftest import with_authenticator

    client.force_login(with_authenticator(alice))
    client.post(
        reverse("api:token-list"),
        {"name": "Case system", "scope": "read", "days": "30", "identities": "on"},
    )
    token = ApiToken.objects.get()
    assert token.identities is True
    event = AuditEvent.objects.get(action="api_token.created")
    assert event.data["identities"] is True
