"""
The four journeys of the people who use the portal, in one real browser, in order: what one
journey files, the next reviews, packages and checks. Screenshots of the key pages are kept
(see conftest.ARTIFACTS).
"""

import re
import zipfile

import pytest
from playwright.sync_api import expect

from .steps import (
    LEAD,
    MEMBER,
    OTHER_MEMBER,
    REVIEWER,
    REVIEWER_2,
    add_incident,
    add_subject,
    add_witness,
    answer_checklist,
    expect_saved,
    grade_and_link_exhibits,
    save,
    sign_in,
    start_dossier,
    three_files,
    upload,
)

pytestmark = pytest.mark.e2e

TITLE = "Torture of detained lawyers in Novogorsk, 2024"
UK_NAME = "UK Global Human Rights sanctions"
UK = f"{UK_NAME} (GB-HR)"
# What one journey leaves for the next (the tests run in file order).
journey: dict = {}


def _dossier_url(path: str = "") -> str:
    return f"/dossiers/{journey['reference']}/{path}"


def test_1_ngo_member_files_a_dossier(new_page, portal, shots):
    page = new_page()
    sign_in(page, portal, MEMBER)
    page.goto("/dossiers/")
    shots(page, "dashboard")

    # Basics, then two subjects, one of them named in Cyrillic.
    page.get_by_role("link", name="Start a dossier").click()
    expect(page).to_have_url(re.compile(r"/dossiers/new/"))
    shots(page, "basics")
    journey["reference"] = reference = start_dossier(page, TITLE, UK)
    add_subject(page, reference, "Viktor Andreyevich Orlov", original="Виктор Андреевич Орлов",
                born="1968-03")  # fmt: skip
    add_subject(page, reference, "Дмитрий Сергеевич Лебедев", born="1979")
    page.goto(_dossier_url("subjects/"))
    expect(page.get_by_role("heading", name="Дмитрий Сергеевич Лебедев")).to_be_visible()
    shots(page, "subjects")

    # Leave halfway (sign out), come back later and resume from the dashboard.
    page.locator("header button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/|/$"))
    sign_in(page, portal, MEMBER)
    page.goto("/dossiers/")
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    shots(page, "resumed")

    # Two incidents, each naming who did what; a witness with consent for the UK.
    add_incident(page, reference, "Incommunicado detention of lawyer M.", "Arbitrary arrest",
                 "2024-03-02", subject=1)  # fmt: skip
    add_incident(page, reference, "Torture of lawyer R. during interrogation", "Torture",
                 "2024-03-09", subject=2)  # fmt: skip
    page.goto(_dossier_url("incidents/"))
    shots(page, "incidents")
    add_witness(page, reference, "Marina K., cellmate, born 1990")

    # Three files in one go, with a progress bar each.
    upload(page, reference, three_files())
    shots(page, "uploads")
    # The exhibit list was read again after the uploads: no reload needed.
    for name in ("medical-report.pdf", "injuries.jpg", "testimony.mp4"):
        expect(page.get_by_role("link", name=name)).to_be_visible()
    journey["downloads"] = [
        page.get_by_role("link", name=name).get_attribute("href")
        for name in ("medical-report.pdf", "injuries.jpg", "testimony.mp4")
    ]

    # Each exhibit graded, its provenance given and linked to the incidents it proves: the
    # checklist's computed items close from this, with nothing typed there.
    grade_and_link_exhibits(page, reference)

    # The checklist: the judgements answered, with the exhibits that support them.
    answer_checklist(page, reference)
    shots(page, "checklist")
    save(page)
    expect_saved(page)
    shots.japanese(page, "checklist", url=_dossier_url("checklist/"))

    # Submit, and get the receipt with the files' SHA-256.
    page.goto(_dossier_url())
    shots(page, "review-and-submit")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit the dossier").click()
    page.goto(_dossier_url("receipt/"))
    expect(page.get_by_text(journey["reference"]).first).to_be_visible()
    expect(page.locator("code").filter(has_text=re.compile(r"^[0-9a-f]{64}$"))).to_have_count(3)
    shots(page, "receipt")


def _open_in_queue(page, shots=None) -> None:
    """Find the dossier in the review queue by its reference and open it."""
    page.goto("/admin/submissions/dossier/")
    page.locator("#searchbar").fill(journey["reference"])
    page.locator("#searchbar").press("Enter")
    row = page.locator("#result_list tbody tr")
    expect(row).to_have_count(1)
    if shots:
        shots(page, "queue")
    row.get_by_role("link", name=journey["reference"]).click()
    expect(page.locator("#rv-summary-title")).to_contain_text(journey["reference"])
    journey["admin_url"] = page.url.split("?")[0]


