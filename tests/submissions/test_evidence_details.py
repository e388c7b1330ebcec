"""
Evidence details that matter downstream (#21): a translation names its original, a file may
carry its public address, a photo's GPS position and device are shown with a warning and the
choice to send them.
"""

import datetime

import pytest
from django.urls import reverse

from portal.models import AuditEvent
from reviews.sample_case import jpeg_with_gps, pdf_with_author
from submissions import services, tasks
from submissions.models import Evidence
from submissions.uploads import uploaded_from_bytes
from tests.factories import DossierFactory

from .test_evidence import jpeg_bytes

GPS_METADATA = {
    "width": 640,
    "height": 480,
    "format": "JPEG",
    "exif": {
        "Make": "Canon",
        "Model": "Canon EOS 5D",
        "GPS": {"latitude": 11.562108, "longitude": 104.888535},
    },
}


@pytest.fixture
def dossier(alice, org_a):
    return DossierFactory(organisation=org_a, created_by=alice)


def exhibit(dossier, user, name, content=None, **fields):
    return services.attach_evidence_file(
        dossier,
        by=user,
        upload=uploaded_from_bytes(content or pdf_with_author(name), name),
        details=fields,
    )


def edit(client, dossier, evidence, **data):
    url = reverse("submissions:evidence-edit", args=[dossier.reference, evidence.pk])
    return client.post(url, {"reliability": "B", "credibility": "2", **data})


# A translation links to its original


def test_a_translation_names_its_original_on_every_page_of_the_ngo(client, alice, dossier):
    original = exhibit(dossier, alice, "statement-km.pdf", description="Statement in Khmer")
    english = exhibit(dossier, alice, "statement-en.pdf", description="English translation")
    client.force_login(alice)

    response = edit(client, dossier, english, translation_of=original.pk)

    assert response.status_code == 302
    english.refresh_from_db()
    assert english.translation_of == original
    event = AuditEvent.objects.filter(action="evidence.updated").latest("pk")
    assert event.data["translation_of"] == original.reference
    wanted = f"Translation of {original.reference}"
    listing = client.get(reverse("submissions:evidence-list", args=[dossier.reference]))
    assert wanted in listing.content.decode()
    page = client.get(reverse("submissions:evidence-edit", args=[dossier.reference, english.pk]))
    assert original.reference in page.content.decode()
    detail = client.get(dossier.get_absolute_url())
    assert f"translation of {original.reference}" in detail.content.decode()


def test_only_exhibits_of_the_same_dossier_can_be_the_original(
    client, alice, mallory, org_b, dossier
):
    elsewhere = DossierFactory(organisation=org_b, created_by=mallory)
    foreign = exhibit(elsewhere, mallory, "CANARY-ORG-B-witness.pdf", description="CANARY-B")
    sibling = DossierFactory(organisation=dossier.organisation, created_by=alice)
    other_case = exhibit(sibling, alice, "other-case.pdf")
    mine = exhibit(dossier, alice, "mine.pdf")
    client.force_login(alice)

    form_page = client.get(reverse("submissions:evidence-edit", args=[dossier.reference, mine.pk]))
    text = form_page.content.decode()
    assert "CANARY-ORG-B-witness" not in text and "other-case.pdf" not in text
    for other in (foreign, other_case):
        response = edit(client, dossier, mine, translation_of=other.pk)
        assert response.status_code == 200  # the form is shown again with the error
        assert "Select a valid choice" in response.content.decode()
        mine.refresh_from_db()
        assert mine.translation_of is None
    # the service itself refuses, whatever calls it
    with pytest.raises(services.PermissionDenied):
        services.update_evidence(mine, by=alice, fields={"translation_of": foreign})


