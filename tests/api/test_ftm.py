"""FollowTheMoney exchange: export, validate with the library, import into a new draft."""

import json

import pytest
from followthemoney import model

from submissions import services
from submissions.models import Subject
from tests.factories import DossierFactory

NDJSON = "application/x-ndjson"


@pytest.fixture
def filed(alice, org_a):
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    from api.services import ReplaceRows
    from submissions.models import IdentityDocument, JurisdictionLink, PositionHeld

    services.save_subject(
        dossier,
        by=alice,
        fields={
            "kind": "person",
            "name": "Ivan Petrov",
            "name_original": "Иван Петров",
            "aliases": ["Ivan Petroff"],
            "gender": "male",
            "birth_date": "1970-03",
            "birth_place": "Kazan",
            "nationalities": ["RU", "BY"],
        },
        documents=ReplaceRows(
            IdentityDocument,
            [{"kind": "passport", "number": "75 1234567", "country": "RU", "issued_on": "2015"}],
        ),
        positions=ReplaceRows(
            PositionHeld,
            [
                {
                    "title": "Head of police",
                    "organisation": "Kazan police",
                    "country": "RU",
                    "start": "2015",
                    "end": "2020-06",
                }
            ],
        ),  # fmt: skip
        links=ReplaceRows(
            JurisdictionLink,
            [
                {"kind": "family", "country": "GB", "description": "Daughter studies in London"},
                {"kind": "asset", "country": "FR", "description": "Villa in Nice"},
                {"kind": "company", "country": "CY", "description": "Petrov Holdings Ltd"},
            ],
        ),
    )
    services.save_subject(
        dossier,
        by=alice,
        fields={
            "kind": "entity",
            "name": "Kazan Security LLC",
            "registration_number": "1021602843470",
            "jurisdiction": "RU",
            "legal_form": "LLC",
        },
    )
    return dossier


def comparable(subject: Subject) -> dict:
    return {
        "kind": subject.kind,
        "name": subject.name,
        "name_original": subject.name_original,
        "aliases": subject.aliases,
        "gender": subject.gender,
        "birth_date": subject.birth_date,
        "birth_place": subject.birth_place,
        "nationalities": sorted(str(c) for c in subject.nationalities),
        "registration_number": subject.registration_number,
        "jurisdiction": str(subject.jurisdiction),
        "legal_form": subject.legal_form,
        "documents": sorted(
            subject.documents.values_list("kind", "number", "country", "issued_on")
        ),
        "positions": sorted(
            subject.positions.values_list("title", "organisation", "country", "start", "end")
        ),
        "links": sorted(subject.links.values_list("kind", "country", "description")),
    }


def test_export_validate_import_round_trip_gives_the_same_subjects(alice, alice_api, org_a, filed):
    response = alice_api.get(f"/api/v1/dossiers/{filed.reference}/ftm/")
    assert response.status_code == 200
    assert response["Content-Type"] == NDJSON
    lines = b"".join(response.streaming_content).decode().splitlines()
    entities = [json.loads(line) for line in lines]
    for data in entities:
        schema = model.get(data["schema"])
        schema.validate(data)  # raises on an invalid value
        assert set(schema.required) <= set(data["properties"]), data
        proxy = model.get_proxy(data, cleaned=False)
        assert proxy.to_dict()["properties"] == data["properties"]  # already clean
    schemata = sorted({e["schema"] for e in entities})
    assert schemata == sorted(
        ["Person", "Organization", "Passport", "Position", "Occupancy", "Family", "Ownership",
         "Asset", "Company"]
    )  # fmt: skip

    draft = DossierFactory(organisation=org_a, created_by=alice)
    response = alice_api.post(
        f"/api/v1/dossiers/{draft.reference}/ftm/", "\n".join(lines), content_type=NDJSON
    )
    assert response.status_code == 201, response.json()
    assert len(response.json()["created"]) == 2
    before = sorted((comparable(s) for s in filed.subjects.all()), key=lambda s: s["name"])
    after = sorted((comparable(s) for s in draft.subjects.all()), key=lambda s: s["name"])
    assert after == before


def test_an_invalid_entity_refuses_the_whole_import(alice, alice_api, org_a):
    draft = DossierFactory(organisation=org_a, created_by=alice)
    good = {"id": "a", "schema": "Person", "properties": {"name": ["Ivan Petrov"]}}
    bad = {"id": "b", "schema": "Person", "properties": {"birthDate": ["not a date"]}}
    body = "\n".join(json.dumps(e) for e in (good, bad))
    response = alice_api.post(f"/api/v1/dossiers/{draft.reference}/ftm/", body, content_type=NDJSON)
    assert response.status_code == 400
    assert "Line 2" in response.json()["detail"]
    assert not draft.subjects.exists()
    for body in ("not json", json.dumps({"schema": "Nope", "id": "x"}), json.dumps([1])):
        response = alice_api.post(
            f"/api/v1/dossiers/{draft.reference}/ftm/", body, content_type=NDJSON
        )
        assert response.status_code == 400


def test_external_entities_of_other_schemata_are_skipped(alice, alice_api, org_a):
    draft = DossierFactory(organisation=org_a, created_by=alice)
    entities = [
        {"id": "p", "schema": "Person", "properties": {"name": ["Maria Ivanova"],
                                                      "citizenship": ["ua"]}},
        {"id": "v", "schema": "Vessel", "properties": {"name": ["Sea Star"]}},
    ]  # fmt: skip
    response = alice_api.post(
        f"/api/v1/dossiers/{draft.reference}/ftm/",
        "\n".join(json.dumps(e) for e in entities),
        content_type=NDJSON,
    )
    assert response.status_code == 201, response.json()
    assert response.json()["skipped"] == 1
    assert [str(c) for c in draft.subjects.get().nationalities] == ["UA"]


def test_import_needs_a_draft_and_a_write_token(alice, alice_api, alice_read, org_a, filed):
    body = json.dumps({"id": "p", "schema": "Person", "properties": {"name": ["X"]}})
    url = f"/api/v1/dossiers/{filed.reference}/ftm/"
    assert alice_read.post(url, body, content_type=NDJSON).status_code == 403
    filed.status = "submitted"
    filed.save(update_fields=["status"])
    assert alice_api.post(url, body, content_type=NDJSON).status_code == 409
