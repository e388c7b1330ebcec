"""
Packages from the dossier page (#22): propose an approved dossier to a government, making the
canonical person or organisation on the way; a package page with a button for each move; the
package form saves (and saves and continues) without a server error.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from designations import services as designation_services
from portal.models import AuditEvent
from reviews import packages, services
from reviews.models import Package, Person, SubjectLink
from submissions.models import Dossier, Regime
from tests.factories import (
    DossierFactory,
    MembershipFactory,
    SubjectFactory,
    answer_all_blocking,
    approve_without_review,
)

pytestmark = pytest.mark.django_db


def approved_dossier(org, author, *, regimes=("GB-HR",), **subject):
    dossier = DossierFactory(
        organisation=org,
        created_by=author,
        target_regimes=list(Regime.objects.filter(key__in=regimes)),
    )
    SubjectFactory(dossier=dossier, **subject)
    answer_all_blocking(dossier, author)
    approve_without_review(dossier, author)
    dossier.refresh_from_db()
    return dossier


@pytest.fixture
def gb():
    return Regime.objects.get(key="GB-HR")


@pytest.fixture
def two(org_a, alice):
    """Two approved GB-HR dossiers on Ivan Petrov; the first also names his security company."""
    first = approved_dossier(org_a, alice, birth_date="1970")
    SubjectFactory(
        dossier=first, kind="entity", name="Volkov Security LLC", name_original="",
        birth_date="", nationalities=[],
    )  # fmt: skip
    second = approved_dossier(org_a, alice, birth_date="1970-03-05", nationalities=["RU", "BY"])
    return first, second


def post_propose(client, dossier, regime, choices, package=""):
    data = {"package": package or packages.NEW}
    for subject, choice in choices.items():
        data[f"include-{subject.pk}"] = "1"
        data[f"record-{subject.pk}"] = choice
    url = reverse("admin:reviews_package_propose", args=[dossier.pk, regime.pk])
    return client.post(url, data)


def test_the_lead_proposes_a_dossier_from_its_page_making_person_and_organisation(
    client, lena, two, gb, django_capture_on_commit_callbacks
):
    first, second = two
    person, company = first.subjects.order_by("pk")
    client.force_login(lena)
    page = client.get(reverse("admin:submissions_dossier_change", args=[first.pk]))
    propose_url = reverse("admin:reviews_package_propose", args=[first.pk, gb.pk])
    assert propose_url in page.text
    assert reverse("admin:reviews_package_propose", args=[first.pk, 999]) not in page.text

    form = client.get(propose_url)
    assert form.status_code == 200
    assert second.reference in form.text  # the other dossier's Ivan Petrov is suggested

    with django_capture_on_commit_callbacks(execute=True):
        response = post_propose(client, first, gb, {person: "new", company: "new"})
    package = Package.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"/{package.pk}/change/")
    records = {p.kind: p for p in package.persons.all()}
    assert records["person"].name == "Ivan Petrov"
    assert records["entity"].name == "Volkov Security LLC"
    assert list(package.dossiers.all()) == [first] and package.status == "draft"
    assert AuditEvent.objects.filter(action="person.created", actor=lena).count() == 2

    # The second dossier extends the same draft: its subject joins Ivan Petrov's record.
    other = second.subjects.get()
    with django_capture_on_commit_callbacks(execute=True):
        post_propose(client, second, gb, {other: f"person-{records['person'].pk}"}, package.pk)
    package.refresh_from_db()
    assert set(package.dossiers.all()) == {first, second}
    assert package.persons.count() == 2
    assert AuditEvent.objects.filter(action="package.extended", target_id=str(package.pk))


def test_a_canonical_record_takes_the_most_precise_data_of_its_subjects(two, lena):
    first, second = two
    record = services.create_person(first.subjects.get(kind="person"), by=lena)
    assert record.birth_date == "1970"

    services.accept_match(second.subjects.get(), by=lena, person=record)

    record.refresh_from_db()
    assert record.birth_date == "1970-03-05"
    assert {str(c) for c in record.nationalities} == {"RU", "BY"}
    assert record.name_original == "Иван Петров"
    assert AuditEvent.objects.filter(action="person.enriched", target_id=str(record.pk)).exists()


def test_a_person_and_an_organisation_are_never_one_record(two, lena):
    first, _second = two
    record = services.create_person(first.subjects.get(kind="person"), by=lena)
    with pytest.raises(ValidationError):
        services.accept_match(first.subjects.get(kind="entity"), by=lena, person=record)


def test_a_dossier_already_in_a_package_for_the_regime_is_warned_about(client, lena, two, gb):
    first, _second = two
    person = first.subjects.get(kind="person")
    client.force_login(lena)
    post_propose(client, first, gb, {person: "new"})
    existing = Package.objects.get()

    page = client.get(reverse("admin:reviews_package_propose", args=[first.pk, gb.pk]))
    assert "already in a package" in page.text and existing.reference in page.text

    response = post_propose(client, first, gb, {person: "new"}, packages.NEW)
    created = Package.objects.exclude(pk=existing.pk).get()
    shown = [str(m) for m in response.wsgi_request._messages]
    assert any(existing.reference in m and "already in another package" in m for m in shown)
    assert any(existing.reference in w for w in packages.package_warnings(created, by=lena))


def test_a_choice_is_required_when_there_are_suggestions(two, lena, gb):
    first, second = two
    with pytest.raises(ValidationError):
        packages.propose_to_government(second, gb, by=lena, subjects={second.subjects.get(): ""})
    assert not Package.objects.exists() and not SubjectLink.objects.exists()


def test_only_approved_dossiers_and_regimes_they_were_filed_for(two, lena, rita):
    first, _second = two
    subject = first.subjects.get(kind="person")
    us = Regime.objects.get(key="US-GLOMAG")
    with pytest.raises(ValidationError):
        packages.propose_to_government(first, us, by=lena, subjects={subject: "new"})
    with pytest.raises(PermissionDenied):
        packages.propose_to_government(
            first, Regime.objects.get(key="GB-HR"), by=rita, subjects={subject: "new"}
        )
    Dossier.objects.filter(pk=first.pk).update(status="in_review")
    first.refresh_from_db()
    with pytest.raises(ValidationError):
        packages.propose_to_government(
            first, Regime.objects.get(key="GB-HR"), by=lena, subjects={subject: "new"}
        )
    assert not Package.objects.exists()


def test_the_lead_of_the_submitting_ngo_reaches_no_package_action(client, lena, two, gb, org_a):
    first, _second = two
    package = packages.propose_to_government(
        first, gb, by=lena, subjects={first.subjects.get(kind="person"): "new"}
    )
    MembershipFactory(user=lena, organisation=org_a)
    client.force_login(lena)
    for url in (
        reverse("admin:reviews_package_propose", args=[first.pk, gb.pk]),
        reverse("admin:reviews_package_ready", args=[package.pk]),
        reverse("admin:reviews_package_render", args=[package.pk]),
    ):
        assert client.post(url).status_code in (403, 404), url
    # Django's admin answers an object outside the queryset like a missing one.
    change = client.get(reverse("admin:reviews_package_change", args=[package.pk]))
    assert change.status_code == 302 and change.url == reverse("admin:index")
    package.refresh_from_db()
    assert package.status == "draft"


def test_reviewers_who_are_not_leads_cannot_propose(client, rita, two, gb):
    first, _second = two
    client.force_login(rita)
    url = reverse("admin:reviews_package_propose", args=[first.pk, gb.pk])
    assert client.get(url).status_code in (403, 404)
    assert not Package.objects.exists()


def test_the_package_page_has_a_button_for_each_allowed_move(client, approved, lena):
    dossier, persons, _ = approved
    package = packages.create_package(
        regime=Regime.objects.get(key="GB-HR"), persons=persons, dossiers=[dossier], by=lena
    )
    client.force_login(lena)
    change = reverse("admin:reviews_package_change", args=[package.pk])
    ready = reverse("admin:reviews_package_ready", args=[package.pk])
    render = reverse("admin:reviews_package_render", args=[package.pk])
    page = client.get(change)
    assert ready in page.text and render not in page.text

    assert client.get(ready).status_code == 404  # a move is a POST
    assert client.post(ready).status_code == 302
    package.refresh_from_db()
    assert package.status == "ready"
    assert AuditEvent.objects.filter(action="package.ready", actor=lena).exists()
    page = client.get(change)
    assert render in page.text and ready not in page.text


def package_form_data(page, **changes):
    form = page.context["adminform"].form
    data = {
        name: form[name].value()
        for name in ("regime", "recipient", "language", "cover_note", "handling_marking")
    }
    data.update(
        persons=form["persons"].value(),
        dossiers=form["dossiers"].value(),
        recipient_key=form["recipient_key"].value() or "",
        **{"versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0"},
    )
    data.update(changes)
    return data


def test_save_and_continue_on_an_existing_package_saves_it(client, approved, lena):
    """Regression: 'BriefVersionFormSet' object has no attribute 'new_objects' (a 500)."""
    dossier, persons, _ = approved
    package = packages.create_package(
        regime=Regime.objects.get(key="GB-HR"), persons=persons, dossiers=[dossier], by=lena
    )
    client.force_login(lena)
    url = reverse("admin:reviews_package_change", args=[package.pk])
    for button in ("_continue", "_save"):
        data = package_form_data(client.get(url), cover_note=f"Edited ({button})", **{button: "1"})
        response = client.post(url, data)
        assert response.status_code == 302, button
        package.refresh_from_db()
        assert package.cover_note == f"Edited ({button})"


def test_the_summary_of_a_package_started_from_the_gap_view_can_be_edited(
    client, approved, lena, rita, tmp_path
):
    from tests.designations.conftest import ftm_person, ftm_sanction, run_import, write_ftm

    dossier, persons, _ = approved
    volkov = next(p for p in persons if p.name == "Sergei Volkov")
    entities = [
        ftm_person("os-volkov", "Сергей Волков", aliases=["Sergei Volkov"]),
        ftm_sanction("us-1", "os-volkov", "US-GLOMAG", listed="2021-01-01"),
    ]
    run_import(write_ftm(tmp_path / "os.json", entities), "ftm", screen=False)
    match = designation_services.screen_person(volkov)[0]
    designation_services.decide_match(match, by=rita, confirm=True)
    package = designation_services.start_gap_package(
        regime=Regime.objects.get(key="GB-HR"), persons=[volkov], by=lena
    )
    assert "2021-01-01" in package.cover_note

    client.force_login(lena)
    url = reverse("admin:reviews_package_change", args=[package.pk])
    page = client.get(url)
    assert 'name="cover_note"' in page.text
    data = package_form_data(page, cover_note="A summary the lead wrote.", _continue="1")
    assert client.post(url, data).status_code == 302
    package.refresh_from_db()
    assert package.cover_note == "A summary the lead wrote."


def test_a_proposed_regime_is_offered_nowhere(client, approved, lena, alice, org_a):
    japan = Regime.objects.get(key="JP-PROPOSED")
    dossier, persons, _ = approved
    with pytest.raises(ValidationError):
        packages.create_package(regime=japan, persons=persons, dossiers=[dossier], by=lena)
    client.force_login(lena)
    add = client.get(reverse("admin:reviews_package_add"))
    assert japan.pk not in [r.pk for r in add.context["adminform"].form.fields["regime"].queryset]
    gaps = client.get(reverse("admin:designations_gaps"))
    form = gaps.context["form"]
    assert japan not in form.fields["missing"].queryset
    assert japan not in form.fields["have"].queryset
    assert not packages.proposable_regimes(dossier).filter(pk=japan.pk).exists()
    assert not Person.objects.filter(kind="entity").exists()
