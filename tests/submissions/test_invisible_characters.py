"""Names and descriptions keep no character that reorders or hides what a reader sees."""

import pytest
from django.urls import reverse

from submissions import services
from submissions.fields import neutralise_name, neutralise_text
from submissions.models import Evidence, Source, Subject
from tests.api.conftest import ApiClient, make_token
from tests.factories import DossierFactory
from tests.submissions.test_views import formset_data

# "Ivan Petrov" as the screen shows it, stored reversed behind a right-to-left override.
SPOOFED = "\u202evorteP navI\u202c"
PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
HIDDEN = "Iv\u200ban\u2066 Pet\ufeffrov\u2069\u200e"


@pytest.fixture
def dossier(alice, org_a):
    return DossierFactory(organisation=org_a, created_by=alice)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (SPOOFED, "vorteP navI"),
        (HIDDEN, "Ivan Petrov"),
        ("A\u202ab\u202bc\u202dd\u2067e\u2068f\u200fg\u061ch", "Abcdefgh"),
        ("Witness\u00adA\u2060", "WitnessA"),
        ("Line\nbreak\tname", "Line break name"),
        (PERSIAN, PERSIAN),  # the ZWNJ is part of its spelling
        ("Pu\u200dtin", "Putin"),
        ("Иван Петров", "Иван Петров"),
        ("王伟", "王伟"),
    ],
)  # fmt: skip
def test_one_function_neutralises_names(raw, clean):
    assert neutralise_name(raw) == clean


def test_descriptions_keep_their_lines_but_not_their_overrides():
    assert neutralise_text("First line\n\u202esecond\u202c line") == "First line\nsecond line"


def test_a_subject_name_with_a_bidi_override_is_neutralised_through_the_form(
    client, alice, dossier
):
    client.force_login(alice)
    response = client.post(
        reverse("submissions:subject-create", args=[dossier.reference]),
        {
            "kind": "person",
            "name": HIDDEN,
            "name_original": "\u202eИван\u202c",
            "aliases": f"{SPOOFED}\n\u200b\nI. Petrov",
            **formset_data("documents", []),
            **formset_data("positions", [{"title": "Head\u202e of police", "start": "2015"}]),
            **formset_data("links", []),
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    subject = Subject.objects.get(dossier=dossier)
    assert (subject.name, subject.name_original) == ("Ivan Petrov", "Иван")
    assert subject.aliases == ["vorteP navI", "I. Petrov"]
    assert subject.positions.get().title == "Head of police"


def test_names_sent_to_the_api_are_neutralised(alice, dossier):
    api = ApiClient(make_token(alice, "write"))
    base = f"/api/v1/dossiers/{dossier.reference}"
    response = api.post(
        f"{base}/subjects/",
        {"kind": "person", "name": SPOOFED, "aliases": [HIDDEN], "nationalities": []},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "vorteP navI"
    assert response.json()["aliases"] == ["Ivan Petrov"]

    response = api.post(f"{base}/sources/", {"kind": "witness", "pseudonym": "W\u200b1\u202e"})
    assert response.status_code == 201, response.json()
    assert Source.objects.get(pk=response.json()["id"]).pseudonym == "W1"
    # A pseudonym that differs from another only by invisible characters is the same one.
    again = api.post(f"{base}/sources/", {"kind": "witness", "pseudonym": "\ufeffW1"})
    assert again.status_code == 400


def test_an_exhibit_description_and_an_incident_title_are_neutralised(alice, dossier):
    from submissions.uploads import uploaded_from_bytes
    from tests.submissions.test_evidence import PDF

    evidence = services.attach_evidence_file(
        dossier,
        by=alice,
        upload=uploaded_from_bytes(PDF, "ruling.pdf"),
        details={"description": "Ruling\u202e of the court\u202c", "posted_by": "\u2066Anon"},
    )
    stored = Evidence.objects.get(pk=evidence.pk)
    assert (stored.description, stored.posted_by) == ("Ruling of the court", "Anon")
    assert Evidence.objects.filter(description="Ruling\u202e of the court").exists()


def test_names_stored_before_the_change_are_cleaned_by_the_migration(alice, dossier):
    import importlib

    from django.apps import apps
    from django.db import connection

    from tests.factories import SubjectFactory

    subject = SubjectFactory(dossier=dossier, name="Ivan Petrov", aliases=["I. Petrov"])
    with connection.cursor() as cursor:  # as an older version of the portal stored it
        cursor.execute(
            "UPDATE submissions_subject SET name = %s, birth_place = %s WHERE id = %s",
            [SPOOFED, "Ka\u200bzan", subject.pk],
        )
    assert Subject.objects.values_list("name", flat=True).get(pk=subject.pk) == SPOOFED

    migration = importlib.import_module("submissions.migrations.0009_neutralise_existing_names")
    migration.neutralise(apps, None)

    cleaned = Subject.objects.values("name", "birth_place").get(pk=subject.pk)
    assert cleaned == {"name": "vorteP navI", "birth_place": "Kazan"}
