"""
The checklist data in the reader's language.

The English text lives in the checklist data file (data/checklist.yaml) and in the database rows
loaded from it. Translations live beside it, one file a language (data/checklist.ja.yaml), keyed
by the same codes: regimes by key, criteria, categories, roles, rubric lines and grading scales by
code. `localized(obj, field)` returns the text in the active language, and the English text where
a translation is missing, so a criterion added to the English file shows in English until it is
translated (tests/test_translations.py lists what is missing).
"""

import re
from functools import cache
from pathlib import Path

import yaml
from django.utils import translation

DATA_DIR = Path(__file__).resolve().parent / "data"

# The sections of a translation file, and the attribute naming each entry in it.
SECTIONS = {
    "Regime": ("regimes", "key"),
    "Criterion": ("criteria", "code"),
    "ViolationCategory": ("categories", "code"),
    "InvolvementRole": ("roles", "code"),
    "RubricLine": ("rubric", "code"),
}


# Maintainers' confidence tags ([C], [S: S18], [U: exact wording]) in the data files; source ids
# such as [S35] are not tags and stay. They never reach a reader, in any language.
_TAG = re.compile(r"\s*\[(?:C|S|U)(?::[^\]]*)?\]")


def public_text(text: str | None) -> str:
    """Return the data file's text without the maintainers' confidence tags."""
    return _TAG.sub("", text or "").strip()


def data_file(language: str) -> Path:
    return DATA_DIR / f"checklist.{language}.yaml"


@cache
def catalogue(language: str) -> dict[str, dict[str, dict[str, str]]]:
    """Return {section: {code: {field: text}}} for `language`; empty if it has no file."""
    path = data_file(language)
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_bytes()) or {}
    return {
        section: {str(code): fields or {} for code, fields in (entries or {}).items()}
        for section, entries in data.items()
        if isinstance(entries, dict)
    }


def text(section: str, code: str, field: str, default: str = "") -> str:
    """The translation of `field` of entry `code` in `section`, or `default`."""
    language = (translation.get_language() or "en").split("-")[0]
    if language == "en":
        return default
    entry = catalogue(language).get(section, {}).get(str(code), {})
    return public_text(entry.get(field)) or default


def localized(obj, field: str) -> str:
    """`obj.field` in the active language (regimes, criteria, categories, roles, rubric lines)."""
    english = public_text(getattr(obj, field, "") or "")
    where = SECTIONS.get(type(obj).__name__)
    if where is None:
        return english
    section, key = where
    return text(section, getattr(obj, key), field, english)
