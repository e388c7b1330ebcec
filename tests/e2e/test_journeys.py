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
    expect_saved,
    jpeg_bytes,
    mp4_bytes,
    pdf_bytes,
    save,
    sign_in,
)

pytestmark = pytest.mark.e2e

TITLE = "Torture of detained lawyers in Novogorsk, 2024"
# What one journey leaves for the next (the tests run in file order).
journey: dict = {}


def _dossier_url(path: str = "") -> str:
    return f"/dossiers/{journey['reference']}/{path}"


def test_1_ngo_member_files_a_dossier(new_page, portal, shots):
    page = new_page()
    sign_in(page, portal, MEMBER)
    page.goto("/dossiers/")
    shots(page, "dashboard")

    # Basics.
    page.get_by_role("link", name="Start a dossier").click()
    page.locator("#id_title").fill(TITLE)
    page.get_by_label("UK Global Human Rights sanctions (GB-HR)").check()
    page.locator("#id_summary").fill(
        "Two lawyers were held incommunicado and tortured in the Novogorsk remand centre in "
        "March 2024 on the orders of its governor and a deputy prosecutor."
    )
    shots(page, "basics")
    save(page)
    journey["reference"] = re.search(r"/dossiers/([^/]+)/", page.url).group(1)

    # Two subjects, one of them named in Cyrillic.
    page.goto(_dossier_url("subjects/new/"))
    page.locator("#id_name").fill("Viktor Andreyevich Orlov")
    page.locator("#id_name_original").fill("Виктор Андреевич Орлов")
    page.locator("#id_birth_date").fill("1968-03")
    save(page)
    expect_saved(page)
    page.goto(_dossier_url("subjects/new/"))
    page.locator("#id_name").fill("Дмитрий Сергеевич Лебедев")
    page.locator("#id_birth_date").fill("1979")
    save(page)
    expect_saved(page)
    page.goto(_dossier_url("subjects/"))
    expect(page.get_by_role("heading", name="Дмитрий Сергеевич Лебедев")).to_be_visible()
    shots(page, "subjects")

    # Leave halfway (sign out), come back later and resume from the dashboard.
    page.locator("header button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/|/$"))
    sign_in(page, portal, MEMBER)
    page.goto("/dossiers/")
    page.get_by_role("link", name=journey["reference"]).click()
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    shots(page, "resumed")

    # Two incidents, each naming who did what.
    for number, (title, category, start) in enumerate(
        [
            ("Incommunicado detention of lawyer M.", "Arbitrary arrest", "2024-03-02"),
            ("Torture of lawyer R. during interrogation", "Torture", "2024-03-09"),
        ]
    ):
        page.goto(_dossier_url("incidents/new/"))
        page.locator("#id_title").fill(title)
        category_select = page.locator("#id_category")
        option = category_select.locator("option", has_text=category).first
        category_select.select_option(value=option.get_attribute("value"))
        page.locator("#id_start_date").fill(start)
        page.locator("#id_country").select_option("RU")
        page.locator("#id_place").fill("Novogorsk remand centre No. 2")
        page.locator("#id_narrative").fill(
            "Held without access to counsel or family; beaten during night interrogations."
        )
        page.locator("select[name$='-subject']").first.select_option(index=1 + number)
        page.locator("select[name$='-role']").first.select_option(index=1)
        save(page)
        expect_saved(page)
    page.goto(_dossier_url("incidents/"))
    shots(page, "incidents")

    # A witness, with consent for the UK.
    page.goto(_dossier_url("sources/new/"))
    page.locator("#id_kind").select_option("witness")
    page.locator("#id_identity").fill("Marina K., cellmate, born 1990")
    page.locator("input[name$='-given']").first.check()
    page.locator("input[name$='-given_on']").first.fill("2024-05-01")
    page.locator("input[name$='-method']").first.fill("signed consent form")
    save(page)
    expect_saved(page)

    # Three files in one go, with a progress bar each.
    page.goto(_dossier_url("evidence/"))
    page.locator("input[type=file][name=files]").first.set_input_files(
        [
            {"name": "medical-report.pdf", "mimeType": "application/pdf",
             "buffer": pdf_bytes("Medical report")},
            {"name": "injuries.jpg", "mimeType": "image/jpeg",
             "buffer": jpeg_bytes("Photograph of injuries")},
            {"name": "testimony.mp4", "mimeType": "video/mp4", "buffer": mp4_bytes()},
        ]
    )  # fmt: skip
    page.locator("form[data-upload] button[type=submit]").first.click()
    progress = page.locator("[data-upload-progress]").first
    expect(progress.locator("progress")).to_have_count(3)
    expect(progress.get_by_role("link")).to_be_visible(timeout=60_000)
    shots(page, "uploads")
    progress.get_by_role("link").click()
    for name in ("medical-report.pdf", "injuries.jpg", "testimony.mp4"):
        expect(page.get_by_role("link", name=name)).to_be_visible()

    # The checklist: every item answered, with the exhibits that support it.
    page.goto(_dossier_url("checklist/"))
    items = page.locator("main form fieldset[id^=item-]")
    for index in range(items.count()):
        item = items.nth(index)
        item.locator("select[name$='-status']").select_option("met")
        item.locator("textarea[name$='-explanation']").fill("See the medical report and testimony.")
        boxes = item.locator("input[type=checkbox][name$='-evidence']")
        if boxes.count():
            boxes.first.check()
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
