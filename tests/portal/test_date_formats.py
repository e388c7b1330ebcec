"""One date format per language: every named format of a language shows a date the same way."""

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import formats, translation

DAY = datetime.date(2026, 3, 14)
MOMENT = datetime.datetime(2026, 3, 14, 9, 5, tzinfo=datetime.UTC)
EXPECTED = {
    "en": ("2026-03-14", "2026-03-14 09:05"),
    "ja": ("2026年3月14日", "2026年3月14日 09:05"),
}


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_each_language_has_one_date_format(language):
    date, moment = EXPECTED[language]
    with translation.override(language):
        assert formats.date_format(DAY, "DATE_FORMAT") == date
        assert formats.date_format(DAY, "SHORT_DATE_FORMAT") == date
        assert formats.date_format(MOMENT, "DATETIME_FORMAT") == moment
        assert formats.date_format(MOMENT, "SHORT_DATETIME_FORMAT") == moment
        assert formats.localize(DAY) == date  # what the admin shows in its lists


def test_templates_name_their_date_formats():
    """A date shown to a reader uses a named format; ISO formats remain for `datetime` attributes
    (machine-readable) and the receipt's exact UTC second."""
    spelled = re.compile(r"""\|date:"(?!(SHORT_)?DATE(TIME)?_FORMAT")([^"]*)\"""")
    found = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        for match in spelled.finditer(path.read_text()):
            if match.group(3) == "Y-m-d H:i:s" and path.name == "_receipt_body.html":
                continue
            found.append(f"{path.name}: {match.group(0)}")
    assert found == []