def _score(page, summary: str) -> None:
    form = page.locator("form.rv-review-form")
    for select in form.locator("select[name^='score-']").all():
        select.select_option("4")
    for note in form.locator("textarea[name^='note-']").all():
        note.fill("Consistent medical and witness evidence.")
    form.locator("select[name=recommendation]").select_option("approve")
    form.locator("textarea[name=summary]").fill(summary)
    with page.expect_navigation():
        form.get_by_role("button", name="Submit review").click()
    expect(page.locator("ul.messagelist .success, .messagelist .success").first).to_be_visible()


def _claim_from_triage(page, shots=None) -> None:
    """Find the new dossier under "To triage" from the queue, and take it to review."""
    page.goto("/admin/submissions/dossier/")
    page.locator("a.rv-triage-link").click()
    row = page.locator("#triage tbody tr").filter(has_text=journey["reference"])
    expect(row).to_have_count(1)
    expect(row).to_contain_text(TITLE)
    expect(row).to_contain_text("GB-HR")
    if shots:
        shots(page, "triage")
    with page.expect_navigation():
        row.get_by_role("button").click()
    expect(page.locator("#rv-summary-title")).to_contain_text(journey["reference"])
    journey["admin_url"] = page.url.split("?")[0]


def test_2_reviewers_score_and_the_lead_approves(new_page, portal, shots):
    assert journey.get("reference"), "journey 1 must file the dossier first"
    # The first reviewer finds the new dossier in triage and takes it: no lead assigns first.
    rita = new_page()
    sign_in(rita, portal, REVIEWER, second_factor=True)
    _claim_from_triage(rita, shots)
    _open_in_queue(rita, shots)

    # A second, independent reviewer takes it too: the dossier then leaves triage.
    rafael = new_page()
    sign_in(rafael, portal, REVIEWER_2, second_factor=True)
    _claim_from_triage(rafael)

    lead = new_page()
    sign_in(lead, portal, LEAD, second_factor=True)
    _open_in_queue(lead)
    expect(lead.locator("#assignments tbody tr")).to_have_count(2)

    # The first reviewer starts the review, verifies the checklist and scores.
    rita.goto(journey["admin_url"])
    with rita.expect_navigation():
        rita.get_by_role("button", name="Start the review").click()
    for select in rita.locator("#checklist select[name^='status-']").all():
        select.select_option("verified")
    with rita.expect_navigation():
        rita.get_by_role("button", name="Save verification").click()
    expect(rita.locator("#checklist tr.rv-verification-verified").first).to_be_visible()
    shots(rita, "verified")
    _score(rita, "Credible, well documented; meets the UK standard.")
    shots(rita, "scored")
    shots.japanese(rita, "dossier")

    # The second reviewer scores independently.
    _open_in_queue(rafael)
    _score(rafael, "Agree: approve.")

    # The lead reviewer asks the organisation a question...
    lead.reload()
    lead.locator("#questions textarea[name=question]").fill(
        "Can the medical report's author be contacted by the FCDO if needed?"
    )
    with lead.expect_navigation():
        lead.get_by_role("button", name="Ask the organisation").click()
    expect(lead.locator("#questions .rv-open")).to_have_count(1)

    # ... the NGO sees it on its dashboard and answers ...
    member = new_page()
    sign_in(member, portal, MEMBER)
    member.goto("/dossiers/")
    member.get_by_role("link", name="1 to answer").click()
    member.locator("textarea[name=body]").fill("Yes, with her consent, through our office.")
    shots(member, "question")
    with member.expect_navigation():
        member.get_by_role("button", name="Send answer").click()
    expect_saved(member)

    # ... and the lead reviewer approves.
    lead.reload()
    expect(lead.locator("#questions blockquote")).to_contain_text("with her consent")
    lead.locator("#decision input[value=approved]").check()
    lead.locator("#decision textarea[name=reason]").fill(
        "Two independent reviews recommend approval; the checklist is verified."
    )
    with lead.expect_navigation():
        lead.get_by_role("button", name="Record the decision").click()
    expect(lead.locator("#decision")).to_contain_text("Approved")
    shots(lead, "approved")