def test_a_translation_cannot_loop_back_to_itself(client, alice, dossier):
    first = exhibit(dossier, alice, "first.pdf")
    second = exhibit(dossier, alice, "second.pdf")
    services.update_evidence(second, by=alice, fields={"translation_of": first})
    client.force_login(alice)

    response = edit(client, dossier, first, translation_of=second.pk)

    assert response.status_code == 200
    assert "cannot be a translation of itself" in response.content.decode()
    first.refresh_from_db()
    assert first.translation_of is None


# A file exhibit may carry its public address and capture record


def test_a_file_exhibit_carries_its_public_address(client, alice, dossier):
    video = exhibit(dossier, alice, "video.pdf")
    client.force_login(alice)

    response = edit(
        client,
        dossier,
        video,
        url="https://news.example/2025/raid",
        captured_at="2025-03-01T10:30",
        archive_url="https://web.archive.org/web/2025/https://news.example/2025/raid",
    )

    assert response.status_code == 302
    video.refresh_from_db()
    assert video.url == "https://news.example/2025/raid"
    assert video.captured_at.date() == datetime.date(2025, 3, 1)
    assert video.archive_url.startswith("https://web.archive.org/")
    listing = client.get(reverse("submissions:evidence-list", args=[dossier.reference]))
    assert "https://news.example/2025/raid" in listing.content.decode()


def test_a_web_item_still_needs_its_address(client, alice, dossier):
    link = services.attach_evidence_link(
        dossier,
        by=alice,
        details={
            "url": "https://x.example/p",
            "captured_at": datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC),
        },
    )
    client.force_login(alice)
    response = edit(client, dossier, link, url="", captured_at="2025-01-01T00:00")
    assert response.status_code == 200
    link.refresh_from_db()
    assert link.url == "https://x.example/p"


# GPS and device metadata: shown with a warning, and the choice of what leaves the portal


def test_a_photo_with_gps_is_shown_with_a_warning_and_the_choice(client, alice, dossier):
    photo = exhibit(dossier, alice, "scene.jpg", content=jpeg_bytes())
    Evidence.objects.filter(pk=photo.pk).update(metadata=GPS_METADATA)
    plain = exhibit(dossier, alice, "plain.pdf")
    client.force_login(alice)

    listing = client.get(reverse("submissions:evidence-list", args=[dossier.reference]))
    text = " ".join(listing.content.decode().split())
    assert "This file carries a GPS position (11.562108, 104.888535)." in text
    assert "It names the camera or phone that made it: Canon EOS 5D." in text
    assert "Copies that leave the portal (for governments) are stripped of it" in text
    assert text.count("data-metadata-warning") == 1  # the plain PDF has none

    url = reverse("submissions:evidence-edit", args=[dossier.reference, photo.pk])
    page = " ".join(client.get(url).content.decode().split())
    assert "11.562108, 104.888535" in page and 'name="keep_metadata_in_copies"' in page
    plain_page = client.get(
        reverse("submissions:evidence-edit", args=[dossier.reference, plain.pk])
    )
    assert 'name="keep_metadata_in_copies"' not in plain_page.content.decode()

    assert edit(client, dossier, photo, keep_metadata_in_copies="on").status_code == 302
    photo.refresh_from_db()
    assert photo.keep_metadata_in_copies is True
    event = AuditEvent.objects.filter(action="evidence.updated").latest("pk")
    assert event.data["keep_metadata_in_copies"] is True
    listing = client.get(reverse("submissions:evidence-list", args=[dossier.reference]))
    assert "You chose to send this metadata with the copies" in listing.content.decode()
    # unticking puts the default back: stripped
    assert edit(client, dossier, photo).status_code == 302
    photo.refresh_from_db()
    assert photo.keep_metadata_in_copies is False


def test_the_metadata_read_on_upload_drives_the_warning(dossier, alice):
    photo = exhibit(dossier, alice, "barracks.jpg", content=jpeg_with_gps())
    tasks.extract_evidence_metadata(photo.pk)
    photo.refresh_from_db()
    assert photo.location and {"latitude", "longitude"} <= set(photo.location)
    assert photo.identifying_metadata
