"""Name matching at scale: blocking keys held in the database (reviews.NameKey)."""

import pytest

from reviews import matching
from reviews.models import NameKey, Person
from tests.reviews.factories import PersonFactory


@pytest.fixture
def subject(in_review):
    subject = in_review.subjects.get()
    subject.name, subject.name_original = "Aleksey Naval'nyy", "Алексей Навальный"
    subject.birth_date, subject.nationalities = "1976-06-04", ["RU"]
    subject.save()
    return subject


def test_keys_are_normalised_words_and_their_first_letters():
    assert matching.keys_for("Aleksey Naval'nyy", "Алексей Навальный") == {
        "aleksei",
        "alek*",
        "navalni",
        "nava*",
    }
    assert matching.keys_for("Li Wei") == {"li", "vei"}  # w and v fold together
    assert matching.keys_for("", "") == set()


def test_keys_follow_every_save_of_a_person(lena):
    person = PersonFactory(name="Ivan Petrov", name_original="", birth_date="1970", created_by=lena)
    assert set(person.name_keys.values_list("key", "birth_year")) == {
        ("ivan", "1970"),
        ("petrov", "1970"),
        ("petr*", "1970"),
    }
    person.name, person.birth_date = "Pavel Sidorov", ""
    person.save()
    assert set(person.name_keys.values_list("key", "birth_year")) == {
        ("pavel", ""),
        ("pave*", ""),
        ("sidorov", ""),
        ("sido*", ""),
    }
    person.delete()
    assert not NameKey.objects.exists()


def test_an_entity_keeps_its_keys_to_be_matched_with_organisations(subject):
    """Organisations are matched across dossiers as persons are (#19), so they keep keys."""
    assert NameKey.objects.filter(subject=subject).exists()
    subject.kind = "entity"
    subject.save()
    assert NameKey.objects.filter(subject=subject).exists()


def test_a_renamed_person_is_found_by_the_new_name_only(subject, rita, lena):
    person = PersonFactory(name="Boris Johnson", name_original="", birth_date="", created_by=lena)
    assert matching.suggest(subject, user=rita) == []

    person.name = "Alexei Navalny"
    person.save()
    assert [s.candidate.pk for s in matching.suggest(subject, user=rita)] == [person.pk]


def test_a_bulk_change_is_caught_up_by_rebuilding_the_keys(subject, rita, lena):
    person = PersonFactory(name="Boris Johnson", name_original="", birth_date="", created_by=lena)
    Person.objects.filter(pk=person.pk).update(name="Alexei Navalny")  # no save(), no signal
    assert matching.suggest(subject, user=rita) == []

    assert matching.rebuild_keys() == NameKey.objects.count()
    assert [s.candidate.pk for s in matching.suggest(subject, user=rita)] == [person.pk]


def test_the_best_candidate_is_found_among_more_namesakes_than_are_scored(
    subject, rita, lena, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(matching, "CANDIDATES", 20)
    Person.objects.bulk_create(
        Person(name=f"Aleksey Navalnenko{n}", birth_date="1976", created_by=lena) for n in range(60)
    )
    matching.rebuild_keys()
    wanted = PersonFactory(name="Alexei Navalny", birth_date="1976-06", created_by=lena)

    with django_assert_max_num_queries(8):
        suggestions = matching.suggest(subject, user=rita)

    assert suggestions[0].candidate == wanted
    assert suggestions[0].score == 100.0


def test_a_person_born_in_another_year_is_not_read_at_all(subject, rita, lena):
    other = PersonFactory(name="Alexei Navalny", birth_date="1980", created_by=lena)
    unknown = PersonFactory(name="Alexei Navalny", birth_date="", created_by=lena)

    assert matching._sharing_keys({"navalni"}, "1976", "person") == [unknown.pk]
    assert set(matching._sharing_keys({"navalni"}, "", "person")) == {other.pk, unknown.pk}
