"""
Every user-facing string has its Japanese translation: the strings are collected afresh from
the code and templates (as `make messages` would), merged with the committed catalogue, and
the catalogue compiled, so a string added without a translation fails here.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

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
