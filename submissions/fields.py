"""
Model fields of the filing: partial dates (a year, a year and month, or a full date, as people
know them), and names and texts kept free of characters that disguise them.
"""

import datetime
import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

PARTIAL_DATE = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?$")


def validate_partial_date(value: str) -> None:
    """Accept YYYY, YYYY-MM or YYYY-MM-DD, for a real date between 1900 and next year."""
    if not value:
        return
    match = PARTIAL_DATE.match(value)
    if not match:
        raise ValidationError(
            _("Enter a year (1975), a year and month (1975-04) or a full date (1975-04-23)."),
            code="format",
        )
    year, month, day = (int(part) if part else None for part in match.groups())
    if not 1900 <= year <= datetime.date.today().year + 1:  # noqa: DTZ011 - a calendar year
        raise ValidationError(_("Enter a year between 1900 and now."), code="year")
    try:
        datetime.date(year, month or 1, day or 1)
    except ValueError:
        raise ValidationError(_("This date does not exist."), code="invalid") from None


class PartialDateField(models.CharField):
    """
    A date that may be known only to the year or month, stored as ISO text.

    ISO text sorts in date order ("1975" < "1975-04" < "1975-04-23"), and matches how
    sanctions lists and FollowTheMoney write birth dates.
    """

    default_validators = [validate_partial_date]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 10)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 10:
            del kwargs["max_length"]
        return name, path, args, kwargs


# Names as data: no invisible characters that reorder or hide what a reader sees

# Bidirectional embeddings, overrides and isolates reorder what follows them on screen (a name
# that reads "Ivan Petrov" in the admin can be stored as something else); zero-width and other
# format characters hide inside a name so that two names that look the same differ.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
JOINERS = frozenset("\u200c\u200d")  # ZWNJ, ZWJ: part of the spelling in Persian, Indic scripts
JOINER_FREE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "GEORGIAN")


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LM"


def _joiner_is_spelling(text: str, index: int) -> bool:
    """A ZWNJ/ZWJ between two letters of a script that spells with it (not Latin, Cyrillic ...)."""
    if index == 0 or index == len(text) - 1:
        return False
    before, after = text[index - 1], text[index + 1]
    if not (_is_letter(before) and _is_letter(after)):
        return False
    return not unicodedata.name(before, "").startswith(JOINER_FREE_SCRIPTS)


def neutralise_text(value: str, *, multiline: bool = True) -> str:
    """
    Return `value` without the invisible characters that can disguise it: bidirectional
    controls (U+202A-202E, U+2066-2069, LRM, RLM, ALM), zero-width and other format
    characters (U+200B, U+2060, U+FEFF ...), and control characters (line breaks and tabs are
    kept in multi-line text, turned into spaces in a name). A zero-width (non-)joiner stays
    only where a script spells with it, between two of its letters. NFC-normalised.
    """
    if not value:
        return value
    text = unicodedata.normalize("NFC", value)
    out = []
    for index, ch in enumerate(text):
        category = unicodedata.category(ch)
        if ch in "\n\r\t":
            out.append(ch if multiline else " ")
        elif ch in JOINERS:
            if _joiner_is_spelling(text, index):
                out.append(ch)
        elif ch in BIDI_CONTROLS or category in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            continue
        else:
            out.append(ch)
    return "".join(out)


def neutralise_name(value: str) -> str:
    """A one-line name with no disguising characters (see neutralise_text), trimmed."""
    if not value:
        return value
    return neutralise_text(value, multiline=False).strip()


class NeutralisedFormField(forms.CharField):
    def __init__(self, *args, multiline: bool = False, **kwargs):
        self.multiline = multiline
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return neutralise_text(value, multiline=True) if self.multiline else neutralise_name(value)


class _Neutralised:
    """Clean the value on its way into the database, on save, update and lookup alike."""

    multiline = False

    def _neutralise(self, value):
        if not isinstance(value, str):
            return value
        return neutralise_text(value) if self.multiline else neutralise_name(value)

    def pre_save(self, model_instance, add):
        value = self._neutralise(getattr(model_instance, self.attname))
        setattr(model_instance, self.attname, value)
        return value

    def get_prep_value(self, value):
        return super().get_prep_value(self._neutralise(value))

    def to_python(self, value):
        return self._neutralise(super().to_python(value))

    def formfield(self, **kwargs):
        if not self.choices:
            kwargs.setdefault("form_class", NeutralisedFormField)
            if issubclass(kwargs["form_class"], NeutralisedFormField):
                kwargs.setdefault("multiline", self.multiline)
        return super().formfield(**kwargs)


class NameField(_Neutralised, models.CharField):
    """A name or title: one line, no bidirectional controls or invisible characters."""


class NeutralTextField(_Neutralised, models.TextField):
    """Free text (descriptions): line breaks kept, bidi controls and invisible characters not."""

    multiline = True

    def formfield(self, **kwargs):
        kwargs.setdefault("widget", forms.Textarea)
        return super().formfield(**kwargs)


class NameListField(models.JSONField):
    """A list of names (aliases), each cleaned as NameField cleans one."""

    def _neutralise(self, value):
        if isinstance(value, list):
            return [neutralise_name(v) if isinstance(v, str) else v for v in value]
        return value

    def pre_save(self, model_instance, add):
        value = self._neutralise(getattr(model_instance, self.attname))
        setattr(model_instance, self.attname, value)
        return value

    def get_prep_value(self, value):
        return super().get_prep_value(self._neutralise(value))
