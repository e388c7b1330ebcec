import pytest
from django.urls import URLPattern, get_resolver, reverse

from submissions.models import ChecklistAnswer, Dossier, Evidence, Regime, Source, Subject
from tests.factories import (
    DossierFactory,
    IncidentFactory,
    SourceFactory,
    SubjectFactory,
    make_ready_to_submit,
)
from tests.submissions.test_evidence import PDF, named


@pytest.fixture
def dossier(alice, org_a):
    return DossierFactory(organisation=org_a, created_by=alice)


def formset_data(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial)}
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def test_an_ngo_member_files_a_dossier_through_every_step(client, alice, org_a):
    client.force_login(alice)
    gb_hr = Regime.objects.get(key="GB-HR")

    response = client.post(
        reverse("submissions:dossier-create"),
        {"title": "Case", "target_regimes": [gb_hr.pk], "summary": "S", "sensitivity": "high"},
    )
    dossier = Dossier.objects.get()
    assert response.url == reverse("submissions:subject-list", args=[dossier.reference])

    response = client.post(
        reverse("submissions:subject-create", args=[dossier.reference]),
        {
            "kind": "person",
            "name": "Ivan Petrov",
            "name_original": "Иван Петров",
            "aliases": "Ivan Petroff\nI. Petrov",
            "birth_date": "1970-03",
            "nationalities": ["RU", "BY"],
            **formset_data(
                "documents", [{"kind": "passport", "number": "75 1234567", "country": "RU"}]
            ),
            **formset_data("positions", [{"title": "Head of police", "start": "2015", "end": ""}]),
            **formset_data("links", [{"kind": "asset", "country": "GB", "description": "Flat"}]),
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    subject = Subject.objects.get()
    assert subject.aliases == ["Ivan Petroff", "I. Petrov"]
    assert {str(c) for c in subject.nationalities} == {"RU", "BY"}
    assert subject.documents.get().number == "75 1234567"
    assert subject.links.get().country == "GB"

    response = client.post(
        reverse("submissions:incident-create", args=[dossier.reference]),
        {
            "title": "Beating",
            "category": dossier.target_regimes.get().categories.get(code="torture").pk,
            "start_date": "2023-05",
            "country": "RU",
            "narrative": "He was beaten.",
            **formset_data(
                "involvements",
                [
                    {
                        "subject": subject.pk,
                        "role": Regime.objects.get(key="GB-HR").roles.get(code="perpetrator").pk,
                    }
                ],
            ),
        },
    )
    assert response.status_code == 302
    assert dossier.incidents.get().involvements.get().subject == subject

    response = client.post(
        reverse("submissions:source-create", args=[dossier.reference]),
        {
            "kind": "witness",
            "identity": "Olga Smirnova",
            f"consent-{gb_hr.pk}-given": "on",
            f"consent-{gb_hr.pk}-scope": "anonymous",
            f"consent-{gb_hr.pk}-given_on": "2026-01-05",
            f"consent-{gb_hr.pk}-method": "Signed form",
        },
    )
    assert response.status_code == 302
    assert Source.objects.get().consent_records.get().regime == gb_hr

    client.post(
        reverse("submissions:evidence-upload", args=[dossier.reference]),
        {"files": [named(PDF, "ruling.pdf")]},
    )
    assert Evidence.objects.count() == 1
    exhibit = Evidence.objects.get()
    response = client.post(
        reverse("submissions:evidence-edit", args=[dossier.reference, exhibit.pk]),
        {
            "description": "Court ruling",
            "provenance": "Handed over by the victim's lawyer.",
            "reliability": "B",
            "credibility": "2",
            "incidents": [dossier.incidents.get().pk],
        },
    )
    assert response.status_code == 302

    # Only the judgements are typed: the rest was closed by what was filed above.
    checklist_url = reverse("submissions:checklist", args=[dossier.reference])
    judgements = gb_hr.checklist.filter(criterion__rule="").select_related("criterion")
    answers = {}
    for item in judgements:
        prefix = item.criterion.code + ("--GB-HR" if item.criterion.per_government else "")
        answers[f"{prefix}-status"] = "met"
        answers[f"{prefix}-explanation"] = "Shown by the exhibits."
    assert client.post(checklist_url, answers).status_code == 302
    assert ChecklistAnswer.objects.count() == judgements.count()

    response = client.post(reverse("submissions:dossier-submit", args=[dossier.reference]))
    assert response.url == reverse("submissions:dossier-receipt", args=[dossier.reference])
    receipt = client.get(response.url)
    assert dossier.reference in receipt.text and Evidence.objects.get().sha256 in receipt.text
    pdf = client.get(reverse("submissions:dossier-receipt-pdf", args=[dossier.reference]))
    assert pdf.content.startswith(b"%PDF") and pdf["Content-Type"] == "application/pdf"

    # Submitted: every filing page now sends the NGO to the read-only dossier.
    response = client.get(reverse("submissions:subject-list", args=[dossier.reference]))
    assert response.url == dossier.get_absolute_url()


def test_a_failed_validation_keeps_everything_typed(client, alice, dossier):
    client.force_login(alice)
    response = client.post(
        reverse("submissions:subject-create", args=[dossier.reference]),
        {
            "kind": "person",
            "name": "Ivan Petrov",
            "name_original": "Иван Петров",
            "birth_date": "March 1970",
            **formset_data("documents", []),
            **formset_data("positions", []),
            **formset_data("links", []),
        },
    )
    assert response.status_code == 200
    assert "Иван Петров" in response.text and "March 1970" in response.text
    assert "error-summary" in response.text
    assert not Subject.objects.exists()


def test_submitting_with_open_items_lists_them(client, alice, dossier):
    client.force_login(alice)
    response = client.post(
        reverse("submissions:dossier-submit", args=[dossier.reference]), follow=True
    )
    assert "the standard of proof still needs these items" in response.text
    # Each item in words, linked to the step that fixes it; never an internal code.
    subjects = reverse("submissions:subject-list", args=[dossier.reference])
    assert f'<a class="alert-link" href="{subjects}">The subject&#x27;s name</a>' in response.text
    assert "subject-name:" not in response.text
    assert Dossier.objects.get().status == "draft"


def _submission_urls(dossier, objects):
    """Every URL pattern of the NGO pages, filled in for `dossier`."""
    patterns = get_resolver().url_patterns
    (submissions,) = [p for p in patterns if getattr(p, "namespace", None) == "submissions"]
    for pattern in submissions.url_patterns:
        assert isinstance(pattern, URLPattern)
        params = {}
        route = str(pattern.pattern)
        if "<str:reference>" in route:
            params["reference"] = dossier.reference
        if "<str:regime>" in route:
            params["regime"] = "GB-HR"
        if "<int:pk>" in route:
            kind = route.split("/")[1]
            params["pk"] = objects[kind].pk
        yield pattern.name, reverse(f"submissions:{pattern.name}", kwargs=params)


@pytest.fixture
def filled(alice, dossier, lena):
    from reviews.models import InformationRequest

    client_objects = {
        "subjects": SubjectFactory(dossier=dossier),
        "incidents": IncidentFactory(dossier=dossier),
        "sources": SourceFactory(dossier=dossier),
        "requests": InformationRequest.objects.create(dossier=dossier, question="?", asked_by=lena),
    }
    from submissions import services
    from submissions.uploads import uploaded_from_bytes

    client_objects["evidence"] = services.attach_evidence_file(
        dossier, by=alice, upload=uploaded_from_bytes(PDF, "a.pdf"), details={}
    )
    return client_objects


def test_another_organisations_member_gets_404_on_every_dossier_page(
    client, mallory, dossier, filled
):
    client.force_login(mallory)
    for name, url in _submission_urls(dossier, filled):
        if name in {"dossier-list", "dossier-create"}:
            continue
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code in {404, 405}, (name, response.status_code)
            assert dossier.reference not in response.text
    assert Dossier.objects.get().title == dossier.title


def test_anonymous_visitors_are_sent_to_sign_in_from_every_dossier_page(client, dossier, filled):
    for name, url in _submission_urls(dossier, filled):
        response = client.get(url)
        assert response.status_code == 302, name
        assert response.url.startswith(reverse("login"))


def test_mallory_sees_none_of_org_as_dossiers_on_her_dashboard(client, mallory, dossier):
    client.force_login(mallory)
    assert dossier.reference not in client.get(reverse("submissions:dossier-list")).text


@pytest.mark.parametrize("count", [3, 30])
def test_dashboard_queries_do_not_grow_with_dossiers(
    client, alice, org_a, count, django_assert_max_num_queries
):
    for _ in range(count):
        dossier = DossierFactory(organisation=org_a, created_by=alice)
        SubjectFactory(dossier=dossier)
    make_ready_to_submit(dossier, alice)
    client.force_login(alice)
    client.get(reverse("home"))  # the session's first request settles its 2FA state
    # session, user, alice's authenticator (the session's second factor), count, dossiers
    # (+organisation, open questions), regimes, memberships, completeness (targets,
    # regimes + checklist + criteria + coverage, answers, and the facts it evaluates: dossiers,
    # subjects, documents, posts, jurisdiction links, incidents, roles, exhibits, exhibits'
    # incidents, sources, consents)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("submissions:dossier-list"))
    assert response.status_code == 200
    assert response.text.count("MAG-") >= count


@pytest.mark.parametrize("count", [2, 20])
def test_each_step_page_has_a_bounded_number_of_queries(
    client, alice, dossier, count, django_assert_max_num_queries
):
    from submissions import services
    from submissions.uploads import uploaded_from_bytes

    for index in range(count):
        SubjectFactory(dossier=dossier, name=f"Subject {index}")
        IncidentFactory(dossier=dossier)
        SourceFactory(dossier=dossier)
        services.attach_evidence_file(
            dossier, by=alice, upload=uploaded_from_bytes(PDF + bytes([index]), "a.pdf"), details={}
        )
    client.force_login(alice)
    # Each page's own queries, plus the meter's evaluation: a fixed number (see the dashboard).
    for name in [
        "subject-list",
        "incident-list",
        "source-list",
        "evidence-list",
        "dossier-detail",
        "checklist",
    ]:
        with django_assert_max_num_queries(34):
            response = client.get(reverse(f"submissions:{name}", args=[dossier.reference]))
        assert response.status_code == 200, name


def test_a_database_failure_at_submission_leaves_the_draft_and_says_what_to_do(
    client, alice, dossier, monkeypatch
):
    from django.db import OperationalError

    from submissions import services

    make_ready_to_submit(dossier, alice)

    def database_gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "transition", database_gone)
    client.force_login(alice)
    response = client.post(
        reverse("submissions:dossier-submit", args=[dossier.reference]), follow=True
    )
    assert "nothing was changed" in response.text and "try again" in response.text
    assert Dossier.objects.get(pk=dossier.pk).status == "draft"


@pytest.fixture
def approved(alice, dossier, lena, rita, settings):
    """The dossier taken through review to an approval, with one review (enough here)."""
    from reviews import rubric
    from reviews import services as review_services
    from submissions import services

    settings.REVIEWS_REQUIRED_FOR_DECISION = 1
    make_ready_to_submit(dossier, alice)
    services.submit_dossier(dossier, by=alice)
    review_services.assign_reviewer(dossier, rita, by=lena)
    review_services.start_review(dossier, by=rita)
    review_services.save_review(
        dossier,
        by=rita,
        scores={code: {"score": 4, "note": "ok"} for code in rubric.codes()},
        recommendation="approve",
        submit=True,
    )
    review_services.decide_dossier(
        dossier, by=lena, outcome="approved", reason="Well corroborated by three witnesses."
    )
    return Dossier.objects.get(pk=dossier.pk)


def test_the_organisation_reads_the_reviewers_decision_and_its_reason(client, alice, approved):
    client.force_login(alice)
    response = client.get(reverse("submissions:dossier-detail", args=[approved.reference]))
    assert response.status_code == 200
    assert 'id="decision"' in response.text
    assert "Approved" in response.text
    assert "Well corroborated by three witnesses." in response.text


def test_a_dossier_without_a_decision_shows_none(client, alice, dossier):
    client.force_login(alice)
    response = client.get(reverse("submissions:dossier-detail", args=[dossier.reference]))
    assert response.status_code == 200
    assert 'id="decision"' not in response.text


def test_another_organisations_member_gets_404_on_a_decided_dossier(client, mallory, approved):
    client.force_login(mallory)
    response = client.get(reverse("submissions:dossier-detail", args=[approved.reference]))
    assert response.status_code == 404
    assert "Well corroborated" not in response.text


def test_the_decision_costs_no_query_of_its_own(client, alice, approved):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reviews.models import Decision

    client.force_login(alice)
    url = reverse("submissions:dossier-detail", args=[approved.reference])
    client.get(url)  # the session's first request settles its 2FA state
    with CaptureQueriesContext(connection) as with_decision:
        assert "Well corroborated" in client.get(url).text
    Decision.objects.filter(dossier=approved).delete()
    with CaptureQueriesContext(connection) as without_decision:
        assert "Well corroborated" not in client.get(url).text
    # Joined to the dossier's own query, whether there is a decision or not; the outcome per
    # government (reviews.RegimeDecision) is one query more, only when there is a decision.
    for queries in (with_decision, without_decision):
        assert not [q for q in queries if 'FROM "reviews_decision"' in q["sql"]]
    assert len(with_decision) == len(without_decision) + 1


def test_null_characters_are_refused_with_a_message_not_a_server_error(client, alice, dossier):
    client.force_login(alice)
    response = client.post(
        reverse("submissions:subject-create", args=[dossier.reference]),
        {
            "kind": "person",
            "name": "Ivan",
            "aliases": "Vanya\x00",
            **formset_data("documents", []),
            **formset_data("positions", []),
            **formset_data("links", []),
        },
    )
    assert response.status_code == 200 and "Null characters are not allowed" in response.text
    assert not Subject.objects.exists()


def test_the_dashboard_pages_through_many_dossiers(client, alice, org_a, settings):
    from submissions import views

    for _ in range(views.DASHBOARD_PAGE_SIZE + 3):
        DossierFactory(organisation=org_a, created_by=alice)
    client.force_login(alice)
    first = client.get(reverse("submissions:dossier-list"))
    second = client.get(reverse("submissions:dossier-list") + "?page=2")
    assert first.text.count("<tr>") - 1 == views.DASHBOARD_PAGE_SIZE
    assert second.text.count("<tr>") - 1 == 3 and "Page 2 of 2" in second.text


def test_the_evidence_step_offers_to_add_a_source_and_comes_back(client, alice, dossier):
    """Step 4 asks for a source: it links to adding one (step 5), which returns to step 4."""
    client.force_login(alice)
    evidence_url = reverse("submissions:evidence-list", args=[dossier.reference])
    add_url = reverse("submissions:source-create", args=[dossier.reference]) + "?then=evidence"

    page = client.get(evidence_url).content.decode()
    assert f'href="{add_url}"' in page
    assert "there are none yet" in page
    assert "data-exhibit-list" in page  # the list that uploads refresh in place

    regime = dossier.target_regimes.get()
    response = client.post(
        add_url,
        {
            "kind": "witness",
            "identity": "Olga Smirnova",
            f"consent-{regime.pk}-given": "on",
            f"consent-{regime.pk}-scope": "anonymous",
            f"consent-{regime.pk}-given_on": "2026-01-05",
            f"consent-{regime.pk}-method": "Signed form",
        },
    )
    assert response.status_code == 302
    assert response.url == evidence_url
    source = Source.objects.get(dossier=dossier)
    assert f">{source.pseudonym}<" in client.get(evidence_url).content.decode()


def test_adding_a_source_goes_nowhere_else_than_the_evidence_step(client, alice, dossier):
    client.force_login(alice)
    regime = dossier.target_regimes.get()
    response = client.post(
        reverse("submissions:source-create", args=[dossier.reference])
        + "?then=https://evil.example/",
        {
            "kind": "witness",
            "identity": "Olga Smirnova",
            f"consent-{regime.pk}-given": "on",
            f"consent-{regime.pk}-scope": "anonymous",
            f"consent-{regime.pk}-given_on": "2026-01-05",
            f"consent-{regime.pk}-method": "Signed form",
        },
    )
    assert response.url == reverse("submissions:source-list", args=[dossier.reference])
