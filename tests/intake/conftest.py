"""Shared setup for the intake tests: a small proof of work, fresh counters, a photo."""

import hashlib
import io
import re

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from PIL import Image

from portal.models import Organisation
from submissions.models import Regime, ViolationCategory
from submissions.uploads import uploaded_from_bytes

REPORTER_IP = "203.0.113.77"
REPORTER_AGENT = "UniqueReporterAgent/9.9 (intake-test)"


@pytest.fixture(autouse=True)
def _intake_settings(settings):
    settings.INTAKE_POW_BITS = 6
    caches["default"].clear()  # throttle counts and used challenges
    if django_settings.REDIS_URL:  # the counts live in Redis then: only the intake's keys go
        import redis

        client = redis.Redis.from_url(django_settings.REDIS_URL)
        for key in client.scan_iter("intake:*"):
            client.delete(key)


def solve(token: str, bits: int = 6) -> str:
    counter = 0
    while True:
        digest = hashlib.sha256(f"{token}:{counter}".encode()).digest()
        if int.from_bytes(digest, "big") >> (256 - bits) == 0:
            return str(counter)
        counter += 1


def challenge_of(response) -> str:
    return re.search(r'name="challenge" value="([^"]+)"', response.content.decode()).group(1)


def photo_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), (200, 10, 10))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (11.0, 33.0, 1.0), 3: "E", 4: (104.0, 55.0, 2.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def photo():
    return photo_with_gps()


@pytest.fixture
def receiving(org_a):
    """NGO A takes reports through the intake."""
    Organisation.objects.filter(pk=org_a.pk).update(
        accepts_intakes=True, intake_description="We document abuses in Cambodia."
    )
    org_a.refresh_from_db()
    return org_a


@pytest.fixture
def regimes(db):
    return list(Regime.objects.open_for_submissions().order_by("position", "name")[:2])


@pytest.fixture
def category(db):
    return ViolationCategory.objects.filter(in_scope=True).first()


@pytest.fixture
def filed(receiving, regimes, category, photo):
    """A report sent to NGO A with a photo, consent for two governments; (intake, code)."""
    from intake import services

    return services.file_intake(
        fields={
            "category": category,
            "happened_on": "2024-03",
            "country": "KH",
            "place": "Phnom Penh",
            "perpetrators": "Unit 7 of the police",
            "account": "They beat me at the market.",
            "reporter_role": "victim",
            "reporter_identity": "Sok Dara",
            "reporter_contact": "Signal +855 12 345 678",
        },
        organisation=receiving,
        consents=[(regimes[0], "anonymous"), (regimes[1], "named")],
        files=[uploaded_from_bytes(photo, "market.jpg")],
        language="km",
    )
