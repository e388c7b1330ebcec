"""Permissions read in one query (portal.auth.PermissionsInOneQuery): the same as ModelBackend's."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission

from portal.auth import PermissionsInOneQuery
from portal.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    return User.objects.get(pk=user.pk)  # no permissions cached on it


def test_a_users_own_and_group_permissions_come_in_one_query(django_assert_num_queries):
    user = UserFactory()
    own = Permission.objects.get(codename="view_user")
    through_group = Permission.objects.get(codename="change_group")
    group = Group.objects.create(name="Permission test group")
    group.permissions.add(through_group, own)  # also the user's own: counted once
    user.groups.add(group)
    user.user_permissions.add(own)

    expected = ModelBackend().get_all_permissions(fresh(user))
    user = fresh(user)
    with django_assert_num_queries(1):
        found = PermissionsInOneQuery().get_all_permissions(user)
        assert user.has_perm("portal.view_user") and user.has_perm("auth.change_group")
        assert user.has_module_perms("auth") and not user.has_perm("auth.delete_group")
    assert found == expected == {"portal.view_user", "auth.change_group"}


def test_no_permissions_inactive_or_for_an_object_and_all_for_a_superuser():
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_user"))
    backend = PermissionsInOneQuery()
    assert backend.get_all_permissions(fresh(user), obj=user) == set()
    user.is_active = False
    user.save()
    assert backend.get_all_permissions(fresh(user)) == set()
    superuser = UserFactory(is_superuser=True)
    assert backend.get_all_permissions(fresh(superuser)) == ModelBackend().get_all_permissions(
        fresh(superuser)
    )
    assert len(backend.get_all_permissions(fresh(superuser))) == Permission.objects.count()


def test_it_signs_nobody_in_and_sessions_still_name_model_backend(client):
    user = UserFactory()
    password = "a long enough password 1"
    user.set_password(password)
    user.save()
    backend = PermissionsInOneQuery()
    assert backend.authenticate(None, username=user.email, password=password) is None
    assert not hasattr(backend, "get_user")  # so force_login and sessions pass it by
    client.force_login(user)
    assert client.session["_auth_user_backend"] == "django.contrib.auth.backends.ModelBackend"
