"""
Designations right (#19): a listing's date is the list's, or "date unknown", never the day of
the import; a listing by the government a package is for is not "designated by other
governments" and warns; canonical records (persons and organisations) are screened once they
exist, and a match confirmed on one subject is not asked again for the same record.
"""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from designations import gaps, services
from designations.gaps import DESIGNATIONS
from designations.models import Designation, ImportRun, ScreeningMatch
from reviews import packages
from reviews import services as review_services
from reviews.models import Person, SubjectLink
from submissions import services as submission_services
from submissions.dashboard import changed
from submissions.models import Regime
from tests.designations.conftest import (
    ftm_person,
    ftm_sanction,
    run_import,
    sdn_entry,
    write_ftm,
    write_sdn,
)
from tests.factories import DossierFactory, SubjectFactory, make_ready_to_submit

pytestmark = pytest.mark.django_db

VOLKOV_SDN = sdn_entry("50001", "Sergei", "VOLKOV", birth="1975")
COMPANY_SDN = sdn_entry("50002", None, "VOLKOV SECURITY LLC", sdn_type="Entity")
TODAY = timezone.localdate().isoformat()


def import_sdn(tmp_path, *entries, name="sdn.xml"):
    return run_import(write_sdn(tmp_path / name, list(entries)), "ofac-sdn-xml", screen=False)


def confirm_volkov(person, by):
    match = ScreeningMatch.objects.get(person=person, party__external_id="50001")
    return services.decide_match(match, by=by, confirm=True)


def test_an_sdn_listing_has_no_date_rather_than_the_import_date(
    tmp_path, approved, lena, rita, client
):
    _dossier, persons, _ = approved
    volkov = next(p for p in persons if p.name == "Sergei Volkov")
    import_sdn(tmp_path, VOLKOV_SDN)
    listing = Designation.objects.get(program_key="US-GLOMAG")
    assert listing.listed_on is None and listing.listing_date is None
    assert listing.listing_date_text == "date unknown"

    services.screen_person(volkov)
    confirm_volkov(volkov, rita)
    us, gb = Regime.objects.get(key="US-GLOMAG"), Regime.objects.get(key="GB-HR")
    client.force_login(lena)
    pages = [
        client.get(reverse("admin:designations_gaps") + f"?have={us.pk}&missing={gb.pk}"),
        client.get(reverse("admin:designations_person_screening", args=[volkov.pk])),
        client.get(reverse("admin:designations_gaps") + f"?have={us.pk}&missing={gb.pk}"
                   "&export=csv"),
    ]  # fmt: skip
    for page in pages:
        text = page.content.decode()
        assert "date unknown" in text
        assert f"US-GLOMAG {TODAY}" not in text and f"{TODAY}, 50001" not in text
        assert f",{TODAY}," not in text  # the CSV's first_listed column

    package = services.start_gap_package(regime=gb, persons=[volkov], by=lena)
    assert "US-GLOMAG date unknown" in package.cover_note and TODAY not in package.cover_note


def test_a_listing_by_the_target_government_is_not_another_governments_and_warns(
    tmp_path, approved, lena, rita, client
):
    _dossier, persons, _ = approved
    volkov = next(p for p in persons if p.name == "Sergei Volkov")
    entities = [
        ftm_person("os-volkov", "Сергей Волков", aliases=["Sergei Volkov"]),
        ftm_sanction("us-1", "os-volkov", "US-GLOMAG", listed="2021-01-01"),
        ftm_sanction("gb-1", "os-volkov", "GB-AC", listed="2022-02-02"),  # the UK itself
    ]
    run_import(write_ftm(tmp_path / "os.json", entities), "ftm", screen=False)
    match = services.screen_person(volkov)[0]
    services.decide_match(match, by=rita, confirm=True)
    gb = Regime.objects.get(key="GB-HR")

    own, others = gaps.split_by_government(gaps.designations_of([volkov.pk])[volkov.pk], gb)
    assert [d.program_key for d in own] == ["GB-AC"]
    assert [d.program_key for d in others] == ["US-GLOMAG"]

    client.force_login(lena)
    form = {"regime": gb.pk, "persons": [volkov.pk], "query": ""}
    response = client.post(reverse("admin:designations_gaps"), form, follow=True)
    package = response.context["original"]
    assert "US-GLOMAG 2021-01-01" in package.cover_note
    assert "GB-AC" not in package.cover_note  # not "designated by other governments"
    warnings = packages.package_warnings(package, by=lena)
    assert any("already designated by this government" in w and "GB-AC" in w for w in warnings)
    assert "already designated by this government" in response.content.decode()


