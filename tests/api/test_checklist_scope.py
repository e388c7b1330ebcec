"""The API follows the checklist's evaluation: the same refusal, in words, as the pages."""

from submissions.models import Dossier
from tests.submissions.test_checklist_evaluation import bribery_for_eu


def test_a_bribery_only_dossier_for_eu_hr_is_refused_through_the_api(alice, alice_api, org_a):
    dossier = bribery_for_eu(alice, org_a)
    base = f"/api/v1/dossiers/{dossier.reference}"
    completeness_body = alice_api.get(f"{base}/completeness/").json()
    (regime,) = completeness_body["regimes"]
    assert regime["ready"] is False
    assert any("does not cover" in warning for warning in regime["warnings"])

    response = alice_api.post(f"{base}/submit/")
    assert response.status_code == 400
    (item,) = response.json()["missing"]
    assert item["name"] == "Conduct this government covers"
    assert "covers none of this dossier's conduct" in item["missing"]
    assert Dossier.objects.get(pk=dossier.pk).status == Dossier.Status.DRAFT
