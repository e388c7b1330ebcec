"""Subjects are screened against published designations as soon as their dossier is submitted."""

from designations.models import ScreeningMatch
from submissions import services as submission_services
from tests.designations.conftest import ftm_sanction
from tests.designations.test_outcomes import import_volkov
from tests.factories import DossierFactory, SubjectFactory, make_ready_to_submit


def test_submitting_a_dossier_screens_its_subjects(
    org_a, alice, tmp_path, django_capture_on_commit_callbacks
):
    import_volkov(tmp_path, ftm_sanction("us-1", "os-volkov", "US-GLOMAG", listed="2021-01-01"))
    dossier = DossierFactory(organisation=org_a, created_by=alice)
    subject = SubjectFactory(dossier=dossier, name="Sergey Volkov", name_original="")
    make_ready_to_submit(dossier, alice)
    assert not ScreeningMatch.objects.filter(subject=subject).exists()

    with django_capture_on_commit_callbacks(execute=True):
        submission_services.submit_dossier(dossier, by=alice)

    match = ScreeningMatch.objects.get(subject=subject)
    assert match.party.external_id == "os-volkov"
    assert match.status == "pending"  # a reviewer decides; nothing is confirmed automatically
