"""Absolute links for emails, which workers send with no request to take the host from."""

from django.conf import settings
from django.urls import reverse


def absolute(path: str) -> str:
    """Return `path` (from reverse() or get_absolute_url()) as a link on the portal's address."""
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def dossier_for_members(dossier) -> str:
    """The dossier's page on the NGO side."""
    return absolute(dossier.get_absolute_url())


def dossier_for_reviewers(dossier) -> str:
    """The dossier's page on the review site."""
    return absolute(reverse("admin:submissions_dossier_change", args=[dossier.pk]))
