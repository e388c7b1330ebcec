import io
import json
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from pypdf import PdfReader

from portal.models import AuditEvent
from reviews import packages, tasks
from reviews.models import BriefVersion, Package, Person, SubjectLink
from submissions.models import Dossier, Regime, Source
from tests.factories import SubjectFactory

NAMES = {
    "Cyrillic": ("Sergei Volkov", "Сергей Волков"),
    "Arabic": ("Mohammed Al-Rashid", "محمد الراشد"),
    "Chinese": ("Wang Wei", "王伟"),
    "Japanese": ("Tanaka Hiroshi", "田中 博"),
    "Burmese": ("Min Aung", "မင်းအောင်"),
    "Khmer": ("Sok Chea", "សុខ ជា"),
}


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def render(package, lena, callbacks) -> BriefVersion:
    with callbacks(execute=True):
        version = packages.request_render(package, by=lena)
    return BriefVersion.objects.get(pk=version.pk)


def test_only_lead_reviewers_build_packages_from_approved_dossiers(approved, rita, lena, alice):
    dossier, persons, _ = approved
    gb = Regime.objects.get(key="GB-HR")
    with pytest.raises(PermissionDenied):
        packages.create_package(regime=gb, persons=persons, dossiers=[dossier], by=rita)
    Dossier.objects.filter(pk=dossier.pk).update(status="in_review")
    with pytest.raises(ValidationError, match="Only approved dossiers"):
        packages.create_package(regime=gb, persons=persons, dossiers=[dossier], by=lena)


def test_the_brief_says_everything_it_must_and_nothing_it_must_not(
    package, approved, lena, django_capture_on_commit_callbacks
):
    _dossier, _persons, exhibits = approved
    version = render(package, lena, django_capture_on_commit_callbacks)
    assert version.status == "done", version.error

    with version.pdf.open("rb") as pdf:
        text = pdf_text(pdf.read())
    for heading in [
        "Submission for targeted sanctions", "Contents", "Executive summary", "Identification",
        "Conduct, criterion by criterion", "Exculpatory or contrary information",
        "Link to the jurisdiction", "Existing designations by other governments",
        "Contributing organisations", "Evidence annex", "OFFICIAL-SENSITIVE",
    ]:  # fmt: skip
        assert heading in text, heading
    assert re.search(r"Page 2 of \d+", text)
    for latin, original in [("Sergei Volkov", "Сергей Волков"), ("Wang Wei", "王伟")]:
        assert latin in text and original in text
    for exhibit in exhibits[:2]:
        assert exhibit.sha256[:32] in text.replace("\n", "")
    assert "-W1" in text  # the consenting witness, by its reference (D<n>-W1)
    assert "Maria" not in text and "Ivanova" not in text and "Secretov" not in text
    assert "WITHHELD-STATEMENT" not in text and exhibits[2].sha256[:32] not in text.replace(
        "\n", ""
    )
    assert "Some material was withheld" in text
    assert (version.exhibits, version.withheld) == (2, 1)


def test_names_in_six_scripts_render_with_real_glyphs(
    package, lena, approved, django_capture_on_commit_callbacks
):
    dossier = approved[0]
    for latin, original in NAMES.values():
        subject = SubjectFactory(dossier=dossier, name=latin, name_original=original)
        person = Person.objects.create(name=latin, name_original=original, created_by=lena)
        SubjectLink.objects.create(subject=subject, person=person, linked_by=lena)
        package.persons.add(person)
    version = render(package, lena, django_capture_on_commit_callbacks)
    with version.pdf.open("rb") as pdf:
        reader = PdfReader(pdf)
        text = "\n".join(page.extract_text() for page in reader.pages)
        fonts = {
            font["/BaseFont"]
            for page in reader.pages
            for font in (page["/Resources"].get("/Font") or {}).values()
        }
    for latin, original in NAMES.values():
        assert latin in text
        # every glyph came from a font that has it: no .notdef boxes, so the text extracts back
        assert original.replace(" ", "") in text.replace(" ", "").replace("\n", ""), original
    assert any("CJK" in str(f) for f in fonts) and any("Khmer" in str(f) for f in fonts)


def test_each_render_is_a_new_version_and_a_rerun_keeps_one_file(
    package, lena, django_capture_on_commit_callbacks, settings
):
    first = render(package, lena, django_capture_on_commit_callbacks)
    second = render(package, lena, django_capture_on_commit_callbacks)
    assert (first.number, second.number) == (1, 2)
    assert first.pdf.name != second.pdf.name
    with first.manifest.open("rb") as one, second.manifest.open("rb") as two:
        m1, m2 = json.load(one), json.load(two)
    assert (m1["version"], m2["version"]) == (1, 2)
    assert m1["brief"]["sha256"] == first.pdf_sha256

    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"]) / "briefs"
    files_before = sorted(root.rglob("*.*"))
    assert len(files_before) == 6  # two versions x (PDF, manifest, bundle)

    tasks.render_brief(second.pk)  # the same task delivered again
    assert sorted(root.rglob("*.*")) == files_before
    assert BriefVersion.objects.get(pk=second.pk).pdf.name == second.pdf.name


