"""
The review queue's filter choices, kept in the shared cache instead of queried on each page
view (submissions.dashboard.versioned): regimes, categories and organisations until the GLOBAL
version moves (a save of any of them), reviewers until REVIEWERS moves (a change of someone's
groups, activity, name or memberships).
"""

from django.contrib import admin
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import gettext_lazy as _

from portal.models import Membership, Organisation, User
from submissions.dashboard import GLOBAL, changed, versioned
from submissions.models import Regime, ViolationCategory

REVIEWERS = "reviewers"  # the version of who may review

__all__ = ["REVIEWERS", "versioned"]


def regime_choices() -> list[tuple[str, str]]:
    return versioned("regime-choices", lambda: list(Regime.objects.values_list("key", "name")))


def category_choices() -> list[tuple[str, str]]:
    return versioned(
        "category-choices",
        lambda: list(ViolationCategory.objects.filter(in_scope=True).values_list("code", "name")),
    )


def organisation_choices() -> list[tuple[str, str]]:
    return versioned(
        "organisation-choices",
        lambda: [
            (str(pk), name)
            for pk, name in Organisation.objects.order_by("name").values_list("pk", "name")
        ],
    )


class OrganisationFilter(admin.SimpleListFilter):
    """The organisation that filed; the same parameter as Django's related-field filter."""

    title = _("organisation")
    parameter_name = "organisation__id__exact"

    def lookups(self, request, model_admin):
        return organisation_choices()

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(organisation_id=value) if value.isdigit() else queryset.none()


def _global_changed(sender, **kwargs):
    changed(GLOBAL)


def _user_saved(sender, instance, update_fields=None, **kwargs):
    if update_fields is not None and set(update_fields) <= {"last_login", "password"}:
        return  # a sign-in changes nobody's right to review
    changed(REVIEWERS)


def _reviewers_changed(sender, **kwargs):
    changed(REVIEWERS)


def connect() -> None:
    for signal in (post_save, post_delete):
        for model in (ViolationCategory, Organisation):
            signal.connect(
                _global_changed, sender=model, dispatch_uid=f"choices-{model.__name__}-{signal}"
            )
        signal.connect(_user_saved, sender=User, dispatch_uid=f"choices-user-{signal}")
        signal.connect(_reviewers_changed, sender=Membership, dispatch_uid=f"choices-m-{signal}")
    m2m_changed.connect(
        _reviewers_changed, sender=User.groups.through, dispatch_uid="choices-user-groups"
    )
