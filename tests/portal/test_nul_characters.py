"""A NUL character anywhere in a request is refused with 400, never a server error."""

import json

from submissions.models import Regime
from tests.api.conftest import make_token
from tests.factories import DossierFactory


def test_an_address_or_query_with_nul_is_refused(client, alice):
    client.force_login(alice)
    assert client.get("/dossiers/MAG-%00/").status_code == 400
    assert client.get("/dossiers/", {"q": "a\x00b"}).status_code == 400
    assert client.get("/dossiers/").status_code == 200


def test_json_with_nul_is_refused_by_the_api(client, alice, org_a):
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    dossier.target_regimes.set(Regime.objects.filter(key="GB-HR"))
    response = client.put(
        f"/api/v1/dossiers/{dossier.reference}/checklist/GB-HR/",
        json.dumps({"answers": [{"criterion": "x\x00", "status": "met"}]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {make_token(alice)}",
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_the_api_refuses_a_nul_in_the_address_as_a_problem(client):
    response = client.get("/api/v1/roles/", {"cursor": "\x00"})
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/problem+json")
