"""System checks of the portal's own settings (`manage.py check --deploy`)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


@register(Tags.security, deploy=True)
def base_url_check(app_configs, **kwargs):
    """Emails carry links to PORTAL_BASE_URL: in production it must be the public https address."""
    parts = urlsplit(settings.PORTAL_BASE_URL)
    if parts.scheme != "https" or not parts.hostname or parts.hostname in LOCAL_HOSTS:
        return [
            Warning(
                f"PORTAL_BASE_URL is {settings.PORTAL_BASE_URL!r}: every email's link would "
                "point there.",
                hint="Set PORTAL_BASE_URL to the portal's public https address, e.g. "
                "https://portal.example.org.",
                id="portal.W010",
            )
        ]
    return []
