"""A subject that matches nobody known becomes a new canonical person (for packages)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portal.models import AuditEvent
from reviews import services
from reviews.models import SubjectLink


def test_a_reviewer_makes_a_new_person_from_an_unmatched_subject(in_review, rita):
    subject = in_review.subjects.get()

    person = services.create_person(subject, by=rita)

    assert (person.name, person.birth_date) == (subject.name, subject.birth_date)
    assert SubjectLink.objects.get(subject=subject).person == person
    assert AuditEvent.objects.filter(action="person.created", target_id=str(person.pk)).exists()


def test_a_linked_subject_gets_no_second_person(in_review, rita):
    subject = in_review.subjects.get()
    services.create_person(subject, by=rita)
    with pytest.raises(ValidationError):
        services.create_person(subject, by=rita)


def test_an_organisation_becomes_a_canonical_organisation(in_review, rita):
    subject = in_review.subjects.get()
    subject.kind = "entity"
    subject.save()

    record = services.create_person(subject, by=rita)

    assert record.kind == "entity" and record.name == subject.name


def test_only_reviewers_of_the_dossier_may(in_review, alice):
    with pytest.raises(PermissionDenied):
        services.create_person(in_review.subjects.get(), by=alice)


def test_the_matches_page_offers_it(in_review, rita, client):
    subject = in_review.subjects.get()
    url = f"/admin/submissions/dossier/{in_review.pk}/subjects/{subject.pk}/matches/"
    client.force_login(rita)
    assert "Make a new canonical person" in client.get(url).content.decode()

    response = client.post(url, {"verdict": "new"})

    assert response.status_code == 302
    assert SubjectLink.objects.filter(subject=subject).exists()