def test_the_dashboard_counts_an_undated_listing_only_if_it_appeared_since(
    tmp_path, alice, org_a, lena, rita, client
):
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    subject = SubjectFactory(dossier=dossier, name="Sergei Volkov", name_original="", birth_date="")
    make_ready_to_submit(dossier, alice)
    submission_services.submit_dossier(dossier, by=alice)
    person = Person.objects.create(name="Sergei Volkov", created_by=lena)
    SubjectLink.objects.create(subject=subject, person=person, linked_by=lena)

    # The list's first import after the submission: the 2018 listing is not "since".
    import_sdn(tmp_path, sdn_entry("50009", "Oleg", "OTHER"), name="sdn-0.xml")
    ImportRun.objects.update(started_at=timezone.now() - timezone.timedelta(days=1))
    Designation.objects.all().delete()  # as if the earlier file had held someone else only
    client.force_login(alice)
    import_sdn(tmp_path, VOLKOV_SDN, name="sdn-1.xml")
    services.screen_person(person)
    confirm_volkov(person, rita)
    page = client.get(reverse("submissions:dossier-list")).text
    assert "Designated since you submitted" in page
    assert "date unknown" in page and f">{TODAY}<" not in page

    ImportRun.objects.exclude(pk=Designation.objects.get().listed_in_run_id).update(
        status=ImportRun.Status.FAILED
    )
    changed(DESIGNATIONS)  # as the importer does when a run ends; update() sends no signal
    page = client.get(reverse("submissions:dossier-list")).text
    assert "Designated since you submitted" not in page  # in the list's first file: unknown


def test_recording_an_undated_designation_leaves_its_date_unknown(
    tmp_path, package, lena, rita, django_capture_on_commit_callbacks
):
    """The one-click "designated" record keeps no import date as the designation's date."""
    from designations.models import PackageOutcome

    volkov = package.persons.get(name="Sergei Volkov")
    with django_capture_on_commit_callbacks(execute=True):
        version = packages.request_render(package, by=lena)
    version.refresh_from_db()
    packages.record_delivery(package, version, by=lena, delivered_on=date(2020, 1, 1),
                             recipient="FCDO", channel="secure email")  # fmt: skip
    # In the list's first file, an undated listing may be years old: not an outcome.
    import_sdn(tmp_path, sdn_entry("50001", "Sergei", "VOLKOV"), name="sdn-0.xml")
    Designation.objects.update(program_key="GB-HR", regime=package.regime)
    services.screen_person(volkov)
    confirm_volkov(volkov, rita)
    assert not PackageOutcome.objects.exists()

    # A listing that appears in a later file of the list is new since then.
    Designation.objects.all().delete()
    ImportRun.objects.update(started_at=timezone.now() - timezone.timedelta(days=1))
    import_sdn(tmp_path, sdn_entry("50001", "Sergei", "VOLKOV"), name="sdn-1.xml")
    Designation.objects.update(program_key="GB-HR", regime=package.regime)
    services.flag_outcomes(Designation.objects.all())
    outcome = PackageOutcome.objects.get()
    recorded = services.record_designated(outcome, by=lena)
    assert recorded.response == "designated" and recorded.designated_on is None
    assert "date unknown" in recorded.response_note


def test_a_new_canonical_organisation_is_screened_as_soon_as_it_exists(
    tmp_path, approved, lena, django_capture_on_commit_callbacks
):
    dossier, _persons, _ = approved
    import_sdn(tmp_path, COMPANY_SDN)
    company = SubjectFactory(dossier=dossier, kind="entity", name="Volkov Security LLC",
                             name_original="", birth_date="", nationalities=[])  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        record = review_services.create_person(company, by=lena)
    assert record.kind == "entity"
    [match] = ScreeningMatch.objects.filter(person=record)
    assert match.party.external_id == "50002" and match.status == "pending"


def test_a_match_confirmed_on_one_subject_is_not_asked_again_for_its_record(
    tmp_path, approved, lena, rita, org_a, alice, django_capture_on_commit_callbacks
):
    dossier, persons, _ = approved
    volkov = next(p for p in persons if p.name == "Sergei Volkov")
    import_sdn(tmp_path, VOLKOV_SDN)
    first = dossier.subjects.get(name="Sergei Volkov")
    [on_subject] = services.screen_subject(first)
    services.decide_match(on_subject, by=lena, confirm=True)

    assert not ScreeningMatch.objects.filter(person=volkov, status="pending").exists()
    services.screen_person(volkov)
    assert not ScreeningMatch.objects.filter(person=volkov, status="pending").exists()

    other_dossier = DossierFactory(organisation=org_a, created_by=alice)
    second = SubjectFactory(dossier=other_dossier, name="Sergei Volkov", name_original="",
                            birth_date="1975")  # fmt: skip
    SubjectLink.objects.create(subject=second, person=volkov, linked_by=lena)
    services.screen_subject(second)
    assert not ScreeningMatch.objects.filter(subject=second, status="pending").exists()
    assert volkov.pk in services.confirmed_persons([on_subject.party_id])[on_subject.party_id]


def test_the_brief_shows_the_lists_date_or_date_unknown(tmp_path, package, lena):
    from django.template.loader import render_to_string

    from reviews import briefs

    volkov = package.persons.get(name="Sergei Volkov")
    import_sdn(tmp_path, VOLKOV_SDN)
    services.screen_person(volkov)
    confirm_volkov(volkov, lena)
    html = render_to_string("briefs/brief.html", {"brief": briefs.assemble(package, 0)})
    assert "date unknown" in html and f"listed {TODAY}" not in html
