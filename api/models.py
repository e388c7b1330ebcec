"""
API tokens (stored as hashes only) and resumable uploads in progress.
"""

import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiTokenQuerySet(models.QuerySet):
    def usable(self) -> "ApiTokenQuerySet":
        """Tokens neither revoked nor expired, of active users."""
        return self.filter(
            revoked_at__isnull=True, expires_at__gt=timezone.now(), user__is_active=True
        )


class ApiToken(models.Model):
    """
    A personal API token. Only the SHA-256 of the secret is kept: the token itself is shown
    once, when it is created, and a copy of the database does not let anyone use it.
    """

    class Scope(models.TextChoices):
        READ = "read", _("Read: see dossiers, status and completeness")
        WRITE = "write", _("Read and write: file dossiers")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("e.g. the case system's sync"))
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    identities = models.BooleanField(
        _("witness identities"),
        default=False,
        help_text=_(
            "Also read sources' real names, contact details and safety notes, and change them. "
            "Every read is recorded in the audit log."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @staticmethod
    def hash_secret(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE

    @property
    def can_read_identities(self) -> bool:
        """Identities leave the API only under this separate scope, audited per read."""
        return self.identities


class ResumableUpload(models.Model):
    """
    A file arriving in pieces (tus core protocol). The bytes received so far are kept in a
    private folder of the data directory until the upload completes, is cancelled or expires.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dossier = models.ForeignKey("submissions.Dossier", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.ForeignKey(ApiToken, on_delete=models.SET_NULL, null=True, related_name="+")
    file_name = models.CharField(max_length=255)
    length = models.PositiveBigIntegerField()
    offset = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(
        max_length=64, blank=True, help_text=_("The SHA-256 the client computed, if it sent one.")
    )
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.offset}/{self.length})"

    @property
    def is_complete(self) -> bool:
        return self.offset >= self.length
