"""The demo: the submitted demo dossier waits in triage, where the demo walk begins."""

from django.core.management import call_command

from portal.models import User
from reviews import services
from reviews.models import Assignment
from submissions.models import Dossier


def _seed_demo():
    call_command("seed_demo", "--force", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_seed_demo_leaves_the_submitted_dossier_in_triage_for_the_demo_reviewers(db):
    _seed_demo()
    _seed_demo()

    submitted = Dossier.objects.get(organisation__slug="demo-ngo", status="submitted")
    assert not Assignment.objects.exists()
    for email in ("reviewer@demo.example", "lead@demo.example"):
        user = User.objects.get(email=email)
        assert user.is_reviewer
        assert submitted in services.triage_queue(user)


def test_the_demo_walk_claims_reviews_and_decides_without_a_shell(db):
    _seed_demo()
    submitted = Dossier.objects.get(organisation__slug="demo-ngo", status="submitted")
    reviewer = User.objects.get(email="reviewer@demo.example")
    lead = User.objects.get(email="lead@demo.example")

    services.claim_dossier(submitted, by=reviewer)
    services.claim_dossier(submitted, by=lead)
    services.start_review(submitted, by=reviewer)

    assert not services.triage_queue(reviewer).exists()
    assert Assignment.objects.active().filter(dossier=submitted).count() == 2
