"""
Two-factor authentication (an authenticator app, with single-use recovery codes) on django-otp.

Required for everyone who works in the review site (staff, reviewers, superusers) and for every
NGO member, as members open their organisation's sources (witness identities); enforced for
anyone else once they have set it up.

The devices are the portal's own (portal.models): the authenticator's secret is encrypted at
rest and recovery codes are kept only as keyed hashes. A confirmed authenticator is replaced
only with a code from it or a recovery code, or by an administrator's audited reset, of which
the owner is told by email.
"""

import secrets
from functools import partial, wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp import login as otp_login

from . import audit, links
from .models import AuthenticatorDevice, Membership, RecoveryCode, RecoveryCodeDevice, User

RECOVERY_CODES = 10
SESSION_KEY = "two_factor_required"


def can_open_sources(user) -> bool:
    """
    Whether `user` can read witness identities on the NGO pages.

    Every member of an organisation, whatever the role, opens the sources of its dossiers
    (submissions.views.source_edit shows identity, contact and safety notes).
    """
    return Membership.objects.filter(user=user).exists()


def is_required(user) -> bool:
    """Whether `user` must pass a second factor before using the portal."""
    return (
        user.is_staff
        or user.is_superuser
        or user.is_reviewer
        or can_open_sources(user)
        or has_device(user)
    )


def has_device(user) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def pending_authenticator(user) -> AuthenticatorDevice:
    """Return the user's authenticator being set up: one at most, however often asked."""
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=False).first()
    if device is not None:
        return device
    try:
        with transaction.atomic():
            return AuthenticatorDevice.objects.create(
                user=user, name="Authenticator app", confirmed=False
            )
    except IntegrityError:  # a concurrent request created it first
        return AuthenticatorDevice.objects.get(user=user, confirmed=False)


def confirm_authenticator(
    device: AuthenticatorDevice, token: str, *, by, current_token: str = ""
) -> list[str]:
    """
    Confirm an authenticator being set up with a code from it; return fresh recovery codes.

    If `by` already has a second factor, `current_token` must be a code from it (the current
    app or a recovery code): a password, or a session left open, is not enough to replace it.
    Raise ValidationError (keyed "token" or "current_token") and change nothing otherwise
    (failed attempts still count towards django-otp's throttling and are audited).
    """
    if device.confirmed or device.user_id != by.pk:
        raise ValidationError({"token": _("This authenticator is not being set up.")})
    token = _clean(token)
    wrong_code = ValidationError(
        {"token": _("That code is not right. Check the time on your phone.")}
    )
    # Checked first without using it up, so that a wrong current code costs the user no wait
    # for the new app's next code (and a right recovery code is not spent on a wrong new one).
    if not device.check_token(token):
        raise wrong_code
    replacing = has_device(by)
    if replacing and (not current_token or _verify_existing(by, current_token) is None):
        audit.record(actor=by, action="user.two_factor_replace_refused", target=by)
        raise ValidationError(
            {
                "current_token": _(
                    "Enter a code from your current authenticator app, or one of your "
                    "recovery codes, to replace it."
                )
            }
        )
    with transaction.atomic():
        if not device.verify_token(token):  # the step turned meanwhile: ask for the next one
            raise wrong_code
        AuthenticatorDevice.objects.filter(user=by, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = reset_recovery_codes(by)
        action = "user.two_factor_replaced" if replacing else "user.two_factor_enabled"
        audit.record(actor=by, action=action, target=by)
    return codes


def new_recovery_code() -> str:
    # Three groups of four hex digits: 48 bits, easy to copy by hand.
    return "-".join(secrets.token_hex(2) for _ in range(3))


@transaction.atomic
def reset_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes; each works once. Shown to the user one time only."""
    device, _created = RecoveryCodeDevice.objects.get_or_create(
        user=user, defaults={"name": "Recovery codes", "confirmed": True}
    )
    device.codes.all().delete()
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(device=device, code_hash=RecoveryCode.hash_of(code)) for code in codes
    )
    audit.record(actor=user, action="user.recovery_codes_reset", target=user)
    return codes


def _clean(token: str) -> str:
    return "".join(token.split())


def _verify_existing(user, token: str):
    token = _clean(token)
    for device in devices_for_user(user, confirmed=True):
        if device.verify_is_allowed()[0] and device.verify_token(token):
            return device
    return None


def verify(user, token: str):
    """Return the device that accepts `token` (an app code or a recovery code), or None.

    Every attempt is audited, so that guessing shows in the log.
    """
    device = _verify_existing(user, token)
    if device is not None:
        audit.record(actor=user, action="user.two_factor_verified", target=user)
    else:
        audit.record(actor=user, action="user.two_factor_failed", target=user)
    return device


def pass_second_factor(request, device) -> None:
    """Mark the session as verified with `device`, under a new session key."""
    otp_login(request, device)
    # A session id seen before the second factor (on a shared machine, in a log) must not
    # become a verified session.
    request.session.cycle_key()
    request.session[SESSION_KEY] = True


def verified_required(view):
    """Send a signed-in user who has not passed a second factor in this session to pass it."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_verified():
            target = "two_factor_verify" if has_device(request.user) else "two_factor_setup"
            return redirect_to_login(request.get_full_path(), reverse(target))
        return view(request, *args, **kwargs)

    return wrapper


@transaction.atomic
def reset_two_factor(user: User, *, by) -> int:
    """
    Remove `user`'s authenticator and recovery codes (an administrator's reset for a lost
    phone); audited, and the owner is told by email. Return how many devices were removed.

    The user sets up a new authenticator at the next sign-in.
    """
    _count, apps = AuthenticatorDevice.objects.filter(user=user).delete()
    _count, code_sets = RecoveryCodeDevice.objects.filter(user=user).delete()
    removed = apps.get(AuthenticatorDevice._meta.label, 0)
    removed_codes = code_sets.get(RecoveryCodeDevice._meta.label, 0)
    audit.record(
        actor=by,
        action="user.two_factor_reset",
        target=user,
        data={"devices_removed": removed + removed_codes},
    )
    transaction.on_commit(partial(_send_reset_email, user.pk, str(by) if by else ""))
    return removed + removed_codes


def _send_reset_email(user_id: int, by_label: str) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = _("Your two-factor sign-in was reset")
        body = _(
            "An administrator (%(admin)s) removed the authenticator app and recovery codes of "
            "your account %(email)s on the evidence portal. At your next sign-in you will be "
            "asked to set up an authenticator app again.\n\n"
            "If you did not ask for this, tell the portal's administrators at once: someone "
            "who knows your password could set up their own app."
        ) % {"admin": by_label or _("the system"), "email": user.email}
        body += "\n\n" + _("Sign in:") + f"\n{links.absolute(reverse('login'))}\n"
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
