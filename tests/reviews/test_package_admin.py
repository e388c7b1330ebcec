import csv
import io

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
    assert lines[0][0] == "exhibit" and lines[1][0] == "E-1"
    assert all(not cell.startswith(("=", "+", "@")) for line in lines for cell in line)
    changelist = client.post(
        reverse("admin:reviews_package_changelist"),
        {"action": "export_csv", "_selected_action": [package.pk]},
    )
    assert package.reference in changelist.content.decode()
