"""
The anonymous intake in a real browser (issue #24): a reporter files in Khmer with a photo,
gets a receipt code, comes back with it and answers the NGO's question; a member of the NGO
adopts the report into a draft dossier whose source and exhibit carry the reporter's consent
and the original hash. axe-core checks the intake pages in English, Japanese and Khmer.
"""

import hashlib
import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from .steps import MEMBER, sign_in
from .test_accessibility import check

pytestmark = pytest.mark.e2e

LOCALES = {"en": "en-GB", "ja": "ja-JP", "km": "km-KH"}
# The browser finds the proof of work (INTAKE_POW_BITS, 18 by default) before the form goes.
SLOW = 90_000


def photo_with_gps() -> bytes:
    image = Image.new("RGB", (320, 200), (90, 60, 40))
    exif = Image.Exif()
    exif[0x010F] = "ReporterPhone"  # Make
    exif[0x8825] = {1: "N", 2: (11.0, 33.0, 1.0), 3: "E", 4: (104.0, 55.0, 2.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def send(page, button_name=None) -> None:
    """Press the form's submit button and wait, however long the proof of work takes."""
    with page.expect_navigation(timeout=SLOW):
        page.locator("main form.intake-form button[type=submit]").click()


@pytest.mark.parametrize("language", LOCALES)
def test_intake_pages_pass_axe(new_page, language):
    page = new_page(locale=LOCALES[language])
    found = []
    for path, name in (
        ("/report/", "intake start"),
        ("/report/new/", "intake form"),
        ("/report/return/", "intake code"),
    ):
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", language)
        found += check(page, f"{name} {language}")
    assert found == [], found


def test_a_reporter_files_in_khmer_and_an_ngo_adopts_the_report(new_page, portal, shots):
    photo = photo_with_gps()
    sha256 = hashlib.sha256(photo).hexdigest()
    found = []

    # The reporter, in Khmer, without an account.
    reporter = new_page(locale="km-KH")
    reporter.goto("/report/")
    expect(reporter.locator("html")).to_have_attribute("lang", "km")
    reporter.locator("main a[href='/report/new/']").click()
    reporter.locator("#id_account").fill("ប៉ូលិសបានវាយខ្ញុំនៅផ្សារ។")
    reporter.locator("input[name=reporter_role][value=victim]").check()
    reporter.get_by_label("Demo Human Rights Documentation Centre").check()
    consent = reporter.get_by_role("group", name="UK Global Human Rights sanctions", exact=True)
    consent.locator("input[value=anonymous]").check()
    reporter.locator("#id_files").set_input_files(
        [{"name": "market.jpg", "mimeType": "image/jpeg", "buffer": photo}]
    )
    shots(reporter, "report-form-km")
    found += check(reporter, "intake form filled km")
    send(reporter)
    code = reporter.locator("#receipt-code").inner_text().strip()
    assert re.fullmatch(r"(\d{5} ){5}\d{5}", code), code
    reference = re.search(r"R-[0-9A-Z]{10}", reporter.content()).group(0)
    shots(reporter, "receipt-km")
    found += check(reporter, "intake receipt km")

    # A member of the demo NGO asks a question.
    member = new_page()
    sign_in(member, portal, MEMBER)
    member.goto("/intakes/")
    member.get_by_role("link", name=reference).click()
    expect(member.locator("main")).to_contain_text("ប៉ូលិសបានវាយខ្ញុំនៅផ្សារ។")
    member.locator("#id_body").fill("Which market, and on what day?")
    with member.expect_navigation():
        member.locator("form[action$='/reply/'] button[type=submit]").click()

    # The reporter comes back another day, in another browser, with the code.
    back = new_page(locale="km-KH")
    back.goto("/report/return/")
    back.locator("#id_code").fill(code)
    send(back)
    expect(back.locator("main")).to_contain_text("Which market, and on what day?")
    expect(back.locator("main")).to_contain_text("ReporterPhone")  # the photo's hidden details
    found += check(back, "intake report km")
    shots(back, "report-with-question-km")
    back.locator("#id_body").fill("ផ្សារថ្មី ថ្ងៃទី ២ ខែមីនា។")
    with back.expect_navigation():
        back.locator("form[action$='/reply/'] button[type=submit]").click()
    expect(back.locator("main")).to_contain_text("ផ្សារថ្មី ថ្ងៃទី ២ ខែមីនា។")

    # The member adopts the report into a draft dossier.
    member.reload()
    expect(member.locator("main")).to_contain_text("ផ្សារថ្មី ថ្ងៃទី ២ ខែមីនា។")
    member.locator("#id_title").fill("Beating at the market (from the intake)")
    with member.expect_navigation():
        member.locator("form[action$='/adopt/'] button[type=submit]").click()
    dossier = re.search(r"/dossiers/([^/]+)/", member.url).group(1)
    member.goto(f"/dossiers/{dossier}/sources/")
    expect(member.locator("main")).to_contain_text("GB-HR")
    expect(member.locator("main")).to_contain_text("Only under the pseudonym")
    member.goto(f"/dossiers/{dossier}/evidence/")
    expect(member.locator("main")).to_contain_text("market.jpg")
    expect(member.locator("main")).to_contain_text(sha256[:16])
    shots(member, "adopted-exhibit")
    member.locator("main a[href*='/evidence/']", has_text="Grade and link").first.click()
    expect(member.locator("main")).to_contain_text(sha256)  # the hash taken on arrival
    expect(member.locator("main")).to_contain_text(reference)  # custody: received by intake
    assert found == [], found
