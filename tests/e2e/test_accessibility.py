"""
Every page an NGO worker or a victim sees, checked by axe-core in the real browser against
WCAG 2.2 A and AA, in English and in Japanese; keyboard-only filing; the pages without
JavaScript; and their weight, on the wire, for a slow connection.

axe-core comes from PyPI (axe-playwright-python bundles it) and is injected by the tests; the
results of each page are kept in E2E_ARTIFACTS/accessibility/.
"""

import json
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from .conftest import ARTIFACTS
from .steps import (
    MEMBER,
    ORG_ADMIN,
    add_incident,
    add_subject,
    add_witness,
    answer_checklist,
    jpeg_bytes,
    pdf_bytes,
    save,
    sign_in,
    start_dossier,
    upload,
)

pytestmark = pytest.mark.e2e

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
BLOCKING = {"serious", "critical"}
LOCALES = {"en": "en-GB", "ja": "ja-JP"}
AXE = Axe()
RESULTS = ARTIFACTS / "accessibility"


@pytest.fixture(scope="module")
def draft(browser, portal):
    """A draft with something in every step, filed through the pages; and an invitation."""
    context = browser.new_context(base_url=portal.url)
    page = context.new_page()
    sign_in(page, portal, MEMBER)
    reference = start_dossier(page, "Accessibility check", "UK Global Human Rights sanctions")
    add_subject(page, reference, "Виктор Орлов", born="1968")
    add_incident(page, reference, "Detention of lawyer M.", "Arbitrary arrest", "2024-03-02")
    add_witness(page, reference, "Marina K.")
    upload(page, reference, [{"name": "report.pdf", "mimeType": "application/pdf",
                              "buffer": pdf_bytes("Report")}])  # fmt: skip
    page.goto(f"/dossiers/{reference}/subjects/")
    subject = page.get_by_role("link", name=re.compile("^Edit")).first.get_attribute("href")
    page.goto(f"/dossiers/{reference}/incidents/")
    incident = page.get_by_role("link", name=re.compile("^Edit")).first.get_attribute("href")
    page.goto(f"/dossiers/{reference}/sources/")
    source = page.get_by_role("link", name=re.compile("^Edit")).first.get_attribute("href")
    page.goto(f"/dossiers/{reference}/evidence/")
    exhibit = page.locator("a[href*='/evidence/'][href$='/']").filter(has_not_text="Evidence")
    exhibit_url = next(
        href
        for href in exhibit.evaluate_all("links => links.map(link => link.getAttribute('href'))")
        if re.search(r"/evidence/\d+/$", href)
    )
    page.goto("/dossiers/")
    row = page.locator("tr", has_text="Demo: detention and torture")  # seeded, submitted
    submitted = row.get_by_role("link", name=re.compile(r"^MAG-")).get_attribute("href")
    context.close()
    return {
        "reference": reference,
        "subject": subject,
        "incident": incident,
        "source": source,
        "exhibit": exhibit_url,
        "submitted": submitted,
    }


def ngo_pages(draft) -> list[str]:
    base = f"/dossiers/{draft['reference']}/"
    return [
        "/dossiers/",
        "/dossiers/new/",
        base,
        base + "basics/",
        base + "subjects/",
        base + "subjects/new/",
        draft["subject"],
        base + "incidents/",
        base + "incidents/new/",
        draft["incident"],
        base + "evidence/",
        draft["exhibit"],
        base + "sources/",
        base + "sources/new/",
        draft["source"],
        base + "checklist/",
        "/organisation/",
        "/organisation/impact/",
        "/accounts/password/",
        "/accounts/two-factor/setup/",
    ]


PUBLIC_PAGES = [
    "/accounts/login/",
    "/accounts/password-reset/",
    "/accounts/password-reset/sent/",
    "/transparency/",
]


def check(page, name: str) -> list[dict]:
    """Run axe-core on the page; keep its report; return the serious and critical findings."""
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
    RESULTS.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    (RESULTS / f"{slug}.json").write_text(json.dumps(results.response["violations"], indent=1))
    return [
        {"page": name, "rule": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [node["html"][:160] for node in v["nodes"][:3]]}
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]  # fmt: skip


