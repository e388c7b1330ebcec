"""Factories for the review site's tests (the shared ones are in tests/factories.py)."""

import hashlib
from datetime import timedelta

import factory
from django.utils import timezone

from reviews.models import Assignment, Person, Review, RubricScore
from submissions.models import Evidence, Source
from tests.factories import DossierFactory, SubjectFactory


class SubmittedDossierFactory(DossierFactory):
    """A dossier in the queue, made directly (for volume); tests of the path use services."""

    status = "submitted"
    submitted_at = factory.LazyFunction(timezone.now)


class PersonSubjectFactory(SubjectFactory):
    kind = "person"


class EvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evidence

    dossier = factory.SubFactory(SubmittedDossierFactory)
    kind = "file"
    original_name = factory.Sequence(lambda n: f"photo-{n}.jpg")
    size = 1024
    sha256 = factory.Sequence(lambda n: hashlib.sha256(str(n).encode()).hexdigest())
    content_type = "image/jpeg"
    reliability = "B"
    credibility = "2"
    provenance = "Taken by the witness, handed to the NGO on a USB stick."
    uploaded_by = factory.LazyAttribute(lambda o: o.dossier.created_by)


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    dossier = factory.SubFactory(SubmittedDossierFactory)
    pseudonym = factory.Sequence(lambda n: f"W-{n + 1}")
    kind = "witness"
    identity = "Maria Ivanova, born 1985, Kazan"
    contact = "+7 900 000 00 00"
    safety_notes = "Lives near the accused's relatives."


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    dossier = factory.SubFactory(SubmittedDossierFactory)
    assigned_by = factory.LazyAttribute(lambda o: o.reviewer)
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))


class ReviewFactory(factory.django.DjangoModelFactory):
    """A submitted review with the same score on every rubric line."""

    class Meta:
        model = Review
        skip_postgeneration_save = True

    recommendation = "approve"
    summary = "Well documented."
    submitted_at = factory.LazyFunction(timezone.now)

    score = 4  # given to every rubric line (not a model field: see _create)

    @factory.post_generation
    def scores(self, create, extracted, **kwargs):
        from reviews import rubric

        if create:
            RubricScore.objects.bulk_create(
                RubricScore(review=self, line=code, score=self._score, note="ok")
                for code in rubric.codes()
            )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        score = kwargs.pop("score", 4)
        review = super()._create(model_class, *args, **kwargs)
        review._score = score
        return review


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = "Ivan Petrov"
    name_original = "Иван Петров"
    birth_date = "1970-03"
    nationalities = ["RU"]
