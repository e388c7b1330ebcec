"""The review site in Django admin: access, the queue, the dossier page, the reviewer's path."""

import re

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from portal.models import AuditEvent
from reviews import services
from reviews.models import Assignment, Decision, InformationRequest, Review, Verification
from submissions import services as submission_services
from submissions.models import Dossier
from tests.factories import IncidentFactory, SubjectFactory
from tests.reviews.conftest import full_scores, submit_review
from tests.reviews.factories import (
    AssignmentFactory,
    EvidenceFactory,
    SourceFactory,
    SubmittedDossierFactory,
)


def change_url(dossier) -> str:
    return reverse("admin:submissions_dossier_change", args=[dossier.pk])


def url(name: str, *args) -> str:
    return reverse(f"admin:submissions_dossier_{name}", args=args)


QUEUE = "/admin/submissions/dossier/"


# Access


def test_mallory_gets_no_review_site_at_all(client, mallory, in_review):
    client.force_login(mallory)
    for path in (QUEUE, change_url(in_review), url("evidence_download", in_review.pk, 1)):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_an_unassigned_reviewer_gets_a_404_for_the_dossier(client, dossier, rita):
    client.force_login(rita)
    assert dossier.reference not in client.get(QUEUE).content.decode()
    response = client.get(change_url(dossier))
    assert response.status_code == 302  # admin's "does not exist" redirect, with nothing shown
    assert client.post(url("start_review", dossier.pk)).status_code == 404
    source = SourceFactory(dossier=dossier)
    assert client.get(url("reveal_identity", dossier.pk, source.pk)).status_code == 404


