"""Sign-in helpers shared by the login form and django-axes, and the permissions backend."""

from django.contrib.auth.models import Permission
from django.db.models import Q


def lockout_username(request, credentials: dict | None) -> str:
    """
    The account a sign-in attempt is for, as django-axes counts it: the email address typed,
    in lower case, so that changing its case does not reset the count.
    """
    credentials = credentials or {}
    name = credentials.get("username") or credentials.get("email")
    if name is None and request is not None:
        name = request.POST.get("username", "")
    return (name or "").strip().lower()


class PermissionsInOneQuery:
    """
    The permissions of Django's ModelBackend, read in one query instead of two (the user's
    own, then their groups'): every admin page asks for them to build its menu. Kept, as
    ModelBackend keeps them, on the user object for the request, where ModelBackend (after
    this in AUTHENTICATION_BACKENDS) then finds them. It signs nobody in and loads no user
    (no get_user): sign-in and the sessions stay ModelBackend's.
    """

    def authenticate(self, request, **credentials):
        return None

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            permissions = Permission.objects.all()
            if not user_obj.is_superuser:
                permissions = permissions.filter(Q(user=user_obj) | Q(group__user=user_obj))
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in permissions.order_by().values_list(
                    "content_type__app_label", "codename"
                )
            }
        return user_obj._perm_cache

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return user_obj.is_active and perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        return user_obj.is_active and any(
            perm[: perm.index(".")] == app_label for perm in self.get_all_permissions(user_obj)
        )
