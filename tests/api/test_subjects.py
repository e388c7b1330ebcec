"""Subjects through the API: a person or an organisation, with what each kind has."""

import pytest

from tests.factories import DossierFactory

pytestmark = pytest.mark.django_db


def test_an_organisation_is_filed_without_nationalities(alice, alice_api, org_a):
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    url = f"/api/v1/dossiers/{dossier.reference}/subjects/"

    response = alice_api.post(
        url, {"kind": "entity", "name": "Acme Holdings Ltd", "jurisdiction": "CY"}
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "entity"
    assert body["nationalities"] == []
    assert body["jurisdiction"] == "CY"
    assert dossier.subjects.get().name == "Acme Holdings Ltd"


def test_an_empty_list_of_nationalities_is_accepted_and_a_wrong_code_still_refused(
    alice, alice_api, org_a
):
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    url = f"/api/v1/dossiers/{dossier.reference}/subjects/"

    assert (
        alice_api.post(url, {"kind": "person", "name": "A", "nationalities": []}).status_code == 201
    )
    refused = alice_api.post(url, {"kind": "person", "name": "B", "nationalities": ["XX"]})

    assert refused.status_code == 400
    assert "nationalities" in refused.json()["errors"]
    assert dossier.subjects.count() == 1
