"""The brief speaks the language chosen for its package, whatever the lead reviewer's own."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from reviews import packages
from reviews.models import Package
from tests.reviews.test_packages import pdf_text, render


def _japanese(text: str) -> str:
    with translation.override("ja"):
        return translation.gettext(text)


def test_a_japanese_brief_is_written_in_japanese(package, lena, django_capture_on_commit_callbacks):
    Package.objects.filter(pk=package.pk).update(status="draft")  # the fixture marked it ready
    packages.update_package(
        package,
        by=lena,
        recipient=package.recipient,
        cover_note=package.cover_note,
        handling_marking=package.handling_marking,
        persons=package.persons.all(),
        dossiers=package.dossiers.all(),
        language="ja",
    )
    packages.mark_ready(package, by=lena)
    title = _japanese("Submission for targeted sanctions")
    assert title != "Submission for targeted sanctions"

    with translation.override("en"):  # the lead reviewer works in English
        version = render(package, lena, django_capture_on_commit_callbacks)
    assert version.status == "done", version.error
    with version.pdf.open("rb") as pdf:
        text = pdf_text(pdf.read())
    assert title.replace(" ", "") in text.replace(" ", "")
    assert "Submission for targeted sanctions" not in text
    assert translation.get_language() == "en"  # the override did not leak


def test_english_is_the_default_and_unknown_languages_are_refused(package, lena):
    assert package.language == "en"
    Package.objects.filter(pk=package.pk).update(status="draft")
    with pytest.raises(ValidationError):
        packages.update_package(
            package,
            by=lena,
            recipient="",
            cover_note="",
            handling_marking=package.handling_marking,
            persons=package.persons.all(),
            dossiers=package.dossiers.all(),
            language="xx",
        )
