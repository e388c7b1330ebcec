from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import audit, twofactor
from .models import AuditEvent, AuthenticatorDevice, Invitation, Membership, Organisation, User


class AuditedAdminMixin:
    """
    Record in the audit log every addition, change and deletion made through this ModelAdmin,
    with the before and after values of `audit_fields` (never secrets such as device keys or
    password hashes). Django admin calls these log_* hooks inside the change's transaction.
    """

    audit_fields: list[str] = []

    def audit_snapshot(self, obj) -> dict:
        snapshot = {}
        for name in self.audit_fields:
            field = obj._meta.get_field(name)
            if field.many_to_many:
                snapshot[name] = sorted(str(o) for o in getattr(obj, name).all()) if obj.pk else []
            else:
                value = getattr(obj, name)
                snapshot[name] = value if isinstance(value, bool | int | None) else str(value)
        return snapshot

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj._audit_before = self.audit_snapshot(obj)  # as stored, before the form changes it
        return obj

    def _audit(self, request, obj, verb: str, message, *, before=None, after=None) -> None:
        data = {"via": "admin", "model": obj._meta.label_lower}
        if message:
            data["changes"] = message
        if before is not None and after is not None:
            changed = sorted(k for k in after if before.get(k) != after.get(k))
            data["before"] = {k: before.get(k) for k in changed}
            data["after"] = {k: after[k] for k in changed}
        elif after is not None:
            data["after"] = after
        elif before is not None:
            data["before"] = before
        audit.record(
            actor=request.user, action=f"{obj._meta.model_name}.{verb}", target=obj, data=data
        )

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._audit(request, obj, "added_in_admin", message, after=self.audit_snapshot(obj))
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        before = getattr(obj, "_audit_before", None)
        self._audit(
            request,
            obj,
            "changed_in_admin",
            message,
            before=before,
            after=self.audit_snapshot(obj) if before is not None else None,
        )
        if before is not None:
            obj._audit_before = self.audit_snapshot(obj)  # a second change in the same request
        return entry

    def log_deletions(self, request, queryset):
        entries = super().log_deletions(request, queryset)
        for obj in queryset:
            self._audit(request, obj, "deleted_in_admin", "", before=self.audit_snapshot(obj))
        return entries


def audit_admin_changes(site) -> None:
    """
    Make the admins of groups and of every two-factor device model (whichever plugin or app
    registered them) audited, once every app's admin module is loaded (PortalAdminConfig).
    """
    from django.contrib.auth.models import Group
    from django_otp.models import Device

    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, AuditedAdminMixin):
            continue
        if model is Group:
            fields = ["name", "permissions"]
        elif issubclass(model, Device):
            names = {f.name for f in model._meta.get_fields()}
            fields = [n for n in ("user", "name", "confirmed") if n in names]
        else:
            continue
        audited = type(
            f"Audited{type(model_admin).__name__}",
            (AuditedAdminMixin, type(model_admin)),
            {"audit_fields": fields, "__module__": __name__},
        )
        site.unregister(model)
        site.register(model, audited)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    audit_fields = [
        "email",
        "full_name",
        "is_active",
        "is_staff",
        "is_superuser",
        "groups",
        "user_permissions",
    ]

    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["full_name"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    readonly_fields = ["last_login", "date_joined"]
    actions = ["reset_two_factor"]

    @admin.action(
        description=_("Reset two-factor sign-in (lost phone): remove app and recovery codes"),
        permissions=["reset_two_factor"],
    )
    def reset_two_factor(self, request, queryset):
        count = 0
        for user in queryset:
            if twofactor.reset_two_factor(user, by=request.user):
                count += 1
        self.message_user(
            request,
            ngettext(
                "Two-factor sign-in reset for %(count)d user; they were told by email.",
                "Two-factor sign-in reset for %(count)d users; they were told by email.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def has_reset_two_factor_permission(self, request) -> bool:
        # Whoever can reset a lead reviewer's second factor can take over the account with
        # its password: superusers only (who pass a second factor to reach this site).
        return request.user.is_superuser


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_fields = ["name", "slug", "country", "website", "listed_publicly"]

    def audit_snapshot(self, obj) -> dict:
        snapshot = super().audit_snapshot(obj)
        # Memberships are edited here (the inline): who belongs, with which role.
        snapshot["memberships"] = (
            sorted(f"{m.user} ({m.role})" for m in obj.memberships.select_related("user"))
            if obj.pk
            else []
        )
        return snapshot

    list_display = ["name", "slug", "country", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["sequence", "created_at", "actor_label", "action", "target_label"]
    list_filter = ["action"]
    search_fields = ["action", "target_label", "actor_label"]
    list_select_related = ["target_type"]
    show_full_result_count = False  # the log grows without bound: no COUNT(*) per page
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations are made, accepted and withdrawn on the portal's pages; here they are shown."""

    list_display = [
        "email",
        "organisation",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]
    list_filter = ["role"]
    list_select_related = ["organisation", "invited_by"]
    search_fields = ["email", "organisation__name"]
    exclude = ["token_hash"]
    readonly_fields = [
        "organisation",
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]

    def has_add_permission(self, request):
        return False  # an invitation made here would have no emailed link

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # withdraw it instead, which the audit log records


@admin.register(AuthenticatorDevice)
class AuthenticatorDeviceAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Who has an authenticator app, and since when; never the secret. Reset on the user."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]
    readonly_fields = fields
    audit_fields = ["user", "name", "confirmed"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the audited reset on the user, which also tells the owner