def test_a_reviewer_cannot_change_what_the_ngo_filed(client, in_review, rita):
    client.force_login(rita)
    response = client.post(change_url(in_review), {"title": "Rewritten", "summary": "Gone"})

    assert response.status_code == 403
    dossier = Dossier.objects.get(pk=in_review.pk)
    assert dossier.title == "Torture in Moscow"
    assert client.get(reverse("admin:submissions_dossier_add")).status_code == 403
    delete = reverse("admin:submissions_dossier_delete", args=[in_review.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Dossier.objects.filter(pk=in_review.pk).exists()
    # The NGO's other records are not in the review site at all.
    assert client.get("/admin/submissions/subject/").status_code == 404


def test_the_dossier_page_is_read_only(client, in_review, rita):
    client.force_login(rita)
    page = client.get(change_url(in_review)).content.decode()
    assert 'name="_save"' not in page and 'id="dossier_form"' not in page
    assert "Ivan Petrov" in page and "Иван Петров" in page


# The queue


def test_the_queue_shows_a_reviewer_only_their_assigned_open_dossiers(client, rita, lena, org_b):
    mine = SubmittedDossierFactory(organisation=org_b)
    AssignmentFactory(dossier=mine, reviewer=rita, assigned_by=lena)
    other = SubmittedDossierFactory(organisation=org_b)
    draft = SubmittedDossierFactory(organisation=org_b, status="draft")
    AssignmentFactory(dossier=draft, reviewer=rita, assigned_by=lena)

    client.force_login(rita)
    page = client.get(QUEUE).content.decode()
    assert mine.reference in page
    assert other.reference not in page and draft.reference not in page

    client.force_login(lena)
    page = client.get(QUEUE).content.decode()
    assert mine.reference in page and other.reference in page and draft.reference not in page


@pytest.mark.parametrize("term", ["Иван Петров", "петров", "Ivan Petrov", "Petrov", "Org A"])
def test_the_queue_finds_a_dossier_by_subject_name_in_any_script_or_organisation(
    client, in_review, lena, org_b, term
):
    unrelated = SubmittedDossierFactory(organisation=org_b)
    SubjectFactory(dossier=unrelated, name="John Smith", name_original="")

    client.force_login(lena)
    page = client.get(QUEUE, {"q": term}).content.decode()

    assert in_review.reference in page
    assert unrelated.reference not in page


@pytest.mark.parametrize("cut", [None, 8])
def test_the_queue_finds_a_dossier_by_its_reference_or_the_start_of_it(
    client, in_review, lena, org_b, cut
):
    other = SubmittedDossierFactory(organisation=org_b, reference="MAG-ZZZZ-ZZZZ")
    client.force_login(lena)
    page = client.get(QUEUE, {"q": in_review.reference.lower()[:cut]}).content.decode()
    assert in_review.reference in page and other.reference not in page


@pytest.mark.parametrize(
    ("params", "shown"),
    [
        ({"regime": "GB-HR"}, True),
        ({"regime": "US-GLOMAG"}, False),
        ({"category": "torture"}, True),
        ({"category": "bribery"}, False),
        ({"country": "RU"}, True),
        ({"country": "FR"}, False),
        ({"reviewer": "me"}, False),
        ({"reviewer": "none"}, False),
        ({"subjects": "person"}, True),
        ({"subjects": "entity"}, False),
        ({"days": "lt7"}, True),
        ({"days": "gt30"}, False),
        ({"claims": "met"}, True),
        ({"verification": "none"}, True),
        ({"verification": "done"}, False),
        ({"status": "in_review"}, True),
        ({"status": "submitted"}, False),
        ({"score": "none"}, True),
    ],
)
def test_the_queue_filters(client, in_review, lena, params, shown):
    IncidentFactory(dossier=in_review)
    client.force_login(lena)
    response = client.get(QUEUE, params)
    assert response.status_code == 200
    assert (in_review.reference in response.content.decode()) is shown


def _all_columns(client):
    """Ask for every column of the queue (the default shows what fits at 1280 px)."""
    client.post(reverse("admin:submissions_dossier_columns"), {"columns": "all"})


def test_the_queue_shows_scores_only_to_those_who_may_see_them(client, in_review, rita, rob, lena):
    submit_review(in_review, rob, score=2)

    client.force_login(rita)
    _all_columns(client)
    assert "hidden until your review is in" in client.get(QUEUE).content.decode()
    client.force_login(lena)
    _all_columns(client)
    page = client.get(QUEUE).content.decode()
    assert "hidden until" not in page and ">2.0<" in page


def test_a_leads_pending_review_hides_scores_on_that_dossier_only(
    client, in_review, rob, lena, org_b
):
    submit_review(in_review, rob, score=2)
    elsewhere = SubmittedDossierFactory(organisation=org_b, status="in_review")
    reviewer = AssignmentFactory(dossier=elsewhere, reviewer=rob, assigned_by=lena).reviewer
    submit_review(elsewhere, reviewer, score=5)
    services.assign_reviewer(in_review, lena, by=lena)

    client.force_login(lena)
    rows = {d.reference: d.scores_visible for d in client.get(QUEUE).context["cl"].result_list}
    assert rows == {in_review.reference: False, elsewhere.reference: True}


def test_reviewers_cannot_filter_by_score(client, in_review, rita, rob):
    submit_review(in_review, rob, score=2)
    client.force_login(rita)
    response = client.get(QUEUE, {"score": "low"})
    # The score filter is not there for rita: admin treats its parameter as an error.
    assert response.status_code == 302 and response["Location"].endswith("?e=1")
    assert "2.0" not in client.get(QUEUE).content.decode()


def _fill_queue(rows: int, lena, org_b):
    """`rows` dossiers, each with two subjects, an incident and an assigned reviewer."""
    for dossier in SubmittedDossierFactory.create_batch(rows, organisation=org_b):
        SubjectFactory(dossier=dossier)
        SubjectFactory(dossier=dossier, name="Pavel Sidorov", name_original="Павел Сидоров")
        IncidentFactory(dossier=dossier)
        AssignmentFactory(dossier=dossier, reviewer=lena, assigned_by=lena)


@pytest.mark.parametrize("rows", [50, 500])
def test_the_queue_takes_a_bounded_number_of_queries(
    client, lena, org_b, rows, django_assert_max_num_queries
):
    _fill_queue(rows, lena, org_b)
    client.force_login(lena)
    # 25 today: session, user, authenticator, groups; filter choices (organisations, regimes,
    # categories, reviewers); the capped count; the page of dossiers (organisation joined, score
    # and own-review annotations as subqueries); prefetches (regimes, subjects, incidents with
    # categories, assignments with reviewers, submitted reviews); completeness (targets,
    # regimes, checklist, criteria, subject kinds, web evidence, answers); the action form's
    # reviewers; permissions (user, group). The checklist's facts add one query per kind of
    # row (dossiers, subjects, documents, posts, links, incidents, roles, exhibits and their
    # incidents, sources, consents, coverage). One counts the dossiers waiting in triage (the
    # link above the queue). A query per row would add 50.
    with django_assert_max_num_queries(38):
        response = client.get(QUEUE)
    assert response.status_code == 200
    assert response.context["cl"].result_count == rows


def test_the_queue_counts_no_further_than_its_cap(client, lena, org_b, monkeypatch):
    from reviews.admin import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "CAP", 3)
    SubmittedDossierFactory.create_batch(5, organisation=org_b)
    client.force_login(lena)
    page = client.get(QUEUE).content.decode()
    assert "More than 3 dossiers" in page


# The dossier page


def _fill_dossier(dossier, rows: int):
    """Give `dossier` `rows` subjects, incidents, exhibits and sources (made in bulk)."""
    from submissions.models import Evidence, Incident, Source, Subject

    Subject.objects.bulk_create(
        Subject(dossier=dossier, name=f"Person {n}", name_original=f"Лицо {n}", birth_date="1970")
        for n in range(rows)
    )
    template = IncidentFactory.build(dossier=dossier)
    Incident.objects.bulk_create(
        Incident(
            dossier=dossier,
            title=f"Incident {n}",
            category=template.category,
            start_date="2023",
            country="RU",
            narrative="…",
        )
        for n in range(rows)
    )
    sources = Source.objects.bulk_create(
        Source(dossier=dossier, pseudonym=f"S-{n}", kind="witness", identity="secret")
        for n in range(rows)
    )
    Evidence.objects.bulk_create(
        Evidence(
            dossier=dossier,
            kind="file",
            original_name=f"exhibit-{n}.jpg",
            sha256=f"{n:064x}",
            content_type="image/jpeg",
            source=sources[n],
            reliability="B",
            credibility="2",
            thumbnail=f"thumbnails/{n}.jpg",
            uploaded_by=dossier.created_by,
        )
        for n in range(rows)
    )


@pytest.mark.parametrize("rows", [50, 500])
def test_the_dossier_page_takes_a_bounded_number_of_queries(
    client, in_review, rita, alice, rows, django_assert_max_num_queries
):
    _fill_dossier(in_review, rows)
    submit_review(in_review, rita)
    question = services.request_information(in_review, by=rita, question="Who?")
    submission_services.reply_to_information_request(question, by=alice, body="Them.")
    client.force_login(rita)
    # 35 today: session, user, authenticator, groups; the dossier (organisation joined);
    # permissions (user, group); subjects (person links joined), documents, positions, links;
    # incidents (categories joined), involvements; exhibits (sources joined); sources,
    # consents; answers (regime, criterion, verification joined), their exhibits; completeness
    # (7); assignments; reviews, scores; questions, messages; the audit history; the session
    # save (3). A lead's page adds the reviewer choices. The checklist's facts add one query
    # per kind of row (see the queue); each reviewer's own checks and the decisions per
    # government add one each. A query per row would add 50.
    with django_assert_max_num_queries(47):
        response = client.get(change_url(in_review))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Person {rows - 1}" in page and f"exhibit-{rows - 1}.jpg" in page


def test_the_dossier_page_shows_exhibits_with_hashes_and_grades_and_sources_by_pseudonym(
    client, in_review, rita
):
    source = SourceFactory(dossier=in_review, pseudonym="W-7")
    exhibit = EvidenceFactory(dossier=in_review, source=source, thumbnail="thumbnails/x.jpg")
    client.force_login(rita)
    page = client.get(change_url(in_review)).content.decode()

    assert exhibit.sha256 in page and "B2" in page and "W-7" in page
    assert "Maria Ivanova" not in page and "+7 900" not in page
    # Reviewer welfare: previews veiled by a class, revealed by a script file; nothing inline.
    assert 'class="rv-thumb rv-veiled"' in page
    assert "reviews/welfare.js" in page
    assert "onclick" not in page and "<script>" not in page
    assert "Reveal identity" not in page  # rita lacks the permission


def test_the_dossier_page_hides_other_reviewers_scores_until_your_review_is_in(
    client, in_review, rita, rob
):
    submit_review(in_review, rob, score=1)
    client.force_login(rita)

    page = client.get(change_url(in_review)).content.decode()
    assert "rob@review.example says 1" not in page
    assert "Their scores are hidden" in page or "Its scores are hidden" in page

    submit_review(in_review, rita)
    page = client.get(change_url(in_review)).content.decode()
    assert "rob@review.example says 1" in page


# The whole path, through the admin's own URLs


def test_a_reviewer_and_a_lead_walk_the_whole_path(
    client, assigned, rita, rob, lena, alice, django_capture_on_commit_callbacks
):
    client.force_login(rita)
    response = client.post(url("start_review", assigned.pk))
    assert response.status_code == 302
    assert Dossier.objects.get(pk=assigned.pk).status == "in_review"

    answers = list(assigned.answers.all())
    data = {f"status-{a.pk}": "verified" for a in answers}
    data |= {f"note-{a.pk}": "Checked against exhibits." for a in answers}
    client.post(url("verify", assigned.pk), data)
    assert Verification.objects.filter(status="verified").count() == len(answers)
    page = client.get(change_url(assigned)).content.decode()
    assert "Verified coverage:" in page

    scores = {f"score-{code}": "4" for code in full_scores()}
    client.post(url("review", assigned.pk), {**scores, "recommendation": "request_information"})
    assert not Review.objects.get(reviewer=rita).is_submitted
    client.post(
        url("review", assigned.pk),
        {**scores, "recommendation": "approve", "summary": "Solid.", "submit": "1"},
    )
    assert Review.objects.get(reviewer=rita).is_submitted

    client.post(url("request_information", assigned.pk), {"question": "Who gave the order?"})
    request = InformationRequest.objects.get()
    assert Dossier.objects.get(pk=assigned.pk).status == "information_requested"
    submission_services.reply_to_information_request(request, by=alice, body="The colonel.")

    client.force_login(rob)
    client.post(url("review", assigned.pk), {**scores, "recommendation": "approve", "submit": "1"})
    assert Review.objects.get(reviewer=rob).is_submitted

    client.force_login(lena)
    response = client.post(
        url("decide", assigned.pk),
        {**_approve_all(assigned), "reason": "Corroborated twice."},
        follow=True,
    )
    assert "The decision is recorded" in response.content.decode(), [
        str(m) for m in response.context["messages"]
    ]
    assert Decision.objects.get().outcome == "approved"
    assert Dossier.objects.get(pk=assigned.pk).status == "approved"


def _approve_all(dossier) -> dict:
    return {f"outcome-{regime.pk}": "approved" for regime in dossier.target_regimes.all()}


def test_a_reviewer_cannot_decide_through_the_admin(client, in_review, rita, rob):
    submit_review(in_review, rita)
    submit_review(in_review, rob)
    client.force_login(rita)
    response = client.post(
        url("decide", in_review.pk),
        {**_approve_all(in_review), "reason": "Looks fine."},
        follow=True,
    )
    assert "Only a lead reviewer" in response.content.decode()
    assert not Decision.objects.exists()


def test_workflow_urls_refuse_get(client, in_review, rita):
    client.force_login(rita)
    assert client.get(url("start_review", in_review.pk)).status_code == 405


# Actions


def test_the_lead_assigns_from_the_queue_and_conflicts_are_reported(
    client, dossier, lena, rita, conrad
):
    client.force_login(lena)
    data = {"action": "assign_reviewer_action", "_selected_action": [dossier.pk]}
    client.post(QUEUE, {**data, "reviewer": rita.pk})
    response = client.post(QUEUE, {**data, "reviewer": conrad.pk}, follow=True)

    assert list(Assignment.objects.values_list("reviewer__email", flat=True)) == [rita.email]
    assert "cannot review it" in response.content.decode()


def test_reviewers_have_no_assign_action(client, in_review, rita):
    client.force_login(rita)
    page = client.get(QUEUE).content.decode()
    assert "start_review_action" in page and "assign_reviewer_action" not in page


def test_evidence_downloads_stream_as_attachments(client, in_review, rita):
    exhibit = EvidenceFactory(dossier=in_review)
    exhibit.file.save("evidence/x", ContentFile(b"JPEG bytes"), save=True)
    client.force_login(rita)

    response = client.get(url("evidence_download", in_review.pk, exhibit.pk))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"JPEG bytes"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert AuditEvent.objects.filter(action="evidence.downloaded", actor=rita).exists()


def test_the_person_list_is_for_reviewers(client, rita, mallory):
    client.force_login(rita)
    assert client.get("/admin/reviews/person/").status_code == 200
    assert client.get("/admin/reviews/person/add/").status_code == 403
    client.force_login(mallory)
    assert client.get("/admin/reviews/person/").status_code == 302


def test_correcting_a_person_goes_through_the_service_and_is_audited(client, rita, lena):
    from tests.reviews.factories import PersonFactory

    person = PersonFactory(created_by=lena)
    client.force_login(rita)
    response = client.post(
        reverse("admin:reviews_person_change", args=[person.pk]),
        {
            "name": "Ivan Ivanovich Petrov",
            "name_original": "Иван Иванович Петров",
            "aliases": '["I. I. Petrov"]',
            "birth_date": "1970-03-08",
            "nationalities": ["RU"],
            "notes": "",
            "subject_links-TOTAL_FORMS": "0",
            "subject_links-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["errors"]
    person.refresh_from_db()
    assert person.birth_date == "1970-03-08" and person.aliases == ["I. I. Petrov"]
    event = AuditEvent.objects.get(action="person.updated")
    assert event.actor == rita and "birth_date" in event.data["fields"]


CRAFTED_IDS = ["99999999999999999999", "١٢٣", "²", "-1", "abc", "", "0x1", " 1", "1.0"]


@pytest.mark.parametrize("value", CRAFTED_IDS)
def test_a_crafted_reviewer_id_in_the_queue_filter_finds_nothing_and_never_fails(
    client, assigned, lena, rita, value
):
    client.force_login(lena)
    response = client.get(QUEUE, {"reviewer": value})
    assert response.status_code == 200
    assert assigned.reference not in response.content.decode()
    # A real id still filters.
    response = client.get(QUEUE, {"reviewer": str(rita.pk)})
    assert assigned.reference in response.content.decode()


@pytest.mark.parametrize("value", CRAFTED_IDS)
@pytest.mark.parametrize(
    ("changelist", "parameter"),
    [
        ("/admin/reviews/package/", "regime__id__exact"),
        ("/admin/portal/user/", "groups__id__exact"),
        ("/admin/reviews/assignment/", "id__exact"),
    ],
)
def test_a_crafted_id_in_a_related_filter_is_a_client_error_or_nothing(
    client, lena, changelist, parameter, value
):
    client.raise_request_exception = False
    client.force_login(lena)
    response = client.get(changelist, {parameter: value})
    assert response.status_code < 500


@pytest.mark.parametrize("value", CRAFTED_IDS)
def test_a_crafted_reviewer_id_in_the_assign_action_assigns_nobody(client, dossier, lena, value):
    client.force_login(lena)
    data = {"action": "assign_reviewer_action", "_selected_action": [dossier.pk]}
    response = client.post(QUEUE, {**data, "reviewer": value}, follow=True)
    assert response.status_code == 200
    assert not Assignment.objects.exists()


@pytest.mark.parametrize("value", ["person-²", "subject-99999999999999999999", "person-١"])
def test_a_crafted_candidate_id_on_the_matches_page_is_a_404(client, in_review, rita, value):
    subject = in_review.subjects.get()
    client.force_login(rita)
    page = f"/admin/submissions/dossier/{in_review.pk}/subjects/{subject.pk}/matches/"
    response = client.post(page, {"verdict": "same", "candidate": value})
    assert response.status_code == 404


def test_verified_coverage_counts_only_the_applicable_items_and_never_passes_100(
    client, in_review, rita, alice
):
    from submissions.models import ChecklistAnswer, Criterion

    # An answer typed on an item the data decides (as dossiers filed before the checklist was
    # computed have), and one on an item for entities in a dossier about a person: neither is
    # among the applicable judgements.
    regime = in_review.target_regimes.get()
    for code in ("subject-name", "subject-entity"):
        ChecklistAnswer.objects.create(
            dossier=in_review,
            regime=regime,
            criterion=Criterion.objects.get(code=code),
            question="?",
            status="met",
            explanation="x",
            answered_by=alice,
        )
    answers = list(in_review.answers.all())
    services.verify_answers(
        in_review, by=rita, verifications=[{"answer": a, "status": "verified"} for a in answers]
    )
    client.force_login(rita)
    page = client.get(change_url(in_review)).content.decode()
    found = re.search(r"Verified coverage: (\d+) of (\d+) applicable items \((\d+)%\)", page)
    verified, applicable, percent = (int(n) for n in found.groups())
    assert verified <= applicable and percent <= 100
    assert verified == len(answers) - 2
    # The computed items are shown as what the data shows, the open ones in words.
    assert re.search(r"Checked from the dossier's data: \d+ of \d+ items met", page)
    assert "<strong>Two exhibits for each incident</strong>: Link a second" in page


def test_every_review_site_page_links_the_portals_own_icon(client, in_review, lena):
    client.force_login(lena)
    subject = in_review.subjects.get()
    pages = [
        "/admin/",
        QUEUE,
        change_url(in_review),
        f"/admin/submissions/dossier/{in_review.pk}/subjects/{subject.pk}/matches/",
        "/admin/reviews/person/",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert '<link rel="icon" href="/static/portal/favicon.svg"' in response.text, page
    icon = client.get("/static/portal/favicon.svg")
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")
    signed_out = Client().get("/admin/login/")
    assert '<link rel="icon" href="/static/portal/favicon.svg"' in signed_out.text


def test_the_portals_pages_link_the_same_icon(client, alice):
    client.force_login(alice)
    assert '<link rel="icon" href="/static/portal/favicon.svg"' in client.get("/").text


def test_the_queue_shows_what_fits_at_1280px_and_the_rest_on_demand(client, in_review, lena):
    client.force_login(lena)
    page = client.get(QUEUE).content.decode()
    assert "column-average_score_column" not in page
    assert "column-subjects_column" not in page
    assert "column-regimes_column" in page and "column-title" in page

    _all_columns(client)
    page = client.get(QUEUE).content.decode()
    assert "column-average_score_column" in page and "column-subjects_column" in page
    assert "Fewer columns" in page

    client.post(reverse("admin:submissions_dossier_columns"), {"columns": "short"})
    assert "column-subjects_column" not in client.get(QUEUE).content.decode()
