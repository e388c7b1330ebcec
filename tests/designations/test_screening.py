"""Screening: names across scripts, namesakes, reasons, reviewers' answers, blocking keys."""

import pytest
from django.urls import reverse

from designations import screening, services
from designations.models import DesignatedParty, ScreeningMatch
from portal.models import AuditEvent
from reviews.models import Person, SubjectLink
from submissions.models import IdentityDocument
from tests.designations.conftest import (
    KADYROV,
    ftm_person,
    ftm_sanction,
    run_import,
    sdn_entry,
    write_ftm,
    write_sdn,
)
from tests.factories import DossierFactory, SubjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lists(tmp_path):
    """Kadyrov in Cyrillic (FtM); Ivan Petrov in Latin (SDN) and a namesake born elsewhen."""
    run_import(
        write_ftm(tmp_path / "os.json", [KADYROV, ftm_sanction("s1", "os-kadyrov", "GB-HR")]),
        "ftm",
    )
    run_import(
        write_sdn(
            tmp_path / "sdn.xml",
            [
                sdn_entry("1", "Ivan", "PETROV", birth="05 Mar 1970", nationality="Russia",
                          passport="720123456"),
                sdn_entry("2", "Ivan", "PETROV", birth="1951", nationality="Russia"),
                sdn_entry("3", "Pyotr", "IVANOV", birth="1970"),
            ],
        ),
        "ofac-sdn-xml",
    )  # fmt: skip


@pytest.fixture
def petrov(lena):
    """The canonical person Иван Петров (Cyrillic only), born March 1970."""
    return Person.objects.create(
        name="", name_original="Иван Петров", birth_date="1970-03", nationalities=["RU"],
        created_by=lena,
    )  # fmt: skip


def test_a_cyrillic_person_matches_a_latin_listing_and_a_namesake_ranks_below(lists, petrov):
    matches = services.screen_person(petrov)

    by_uid = {m.party.external_id: m for m in matches}
    real, namesake = by_uid["1"], by_uid["2"]
    assert real.score > namesake.score
    reasons = {r["kind"]: r["verdict"] for r in real.reasons}
    assert reasons["birth_date"] == "agrees" and reasons["nationality"] == "agrees"
    namesake_reasons = {r["kind"]: r["verdict"] for r in namesake.reasons}
    assert namesake_reasons["birth_date"] == "conflicts"
    # Nothing is confirmed without a reviewer, however high the score.
    assert {m.status for m in matches} == {"pending"}
    assert "3" not in by_uid  # Pyotr Ivanov: the same words reversed, another person


def test_a_latin_subject_matches_a_cyrillic_listing_and_an_identifier_adds_to_the_score(
    lists, alice, org_a
):
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    subject = SubjectFactory(dossier=dossier, name="Ramzan Kadyrov", name_original="",
                             birth_date="1976", nationalities=["RU"])  # fmt: skip
    [match] = services.screen_subject(subject)
    assert match.party.external_id == "os-kadyrov" and match.status == "pending"

    other = SubjectFactory(dossier=dossier, birth_date="1970-03-05")
    IdentityDocument.objects.create(subject=other, kind="passport", number="720 123 456")
    top = services.screen_subject(other)[0]
    assert top.party.external_id == "1"
    assert {
        "kind": "identifier",
        "verdict": "agrees",
        "detail": "passport 720123456",
    } in top.reasons


def test_screening_reads_blocking_keys_not_every_name(lists, petrov, django_assert_num_queries):
    DesignatedParty.objects.bulk_create(
        DesignatedParty(source="noise", external_id=str(n), kind="person", schema="Person",
                        name=f"Someone Else {n}", names=[], content_hash="x")
        for n in range(500)
    )  # fmt: skip
    profile = screening.profile_of_person(petrov)
    # one query: parties whose blocking keys the names share, best first, capped
    with django_assert_num_queries(1):
        found = screening.candidates(profile)
    assert {c.party.external_id for c in found} == {"1", "2"}


def test_a_reviewer_confirms_or_rejects_audited_and_answers_are_kept(client, rita, lists, petrov):
    matches = {m.party.external_id: m for m in services.screen_person(petrov)}
    client.force_login(rita)
    url = reverse("admin:designations_match_decide", args=[matches["1"].pk])
    assert client.post(url, {"verdict": "confirm"}).status_code == 302
    client.post(reverse("admin:designations_match_decide", args=[matches["2"].pk]),
                {"verdict": "reject"})  # fmt: skip

    assert ScreeningMatch.objects.get(pk=matches["1"].pk).status == "confirmed"
    assert ScreeningMatch.objects.get(pk=matches["2"].pk).decided_by == rita
    assert AuditEvent.objects.filter(action="designation.match_confirmed", actor=rita).exists()
    assert AuditEvent.objects.filter(action="designation.match_rejected", actor=rita).exists()
    again = {m.party.external_id: m.status for m in services.screen_person(petrov)}
    assert again == {"1": "confirmed", "2": "rejected"}  # not proposed afresh

    page = client.get(reverse("admin:designations_person_screening", args=[petrov.pk]))
    assert page.status_code == 200
    assert "US-GLOMAG" in page.text and "conflicts" in page.text


def test_people_outside_the_review_site_cannot_see_or_answer(client, mallory, lists, petrov):
    [match, *_] = services.screen_person(petrov)
    client.force_login(mallory)
    response = client.post(
        reverse("admin:designations_match_decide", args=[match.pk]), {"verdict": "confirm"}
    )
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert ScreeningMatch.objects.get(pk=match.pk).status == "pending"
    with pytest.raises(services.PermissionDenied):
        services.decide_match(match, by=mallory, confirm=True)


def test_subjects_of_dossiers_a_reviewer_cannot_see_stay_hidden(rita, lists, alice, org_a):
    dossier = DossierFactory(organisation=org_a, created_by=alice, status="submitted")
    subject = SubjectFactory(dossier=dossier, name="Ivan Petrov")
    [match, *_] = services.screen_subject(subject)
    assert not services.matches_visible_to(rita).filter(pk=match.pk).exists()  # not assigned
    with pytest.raises(services.PermissionDenied):
        services.decide_match(match, by=rita, confirm=True)


def test_screening_a_person_uses_the_names_of_linked_subjects(lists, lena, alice, org_a):
    person = Person.objects.create(name="Unrelated Alias", created_by=lena)
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    subject = SubjectFactory(dossier=dossier, name="Ramzan Akhmatovich Kadyrov", name_original="")
    SubjectLink.objects.create(subject=subject, person=person, linked_by=lena)
    assert [m.party.external_id for m in services.screen_person(person)] == ["os-kadyrov"]


def test_an_import_screens_everyone_afterwards(tmp_path, petrov):
    run_import(write_ftm(tmp_path / "a.json", [ftm_person("p1", "Ivan Petrov", birth="1970")]),
               "ftm")  # fmt: skip
    assert ScreeningMatch.objects.filter(person=petrov, party__external_id="p1").exists()
