"""
Evidence details downstream (#21): the review site shows translations and a file's public
address; the brief's annex names a translation's original by its stable reference, says only
"not included" when that original is withheld, and honours the NGO's choice on metadata.
"""

import datetime
import io
import json
import zipfile

import pytest
from PIL import Image

from reviews import briefs, packages, sample_case
from reviews.models import BriefVersion
from submissions.models import Evidence
from tests.conftest import with_authenticator
from tests.reviews.conftest import submit_review
from tests.reviews.test_admin import _fill_dossier, change_url
from tests.reviews.test_brief_content import flat, pdftotext


@pytest.mark.parametrize("rows", [20, 200])
def test_the_review_page_shows_translations_in_bounded_queries(
    client, in_review, rita, rows, settings, django_assert_max_num_queries
):
    settings.VERSIONED_CACHE = True
    _fill_dossier(in_review, rows)
    exhibits = list(in_review.evidence.order_by("pk"))
    for n, exhibit in enumerate(exhibits):
        exhibit.reference = f"D{in_review.pk}-E{n + 1}"
        exhibit.translation_of = exhibits[n - 1] if n else None
        exhibit.url = f"https://news.example/{n}" if n == 1 else ""
    Evidence.objects.bulk_update(exhibits, ["reference", "translation_of", "url"])
    submit_review(in_review, rita)
    client.force_login(rita)
    client.get(change_url(in_review))

    with django_assert_max_num_queries(27):
        response = client.get(change_url(in_review))

    text = response.content.decode()
    assert f"Translation of D{in_review.pk}-E{rows - 1}" in text
    assert "https://news.example/1" in text  # a file exhibit's public address


@pytest.fixture
def case(db):
    case = sample_case.build(slug_prefix="x")
    d1 = case.dossiers["x-mekong"]
    member = d1.created_by
    photo = d1.evidence.get(original_name="barracks.jpg")
    statement = d1.evidence.get(original_name="guard.pdf")  # its witness consents to the UK
    medical = d1.evidence.get(original_name="med.pdf")
    survivor = photo.source  # consents to every government
    at = datetime.datetime(2025, 3, 1, 10, 30, tzinfo=datetime.UTC)
    # Exhibits are added here without the services: the sample dossiers are no longer drafts.
    case.caption = Evidence.objects.create(
        dossier=d1, kind="link", url="https://x.example/caption", captured_at=at,
        description="English caption of the barracks photograph", translation_of=photo,
        uploaded_by=member,
    )  # fmt: skip
    case.unsourced = Evidence.objects.create(
        dossier=d1, kind="link", url="https://x.example/guard-en", captured_at=at,
        description="CANARY-TRANSLATION of the guard's statement", translation_of=statement,
        uploaded_by=member,
    )  # fmt: skip
    case.vouched = Evidence.objects.create(
        dossier=d1, kind="link", url="https://x.example/guard-summary", captured_at=at,
        description="Summary translated and confirmed by the survivor",
        translation_of=statement, source=survivor, uploaded_by=member,
    )  # fmt: skip
    Evidence.objects.filter(pk=medical.pk).update(
        url="https://clinic.example/report",
        captured_at=at,
        archive_url="https://web.archive.org/web/2025/https://clinic.example/report",
    )
    Evidence.objects.filter(pk=photo.pk).update(keep_metadata_in_copies=True)
    case.photo, case.statement, case.medical = photo, statement, medical
    sample_case.make_packages(case)
    return case


def render(case, key, capture):
    with capture(execute=True):
        version = packages.request_render(case.packages[key], by=case.lead)
    version = BriefVersion.objects.get(pk=version.pk)
    assert version.status == "done", version.error
    with version.pdf.open("rb") as handle:
        text = flat(pdftotext(handle.read()))
    with version.manifest.open("rb") as handle:
        manifest = json.loads(handle.read())
    with version.bundle.open("rb") as handle:
        bundle = handle.read()
    return text, manifest, bundle


def test_the_annex_names_originals_and_never_a_withheld_one(
    case, django_capture_on_commit_callbacks
):
    photo_ref, statement_ref = case.photo.reference, case.statement.reference
    us_text, us_manifest, us_bundle = render(case, "US-GLOMAG", django_capture_on_commit_callbacks)
    uk_text, uk_manifest, _bundle = render(case, "GB-HR", django_capture_on_commit_callbacks)

    # An included original is named by its stable reference.
    assert f"Translation of {photo_ref}." in us_text
    entries = {e["number"]: e for e in us_manifest["exhibits"]}
    assert entries[case.caption.reference]["translation_of"] == photo_ref
    # The guard's statement is withheld from the US: every translation of it is withheld with
    # it, the one that a consenting source vouched for too (it carries the guard's testimony).
    assert "CANARY-TRANSLATION" not in us_text
    assert "CANARY-TRANSLATION" not in json.dumps(us_manifest)
    assert case.unsourced.reference not in entries
    assert case.vouched.reference not in entries
    assert "confirmed by the survivor" not in us_text
    assert statement_ref not in us_text and statement_ref not in json.dumps(us_manifest)
    # The UK has the witness's consent: both translations name their original.
    assert uk_text.count(f"Translation of {statement_ref}.") == 2
    assert "CANARY-TRANSLATION" in uk_text
    assert {e["number"] for e in uk_manifest["exhibits"]} >= {case.unsourced.reference}

    # A file exhibit carries its public address and capture record into the annex.
    assert "https://clinic.example/report" in us_text
    archived = "https://web.archive.org/web/2025/https://clinic.example/report"
    assert archived in us_text.replace(" ", "")  # (a long address wraps in the PDF)
    medical = entries[case.medical.reference]
    assert medical["url"] == "https://clinic.example/report" and medical["file"]

    # The NGO chose to send the photo's metadata: the copy in the bundle is the original.
    photo = entries[photo_ref]
    assert photo["metadata_removed"] is False
    assert photo["sha256"] == photo["original_sha256"] == case.photo.sha256
    with zipfile.ZipFile(io.BytesIO(us_bundle)) as archive:
        image = Image.open(io.BytesIO(archive.read(photo["file"])))
        assert image.getexif().get_ifd(0x8825)  # the GPS position travels, as chosen
        medical_copy = archive.read(medical["file"])
    assert b"Field researcher" not in medical_copy  # the others are still stripped
    assert "this copy keeps the file's metadata" in us_text


def test_the_default_strips_and_the_choice_keeps_in_prepare_copies(case):
    package = case.packages["US-GLOMAG"]
    content = briefs.assemble(package, version=1)
    photo = next(e for e in content.exhibits if e.evidence.pk == case.photo.pk)
    assert photo.copy_sha256 == case.photo.sha256  # kept, as the NGO chose
    kept = [w for w in content.warnings if w["kind"] == "metadata_kept"]
    assert [w["exhibit"] for w in kept] == [photo.number]  # and the lead is told
    Evidence.objects.filter(pk=case.photo.pk).update(keep_metadata_in_copies=False)
    content = briefs.assemble(package, version=1)
    photo = next(e for e in content.exhibits if e.evidence.pk == case.photo.pk)
    assert photo.copy and photo.copy_sha256 != case.photo.sha256
    assert not Image.open(io.BytesIO(photo.copy)).getexif().get_ifd(0x8825)


def test_the_ngo_choice_is_shown_to_reviewers(client, case):
    client.force_login(with_authenticator(case.lead))
    d1 = case.dossiers["x-mekong"]
    response = client.get(change_url(d1))
    assert response.status_code == 200, response
    text = response.content.decode()
    assert "The organisation chose to send this file's metadata" in text
    assert f"Translation of {case.photo.reference}" in text
