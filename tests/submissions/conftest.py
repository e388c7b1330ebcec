"""Fixtures shared by the filing tests (a test module's own fixture of the same name wins)."""

import pytest
from django.urls import reverse

from tests.factories import DossierFactory


@pytest.fixture
def dossier(alice, org_a):
    return DossierFactory(organisation=org_a, created_by=alice)


@pytest.fixture
def upload(client, alice, dossier):
    """Post files to the dossier's evidence step as the page's script does (JSON answer)."""
    client.force_login(alice)
    url = reverse("submissions:evidence-upload", args=[dossier.reference])

    def send(*files, **details):
        return client.post(
            url,
            {"files": list(files), "reliability": "B", "credibility": "2", **details},
            headers={"accept": "application/json"},
        )

    return send
