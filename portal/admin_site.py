from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class PortalAdminSite(admin.AdminSite):
    """The review site: staff only, and only after a second factor in this session."""

    def has_permission(self, request):
        verified = getattr(request.user, "is_verified", lambda: False)()
        return super().has_permission(request) and verified


class PortalAdminConfig(AdminConfig):
    default_site = "portal.admin_site.PortalAdminSite"

    def ready(self):
        super().ready()  # loads every app's admin module
        from portal.admin import audit_admin_changes

        audit_admin_changes(admin.site)
