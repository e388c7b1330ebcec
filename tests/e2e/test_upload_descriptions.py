"""
Bug (#21): one upload's description was copied to every file. In the browser, choosing several
files gives each its own description box; each file keeps its own description.
"""

import pytest
from playwright.sync_api import expect

from .steps import MEMBER, jpeg_bytes, pdf_bytes, sign_in, start_dossier

pytestmark = pytest.mark.e2e


def test_each_chosen_file_gets_its_own_description(new_page, portal):
    page = new_page()
    sign_in(page, portal, MEMBER)
    reference = start_dossier(page, "Descriptions per file", "UK Global Human Rights sanctions")
    page.goto(f"/dossiers/{reference}/evidence/")
    form = page.locator("form[data-upload]").first
    form.locator("input[type=file][name=files]").set_input_files(
        [
            {"name": "statement-km.pdf", "mimeType": "application/pdf",
             "buffer": pdf_bytes("Statement in Khmer")},
            {"name": "scene.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes("Scene")},
        ]
    )  # fmt: skip
    expect(form.locator("#id_description")).to_be_hidden()  # the one box is set aside
    form.get_by_label("Description of statement-km.pdf").fill("Statement of the victim, Khmer")
    form.get_by_label("Description of scene.jpg").fill("Photograph of the scene")
    form.locator("#id_reliability").select_option("B")
    form.locator("#id_credibility").select_option("2")
    form.locator("button[type=submit]").click()

    rows = page.locator("[data-exhibit-list] tbody tr")
    expect(rows).to_have_count(2, timeout=60_000)
    expect(rows.filter(has_text="statement-km.pdf")).to_contain_text(
        "Statement of the victim, Khmer"
    )
    expect(rows.filter(has_text="statement-km.pdf")).not_to_contain_text("Photograph")
    expect(rows.filter(has_text="scene.jpg")).to_contain_text("Photograph of the scene")
    expect(rows.filter(has_text="scene.jpg")).not_to_contain_text("Statement of the victim")
