from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import twofactor
from .models import AuditEvent, AuthenticatorDevice, Invitation, Membership, Organisation, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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
class OrganisationAdmin(admin.ModelAdmin):
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
class AuthenticatorDeviceAdmin(admin.ModelAdmin):
    """Who has an authenticator app, and since when; never the secret. Reset on the user."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the audited reset on the user, which also tells the owner
