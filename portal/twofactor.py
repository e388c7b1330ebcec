"""
Two-factor authentication (TOTP, with single-use recovery codes) on top of django-otp.

Required for everyone who works in the review site (staff, reviewers, superusers); optional
for NGO members, and enforced for them too once they have set it up.
"""

import secrets

from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import audit

RECOVERY_CODES = 10
SESSION_KEY = "two_factor_required"


def is_required(user) -> bool:
    """Whether `user` must pass a second factor before using the portal."""
    return user.is_staff or user.is_superuser or user.is_reviewer or has_device(user)


def has_device(user) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def pending_totp(user) -> TOTPDevice:
    """Return the user's unconfirmed authenticator (created on first call), for enrolment."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def confirm_totp(device: TOTPDevice, token: str, *, by) -> list[str] | None:
    """Confirm an authenticator with a code from it; return fresh recovery codes, or None."""
    if not device.verify_token(token):
        return None
    TOTPDevice.objects.filter(user=by, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = reset_recovery_codes(by)
    audit.record(actor=by, action="user.two_factor_enabled", target=by)
    return codes


@transaction.atomic
def reset_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes; each works once. Shown to the user one time only."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name="Recovery codes", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    # Three groups of four hex digits (48 bits): fits django-otp's 16-character token field.
    codes = ["-".join(secrets.token_hex(2) for _ in range(3)) for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    audit.record(actor=user, action="user.recovery_codes_reset", target=user)
    return codes


def verify(user, token: str):
    """Return the device that accepts `token` (an app code or a recovery code), or None.

    Every attempt is audited, so that guessing shows in the log.
    """
    token = token.strip().replace(" ", "")
    for device in devices_for_user(user, confirmed=True):
        if device.verify_is_allowed()[0] and device.verify_token(token):
            audit.record(actor=user, action="user.two_factor_verified", target=user)
            return device
    audit.record(actor=user, action="user.two_factor_failed", target=user)
    return None
