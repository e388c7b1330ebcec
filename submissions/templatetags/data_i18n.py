"""`{{ regime|localized:"name" }}`: checklist data in the reader's language (i18n_data)."""

from django import template

from submissions import i18n_data

register = template.Library()


@register.filter
def localized(obj, field: str) -> str:
    return i18n_data.localized(obj, field)
