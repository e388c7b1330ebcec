"""The demo: the demo reviewer and lead are assigned to the demo NGO's open dossiers."""

from django.core.management import call_command

from portal.models import User
from reviews import demo
from reviews.models import Assignment
from submissions.models import Dossier


def _seed_demo():
    call_command("seed_demo", "--force", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_seeding_reviews_without_users_or_dossiers_does_nothing(db):
    assert demo.seed() == 0
    assert not Assignment.objects.exists()


def test_seed_demo_assigns_the_reviewer_and_the_lead_to_the_submitted_dossier_once(db):
    _seed_demo()
    _seed_demo()

    submitted = Dossier.objects.get(organisation__slug="demo-ngo", status="submitted")
    assigned = set(Assignment.objects.values_list("dossier_id", "reviewer__email"))
    assert assigned == {
        (submitted.pk, "reviewer@demo.example"),
        (submitted.pk, "lead@demo.example"),
    }
    assert demo.seed() == 0
    assert User.objects.get(email="reviewer@demo.example").is_reviewer
