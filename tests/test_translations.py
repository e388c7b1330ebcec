"""
Every user-facing string has its Japanese translation: the strings are collected afresh from
the code and templates (as `make messages` would), merged with the committed catalogue, and
the catalogue compiled, so a string added without a translation fails here.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
import yaml
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from reviews import rubric
from submissions import i18n_data
from submissions.models import Criterion, InvolvementRole, Regime, ViolationCategory

ROOT = Path(settings.BASE_DIR)
SOURCES = [
    "portal",
    "submissions",
    "reviews",
    "designations",
    "transparency",
    "api",
    "intake",
    "templates",
]
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]


@pytest.fixture(scope="module")
def fresh_catalogues(tmp_path_factory):
    """The .po files as makemessages leaves them on a copy of today's sources."""
    if not shutil.which("xgettext") or not shutil.which("msgfmt"):
        pytest.fail("GNU gettext is missing (make system-deps installs it)", pytrace=False)
    copy = tmp_path_factory.mktemp("sources")
    for name in SOURCES:
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "locale", copy / "locale", ignore=shutil.ignore_patterns("*.mo"))
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    result = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, "manage.py", "makemessages", "--all", "--no-obsolete", "--verbosity=0"],
        cwd=copy,
        env={**os.environ, "PORTAL_DATA_DIR": str(copy / "var")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return {code: copy / "locale" / code / "LC_MESSAGES" / "django.po" for code in LANGUAGES}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated(fresh_catalogues, language):
    catalogue = polib.pofile(str(fresh_catalogues[language]))
    missing = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert missing == [], f"{len(missing)} strings without a {language} translation: {missing[:20]}"
    assert fuzzy == [], f"{len(fuzzy)} fuzzy {language} translations to check: {fuzzy[:20]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogue_compiles_with_matching_placeholders(language, tmp_path):
    po = ROOT / "locale" / language / "LC_MESSAGES" / "django.po"
    result = subprocess.run(  # noqa: S603, S607 (GNU gettext's msgfmt)
        ["msgfmt", "--check", "--output-file", str(tmp_path / "django.mo"), str(po)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_pages_speak_japanese(client):
    """The compiled catalogue is in use, and a browser asking for Japanese gets it."""
    with translation.override("ja"):
        sign_in = translation.gettext("Sign in")
    assert sign_in != "Sign in"
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ja")
    assert response.headers["Content-Language"] == "ja"
    page = response.content.decode()
    assert '<html lang="ja">' in page
    assert sign_in in page


def test_the_language_switcher_remembers_the_choice(client):
    response = client.post("/language/", {"language": "ja", "next": "/accounts/login/"})
    assert response.status_code == 302
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "ja"
    assert int(cookie["max-age"]) >= 60 * 60 * 24 * 300  # kept for about a year
    page = client.get("/accounts/login/").content.decode()  # no Accept-Language: the cookie
    assert '<html lang="ja">' in page


# The checklist data: what the English data file says, each translation file says too.

DATA = ROOT / "submissions" / "data"
# Each section of the English data file, the field naming an entry, and the fields a reader sees.
# A field the English entry lacks (a criterion without a title) needs no translation.
DATA_SECTIONS = {
    "categories": ("code", ["name"]),
    "roles": ("code", ["name", "description"]),
    "regimes": ("key", ["name", "covers", "standard_of_proof", "receiving_authority", "guidance"]),
    "criteria": ("code", ["title", "question", "evidence", "guidance"]),
    "rubric": ("code", ["name", "guidance"]),
    "reliability_scale": ("code", ["name", "description"]),
    "credibility_scale": ("code", ["name", "description"]),
}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def english_data() -> dict:
    return yaml.safe_load((DATA / "checklist.yaml").read_bytes())


@pytest.mark.parametrize("section", DATA_SECTIONS)
def test_every_checklist_entry_has_japanese_text(section):
    """Every regime, criterion, category, role, rubric line and grade of the English data file
    has Japanese text in checklist.ja.yaml (an entry added in English fails here until it is
    translated)."""
    key, fields = DATA_SECTIONS[section]
    translations = i18n_data.catalogue("ja").get(section, {})
    missing = []
    for entry in english_data()[section]:
        code = str(entry[key])
        for field in fields:
            if not entry.get(field):
                continue
            japanese = translations.get(code, {}).get(field) or ""
            if not JAPANESE.search(japanese):
                missing.append(f"{code}.{field}")
    assert missing == [], f"{section}: no Japanese for {missing}"


def test_the_japanese_data_names_no_entry_the_english_file_lacks():
    """A code renamed in English leaves no stale translation behind."""
    data = english_data()
    for section, (key, _fields) in DATA_SECTIONS.items():
        codes = {str(entry[key]) for entry in data[section]}
        stale = set(i18n_data.catalogue("ja").get(section, {})) - codes
        assert stale == set(), f"{section}: {sorted(stale)} are not in checklist.yaml"


def test_checklist_text_follows_the_interface_language(db):
    regime = Regime.objects.get(key="GB-HR")
    criterion = Criterion.objects.get(code="victim-consent")
    category = ViolationCategory.objects.get(code="torture")
    role = InvolvementRole.objects.get(code="perpetrator")
    line = rubric.lines()[0]
    with translation.override("ja"):
        assert i18n_data.localized(regime, "name") == "英国 グローバル人権制裁"
        assert "インフォームド・コンセント" in i18n_data.localized(criterion, "question")
        assert str(category).startswith("拷問")
        assert str(role) == "実行者"
        assert str(regime) == "英国 グローバル人権制裁 (GB-HR)"
        assert i18n_data.localized(line, "name") == "対象者の特定"
        assert rubric.name_of(line.code) == "対象者の特定"
    assert i18n_data.localized(regime, "name") == regime.name == "UK Global Human Rights sanctions"
    assert str(role) == "Perpetrator"
    with translation.override("km"):  # no Khmer data file: English
        assert i18n_data.localized(criterion, "question") == criterion.question


def test_the_checklist_page_speaks_japanese(alice):
    from tests.conftest import PortalClient
    from tests.factories import DossierFactory

    dossier = DossierFactory(organisation=alice.memberships.get().organisation, created_by=alice)
    client = PortalClient()
    client.force_login(alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    dossier.target_regimes.set(Regime.objects.filter(key="GB-HR"))
    url = reverse("submissions:checklist", args=[dossier.reference])
    page = client.get(url).content.decode()
    assert "英国 グローバル人権制裁" in page
    assert "疑うに足りる合理的な根拠" in page  # the standard of proof
    assert "対象者の氏名" in page  # an item checked from the dossier, named in Japanese
    assert "reasonable grounds to suspect" not in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(url).content.decode()
    assert "UK Global Human Rights sanctions" in page and "英国" not in page