def test_3_lead_packages_renders_and_the_brief_verifies(new_page, portal, shots, tmp_path):
    assert journey.get("reference"), "journeys 1 and 2 must run first"
    lead = new_page()
    sign_in(lead, portal, LEAD, second_factor=True)
    _open_in_queue(lead)

    # The lead proposes the approved dossier to the UK from its page: each subject becomes a
    # canonical person on the way (nobody known matches them) and a draft package is started.
    lead.locator("#packages").get_by_role("link", name=f"Propose to {UK_NAME}").click()
    for choice in lead.get_by_role("radio", name="A new canonical person").all():
        choice.check()
    shots(lead, "propose")
    with lead.expect_navigation():
        lead.get_by_role("button", name=f"Propose to {UK_NAME}").click()
    expect(lead.locator(".messagelist .success").first).to_be_visible()
    package_url = lead.url
    lead.locator("#id_cover_note").fill("Request to designate two officials of remand centre 2.")
    shots(lead, "package")
    with lead.expect_navigation():
        lead.locator("input[name=_continue]").click()
    expect(lead.locator(".messagelist .success").first).to_be_visible()
    shots.japanese(lead, "package")

    # Ready (a button of the package page), then rendered by the worker.
    with lead.expect_navigation():
        lead.get_by_role("button", name="Mark ready to render").click()
    expect(lead.locator(".messagelist .success").first).to_be_visible()
    lead.goto(package_url)
    with lead.expect_navigation():
        lead.get_by_role("button", name="Render a new version").click()
    pdf_link = lead.get_by_role("link", name="PDF", exact=True)
    expect(pdf_link).to_be_visible(timeout=120_000)  # the page refreshes itself meanwhile
    shots(lead, "rendered")
    journey["package_url"] = package_url
    journey["brief_urls"] = [
        lead.get_by_role("link", name=name, exact=True).get_attribute("href")
        for name in ("PDF", "manifest", "bundle")
    ]

    # Download the PDF and the bundle; the official's check accepts the bundle.
    with lead.expect_download() as pdf_download:
        pdf_link.click()
    pdf = tmp_path / "brief.pdf"
    pdf_download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    with lead.expect_download() as bundle_download:
        lead.get_by_role("link", name="bundle", exact=True).click()
    bundle = tmp_path / "bundle.zip"
    bundle_download.value.save_as(bundle)
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
    assert "manifest.json" in names and any(n.startswith("exhibits/") for n in names)
    verified = portal.manage("verify_brief", str(bundle))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "FAIL" not in verified.stdout

    # A changed exhibit is caught.
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(tampered, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("exhibits/") and item.filename.endswith(".pdf"):
                data += b"%% one line added after signing\n"
            target.writestr(item, data)
    refused = portal.manage("verify_brief", str(tampered))
    assert refused.returncode != 0 and "FAIL" in refused.stdout


def test_4_another_organisation_reaches_none_of_it(new_page, portal, shots):
    assert journey.get("brief_urls"), "journeys 1 to 3 must run first"
    page = new_page()
    sign_in(page, portal, OTHER_MEMBER)
    page.goto("/dossiers/")
    expect(page.get_by_text(journey["reference"])).to_have_count(0)
    expect(page.get_by_text(TITLE)).to_have_count(0)
    shots(page, "own-dashboard")

    steps = ["", "basics/", "subjects/", "incidents/", "evidence/", "sources/", "checklist/",
             "receipt/", "receipt.pdf"]  # fmt: skip
    for url in [_dossier_url(step) for step in steps] + journey["downloads"]:
        response = page.goto(url)
        assert response.status == 404, f"{url}: {response.status}"
        assert TITLE not in page.content()
    shots(page, "not-found")

    # The review site: not for NGO members at all (sent to its sign-in page, nothing shown).
    for url in [journey["admin_url"], journey["package_url"], *journey["brief_urls"]]:
        response = page.goto(url)
        assert "/admin/login/" in page.url, url
        assert TITLE not in page.content() and journey["reference"] not in page.content()
    shots(page, "review-site-refused")

    # A valid form of one's own, posted to someone else's dossier, changes nothing either.
    page.goto("/dossiers/new/")
    token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    for step in ("withdraw/", "submit/", "subjects/new/"):
        response = page.request.post(
            _dossier_url(step),
            form={"csrfmiddlewaretoken": token, "reason": "x", "name": "x", "kind": "person"},
            headers={"Referer": f"{portal.url}/dossiers/new/"},
        )
        assert response.status == 404, f"{step}: {response.status}"
