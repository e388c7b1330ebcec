"""Gaps, outcomes of delivered packages, the brief's section and the NGO's dashboard."""

from datetime import date

import pytest
from django.core import mail
from django.urls import reverse

from designations import services
from designations.models import DesignatedParty, Designation, PackageOutcome, ScreeningMatch
from portal.models import AuditEvent
from reviews import briefs, packages
from reviews.models import Package, Person, SubjectLink
from submissions import services as submission_services
from submissions.models import Regime
from tests.designations.conftest import ftm_person, ftm_sanction, run_import, write_ftm
from tests.factories import DossierFactory, SubjectFactory, make_ready_to_submit

pytestmark = pytest.mark.django_db

VOLKOV = ftm_person("os-volkov", "Сергей Волков", aliases=["Sergei Volkov"])


def import_volkov(tmp_path, *sanctions):
    return run_import(write_ftm(tmp_path / f"os-{len(sanctions)}.json", [VOLKOV, *sanctions]),
                      "ftm")  # fmt: skip


def confirm(person, by):
    match = ScreeningMatch.objects.get(person=person, party__external_id="os-volkov")
    return services.decide_match(match, by=by, confirm=True)


@pytest.fixture
def delivered(package, lena, django_capture_on_commit_callbacks):
    """The GB-HR package, rendered and delivered on 10 January 2026."""
    with django_capture_on_commit_callbacks(execute=True):
        version = packages.request_render(package, by=lena)
    version.refresh_from_db()
    packages.record_delivery(package, version, by=lena, delivered_on=date(2026, 1, 10),
                             recipient="FCDO", channel="secure email")  # fmt: skip
    return Package.objects.get(pk=package.pk)


def test_a_new_listing_for_the_packages_regime_flags_it_and_tells_everyone(
    tmp_path, delivered, rita, lena, alice, client, django_capture_on_commit_callbacks
):
    volkov = delivered.persons.get(name="Sergei Volkov")
    import_volkov(tmp_path, ftm_sanction("us-1", "os-volkov", "US-GLOMAG", listed="2021-01-01"))
    confirm(volkov, rita)
    assert not PackageOutcome.objects.exists()  # designated elsewhere, not by the UK

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        run = import_volkov(
            tmp_path,
            ftm_sanction("us-1", "os-volkov", "US-GLOMAG", listed="2021-01-01"),
            ftm_sanction("gb-1", "os-volkov", "GB-HR", listed="2026-02-01"),
        )
    outcome = PackageOutcome.objects.get()
    assert outcome.package == delivered and outcome.person == volkov and outcome.run == run
    recipients = {address for message in mail.outbox for address in message.to}
    assert {lena.email, alice.email} <= recipients
    assert all("Сергей" not in m.body and "Volkov" not in m.body for m in mail.outbox)

    client.force_login(lena)
    page = client.get(reverse("admin:reviews_package_change", args=[delivered.pk]))
    record_url = reverse("admin:designations_packageoutcome_record", args=[outcome.pk])
    assert record_url in page.text
    assert client.post(record_url).status_code == 302
    delivered.refresh_from_db()
    assert delivered.response == "designated" and delivered.designated_on == date(2026, 2, 1)
    assert AuditEvent.objects.filter(action="package.designation_recorded", actor=lena).exists()
    assert AuditEvent.objects.filter(action="package.response_recorded", actor=lena).exists()
    assert client.post(record_url).status_code == 302  # twice: refused with a message
    assert AuditEvent.objects.filter(action="package.designation_recorded").count() == 1


def test_a_listing_older_than_the_delivery_is_not_an_outcome(tmp_path, delivered, rita):
    import_volkov(tmp_path, ftm_sanction("gb-1", "os-volkov", "GB-HR", listed="2020-12-10"))
    confirm(delivered.persons.get(name="Sergei Volkov"), rita)
    assert not PackageOutcome.objects.exists()


def test_only_lead_reviewers_record_an_outcome(tmp_path, delivered, rita, client):
    import_volkov(tmp_path, ftm_sanction("gb-1", "os-volkov", "GB-HR", listed="2026-03-01"))
    confirm(delivered.persons.get(name="Sergei Volkov"), rita)  # confirming flags it too
    outcome = PackageOutcome.objects.get()
    client.force_login(rita)
    assert (
        client.post(
            reverse("admin:designations_packageoutcome_record", args=[outcome.pk])
        ).status_code
        == 403
    )
    assert Package.objects.get(pk=delivered.pk).response == ""


