"""
Reports filed without an account through the public intake (/report/, issue #24).

Nothing here identifies the reporter unless they wrote it themselves, and what they wrote about
themselves is encrypted like a witness identity. The receipt code is never stored: only a
keyed lookup digest (to find the report without scanning) and a slow salted hash (to check it).
"""

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from portal.crypto import EncryptedTextField
from submissions.fields import PartialDateField
from submissions.models import evidence_key

from .querysets import IntakeQuerySet

# No 0/O or 1/I: references are read aloud and typed by NGO staff.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_reference() -> str:
    return "R-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))


class Intake(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ADOPTED = "adopted", _("Adopted into a dossier")

    class ReporterRole(models.TextChoices):
        VICTIM = "victim", _("I am the person it happened to")
        RELATIVE = "relative", _("I am a relative or friend of the person it happened to")
        WITNESS = "witness", _("I saw it happen")
        OTHER = "other", _("Other")

    reference = models.CharField(max_length=16, unique=True, editable=False, default=new_reference)
    lookup = models.CharField(max_length=64, unique=True, editable=False)
    code_hash = models.CharField(max_length=200, editable=False)
    organisation = models.ForeignKey(
        "portal.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="intakes",
        help_text=_("Empty: the portal's coordinators choose an organisation."),
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    category = models.ForeignKey(
        "submissions.ViolationCategory",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("what kind of abuse"),
    )
    happened_on = PartialDateField(_("when it happened"), blank=True)
    country = CountryField(_("country"), blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    perpetrators = EncryptedTextField(_("who did it"), blank=True)
    account = EncryptedTextField(_("what happened, in your words"))
    reporter_role = models.CharField(_("who you are"), max_length=16, choices=ReporterRole.choices)
    reporter_identity = EncryptedTextField(_("your name or how to recognise you"), blank=True)
    reporter_contact = EncryptedTextField(_("how to contact you safely"), blank=True)
    language = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Unless an organisation answers or adopts it by then, the report is deleted at this time.
    purge_after = models.DateTimeField(db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    dossier = models.ForeignKey(
        "submissions.Dossier",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The source the reporter became on adoption: later files are exhibits from them too.
    source = models.ForeignKey(
        "submissions.Source",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    adopted_at = models.DateTimeField(null=True, blank=True)

    objects = IntakeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("intake:queue-detail", args=[self.reference])

    @property
    def purge_is_near(self) -> bool:
        warn = timezone.timedelta(days=settings.INTAKE_PURGE_WARNING_DAYS)
        return self.status == self.Status.OPEN and self.purge_after - timezone.now() <= warn


class IntakeConsent(models.Model):
    """The reporter's own choice for one government: named, under a pseudonym only, or not."""

    class Scope(models.TextChoices):
        NAMED = "named", _("May be named to this government")
        ANONYMOUS = "anonymous", _("Only under the pseudonym")

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="consents")
    regime = models.ForeignKey("submissions.Regime", on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(max_length=10, choices=Scope.choices)
    given_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["intake", "regime"], name="intake_consent_unique")
        ]

    def __str__(self) -> str:
        return f"{self.intake} -> {self.regime_id} ({self.scope})"


class IntakeFile(models.Model):
    """A file the reporter sent: hashed as it streamed in, type checked from its bytes."""

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to=evidence_key, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=100)
    # What the bytes say (EXIF, GPS, PDF author ...), shown to the reporter before anyone else.
    metadata = models.JSONField(default=dict, blank=True)
    # Set when the reporter removed the metadata: the SHA-256 of the file as it was sent.
    received_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    evidence = models.ForeignKey(
        "submissions.Evidence", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["intake", "sha256"], name="intake_file_sha256_unique")
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def metadata_removed(self) -> bool:
        return bool(self.received_sha256)


class IntakeMessage(models.Model):
    """One message between the reporter and the receiving organisation."""

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="messages")
    from_reporter = models.BooleanField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    body = EncryptedTextField(_("message"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.intake} message {self.pk}"
