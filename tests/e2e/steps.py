"""What people do on the portal's pages, as short functions the journeys share."""

import io
import re

from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect
from pypdf import PdfWriter

MEMBER = "member@demo.example"
ORG_ADMIN = "orgadmin@demo.example"
OTHER_MEMBER = "member@second.example"
REVIEWER = "reviewer@demo.example"
REVIEWER_2 = "reviewer2@demo.example"
LEAD = "lead@demo.example"


def sign_in(page: Page, portal, email: str, *, second_factor: bool = False) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(portal.password)
    page.locator("main button[type=submit]").click()
    # Reviewers and NGO members (who open witness identities) all give a code.
    if second_factor or email in portal.world["keys"]:
        expect(page).to_have_url(re.compile(r"/accounts/two-factor/"))
        page.locator("#id_token").fill(portal.totp(email))
        page.locator("main button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/(login|two-factor)/"))


def save(page: Page) -> None:
    """Press the page's main (first) submit button and wait for the next page."""
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").last.click()


def expect_saved(page: Page) -> None:
    expect(page.locator(".messages .alert-success").first).to_be_visible()


def pdf_bytes(title: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def jpeg_bytes(text: str) -> bytes:
    image = Image.new("RGB", (640, 400), "#445")
    ImageDraw.Draw(image).text((20, 20), text, fill="white")
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def mp4_bytes() -> bytes:
    """A small file an MP4 reader recognises (ISO media 'ftyp' box, then data)."""
    return b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 64


def start_dossier(page: Page, title: str, regime_label: str) -> str:
    """Fill the basics of a new dossier; return its reference."""
    page.goto("/dossiers/new/")
    page.locator("#id_title").fill(title)
    page.get_by_label(regime_label).check()
    page.locator("#id_summary").fill(
        "Two lawyers were held incommunicado and tortured in the Novogorsk remand centre in "
        "March 2024 on the orders of its governor and a deputy prosecutor."
    )
    save(page)
    return re.search(r"/dossiers/([^/]+)/", page.url).group(1)


def add_subject(page: Page, reference: str, name: str, *, original: str = "", born: str = ""):
    page.goto(f"/dossiers/{reference}/subjects/new/")
    page.locator("#id_name").fill(name)
    if original:
        page.locator("#id_name_original").fill(original)
    if born:
        page.locator("#id_birth_date").fill(born)
    save(page)
    expect_saved(page)


def add_incident(page: Page, reference: str, title: str, category: str, start: str, subject=1):
    page.goto(f"/dossiers/{reference}/incidents/new/")
    page.locator("#id_title").fill(title)
    select = page.locator("#id_category")
    select.select_option(
        value=select.locator("option", has_text=category).first.get_attribute("value")
    )
    page.locator("#id_start_date").fill(start)
    page.locator("#id_country").select_option("RU")
    page.locator("#id_place").fill("Novogorsk remand centre No. 2")
    page.locator("#id_narrative").fill(
        "Held without access to counsel or family; beaten during night interrogations."
    )
    page.locator("select[name$='-subject']").first.select_option(index=subject)
    page.locator("select[name$='-role']").first.select_option(index=1)
    save(page)
    expect_saved(page)


def add_witness(page: Page, reference: str, identity: str) -> None:
    page.goto(f"/dossiers/{reference}/sources/new/")
    page.locator("#id_kind").select_option("witness")
    page.locator("#id_identity").fill(identity)
    page.locator("input[name$='-given']").first.check()
    page.locator("input[name$='-given_on']").first.fill("2024-05-01")
    page.locator("input[name$='-method']").first.fill("signed consent form")
    save(page)
    expect_saved(page)


def upload(page: Page, reference: str, files: list[dict]) -> None:
    """Upload files together on the evidence step, watching their progress bars."""
    page.goto(f"/dossiers/{reference}/evidence/")
    page.locator("input[type=file][name=files]").first.set_input_files(files)
    page.locator("form[data-upload] button[type=submit]").first.click()
    progress = page.locator("[data-upload-progress]").first
    expect(progress.locator("progress")).to_have_count(len(files))
    # The list shows the new exhibits without a reload.
    exhibits = page.locator("[data-exhibit-list] tbody tr")
    expect(exhibits).to_have_count(len(files), timeout=60_000)
    for file in files:
        expect(page.locator("[data-exhibit-list]")).to_contain_text(file["name"])


def grade_and_link_exhibits(page: Page, reference: str) -> None:
    """Grade every exhibit, say where it came from and link it to every incident."""
    page.goto(f"/dossiers/{reference}/evidence/")
    edits = [
        link.get_attribute("href")
        for link in page.get_by_role("link", name=re.compile("Grade and link")).all()
    ]
    for href in edits:
        page.goto(href)
        page.locator("#id_reliability").select_option("B")
        page.locator("#id_credibility").select_option("2")
        page.locator("#id_provenance").fill(
            "Handed over by the victims' lawyer on 2 May 2024; hashed at upload."
        )
        for box in page.locator("input[type=checkbox][name=incidents]").all():
            box.check()
        save(page)
        expect_saved(page)


def answer_checklist(page: Page, reference: str) -> None:
    """Write the judgements: the items checked from the dossier need no typing."""
    page.goto(f"/dossiers/{reference}/checklist/")
    items = page.locator("main form fieldset[id^=item-]")
    for index in range(items.count()):
        item = items.nth(index)
        item.locator("select[name$='-status']").select_option("met")
        item.locator("textarea[name$='-explanation']").fill("See the medical report and testimony.")
        boxes = item.locator("input[type=checkbox][name$='-evidence']")
        if boxes.count():
            boxes.first.check()


def three_files() -> list[dict]:
    return [
        {"name": "medical-report.pdf", "mimeType": "application/pdf",
         "buffer": pdf_bytes("Medical report")},
        {"name": "injuries.jpg", "mimeType": "image/jpeg",
         "buffer": jpeg_bytes("Photograph of injuries")},
        {"name": "testimony.mp4", "mimeType": "video/mp4", "buffer": mp4_bytes()},
    ]  # fmt: skip
