"""Every change to users, organisations and memberships goes through these functions."""

import secrets
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit
from .models import (
    INVITATION_VALID_FOR,
    LEAD_REVIEWERS_GROUP,
    REVIEWERS_GROUP,
    Invitation,
    Membership,
    Organisation,
    User,
)


@transaction.atomic
def create_organisation(*, name: str, slug: str, by: User | None, **fields) -> Organisation:
    """Create an organisation that can file dossiers."""
    organisation = Organisation.objects.create(name=name, slug=slug, **fields)
    audit.record(actor=by, action="organisation.created", target=organisation)
    return organisation


@transaction.atomic
def add_member(
    organisation: Organisation, user: User, *, role: str = Membership.Role.MEMBER, by: User | None
) -> Membership:
    """Make `user` a member of `organisation` with `role`, or change the role they have."""
    membership, created = Membership.objects.update_or_create(
        organisation=organisation, user=user, defaults={"role": role}
    )
    audit.record(
        actor=by,
        action="membership.created" if created else "membership.changed",
        target=membership,
        data={"user": user.pk, "organisation": organisation.pk, "role": role},
    )
    return membership


@transaction.atomic
def grant_review_role(user: User, *, lead: bool = False, by: User | None) -> User:
    """Let `user` work in the review site as a reviewer (or lead reviewer)."""
    group = Group.objects.get(name=LEAD_REVIEWERS_GROUP if lead else REVIEWERS_GROUP)
    user.groups.add(group)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.__dict__.pop("_group_names", None)
    audit.record(actor=by, action="user.role_granted", target=user, data={"group": group.name})
    return user


# Invitations and removal: organisation admins manage who belongs to their organisation.


def _is_admin(organisation: Organisation, user: User | None) -> bool:
    return (
        user is not None
        and user.is_authenticated
        and Membership.objects.filter(
            organisation=organisation, user=user, role=Membership.Role.ADMIN
        ).exists()
    )


def _require_admin(organisation: Organisation, user: User | None) -> None:
    if not _is_admin(organisation, user):
        raise PermissionDenied


@transaction.atomic
def invite_member(
    organisation: Organisation,
    *,
    email: str,
    role: str,
    by: User,
    build_absolute_uri: Callable[[str], str] | None = None,
) -> Invitation:
    """
    Invite `email` to join `organisation` with `role` and email them a link after commit.

    A pending invitation to the same address is revoked and replaced. `build_absolute_uri`
    (usually `request.build_absolute_uri`) turns the link's path into a full URL; without it
    the email carries the path only.
    """
    _require_admin(organisation, by)
    email = User.objects.normalize_email((email or "").strip())
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(_("Enter a valid email address."), code="invalid_email") from None
    if role not in Membership.Role.values:
        raise ValidationError(_("Choose a role from the list."), code="invalid_role")
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise ValidationError(
            _("%(email)s is already a member of this organisation."),
            code="already_member",
            params={"email": email},
        )

    now = timezone.now()
    replaced = list(
        Invitation.objects.pending()
        .select_for_update()
        .filter(organisation=organisation, email__iexact=email)
    )
    for previous in replaced:
        Invitation.objects.filter(pk=previous.pk).update(revoked_at=now)
        audit.record(
            actor=by,
            action="invitation.revoked",
            target=previous,
            data={"organisation": organisation.pk, "reason": "replaced"},
        )

    raw_token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organisation=organisation,
        email=email,
        role=role,
        invited_by=by,
        token_hash=Invitation.hash_token(raw_token),
        expires_at=now + INVITATION_VALID_FOR,
    )
    audit.record(
        actor=by,
        action="invitation.created",
        target=invitation,
        data={
            "organisation": organisation.pk,
            "email": email,
            "role": role,
            "replaces": [previous.pk for previous in replaced],
        },
    )
    path = reverse("invitation-accept", args=[raw_token])
    link = build_absolute_uri(path) if build_absolute_uri else path
    # The raw token lives only in this callback and the email, never in the database.
    transaction.on_commit(partial(_send_invitation_email, invitation.pk, link))
    return invitation


