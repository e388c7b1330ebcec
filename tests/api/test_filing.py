"""A whole dossier filed through the API alone: the same dossier, the same gating, as the forms."""

import pytest
from django.test.client import MULTIPART_CONTENT
from django.urls import reverse
from django.utils.html import escape

from reviews.models import InformationRequest
from submissions.checklist import completeness
from submissions.models import Dossier, Regime
from tests.api.conftest import ApiClient
from tests.factories import DossierFactory, SubjectFactory, make_ready_to_submit
from tests.submissions.test_evidence import PDF, named
from tests.submissions.test_views import formset_data

SUBJECT = {
    "kind": "person",
    "name": "Ivan Petrov",
    "name_original": "Иван Петров",
    "aliases": ["Ivan Petroff", "I. Petrov"],
    "birth_date": "1970-03",
    "nationalities": ["BY", "RU"],
}
INCIDENT = {"title": "Beating", "start_date": "2023-05", "country": "RU", "narrative": "Beaten."}
CONSENT = {"scope": "anonymous", "given_on": "2026-01-05", "method": "Signed form"}
EXHIBIT = {"provenance": "From the victim's lawyer.", "reliability": "B", "credibility": "2"}


def file_through_the_api(api: ApiClient) -> tuple[str, list]:
    """File a dossier with every kind of content; return its reference and the refusals met."""
    refusals = []
    response = api.post(
        "/api/v1/dossiers/",
        {"title": "Case", "target_regimes": ["GB-HR"], "summary": "S", "sensitivity": "high"},
    )
    assert response.status_code == 201, response.json()
    ref = response.json()["reference"]
    base = f"/api/v1/dossiers/{ref}"

    response = api.post(
        f"{base}/subjects/",
        {
            **SUBJECT,
            "documents": [{"kind": "passport", "number": "75 1234567", "country": "RU"}],
            "positions": [{"title": "Head of police", "start": "2015", "end": ""}],
            "links": [{"kind": "asset", "country": "GB", "description": "Flat"}],
        },
    )
    assert response.status_code == 201, response.json()
    subject = response.json()["id"]

    response = api.post(
        f"{base}/incidents/",
        {
            **INCIDENT,
            "category": "torture",
            "involvements": [{"subject": subject, "role": "perpetrator"}],
        },
    )
    assert response.status_code == 201, response.json()
    incident = response.json()["id"]

    response = api.post(
        f"{base}/sources/",
        {"kind": "witness", "identity": "Olga Smirnova", "consents_given": [
            {"regime": "GB-HR", **CONSENT}
        ]},
    )  # fmt: skip
    assert response.status_code == 201, response.json()

    response = api.post(
        f"{base}/evidence/upload/",
        {"file": named(PDF, "ruling.pdf")},
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 201, response.json()
    exhibit = response.json()["id"]

    # Submitting before the exhibit is graded and the judgements written is refused, as on the
    # web, with the same items in words.
    response = api.post(f"{base}/submit/")
    refusals.append((response.status_code, response.json()))

    response = api.patch(f"{base}/evidence/{exhibit}/", {**EXHIBIT, "incidents": [incident]})
    assert response.status_code == 200, response.json()
    judgements = Regime.objects.get(key="GB-HR").checklist.filter(criterion__rule="")
    # A computed item cannot be typed: the data closes it.
    response = api.put(
        f"{base}/checklist/GB-HR/",
        {"answers": [{"criterion": "subject-name", "status": "met", "explanation": "x"}]},
    )
    assert response.status_code == 400
    response = api.put(
        f"{base}/checklist/GB-HR/",
        {
            "answers": [
                {"criterion": i.criterion.code, "status": "met", "explanation": "Exhibits."}
                for i in judgements.select_related("criterion")
            ]
        },
    )
    assert response.status_code == 200, response.json()
    response = api.post(f"{base}/submit/")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "submitted"
    return ref, refusals


def file_through_the_forms(client) -> tuple[str, list]:
    gb_hr = Regime.objects.get(key="GB-HR")
    client.post(
        reverse("submissions:dossier-create"),
        {"title": "Case", "target_regimes": [gb_hr.pk], "summary": "S", "sensitivity": "high"},
    )
    dossier = Dossier.objects.get(title="Case", organisation__name="Org A")
    ref = dossier.reference
    client.post(
        reverse("submissions:subject-create", args=[ref]),
        {
            **{k: v for k, v in SUBJECT.items() if k != "aliases"},
            "aliases": "\n".join(SUBJECT["aliases"]),
            **formset_data(
                "documents", [{"kind": "passport", "number": "75 1234567", "country": "RU"}]
            ),
            **formset_data("positions", [{"title": "Head of police", "start": "2015", "end": ""}]),
            **formset_data("links", [{"kind": "asset", "country": "GB", "description": "Flat"}]),
        },
    )
    subject = dossier.subjects.get()
    client.post(
        reverse("submissions:incident-create", args=[ref]),
        {
            **INCIDENT,
            "category": gb_hr.categories.get(code="torture").pk,
            **formset_data(
                "involvements",
                [{"subject": subject.pk, "role": gb_hr.roles.get(code="perpetrator").pk}],
            ),
        },
    )
    client.post(
        reverse("submissions:source-create", args=[ref]),
        {
            "kind": "witness",
            "identity": "Olga Smirnova",
            f"consent-{gb_hr.pk}-given": "on",
            **{f"consent-{gb_hr.pk}-{k}": v for k, v in CONSENT.items()},
        },
    )
    client.post(
        reverse("submissions:evidence-upload", args=[ref]), {"files": [named(PDF, "ruling.pdf")]}
    )
    response = client.post(reverse("submissions:dossier-submit", args=[ref]), follow=True)
    refusals = [m.message for m in response.context["messages"]]
    exhibit = dossier.evidence.get()
    client.post(
        reverse("submissions:evidence-edit", args=[ref, exhibit.pk]),
        {**EXHIBIT, "description": "", "incidents": [dossier.incidents.get().pk]},
    )
    answers = {}
    for item in gb_hr.checklist.filter(criterion__rule="").select_related("criterion"):
        prefix = item.criterion.code + ("--GB-HR" if item.criterion.per_government else "")
        answers[f"{prefix}-status"] = "met"
        answers[f"{prefix}-explanation"] = "Exhibits."
    client.post(reverse("submissions:checklist", args=[ref]), answers)
    client.post(reverse("submissions:dossier-submit", args=[ref]))
    return ref, refusals


def snapshot(reference: str) -> dict:
    """What was filed, without ids, times and references."""
    dossier = Dossier.objects.get(reference=reference)
    subject = dossier.subjects.get()
    source = dossier.sources.get()
    incident = dossier.incidents.get()
    exhibit = dossier.evidence.get()
    return {
        "dossier": (dossier.title, dossier.summary, dossier.sensitivity, dossier.status,
                    [r.key for r in dossier.target_regimes.all()]),
        "subject": (subject.kind, subject.name, subject.name_original, subject.aliases,
                    subject.birth_date, sorted(str(c) for c in subject.nationalities)),
        "documents": list(subject.documents.values_list("kind", "number", "country")),
        "positions": list(subject.positions.values_list("title", "start", "end")),
        "links": list(subject.links.values_list("kind", "country", "description")),
        "incident": (incident.title, incident.category.code, incident.start_date,
                     str(incident.country), incident.narrative),
        "involvements": list(incident.involvements.values_list("subject__name", "role__code")),
        "source": (source.pseudonym, source.kind, source.identity,
                   list(source.consent_records.values_list("regime__key", "scope", "method"))),
        "exhibit": (exhibit.original_name, exhibit.sha256, exhibit.size, exhibit.content_type),
        "answers": sorted(dossier.answers.values_list("regime__key", "criterion__code", "status")),
        "completeness": [(r.regime.key, r.ready, r.percent) for r in completeness(dossier)],
    }  # fmt: skip


def test_a_dossier_filed_through_the_api_alone_equals_one_filed_through_the_forms(
    client, alice, alice_api
):
    client.force_login(alice)
    web_ref, web_refusals = file_through_the_forms(client)
    web = snapshot(web_ref)
    Dossier.objects.filter(reference=web_ref).update(title="Filed on the web")
    api_ref, api_refusals = file_through_the_api(alice_api)
    assert snapshot(api_ref) == {**web, "dossier": ("Case", *web["dossier"][1:])}
    assert web["dossier"][3] == "submitted"
    # The same gate, with the same list of open items, in words and linked.
    status, body = api_refusals[0]
    assert status == 400
    assert {item["name"] for item in body["missing"]} >= {
        "Every exhibit graded",
        "A graded exhibit for each incident",
        "Risks to victims and witnesses, and their mitigation",
    }
    web_refusal = " ".join(str(m) for m in web_refusals).replace(web_ref, api_ref)
    for item in body["missing"]:
        assert escape(item["missing"]) in web_refusal
        assert f'href="{escape(item["url"])}"' in web_refusal


def test_a_submitted_dossier_cannot_change_through_the_api(alice, alice_api, org_a):
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    subject = SubjectFactory(dossier=dossier)
    make_ready_to_submit(dossier, alice)
    base = f"/api/v1/dossiers/{dossier.reference}"
    assert alice_api.post(f"{base}/submit/").status_code == 200
    response = alice_api.patch(f"{base}/subjects/{subject.pk}/", {"name": "Changed"})
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert alice_api.post(f"{base}/subjects/", SUBJECT).status_code == 409
    assert dossier.subjects.get().name == "Ivan Petrov"


def test_bad_input_is_a_problem_with_field_errors_and_changes_nothing(alice, alice_api, org_a):
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    response = alice_api.post(
        f"/api/v1/dossiers/{dossier.reference}/subjects/",
        {**SUBJECT, "birth_date": "March 1970", "positions": [{"title": "x", "start": "soon"}]},
    )
    assert response.status_code == 400
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert "birth_date" in body["errors"] and "positions" in body["errors"]
    assert not dossier.subjects.exists()


def test_a_member_answers_an_information_request_and_withdraws(alice, alice_api, org_a, lena):
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    Dossier.objects.filter(pk=dossier.pk).update(status="information_requested")
    question = InformationRequest.objects.create(dossier=dossier, question="Who?", asked_by=lena)
    base = f"/api/v1/dossiers/{dossier.reference}"
    listed = alice_api.get(f"{base}/requests/").json()["results"]
    assert [q["question"] for q in listed] == ["Who?"]
    response = alice_api.post(f"{base}/requests/{question.pk}/reply/", {"body": "Him."})
    assert response.status_code == 200, response.json()
    assert response.json()["messages"][0]["from_organisation"] is True
    assert Dossier.objects.get(pk=dossier.pk).status == "in_review"
    assert alice_api.post(f"{base}/requests/{question.pk}/reply/", {"body": "x"}).status_code == 400
    assert alice_api.post(f"{base}/withdraw/", {"reason": "x"}).status_code == 409


@pytest.mark.parametrize("status", ["draft", "submitted"])
def test_withdrawal_through_the_api(alice, alice_api, org_a, status):
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    Dossier.objects.filter(pk=dossier.pk).update(status=status)
    response = alice_api.post(f"/api/v1/dossiers/{dossier.reference}/withdraw/", {"reason": "x"})
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"


def test_dossiers_are_filtered_and_paged_with_a_cursor(alice, alice_api, org_a):
    for _ in range(3):
        DossierFactory(organisation=org_a, created_by=alice)
    Dossier.objects.filter(pk=Dossier.objects.first().pk).update(status="submitted")
    page = alice_api.get("/api/v1/dossiers/?page_size=2").json()
    assert len(page["results"]) == 2 and page["next"]
    rest = alice_api.get(page["next"]).json()
    assert len(rest["results"]) == 1 and rest["next"] is None
    drafts = alice_api.get("/api/v1/dossiers/?status=draft").json()["results"]
    assert len(drafts) == 2
    assert alice_api.get("/api/v1/dossiers/?status=nonsense").status_code == 400
    assert alice_api.get("/api/v1/dossiers/?updated_since=yesterday").status_code == 400
    assert len(alice_api.get("/api/v1/dossiers/?regime=GB-HR").json()["results"]) == 3
