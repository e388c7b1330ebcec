"""Every change to users, organisations and memberships goes through these functions."""

from django.contrib.auth.models import Group
from django.db import transaction

from . import audit
from .models import LEAD_REVIEWERS_GROUP, REVIEWERS_GROUP, Membership, Organisation, User


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