def gap_world(lena, count):
    """`count` persons confirmed as parties listed under US-GLOMAG; one also under GB-HR."""
    us, gb = Regime.objects.get(key="US-GLOMAG"), Regime.objects.get(key="GB-HR")
    persons = []
    for n in range(count):
        person = Person.objects.create(name=f"Official {n}", created_by=lena)
        party = DesignatedParty.objects.create(
            source="test", external_id=str(n), kind="person", schema="Person",
            name=f"Official {n}", names=[], content_hash="x",
        )  # fmt: skip
        Designation.objects.create(
            source="test", external_id=f"us-{n}", party=party, party_ref=str(n),
            program_key="US-GLOMAG", regime=us, listed_on=date(2021, 1, n % 28 + 1),
            content_hash="x",
        )  # fmt: skip
        if n == 0:
            Designation.objects.create(source="test", external_id="gb-0", party=party,
                                       party_ref="0", program_key="GB-HR", regime=gb,
                                       content_hash="x")  # fmt: skip
        ScreeningMatch.objects.create(person=person, party=party, score=95, name_score=95,
                                      status="confirmed")  # fmt: skip
        persons.append(person)
    return us, gb, persons


@pytest.mark.parametrize("count", [3, 25])
def test_the_gap_view_has_a_bounded_number_of_queries(
    client, lena, count, django_assert_max_num_queries
):
    us, gb, persons = gap_world(lena, count)
    client.force_login(lena)
    client.get(reverse("admin:index"))
    url = reverse("admin:designations_gaps") + f"?have={us.pk}&missing={gb.pk}"
    # session, user, OTP device, groups, 2 permissions, regimes (form: have, missing; again
    # when rendered), count, page of persons, confirmed matches, designations, packages
    with django_assert_max_num_queries(15):
        response = client.get(url)
    assert response.status_code == 200
    assert "Official 0" not in response.text  # already designated by the UK
    assert f"Official {count - 1}" in response.text


def test_the_gap_view_exports_csv_and_starts_a_package(client, lena, rita, approved, tmp_path):
    dossier, (volkov, _wang), _exhibits = approved
    import_volkov(tmp_path, ftm_sanction("us-1", "os-volkov", "US-GLOMAG", listed="2021-01-01"))
    confirm(volkov, rita)
    us, gb = Regime.objects.get(key="US-GLOMAG"), Regime.objects.get(key="GB-HR")
    query = f"have={us.pk}&missing={gb.pk}"

    client.force_login(lena)
    export = client.get(reverse("admin:designations_gaps") + f"?{query}&export=csv")
    lines = export.content.decode().splitlines()
    assert lines[0].startswith("person,") and lines[1].startswith("Sergei Volkov,")
    assert "US-GLOMAG" in lines[1]
    assert AuditEvent.objects.filter(action="designations.gaps_exported").exists()

    client.force_login(rita)
    form = {"regime": gb.pk, "persons": [volkov.pk], "query": query}
    assert client.post(reverse("admin:designations_gaps"), form).status_code == 403
    client.force_login(lena)
    response = client.post(reverse("admin:designations_gaps"), form)
    package = Package.objects.get()
    assert response["Location"] == reverse("admin:reviews_package_change", args=[package.pk])
    assert package.regime == gb and list(package.persons.all()) == [volkov]
    assert list(package.dossiers.all()) == [dossier] and "US-GLOMAG" in package.cover_note


def test_the_person_page_shows_one_row_per_regime(client, lena, rita, approved, tmp_path):
    _dossier, (volkov, _wang), _ = approved
    import_volkov(tmp_path, ftm_sanction("us-1", "os-volkov", "US-GLOMAG", listed="2021-01-01"),
                  ftm_sanction("xx-1", "os-volkov", "XX-OTHER"))  # fmt: skip
    confirm(volkov, rita)
    from designations.gaps import gap_matrix

    rows = {row.program_key: row.state for row in gap_matrix(volkov, user=lena)}
    assert rows["US-GLOMAG"] == "designated" and rows["GB-HR"] == "nothing"
    assert rows["XX-OTHER"] == "designated"  # an unknown program is shown, not dropped
    assert len(rows) == Regime.objects.count() + 1


