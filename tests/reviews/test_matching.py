"""Persons across dossiers: name matching across scripts, and remembering each answer."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portal.models import AuditEvent
from reviews import matching, services
from reviews.models import MatchDecision, Person, SubjectLink
from tests.factories import SubjectFactory
from tests.reviews.factories import AssignmentFactory, PersonFactory, SubmittedDossierFactory


@pytest.fixture
def cyrillic(in_review):
    """The subject of rita's dossier, known in Cyrillic with a Latin transliteration."""
    subject = in_review.subjects.get()
    subject.name, subject.name_original = "Aleksey Naval'nyy", "Алексей Навальный"
    subject.birth_date, subject.nationalities = "1976-06-04", ["RU"]
    subject.save()
    return subject


@pytest.fixture
def latin(org_b, rita, lena):
    """The same man in NGO B's dossier, spelled the English way, assigned to rita."""
    dossier = SubmittedDossierFactory(organisation=org_b)
    AssignmentFactory(dossier=dossier, reviewer=rita, assigned_by=lena)
    return SubjectFactory(
        dossier=dossier,
        name="Navalny, Alexei",
        name_original="",
        birth_date="1976",
        nationalities=["RU"],
    )


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Алексей Навальный", "Alexei Navalny"),
        ("Иван Петров", "Petrov Ivan"),
        ("Wladimir Putin", "Владимир Путин"),
        ("Hans Müller", "Hans Muller"),
    ],
)
def test_spellings_of_one_name_normalise_alike(left, right):
    assert matching.name_score(matching.normalise(left), matching.normalise(right)) >= 95


def test_different_people_with_one_surname_score_low():
    score = matching.name_score(
        matching.normalise("Ivan Petrov"), matching.normalise("Pavel Petrov")
    )
    assert score < matching.NAME_SCORE_FLOOR


def test_a_cyrillic_subject_is_matched_with_its_latin_spelling_in_another_dossier(
    cyrillic, latin, rita
):
    suggestions = matching.suggest(cyrillic, user=rita)

    assert [(s.kind, s.candidate.pk) for s in suggestions] == [("subject", latin.pk)]
    assert suggestions[0].birth == matching.AGREES
    assert suggestions[0].nationality == matching.AGREES
    assert suggestions[0].score >= matching.SUGGEST_FROM


def test_a_conflicting_birth_date_drops_the_suggestion(cyrillic, latin, rita):
    latin.birth_date = "1980-01-01"
    latin.save()
    assert matching.suggest(cyrillic, user=rita) == []


def test_a_conflicting_birth_date_in_the_same_year_costs_the_match(cyrillic, latin, rita):
    latin.birth_date, latin.nationalities = "1976-09-01", ["UA"]
    latin.save()
    assert matching.suggest(cyrillic, user=rita) == []


def test_suggestions_come_only_from_dossiers_the_reviewer_may_see(cyrillic, latin, rita, rob):
    latin.dossier.assignments.all().delete()
    assert matching.suggest(cyrillic, user=rita) == []


def test_accepting_links_both_subjects_to_one_person_and_is_not_suggested_again(
    cyrillic, latin, rita
):
    person = services.accept_match(cyrillic, by=rita, other=latin, score=97.0)

    assert person.name == "Aleksey Naval'nyy" and person.name_original == "Алексей Навальный"
    assert set(SubjectLink.objects.values_list("subject_id", flat=True)) == {cyrillic.pk, latin.pk}
    assert MatchDecision.objects.get().accepted
    assert AuditEvent.objects.filter(action="subject.linked").count() == 2
    assert matching.suggest(cyrillic, user=rita) == []
    assert matching.suggest(latin, user=rita) == []


def test_a_rejected_suggestion_is_not_offered_again_from_either_side(cyrillic, latin, rita):
    services.reject_match(latin, by=rita, other=cyrillic, score=91.0)

    assert matching.suggest(cyrillic, user=rita) == []
    assert matching.suggest(latin, user=rita) == []
    decision = MatchDecision.objects.get()
    assert not decision.accepted and decision.subject_id < decision.other_id
    assert AuditEvent.objects.filter(action="subject.match_rejected", actor=rita).exists()


def test_a_canonical_person_is_suggested_and_a_rejection_is_remembered(cyrillic, rita, lena):
    person = PersonFactory(
        name="Alexey Navalny", name_original="", birth_date="1976-06-04", created_by=lena
    )
    suggestions = matching.suggest(cyrillic, user=rita)
    assert [(s.kind, s.candidate.pk) for s in suggestions] == [("person", person.pk)]

    services.reject_match(cyrillic, by=rita, person=person)
    assert matching.suggest(cyrillic, user=rita) == []


def test_accepting_a_person_links_the_subject(cyrillic, rita, lena):
    person = PersonFactory(name="Alexey Navalny", birth_date="1976", created_by=lena)
    services.accept_match(cyrillic, by=rita, person=person)
    assert cyrillic.person_link.person == person
    with pytest.raises(ValidationError):
        services.accept_match(cyrillic, by=rita, person=PersonFactory(created_by=lena))


def test_a_third_subject_joins_the_existing_person(cyrillic, latin, rita, lena, org_b):
    person = services.accept_match(cyrillic, by=rita, other=latin)
    third_dossier = SubmittedDossierFactory(organisation=org_b)
    AssignmentFactory(dossier=third_dossier, reviewer=rita, assigned_by=lena)
    third = SubjectFactory(
        dossier=third_dossier, name="Alexey Navalnyi", name_original="", birth_date="1976-06"
    )

    suggestions = matching.suggest(cyrillic, user=rita)
    assert [s.candidate.pk for s in suggestions] == [third.pk]
    assert services.accept_match(cyrillic, by=rita, other=third) == person
    assert Person.objects.count() == 1


def test_unlinking_remembers_the_person_as_rejected(cyrillic, latin, rita):
    person = services.accept_match(cyrillic, by=rita, other=latin)
    services.unlink_subject(cyrillic, by=rita)
    assert not SubjectLink.objects.filter(subject=cyrillic).exists()
    assert MatchDecision.objects.filter(subject=cyrillic, person=person, accepted=False).exists()
    assert [s.candidate for s in matching.suggest(cyrillic, user=rita)] == []


def test_linking_needs_access_to_both_dossiers(cyrillic, latin, rob):
    with pytest.raises(PermissionDenied):
        services.accept_match(cyrillic, by=rob, other=latin)
    assert not SubjectLink.objects.exists()


def test_entities_are_not_matched_as_persons(cyrillic, latin, rita):
    cyrillic.kind = "entity"
    cyrillic.save()
    assert matching.suggest(cyrillic, user=rita) == []
