"""
The intake's own languages (INTAKE_LANGUAGES, e.g. Khmer), on the intake's pages only.

The rest of the portal stays in LANGUAGES: LocaleMiddleware ignores a language cookie it does
not support there, so a reporter who chose Khmer sees the other pages in English or Japanese.
"""

from functools import wraps

from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header


def codes() -> list[str]:
    return [code for code, _name in settings.INTAKE_LANGUAGES]


def choose(request) -> str:
    """The reporter's language: their choice on the switcher, their browser's, or the portal's."""
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if cookie in codes():
        return cookie
    for accepted, _quality in parse_accept_lang_header(
        request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    ):
        base = accepted.split("-")[0].lower()
        if base in codes():
            return base
    return getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)


def intake_language(view):
    """Run `view` in the reporter's intake language."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        language = choose(request)
        request.LANGUAGE_CODE = language
        request.intake_languages = codes()  # for the intake's language switcher
        # Only for this view: the thread's language is put back afterwards, so nothing that
        # runs next in the same worker thread speaks the reporter's language by accident.
        with translation.override(language):
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        response.headers.setdefault("Content-Language", language)
        return response

    return wrapper
