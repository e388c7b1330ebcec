"""
The four journeys of the people who use the portal, in one real browser, in order: what one
journey files, the next reviews, packages and checks. Screenshots of the key pages are kept
(see conftest.ARTIFACTS).
"""

import re

import pytest
from playwright.sync_api import expect

from .steps import (
    LEAD,
    MEMBER,
    REVIEWER,
    REVIEWER_2,
    add_incident,
    add_subject,
    add_witness,
    answer_checklist,
    expect_saved,
    save,
    sign_in,
    start_dossier,
    three_files,
    upload,
)

pytestmark = pytest.mark.e2e

TITLE = "Torture of detained lawyers in Novogorsk, 2024"
UK = "UK Global Human Rights sanctions (GB-HR)"
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
    page.locator("[data-upload-progress]").get_by_role("link").click()
    for name in ("medical-report.pdf", "injuries.jpg", "testimony.mp4"):
        expect(page.get_by_role("link", name=name)).to_be_visible()

    # The checklist: every item answered, with the exhibits that support it.
    answer_checklist(page, reference)
    shots(page, "checklist")
    save(page)
    expect_saved(page)

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


def test_2_reviewers_score_and_the_lead_approves(new_page, portal, shots):
    assert journey.get("reference"), "journey 1 must file the dossier first"
    lead = new_page()
    sign_in(lead, portal, LEAD, second_factor=True)
    _open_in_queue(lead, shots)
    for reviewer in (REVIEWER, REVIEWER_2):
        choices = lead.locator("#assignments select[name=reviewer] option")
        value = choices.filter(has_text=reviewer).first.get_attribute("value")
        lead.locator("#assignments select[name=reviewer]").select_option(value)
        with lead.expect_navigation():
            lead.locator("#assignments").get_by_role("button", name="Assign").click()
    expect(lead.locator("#assignments tbody tr")).to_have_count(2)

    # The first reviewer starts the review, verifies the checklist and scores.
    rita = new_page()
    sign_in(rita, portal, REVIEWER, second_factor=True)
    _open_in_queue(rita)
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

    # A second, independent reviewer.
    rafael = new_page()
    sign_in(rafael, portal, REVIEWER_2, second_factor=True)
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
