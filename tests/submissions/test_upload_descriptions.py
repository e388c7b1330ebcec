"""
Bug (#21): one upload's description was copied to every file sent with it. A description
belongs to one file: one per file, in the order of the files, or none.
"""

import pytest
from django.urls import reverse

from submissions.models import Evidence
from tests.factories import DossierFactory

from .test_evidence import PDF, jpeg_bytes, named


@pytest.fixture
def dossier(alice, org_a):
    return DossierFactory(organisation=org_a, created_by=alice)


@pytest.fixture
def upload(client, alice, dossier):
    client.force_login(alice)
    url = reverse("submissions:evidence-upload", args=[dossier.reference])

    def send(*files, description=None):
        data = {"files": list(files), "reliability": "B", "credibility": "2"}
        if description is not None:
            data["description"] = description
        return client.post(url, data, headers={"accept": "application/json"})

    return send


def test_each_file_of_an_upload_keeps_its_own_description(upload, dossier):
    response = upload(
        named(PDF, "statement-km.pdf"),
        named(jpeg_bytes(), "scene.jpg"),
        description=["Statement of the victim, in Khmer", "Photograph of the scene"],
    )

    assert response.status_code == 200, response.json()
    described = dict(Evidence.objects.values_list("original_name", "description"))
    assert described == {
        "statement-km.pdf": "Statement of the victim, in Khmer",
        "scene.jpg": "Photograph of the scene",
    }
    # what holds for the whole upload (the grades) still applies to each file
    assert set(Evidence.objects.values_list("reliability", "credibility")) == {("B", "2")}


def test_one_description_for_several_files_is_refused_not_copied(upload, dossier, client):
    response = upload(
        named(PDF, "a.pdf"), named(jpeg_bytes(), "b.jpg"), description="Only about a.pdf"
    )

    assert response.status_code == 400
    assert "belongs to one file" in response.json()["results"][0]["message"]
    assert not Evidence.objects.filter(dossier=dossier).exists()
    # and without a description, both are kept, neither described
    assert upload(named(PDF, "a.pdf"), named(jpeg_bytes(), "b.jpg")).status_code == 200
    assert list(Evidence.objects.values_list("description", flat=True)) == ["", ""]


def test_the_page_offers_one_description_box_for_one_file(client, alice, dossier):
    client.force_login(alice)
    page = client.get(reverse("submissions:evidence-list", args=[dossier.reference]))
    text = page.content.decode()
    assert "Description of this file" in text and "Describes one file only" in text
    assert 'data-describe-file="Description of %(name)s"' in text
