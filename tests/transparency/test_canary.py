"""
Canaries: the names of subjects, witnesses and organisations that did not opt in, and every
piece of free text, appear nowhere in what the transparency app publishes.
"""

import io
import zipfile
from datetime import date

import pytest
from django.urls import reverse
from pypdf import PdfReader

from reviews.models import Person
from submissions.models import Evidence, Regime
from tests.transparency.conftest import UNTIL, delivered_package, submitted_dossier
from transparency import services

pytestmark = pytest.mark.django_db

SUBJECT = "Canary Subjectovich"
SUBJECT_ORIGINAL = "Канарейкин"
WITNESS = "Canary Witnessova"
TITLE = "Canary dossier title"
SILENT_ORGANISATION = "Canary Silent Collective"


@pytest.fixture
def canaries(world, lena, org_b):
    from tests.factories import OrganisationFactory

    silent = OrganisationFactory(name=SILENT_ORGANISATION, slug="canary-silent")
    dossiers = [
        submitted_dossier(silent, regimes=("GB-HR",), year=2025, subject=SUBJECT,
                          witness=WITNESS, title=TITLE)
        for _ in range(3)
    ]  # fmt: skip
    dossiers[0].subjects.update(name_original=SUBJECT_ORIGINAL)
    Person.objects.create(name=SUBJECT, name_original=SUBJECT_ORIGINAL, created_by=lena)
    Evidence.objects.create(
        dossier=dossiers[0], kind="link", url="https://canary.example/post",
        description="Canary exhibit description", uploaded_by=dossiers[0].created_by,
    )  # fmt: skip
    delivered_package(lena, "GB-HR", dossiers, delivered_on=date(2025, 2, 1),
                      response="designated", response_on=date(2025, 3, 1),
                      designated_on=date(2025, 3, 1))  # fmt: skip
    secrets = [SUBJECT, SUBJECT_ORIGINAL, WITNESS, TITLE, SILENT_ORGANISATION, "Org A",
               "Canary exhibit", "canary.example", "Secret place", "saw it", "Ivan Petrov",
               "Maria Ivanova", "Subject A", "Witness B"]  # fmt: skip
    secrets += [d.reference for d in dossiers] + [p.reference for p in world[1]]
    return secrets


def test_no_name_or_free_text_is_published_anywhere(
    client, canaries, lena, django_capture_on_commit_callbacks
):
    services.compute_snapshot(until=UNTIL)
    published = {}
    for language in ("en", "ja"):
        response = client.get(reverse("transparency:page"), HTTP_ACCEPT_LANGUAGE=language)
        published[f"page-{language}"] = response.content.decode()
    archive = client.get(reverse("transparency:archive")).content
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        for name in bundle.namelist():
            published[name] = bundle.read(name).decode()
            single = client.get(reverse("transparency:download", args=[name]))
            published[f"download-{name}"] = single.content.decode()
    for language in ("en", "ja"):
        with django_capture_on_commit_callbacks(execute=True):
            report = services.request_oversight_report(
                regime=Regime.objects.get(key="GB-HR"), year=2025, language=language, by=lena
            )
        report.refresh_from_db()
        with report.pdf.open("rb") as handle:
            reader = PdfReader(handle)
            published[f"report-{language}"] = "\n".join(p.extract_text() for p in reader.pages)
            published[f"report-{language}-metadata"] = str(reader.metadata)

    leaks = [(where, secret) for where, text in published.items() for secret in canaries
             if secret.lower() in text.lower()]  # fmt: skip
    assert leaks == []
    # The organisation that chose to be named is named: the check can see names at all.
    assert "Org B" in published["page-en"] and "Org B" in published["organisations.csv"]