def test_verify_brief_passes_on_the_bundle_and_names_a_changed_exhibit(
    package, lena, tmp_path, django_capture_on_commit_callbacks, capsys
):
    version = render(package, lena, django_capture_on_commit_callbacks)
    bundle = tmp_path / "bundle.zip"
    with version.bundle.open("rb") as source:
        bundle.write_bytes(source.read())
    call_command("verify_brief", str(bundle))
    assert "files; nothing missing or added" in capsys.readouterr().out

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(bundle) as original, zipfile.ZipFile(tampered, "w") as copy:
        for item in original.infolist():
            data = original.read(item.filename)
            if re.match(r"exhibits/D\d+-E2_", item.filename):
                data = data[:-1] + bytes([data[-1] ^ 1])  # one byte of one exhibit
            copy.writestr(item, data)
    with pytest.raises(CommandError, match=r"D\d+-E2"):
        call_command("verify_brief", str(tampered))


def test_delivery_and_response_are_recorded_and_audited(
    package, lena, approved, django_capture_on_commit_callbacks
):
    version = render(package, lena, django_capture_on_commit_callbacks)
    packages.record_delivery(
        package, version, by=lena, delivered_on=date(2026, 11, 20),
        recipient="FCDO Sanctions Directorate", channel="Secure email",
    )  # fmt: skip
    package.refresh_from_db()
    assert package.status == "delivered"
    assert Dossier.objects.get(pk=approved[0].pk).status == "packaged"
    with pytest.raises(ValidationError, match="date of the designation"):
        packages.record_response(
            package, by=lena, response="designated", response_on=date(2026, 12, 1)
        )
    packages.record_response(
        package, by=lena, response="designated", response_on=date(2026, 12, 1),
        designated_on=date(2026, 12, 1),
    )  # fmt: skip
    assert Package.objects.get(pk=package.pk).status == "response_recorded"
    assert AuditEvent.objects.filter(action="package.delivered", actor=lena).exists()
    assert AuditEvent.objects.filter(action="package.response_recorded").exists()


def test_a_package_needs_a_safety_assessment(approved, lena):
    dossier, persons, _ = approved
    dossier.answers.filter(criterion__code="safety-assessment").delete()
    package = packages.create_package(
        regime=Regime.objects.get(key="GB-HR"), persons=persons, dossiers=[dossier], by=lena
    )
    with pytest.raises(ValidationError, match="safety assessment"):
        packages.mark_ready(package, by=lena)


def test_sources_stay_pseudonymous_in_the_manifest(
    package, lena, django_capture_on_commit_callbacks
):
    version = render(package, lena, django_capture_on_commit_callbacks)
    with version.manifest.open("rb") as handle:
        text = handle.read().decode()
    assert "Maria" not in text and "Secretov" not in text
    assert Source.objects.filter(identity__isnull=False).count() == 2


def test_a_lead_reviewer_cannot_package_their_own_organisations_dossier(approved, lena, org_a):
    from tests.factories import MembershipFactory

    dossier, persons, _ = approved
    MembershipFactory(user=lena, organisation=org_a)
    with pytest.raises(PermissionDenied):
        packages.create_package(
            regime=Regime.objects.get(key="GB-HR"), persons=persons, dossiers=[dossier], by=lena
        )
    assert not Package.objects.exists()


def test_every_package_move_goes_through_the_table_and_is_audited(
    package, lena, approved, django_capture_on_commit_callbacks
):
    """ready, rendered, delivered, response_recorded: each audited with the status before."""
    from submissions.services import TransitionNotAllowed

    with pytest.raises(ValidationError, match="delivered package"):
        packages.record_response(
            package, by=lena, response="acknowledged", response_on=date(2026, 11, 21)
        )
    version = render(package, lena, django_capture_on_commit_callbacks)
    packages.record_delivery(
        package, version, by=lena, delivered_on=date(2026, 11, 20), recipient="FCDO",
        channel="Secure email",
    )  # fmt: skip
    packages.record_response(
        package, by=lena, response="acknowledged", response_on=date(2026, 11, 21)
    )
    moves = [
        (event.action, event.data["from"])
        for event in AuditEvent.objects.filter(action__startswith="package.").order_by("pk")
        if "from" in (event.data or {})
    ]
    assert moves == [
        ("package.ready", "draft"),
        ("package.rendered", "ready"),
        ("package.delivered", "rendered"),
        ("package.response_recorded", "delivered"),
    ]
    package.refresh_from_db()
    assert package.status_changed_at is not None
    with pytest.raises(TransitionNotAllowed):
        packages.transition(package, Package.Status.DRAFT, by=lena)


def test_delivery_moves_each_dossier_to_packaged_through_the_dossier_transition(
    package, lena, approved, django_capture_on_commit_callbacks
):
    dossier = approved[0]
    before = Dossier.objects.get(pk=dossier.pk).status_changed_at
    version = render(package, lena, django_capture_on_commit_callbacks)
    packages.record_delivery(
        package, version, by=lena, delivered_on=date(2026, 11, 20), recipient="FCDO",
        channel="Secure email",
    )  # fmt: skip
    dossier.refresh_from_db()
    assert dossier.status == "packaged" and dossier.status_changed_at > before
    event = AuditEvent.objects.get(action="dossier.packaged", actor=lena)
    assert event.data["from"] == "approved" and event.data["package"] == package.reference


def test_package_transitions_run_in_durable_transactions(package, lena):
    """A transition cannot be swallowed by a caller's transaction and rolled back with it."""
    from django.db import transaction

    with pytest.raises(RuntimeError, match="durable"):
        with transaction.atomic():
            packages.request_render(package, by=lena)  # not a transition: allowed
            packages.record_response(
                package, by=lena, response="acknowledged", response_on=date(2026, 11, 21)
            )