@pytest.mark.parametrize("language", LOCALES)
def test_public_pages_pass_axe(new_page, language):
    page = new_page(locale=LOCALES[language])
    found = []
    for url in PUBLIC_PAGES:
        response = page.goto(url)
        assert response.status == 200, url
        assert page.locator("html").get_attribute("lang") == language
        found += check(page, f"{language} {url}")
    assert found == [], json.dumps(found, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("language", LOCALES)
def test_every_ngo_page_passes_axe(new_page, portal, draft, language):
    page = new_page(locale=LOCALES[language])
    sign_in_as(page, portal, MEMBER, language)
    found = []
    for url in [*ngo_pages(draft), draft["submitted"], f"{draft['submitted']}receipt/"]:
        response = page.goto(url)
        assert response.status == 200, url
        assert page.locator("html").get_attribute("lang") == language
        found += check(page, f"{language} {url}")

    # The states people meet when something is wrong: the error summary, a refused submit.
    page.goto(f"/dossiers/{draft['reference']}/subjects/new/")
    save(page)
    expect(page.locator("#error-summary")).to_be_visible()
    found += check(page, f"{language} subject form with errors")
    page.goto(f"/dossiers/{draft['reference']}/")
    found += check(page, f"{language} dossier not ready to submit")
    assert found == [], json.dumps(found, indent=1, ensure_ascii=False)


def sign_in_as(page, portal, email: str, language: str) -> None:
    """Sign in on a page in `language`, where the labels are translated."""
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(portal.password)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    if email in portal.world["keys"]:  # NGO members give a code too
        expect(page).to_have_url(re.compile(r"/accounts/two-factor/"))
        page.locator("#id_token").fill(portal.totp(email))
        with page.expect_navigation():
            page.locator("main button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/(login|two-factor)/"))


