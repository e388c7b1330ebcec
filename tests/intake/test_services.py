"""Receipt codes, filing, adoption, routing, metadata removal and purging of reports."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from intake import receipts, services
from intake.models import Intake, IntakeFile
from portal.models import AuditEvent
from submissions.models import Consent, Dossier, Evidence
from submissions.uploads import uploaded_from_bytes


def test_receipt_codes_are_long_random_and_never_stored(filed):
    intake, code = filed
    digits = receipts.normalise(code)
    assert len(digits) == 30  # about 100 bits
    assert receipts.new_code() != code
    row = Intake.objects.filter(pk=intake.pk).values().get()
    assert not any(digits in str(value) or code in str(value) for value in row.values())
    assert row["code_hash"].startswith("scrypt$")
    with connection.cursor() as cursor:  # nowhere else either (audit log, files, consents)
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (table names from Django)
            assert not any(digits in str(cell) for r in cursor.fetchall() for cell in r), table


def test_a_code_opens_its_report_however_it_is_typed(filed):
    intake, code = filed
    khmer = code.translate(str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩"))
    assert services.open_intake(code) == intake
    assert services.open_intake(code.replace(" ", "-")) == intake
    assert services.open_intake(khmer) == intake
    wrong = code[:-1] + ("1" if code[-1] != "1" else "2")
    assert services.open_intake(wrong) is None
    assert services.open_intake("not a code") is None


def test_codes_survive_a_secret_key_rotation(filed, settings):
    intake, code = filed
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert services.open_intake(code) == intake
    intake.refresh_from_db()
    assert intake.lookup == receipts.lookup_digest(code)  # moved to the new key


def test_the_reporter_is_encrypted_at_rest(filed):
    intake, _code = filed
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reporter_identity, reporter_contact, account FROM intake_intake WHERE id = %s",
            [intake.pk],
        )
        identity, contact, account = cursor.fetchone()
    assert "Sok Dara" not in identity and "+855" not in contact and "market" not in account
    assert Intake.objects.get(pk=intake.pk).reporter_identity == "Sok Dara"


def test_filing_is_audited_without_anything_about_the_reporter(filed):
    intake, _code = filed
    event = AuditEvent.objects.get(action="intake.filed", target_id=str(intake.pk))
    assert event.actor is None
    assert "Sok Dara" not in str(event.data) and "Signal" not in str(event.data)


def test_an_organisation_that_does_not_take_reports_cannot_be_chosen(org_b, regimes):
    with pytest.raises(ValidationError):
        services.file_intake(
            fields={"account": "x", "reporter_role": "witness"},
            organisation=org_b,
            consents=[],
            files=[],
        )
    assert not Intake.objects.exists()


def test_file_limits_per_report(filed, settings, photo):
    intake, _code = filed
    settings.INTAKE_MAX_FILES = 1
    with pytest.raises(ValidationError):
        services.add_reporter_files(intake, files=[uploaded_from_bytes(b"%PDF-1.4\n", "a.pdf")])
    settings.INTAKE_MAX_FILES = 10
    with pytest.raises(ValidationError):  # the same bytes twice
        services.add_reporter_files(intake, files=[uploaded_from_bytes(photo, "again.jpg")])
    with pytest.raises(ValidationError):  # refused type, decided from the bytes
        services.add_reporter_files(
            intake, files=[uploaded_from_bytes(b"MZ\x90\x00" + b"\0" * 200, "x.jpg")]
        )
    assert intake.files.count() == 1


def test_the_reporter_sees_and_can_remove_a_photos_hidden_details(filed):
    intake, _code = filed
    photo = intake.files.get()
    assert photo.metadata["exif"]["GPS"]["latitude"] == pytest.approx(11.550278)
    sent_sha = photo.sha256
    cleaned = services.remove_file_metadata(photo)
    assert "exif" not in cleaned.metadata
    assert cleaned.received_sha256 == sent_sha and cleaned.sha256 != sent_sha
    assert AuditEvent.objects.filter(action="intake.file_metadata_removed").exists()


def test_adoption_makes_a_draft_dossier_with_the_reporters_consents_and_hashes(filed, alice):
    intake, _code = filed
    photo = intake.files.get()
    regimes = [c.regime for c in intake.consents.all()]
    dossier = services.adopt_intake(
        intake, by=alice, title="Market beating", target_regimes=regimes
    )
    assert dossier.status == Dossier.Status.DRAFT and dossier.organisation == intake.organisation
    source = dossier.sources.get()
    assert source.kind == "victim" and "Sok Dara" in source.identity
    scopes = {c.regime_id: c.scope for c in source.consent_records.all()}
    assert sorted(scopes.values()) == [Consent.Scope.ANONYMOUS, Consent.Scope.NAMED]
    assert all("anonymous intake" in c.method for c in source.consent_records.all())
    exhibit = dossier.evidence.get()
    assert exhibit.sha256 == photo.sha256 and exhibit.file.name == photo.file.name
    assert exhibit.source == source and intake.reference in exhibit.provenance
    assert exhibit.incidents.get().narrative == "They beat me at the market."
    added = AuditEvent.objects.get(action="evidence.added", target_id=str(exhibit.pk))
    assert added.data["via"] == "intake" and added.data["received_sha256"] == photo.sha256
    intake.refresh_from_db()
    assert intake.status == Intake.Status.ADOPTED and intake.dossier == dossier
    with pytest.raises(services.IntakeClosed):
        services.adopt_intake(intake, by=alice, title="Again", target_regimes=regimes)


def test_adoption_after_metadata_removal_keeps_both_hashes(filed, alice):
    intake, _code = filed
    photo = services.remove_file_metadata(intake.files.get())
    regimes = [c.regime for c in intake.consents.all()]
    dossier = services.adopt_intake(intake, by=alice, title="T", target_regimes=regimes)
    exhibit = dossier.evidence.get()
    assert photo.received_sha256 in exhibit.provenance and photo.sha256 == exhibit.sha256


def test_another_organisation_cannot_adopt_or_answer(filed, mallory):
    intake, _code = filed
    regimes = [c.regime for c in intake.consents.all()]
    assert not Intake.objects.visible_to(mallory).exists()
    with pytest.raises(PermissionDenied):
        services.adopt_intake(intake, by=mallory, title="Stolen", target_regimes=regimes)
    with pytest.raises(PermissionDenied):
        services.add_member_message(intake, by=mallory, body="hello")
    assert not Dossier.objects.exists()


def test_coordinators_see_only_unrouted_reports_and_route_them(filed, lena, regimes, receiving):
    routed, _code = filed
    unrouted, _ = services.file_intake(
        fields={"account": "It happened.", "reporter_role": "witness"},
        organisation=None,
        consents=[],
        files=[],
    )
    assert list(Intake.objects.visible_to(lena)) == [unrouted]
    with pytest.raises(PermissionDenied):  # coordinators route, they do not adopt
        services.adopt_intake(unrouted, by=lena, title="T", target_regimes=regimes)
    services.route_intake(unrouted, by=lena, organisation=receiving)
    assert not Intake.objects.visible_to(lena).exists()
    assert AuditEvent.objects.filter(action="intake.routed").exists()


def test_unanswered_reports_are_purged_with_their_files(filed, alice, receiving):
    intake, _code = filed
    name = intake.files.get().file.name
    storage = IntakeFile._meta.get_field("file").storage
    assert storage.exists(name)
    Intake.objects.filter(pk=intake.pk).update(purge_after=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ValidationError):  # another report, not due yet
        other, _ = services.file_intake(
            fields={"account": "x", "reporter_role": "other"},
            organisation=receiving,
            consents=[],
            files=[],
        )
        services.purge_intake(other)
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.purge_expired_intakes() == [intake.reference]
    assert not Intake.objects.filter(pk=intake.pk).exists()
    assert not storage.exists(name)
    assert AuditEvent.objects.filter(action="intake.purged").exists()


def test_an_answer_postpones_the_purge_and_adopted_files_outlive_it(filed, alice, settings):
    intake, _code = filed
    before = intake.purge_after
    services.add_member_message(intake, by=alice, body="We read your report. When exactly?")
    intake.refresh_from_db()
    assert intake.answered_at is not None and intake.purge_after >= before
    regimes = [c.regime for c in intake.consents.all()]
    dossier = services.adopt_intake(intake, by=alice, title="T", target_regimes=regimes)
    exhibit = dossier.evidence.get()
    Intake.objects.filter(pk=intake.pk).update(purge_after=timezone.now() - timedelta(days=1))
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        services.purge_expired_intakes()
    assert Evidence.objects.get(pk=exhibit.pk).file.storage.exists(exhibit.file.name)


def test_files_sent_after_adoption_join_the_dossier_when_a_member_adds_them(filed, alice):
    intake, _code = filed
    regimes = [c.regime for c in intake.consents.all()]
    dossier = services.adopt_intake(intake, by=alice, title="T", target_regimes=regimes)
    intake.refresh_from_db()
    late = uploaded_from_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "late.pdf")
    services.add_reporter_files(intake, files=[late])
    with pytest.raises(services.IntakeClosed):  # adopted photo: its bytes are evidence now
        services.remove_file_metadata(intake.files.get(evidence__isnull=False))
    added = services.add_files_to_dossier(intake, by=alice)
    assert [e.sha256 for e in added] == [late.sha256]
    assert added[0].source == intake.source and dossier.evidence.count() == 2
    assert services.add_files_to_dossier(intake, by=alice) == []  # nothing twice


def test_another_organisation_cannot_add_files_to_the_dossier(filed, alice, mallory):
    intake, _code = filed
    regimes = [c.regime for c in intake.consents.all()]
    services.adopt_intake(intake, by=alice, title="T", target_regimes=regimes)
    with pytest.raises(PermissionDenied):
        services.add_files_to_dossier(intake, by=mallory)


def test_the_purge_runs_on_a_schedule(filed, settings):
    from intake import tasks

    intake, _code = filed
    schedule = settings.CELERY_BEAT_SCHEDULE["purge-expired-intakes"]
    assert schedule["task"] == "intake.tasks.purge_expired_intakes"
    Intake.objects.filter(pk=intake.pk).update(purge_after=timezone.now() - timedelta(seconds=1))
    assert tasks.purge_expired_intakes() == 1
    assert not Intake.objects.exists()