def test_the_brief_lists_confirmed_designations(approved, lena, rita, tmp_path, package):
    volkov = package.persons.get(name="Sergei Volkov")
    import_volkov(tmp_path, ftm_sanction("us-1", "os-volkov", "US-GLOMAG", listed="2021-01-01"))
    content = briefs.assemble(package, 0)
    assert all(not s.designations for s in content.persons)  # not confirmed: not in the brief
    confirm(volkov, rita)
    content = briefs.assemble(package, 0)
    [section] = [s for s in content.persons if s.person == volkov]
    assert [d.program_key for d in section.designations] == ["US-GLOMAG"]


def test_the_ngo_dashboard_shows_designations_since_submission(
    client, alice, mallory, org_a, lena, rita, tmp_path
):
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    subject = SubjectFactory(dossier=dossier, name="Sergei Volkov", name_original="Сергей Волков")
    make_ready_to_submit(dossier, alice)
    submission_services.submit_dossier(dossier, by=alice)
    person = Person.objects.create(name="Sergei Volkov", created_by=lena)
    SubjectLink.objects.create(subject=subject, person=person, linked_by=lena)
    import_volkov(tmp_path, ftm_sanction("us-1", "os-volkov", "US-GLOMAG", listed="2021-01-01"),
                  ftm_sanction("gb-1", "os-volkov", "GB-HR", listed="2099-01-01"))  # fmt: skip
    confirm(person, rita)

    client.force_login(alice)
    page = client.get(reverse("submissions:dossier-list")).text
    assert "Designated since you submitted" in page
    assert "GB-HR" in page and "2099-01-01" in page
    assert "2021-01-01" not in page  # listed before the dossier was submitted
    client.force_login(mallory)
    assert (
        "Designated since you submitted" not in client.get(reverse("submissions:dossier-list")).text
    )


@pytest.mark.parametrize(
    "form",
    [
        {"regime": "abc", "persons": ["1"]},
        {"regime": "99999999999999999999", "persons": ["1"]},
        {"regime": "²", "persons": ["1"]},
    ],
)
def test_a_crafted_regime_id_for_a_gap_package_is_a_404(client, lena, form):
    client.force_login(lena)
    client.raise_request_exception = False
    response = client.post(reverse("admin:designations_gaps"), form)
    assert response.status_code == 404
    assert not Package.objects.exists()


def test_crafted_person_ids_for_a_gap_package_are_ignored(client, lena):
    gb = Regime.objects.get(key="GB-HR")
    client.force_login(lena)
    client.raise_request_exception = False
    form = {"regime": gb.pk, "persons": ["²", "١", "99999999999999999999", "-1"], "query": ""}
    response = client.post(reverse("admin:designations_gaps"), form)
    assert response.status_code == 302
    assert not Package.objects.exists()


def test_a_lead_of_the_submitting_organisation_sees_and_records_no_outcome_of_its_package(
    tmp_path, delivered, rita, lena, org_a, client
):
    """Package.objects.visible_to holds on the gap page and the outcomes list as well."""
    from django.core.exceptions import PermissionDenied

    from designations.gaps import gap_matrix, packages_of
    from portal import services as portal_services
    from tests.conftest import with_authenticator
    from tests.factories import UserFactory

    volkov = delivered.persons.get(name="Sergei Volkov")
    import_volkov(tmp_path, ftm_sanction("gb-1", "os-volkov", "GB-HR", listed="2026-02-01"))
    confirm(volkov, rita)
    outcome = PackageOutcome.objects.get(package=delivered)
    lara = with_authenticator(
        portal_services.grant_review_role(
            UserFactory(email="lara@org-a.example", membership__organisation=org_a),
            lead=True,
            by=None,
        )
    )
    assert packages_of([volkov.pk], user=lena)[volkov.pk] == [delivered]
    assert packages_of([volkov.pk], user=lara) == {}
    assert all(not row.packages for row in gap_matrix(volkov, user=lara))
    with pytest.raises(PermissionDenied):
        services.record_designated(outcome, by=lara)
    client.force_login(lara)
    url = reverse("admin:designations_packageoutcome_record", args=[outcome.pk])
    assert client.post(url).status_code == 404
    assert Package.objects.get(pk=delivered.pk).response == ""
