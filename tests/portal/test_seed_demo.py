import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError

from portal.management.commands.seed_demo import DEMO_PASSWORD
from portal.models import AuditEvent, Membership, Organisation, User
from submissions.models import Dossier


def _counts():
    return (
        User.objects.count(),
        Organisation.objects.count(),
        Membership.objects.count(),
        AuditEvent.objects.count(),
    )


def test_seed_demo_creates_one_user_per_role_and_is_idempotent(db, rf):
    call_command("seed_demo", "--force", stdout=open("/dev/null", "w"))  # noqa: SIM115
    first = _counts()
    call_command("seed_demo", "--force", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert _counts() == first
    assert first[:3] == (6, 2, 3)
    assert authenticate(rf.post("/"), username="member@demo.example", password=DEMO_PASSWORD)
    assert User.objects.get(email="reviewer@demo.example").is_reviewer
    assert User.objects.get(email="lead@demo.example").is_lead_reviewer
    assert User.objects.get(email="admin@demo.example").is_superuser
    assert Membership.objects.get(user__email="orgadmin@demo.example").role == "admin"
    statuses = dict(Dossier.objects.values_list("title", "status"))
    assert sorted(statuses.values()) == ["draft", "submitted"]
    submitted = Dossier.objects.get(status="submitted")
    assert submitted.evidence.count() == 2 and submitted.subjects.count() == 2


def test_seed_demo_refuses_outside_development(db):
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("seed_demo")
    assert User.objects.count() == 0
