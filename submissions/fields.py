"""Partial dates: a year, a year and month, or a full date, as people know them."""

import datetime
import re

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
