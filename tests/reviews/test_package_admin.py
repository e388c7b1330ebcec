import csv
import io
import re

from django.urls import reverse

from portal.models import AuditEvent
from reviews.csv_export import safe_cell, to_csv
from reviews.models import BriefVersion, Package
from submissions.models import Regime


def test_a_lead_reviewer_builds_a_package_in_admin(client, lena, approved):
    dossier, persons, _ = approved
    client.force_login(lena)
    response = client.post(
        reverse("admin:reviews_package_add"),
        {
            "regime": Regime.objects.get(key="GB-HR").pk,
            "recipient": "",
            "persons": [p.pk for p in persons],
            "dossiers": [dossier.pk],
            "cover_note": "Two officials.",
            "handling_marking": "OFFICIAL-SENSITIVE",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    package = Package.objects.get()
    assert package.recipient == "FCDO" and set(package.persons.all()) == set(persons)
    assert AuditEvent.objects.filter(action="package.created", actor=lena).exists()


def test_reviewers_who_are_not_leads_see_no_packages(client, rita, package):
    client.force_login(rita)
    assert client.get(reverse("admin:reviews_package_changelist")).status_code == 403
    url = reverse("admin:reviews_package_render", args=[package.pk])
    assert client.post(url).status_code == 403
    assert not BriefVersion.objects.exists()


def test_render_from_the_package_page_then_download_each_file_audited(
    client,
    lena,
    package,
    django_capture_on_commit_callbacks,
):
    client.force_login(lena)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:reviews_package_render", args=[package.pk]))
    version = BriefVersion.objects.get()
    assert version.status == "done"

    page = client.get(reverse("admin:reviews_package_change", args=[package.pk]))
    assert version.pdf_sha256[:16] in page.text
    for kind, start in [("pdf", b"%PDF"), ("manifest", b"{"), ("bundle", b"PK")]:
        url = reverse("admin:reviews_package_download", args=[package.pk, 1, kind])
        response = client.get(url)
        assert b"".join(response.streaming_content).startswith(start)
    assert AuditEvent.objects.filter(action="brief.downloaded").count() == 3


def test_csv_exports_cannot_smuggle_formulas(client, lena, package):
    assert safe_cell('=HYPERLINK("http://evil")') == '\'=HYPERLINK("http://evil")'
    assert safe_cell("+1") == "'+1" and safe_cell("-2") == "'-2" and safe_cell("@SUM") == "'@SUM"
    assert safe_cell("Ivan") == "Ivan"
    rows = list(csv.reader(io.StringIO(to_csv(["a"], [["=1+1"], ["ok"]]))))
    assert rows == [["a"], ["'=1+1"], ["ok"]]

    package.evidence_note = None
    client.force_login(lena)
    response = client.get(reverse("admin:reviews_package_exhibits_csv", args=[package.pk]))
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines[0][0] == "exhibit" and re.fullmatch(r"D\d+-E1", lines[1][0])
    assert all(not cell.startswith(("=", "+", "@")) for line in lines for cell in line)
    changelist = client.post(
        reverse("admin:reviews_package_changelist"),
        {"action": "export_csv", "_selected_action": [package.pk]},
    )
    assert package.reference in changelist.content.decode()


# A lead reviewer who belongs to an organisation that filed one of the package's dossiers


def _lead_of_org_a(org_a):
    from portal import services as portal_services
    from tests.conftest import with_authenticator
    from tests.factories import UserFactory

    user = UserFactory(email="lara@org-a.example", membership__organisation=org_a)
    return with_authenticator(portal_services.grant_review_role(user, lead=True, by=None))


def test_a_lead_of_the_submitting_organisation_reaches_no_package_page_or_action(
    client, lena, package, org_a, django_capture_on_commit_callbacks
):
    from datetime import date

    import pytest
    from django.core.exceptions import PermissionDenied

    from reviews import packages

    with django_capture_on_commit_callbacks(execute=True):
        version = packages.request_render(package, by=lena)
    version = BriefVersion.objects.get(pk=version.pk)
    assert version.status == "done"
    lara = _lead_of_org_a(org_a)
    assert not Package.objects.visible_to(lara).exists()
    assert Package.objects.visible_to(lena).get() == package
    client.force_login(lara)

    pages = [
        reverse("admin:reviews_package_change", args=[package.pk]),
        reverse("admin:reviews_package_exhibits_csv", args=[package.pk]),
        *(
            reverse("admin:reviews_package_download", args=[package.pk, 1, kind])
            for kind in ("pdf", "manifest", "bundle")
        ),
    ]
    for url in pages:
        assert client.get(url).status_code in (302, 404), url  # 302: admin's "no such object"
        assert client.get(url).status_code != 200, url
    posts = {
        reverse("admin:reviews_package_render", args=[package.pk]): {},
        reverse("admin:reviews_package_deliver", args=[package.pk]): {
            "version": version.pk, "delivered_on": "2026-11-20", "recipient": "FCDO",
            "channel": "Secure email",
        },
        reverse("admin:reviews_package_response", args=[package.pk]): {
            "response": "acknowledged", "response_on": "2026-11-21",
        },
    }  # fmt: skip
    for url, data in posts.items():
        assert client.post(url, data).status_code == 404, url
    changelist = client.get(reverse("admin:reviews_package_changelist"))
    assert package.reference not in changelist.text
    client.post(
        reverse("admin:reviews_package_changelist"),
        {"action": "render_new_version", "_selected_action": [package.pk]},
    )
    assert BriefVersion.objects.count() == 1
    assert not AuditEvent.objects.filter(action="brief.downloaded").exists()

    # The services refuse as well, whatever page calls them.
    with pytest.raises(PermissionDenied):
        packages.request_render(package, by=lara)
    with pytest.raises(PermissionDenied):
        packages.record_delivery(
            package, version, by=lara, delivered_on=date(2026, 11, 20), recipient="FCDO",
            channel="Secure email",
        )  # fmt: skip
    package.refresh_from_db()
    assert package.status == "rendered"


def test_a_lead_of_the_submitting_organisation_cannot_mark_ready_or_record_a_response(
    lena, approved, org_a, django_capture_on_commit_callbacks
):
    from datetime import date

    import pytest
    from django.core.exceptions import PermissionDenied

    from reviews import packages

    dossier, persons, _ = approved
    draft = packages.create_package(
        regime=Regime.objects.get(key="GB-HR"), persons=persons, dossiers=[dossier], by=lena
    )
    lara = _lead_of_org_a(org_a)
    with pytest.raises(PermissionDenied):
        packages.mark_ready(draft, by=lara)
    with pytest.raises(PermissionDenied):
        packages.update_package(
            draft, by=lara, recipient="", cover_note="", handling_marking="x",
            persons=persons, dossiers=[],
        )  # fmt: skip
    packages.mark_ready(draft, by=lena)
    with django_capture_on_commit_callbacks(execute=True):
        version = packages.request_render(draft, by=lena)
    packages.record_delivery(
        draft, BriefVersion.objects.get(pk=version.pk), by=lena, delivered_on=date(2026, 11, 20),
        recipient="FCDO", channel="Secure email",
    )  # fmt: skip
    with pytest.raises(PermissionDenied):
        packages.record_response(
            draft, by=lara, response="acknowledged", response_on=date(2026, 11, 21)
        )
    assert Package.objects.get(pk=draft.pk).status == "delivered"


def test_a_brief_waiting_with_no_worker_says_so_on_its_page(
    client, lena, package, settings, monkeypatch
):
    from portal import health
    from reviews import packages

    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(packages.tasks.render_brief, "delay_on_commit", lambda *a, **k: None)
    monkeypatch.setattr(health, "queues_without_consumer", lambda: ["briefs"])
    version = packages.request_render(package, by=lena)
    assert BriefVersion.objects.get(pk=version.pk).status == "queued"

    client.force_login(lena)
    page = client.get(reverse("admin:reviews_package_change", args=[package.pk])).content.decode()
    assert "no worker consumes the briefs queue" in page

    monkeypatch.setattr(health, "queues_without_consumer", lambda: [])
    page = client.get(reverse("admin:reviews_package_change", args=[package.pk])).content.decode()
    assert "no worker consumes the briefs queue" not in page


def test_the_brief_wording_form_offers_only_records_the_lead_may_work_on(client, lena, in_review):
    """Another organisation's draft subject or incident is neither offered nor named."""
    from tests.factories import DossierFactory, IncidentFactory, OrganisationFactory, SubjectFactory

    draft = DossierFactory(organisation=OrganisationFactory(name="Other NGO"))
    hidden = SubjectFactory(dossier=draft, name="CANARY-DRAFT-SUBJECT")
    hidden_incident = IncidentFactory(dossier=draft, title="CANARY-DRAFT-INCIDENT")
    SubjectFactory(dossier=in_review, name="Reviewable Subject")
    client.force_login(lena)
    url = reverse("admin:reviews_brieftext_add")
    page = client.get(url).content.decode()
    assert "Reviewable Subject" in page
    assert "CANARY-DRAFT" not in page
    # Posting the hidden ids does not name them either: the choice is refused.
    response = client.post(url, {"subject": hidden.pk, "incident": hidden_incident.pk, "text": ""})
    assert response.status_code == 200  # the form again, not a saved wording
    page = response.content.decode()
    assert "CANARY-DRAFT" not in page
    assert "Select a valid choice" in page
