"""
Encryption to the recipient (issue #20): a ministry's age key kept in admin; a delivery with it
hands over the bundle encrypted to it, which opens with the ministry's private key and not
without; when a package has a key, nothing readable leaves the portal.
"""

import io
from datetime import date

import pyrage
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from portal.models import AuditEvent
from reviews import packages
from reviews.models import BriefVersion, Delivery, RecipientKey
from reviews.verifier import verify as verifier
from submissions.models import Regime
from tests.reviews.test_packages import render


@pytest.fixture
def ministry_identity():
    """The ministry's private key: it never reaches the portal."""
    return pyrage.x25519.Identity.generate()


@pytest.fixture
def ministry_key(ministry_identity, lena):
    return packages.register_recipient_key(
        recipient="FCDO", label="Sanctions directorate",
        public_key=str(ministry_identity.to_public()), by=lena,
    )  # fmt: skip


@pytest.fixture
def encrypted_package(approved, lena, ministry_key):
    dossier, persons, _ = approved
    package = packages.create_package(
        regime=Regime.objects.get(key="GB-HR"), persons=persons, dossiers=[dossier], by=lena,
        recipient_key=ministry_key,
    )  # fmt: skip
    return packages.mark_ready(package, by=lena)


def deliver(package, version, lena, **extra):
    return packages.record_delivery(
        package, version, by=lena, delivered_on=date(2026, 12, 1),
        recipient="FCDO", channel="Secure email", **extra,
    )  # fmt: skip


def decrypt(delivery, identities) -> bytes:
    with delivery.encrypted_bundle.open("rb") as source:
        out = io.BytesIO()
        pyrage.decrypt_io(source, out, identities)
    return out.getvalue()


def test_a_recipient_key_is_validated_fingerprinted_and_audited(lena, ministry_key):
    assert ministry_key.fingerprint and len(ministry_key.fingerprint) == 64
    assert AuditEvent.objects.filter(
        action="recipient_key.registered", data__fingerprint=ministry_key.fingerprint
    ).exists()
    with pytest.raises(ValidationError, match="age1"):
        packages.register_recipient_key(
            recipient="FCDO", label="x", public_key="-----BEGIN PGP PUBLIC KEY", by=lena
        )


def test_an_encrypted_delivery_opens_with_the_ministrys_key_and_not_without(
    encrypted_package, lena, ministry_identity, ministry_key, django_capture_on_commit_callbacks,
    tmp_path,
):  # fmt: skip
    version = render(encrypted_package, lena, django_capture_on_commit_callbacks)
    delivery = deliver(encrypted_package, version, lena)
    assert delivery.recipient_key == ministry_key
    assert delivery.key_fingerprint == ministry_key.fingerprint
    with delivery.encrypted_bundle.open("rb") as handle:
        sealed = handle.read()
    assert sealed.startswith(b"age-encryption.org/v1")
    assert b"manifest.json" not in sealed and b"%PDF" not in sealed

    # with the ministry's private key: the very bundle, and it verifies
    opened = decrypt(delivery, [ministry_identity])
    with version.bundle.open("rb") as handle:
        assert opened == handle.read()
    bundle = tmp_path / "opened.zip"
    bundle.write_bytes(opened)
    assert verifier.verify(bundle).ok

    # with any other key: nothing
    with pytest.raises(pyrage.DecryptError):
        decrypt(delivery, [pyrage.x25519.Identity.generate()])
    event = AuditEvent.objects.get(action="package.delivered")
    assert event.data["encrypted_to"] == ministry_key.fingerprint


def test_a_package_with_a_key_is_delivered_only_encrypted_to_it(
    encrypted_package, lena, django_capture_on_commit_callbacks
):
    version = render(encrypted_package, lena, django_capture_on_commit_callbacks)
    other = packages.register_recipient_key(
        recipient="Other", label="x", public_key=str(pyrage.x25519.Identity.generate().to_public()),
        by=lena,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="only encrypted to"):
        deliver(encrypted_package, version, lena, recipient_key=other)
    assert not Delivery.objects.exists()


def test_a_plain_package_may_be_encrypted_for_one_delivery(
    package, lena, ministry_key, ministry_identity, django_capture_on_commit_callbacks
):
    version = render(package, lena, django_capture_on_commit_callbacks)
    plain = deliver(package, version, lena)
    assert not plain.encrypted_bundle and plain.key_fingerprint == ""
    sealed = deliver(package, version, lena, recipient_key=ministry_key)
    assert sealed.key_fingerprint == ministry_key.fingerprint
    assert decrypt(sealed, [ministry_identity]).startswith(b"PK")


def test_a_deactivated_key_is_not_used(package, lena, ministry_key,
                                       django_capture_on_commit_callbacks):  # fmt: skip
    version = render(package, lena, django_capture_on_commit_callbacks)
    packages.deactivate_recipient_key(ministry_key, by=lena)
    with pytest.raises(ValidationError, match="no longer active"):
        deliver(package, version, lena, recipient_key=RecipientKey.objects.get())


def test_admin_serves_no_readable_file_of_an_encrypted_package(
    client, lena, encrypted_package, ministry_identity, django_capture_on_commit_callbacks
):
    client.force_login(lena)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:reviews_package_render", args=[encrypted_package.pk]))
    version = BriefVersion.objects.get()
    for kind in ("pdf", "manifest", "bundle"):
        url = reverse("admin:reviews_package_download", args=[encrypted_package.pk, 1, kind])
        response = client.get(url)
        assert response.status_code == 302 and not hasattr(response, "streaming_content")
    assert not AuditEvent.objects.filter(action="brief.downloaded").exists()

    response = client.post(
        reverse("admin:reviews_package_deliver", args=[encrypted_package.pk]),
        {"version": version.pk, "delivered_on": "2026-12-01", "recipient": "FCDO",
         "channel": "Secure email", "recipient_key": encrypted_package.recipient_key.pk},
    )  # fmt: skip
    assert response.status_code == 302
    delivery = Delivery.objects.get()
    page = client.get(reverse("admin:reviews_package_change", args=[encrypted_package.pk]))
    url = reverse("admin:reviews_package_delivery_download",
                  args=[encrypted_package.pk, delivery.pk])  # fmt: skip
    assert url in page.text
    sealed = b"".join(client.get(url).streaming_content)
    assert sealed.startswith(b"age-encryption.org/v1")
    out = io.BytesIO()
    pyrage.decrypt_io(io.BytesIO(sealed), out, [ministry_identity])
    assert out.getvalue().startswith(b"PK")


def test_only_lead_reviewers_see_recipient_keys(client, rita, lena, ministry_key):
    client.force_login(rita)
    assert client.get(reverse("admin:reviews_recipientkey_changelist")).status_code == 403
    client.force_login(lena)
    response = client.post(
        reverse("admin:reviews_recipientkey_add"),
        {"recipient": "OFAC", "label": "Desk", "public_key": "not a key"},
    )
    assert response.status_code == 200 and "age1" in response.text
    public = str(pyrage.x25519.Identity.generate().to_public())
    response = client.post(
        reverse("admin:reviews_recipientkey_add"),
        {"recipient": "OFAC", "label": "Desk", "public_key": public},
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="recipient_key.registered", actor=lena).count() == 2
