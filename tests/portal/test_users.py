import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.db import IntegrityError

from portal.models import LEAD_REVIEWERS_GROUP, REVIEWERS_GROUP, User
from tests.factories import PASSWORD, MembershipFactory


def test_groups_for_reviewer_roles_exist_after_migrating(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {
        REVIEWERS_GROUP,
        LEAD_REVIEWERS_GROUP,
    }


def test_sign_in_with_email_in_any_case(alice, rf):
    request = rf.post("/accounts/login/")
    assert authenticate(request, username="ALICE@Org-A.example", password=PASSWORD) == alice
    assert authenticate(request, username="alice@org-a.example", password="wrong") is None


def test_email_is_unique_regardless_of_case(alice):
    with pytest.raises(IntegrityError):
        User.objects.create_user("Alice@ORG-A.example", PASSWORD)


def test_one_membership_per_user_and_organisation(alice, org_a):
    with pytest.raises(IntegrityError):
        MembershipFactory(user=alice, organisation=org_a)


def test_roles_follow_groups(alice, rita, lena):
    assert (alice.is_reviewer, alice.is_lead_reviewer) == (False, False)
    assert (rita.is_reviewer, rita.is_lead_reviewer, rita.is_staff) == (True, False, True)
    assert (lena.is_reviewer, lena.is_lead_reviewer, lena.is_staff) == (True, True, True)


def test_deactivated_reviewer_loses_the_role(rita):
    rita.is_active = False
    assert not rita.is_reviewer


def test_organisation_knows_its_members(alice, mallory, org_a):
    assert org_a.has_member(alice)
    assert not org_a.has_member(mallory)