def _send_invitation_email(invitation_id: int, link: str) -> None:
    invitation = (
        Invitation.objects.select_related("organisation", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None:  # deleted before the commit hook ran
        return
    context = {"invitation": invitation, "link": link}
    subject = _("Invitation to join %(organisation)s on the evidence portal") % {
        "organisation": invitation.organisation.name
    }
    body = render_to_string("portal/invitation_email.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])


def find_invitation(raw_token: str) -> Invitation:
    """Return the invitation for `raw_token` if it can still be accepted, else raise."""
    invitation = (
        Invitation.objects.select_related("organisation")
        .filter(token_hash=Invitation.hash_token(raw_token or ""))
        .first()
    )
    _check_usable(invitation)
    return invitation


def _check_usable(invitation: Invitation | None) -> None:
    if invitation is None:
        raise ValidationError(
            _("This invitation link is not valid. Check that you copied the whole link."),
            code="unknown",
        )
    if invitation.accepted_at is not None:
        raise ValidationError(_("This invitation has already been used."), code="used")
    if invitation.revoked_at is not None:
        raise ValidationError(
            _("This invitation was withdrawn. Ask your organisation admin for a new one."),
            code="revoked",
        )
    if invitation.is_expired:
        raise ValidationError(
            _("This invitation has expired. Ask your organisation admin for a new one."),
            code="expired",
        )


@transaction.atomic
def accept_invitation(
    raw_token: str, *, password: str | None = None, full_name: str = "", user: User | None = None
) -> Membership:
    """
    Accept an invitation: join the organisation with the invited role.

    With `user` (the signed-in person), their email must be the invited one. Without it, a new
    account is created for the invited address with `password` and `full_name`. Password
    problems are raised as a ValidationError keyed by "password".
    """
    invitation = (
        Invitation.objects.select_for_update()
        .filter(token_hash=Invitation.hash_token(raw_token or ""))
        .first()
    )
    _check_usable(invitation)
    organisation = invitation.organisation

    if user is not None and user.is_authenticated:
        if user.email.casefold() != invitation.email.casefold():
            raise ValidationError(
                _(
                    "This invitation was sent to another email address. Sign out, then open "
                    "the link again."
                ),
                code="wrong_user",
            )
        if Membership.objects.filter(organisation=organisation, user=user).exists():
            raise ValidationError(
                _("You are already a member of this organisation."), code="already_member"
            )
    else:
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise ValidationError(
                _(
                    "An account with this email address already exists. Sign in, then open "
                    "the link again."
                ),
                code="account_exists",
            )
        if not password:
            raise ValidationError({"password": _("Choose a password.")})
        full_name = (full_name or "").strip()
        candidate = User(email=invitation.email, full_name=full_name)
        try:
            password_validation.validate_password(password, user=candidate)
        except ValidationError as error:
            raise ValidationError({"password": error.error_list}) from None
        user = User.objects.create_user(invitation.email, password, full_name=full_name)
        audit.record(
            actor=user,
            action="user.created",
            target=user,
            data={"invitation": invitation.pk},
        )

    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit.record(
        actor=user,
        action="invitation.accepted",
        target=invitation,
        data={"organisation": organisation.pk, "user": user.pk, "role": invitation.role},
    )
    return add_member(organisation, user, role=invitation.role, by=user)


@transaction.atomic
def revoke_invitation(invitation: Invitation, *, by: User) -> Invitation:
    """Withdraw a pending invitation so that its link no longer works."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    _require_admin(invitation.organisation, by)
    if invitation.accepted_at is not None:
        raise ValidationError(
            _("This invitation has already been accepted."), code="already_accepted"
        )
    if invitation.revoked_at is not None:
        raise ValidationError(_("This invitation was already withdrawn."), code="already_revoked")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit.record(
        actor=by,
        action="invitation.revoked",
        target=invitation,
        data={"organisation": invitation.organisation_id},
    )
    return invitation


@transaction.atomic
def remove_member(membership: Membership, *, by: User) -> None:
    """Remove a person from an organisation; its last admin cannot be removed."""
    organisation = membership.organisation
    # Lock the admins' rows (in a fixed order) and decide on what is locked, so that two admins
    # removing each other at the same moment cannot leave the organisation without one.
    admins = dict(
        Membership.objects.select_for_update()
        .filter(organisation=organisation, role=Membership.Role.ADMIN)
        .order_by("pk")
        .values_list("pk", "user_id")
    )
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if by is None or not by.is_authenticated or by.pk not in admins.values():
        raise PermissionDenied
    if membership.pk in admins and len(admins) == 1:
        raise ValidationError(
            _(
                "An organisation needs at least one admin. Make another member an admin "
                "before removing this one."
            ),
            code="last_admin",
        )
    audit.record(
        actor=by,
        action="membership.removed",
        target=membership,
        data={
            "user": membership.user_id,
            "organisation": organisation.pk,
            "role": membership.role,
        },
    )
    membership.delete()


@transaction.atomic
def set_listed_publicly(organisation: Organisation, *, listed: bool, by: User) -> Organisation:
    """Let an organisation admin choose whether its name may appear on the transparency page."""
    _require_admin(organisation, by)
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if organisation.listed_publicly == listed:
        return organisation
    organisation.listed_publicly = listed
    organisation.save(update_fields=["listed_publicly"])
    audit.record(
        actor=by,
        action="organisation.listing_changed",
        target=organisation,
        data={"listed_publicly": listed},
    )
    if not listed:
        from transparency import tasks as transparency_tasks

        # Take the name off the public page now, not at the next daily snapshot.
        transparency_tasks.compute_snapshot.delay_on_commit()
    return organisation


def remember_language(user: User, language: str) -> None:
    """Keep the language a signed-in person chose: the portal's emails to them use it."""
    if language in dict(settings.LANGUAGES) and user.is_authenticated:
        User.objects.filter(pk=user.pk).exclude(language=language).update(language=language)
