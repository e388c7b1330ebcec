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
    if second_factor:
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