@pytest.mark.parametrize("language", LOCALES)
def test_the_invitation_page_passes_axe(new_page, portal, language):
    """The page a newly invited colleague lands on, from the link in the email."""
    admin = new_page()
    sign_in(admin, portal, ORG_ADMIN, second_factor=True)
    invited = f"new-colleague-{language}@demo.example"
    admin.goto("/organisation/")
    admin.locator("form[action$='/invite/'] input[name=email]").fill(invited)
    with admin.expect_navigation():
        admin.locator("form[action$='/invite/'] button[type=submit]").click()
    mails = portal.mails_to(invited)
    assert mails, "the invitation email was not sent"
    link = re.search(r"https?://[^/\s]+(/invitations/[^\s]+/)", mails[-1]).group(1)

    page = new_page(locale=LOCALES[language])
    assert page.goto(link).status == 200
    found = check(page, f"{language} invitation")
    assert found == [], json.dumps(found, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("language", LOCALES)
def test_second_factor_and_api_token_pages_pass_axe(new_page, portal, language):
    """An NGO admin with an authenticator: the code page, and API tokens (shown once)."""
    page = new_page(locale=LOCALES[language])
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(ORG_ADMIN)
    page.locator("#id_password").fill(portal.password)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/"))
    found = check(page, f"{language} second factor")
    page.locator("#id_token").fill(portal.totp(ORG_ADMIN))
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()

    assert page.goto("/api/tokens/").status == 200
    found += check(page, f"{language} API tokens")
    page.locator("main form input[name=name]").fill("Case system sync")
    page.locator("main form input[name=scope]").first.check()
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    expect(page.locator("#new-token")).to_have_value(re.compile(r"^mag_"))
    found += check(page, f"{language} API token created")
    assert found == [], json.dumps(found, indent=1, ensure_ascii=False)


def test_a_dossier_can_be_filed_with_the_keyboard_alone(new_page, portal):
    """No mouse: Tab to each field, type, Space to tick, Enter to send."""
    page = new_page()
    sign_in(page, portal, MEMBER)
    page.goto("/dossiers/new/")

    def tab_to(selector: str, limit: int = 80) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("s => document.activeElement.matches(s)", selector):
                visible = page.evaluate(
                    "() => getComputedStyle(document.activeElement).outlineStyle !== 'none'"
                    " || getComputedStyle(document.activeElement).boxShadow !== 'none'"
                )
                assert visible, f"no visible focus on {selector}"
                return
        raise AssertionError(f"{selector} cannot be reached with Tab")

    tab_to("#id_title")
    page.keyboard.type("Filed without a mouse")
    tab_to("input[name=target_regimes]")
    for _ in range(2):  # to the UK's human-rights regime, the third choice
        page.keyboard.press("Tab")
    page.keyboard.press("Space")
    tab_to("#id_summary")
    page.keyboard.type("Who did what, to whom, when and where.")
    tab_to("main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    reference = re.search(r"/dossiers/([^/]+)/", page.url).group(1)

    # A subject form sent empty: the error summary takes the focus (screen readers read it).
    page.goto(f"/dossiers/{reference}/subjects/new/")
    tab_to("main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "error-summary"
    assert page.locator("#error-summary").get_attribute("role") == "alert"
    # Its links lead to the field to correct.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # a link within the page
    expect(page).to_have_url(re.compile(r"#id_name$"))

    tab_to("#id_name")
    page.keyboard.type("Keyboard Subject")
    tab_to("main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(f"/dossiers/{reference}/subjects/")
    expect(page.get_by_role("heading", name="Keyboard Subject")).to_be_visible()


def test_filing_works_without_javascript(new_page, portal):
    """Forms and uploads are plain HTML: a phone with scripts off can still file."""
    page = new_page(java_script_enabled=False)
    sign_in(page, portal, MEMBER)
    reference = start_dossier(page, "Filed without JavaScript", "UK Global Human Rights sanctions")
    add_subject(page, reference, "Subject Without Script")
    page.goto(f"/dossiers/{reference}/evidence/")
    page.locator("input[type=file][name=files]").first.set_input_files(
        [{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes("no script")}]
    )
    with page.expect_navigation():
        page.locator("form[data-upload] button[type=submit]").first.click()
    page.goto(f"/dossiers/{reference}/evidence/")
    expect(page.get_by_role("link", name="photo.jpg")).to_be_visible()
    answer_checklist(page, reference)
    save(page)
    expect(page.locator(".messages .alert-success").first).to_be_visible()


def test_pages_are_light_and_talk_only_to_the_portal(new_page, portal, draft):
    """
    What a slow connection must carry: the bytes on the wire of each page with everything it
    loads, on a first visit (empty cache), served as in production (compressed, hashed).
    """
    page = new_page()
    sign_in(page, portal, MEMBER)
    hosts, sizes = set(), {}
    page.on("request", lambda request: hosts.add(re.match(r"\w+://[^/]+", request.url).group()))
    for url in ["/dossiers/", f"/dossiers/{draft['reference']}/subjects/new/",
                f"/dossiers/{draft['reference']}/evidence/"]:  # fmt: skip
        session = page.context.new_cdp_session(page)
        session.send("Network.enable")
        session.send("Network.setCacheDisabled", {"cacheDisabled": True})
        received = []
        session.on("Network.loadingFinished", lambda event, received=received: received.append(
            event["encodedDataLength"]))  # fmt: skip
        page.goto(url, wait_until="networkidle")
        session.detach()
        sizes[url] = sum(received)
    assert hosts == {portal.url}, hosts
    (ARTIFACTS / "page-weight.json").write_text(json.dumps(sizes, indent=1))
    # Measured: ~50 kB for the dashboard (Bootstrap's CSS and JS, compressed, are most of it);
    # ~130 kB for the subject form, whose four country lists are plain HTML (pages are not
    # compressed: BREACH), the price of working without JavaScript.
    assert sizes["/dossiers/"] < 80_000, sizes
    assert max(sizes.values()) < 160_000, sizes
