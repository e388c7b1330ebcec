"""
Snapshots of the public statistics, and oversight reports rendered from them.

The public page and every download read the latest Snapshot only: the counting runs in a
scheduled task, never in a request.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SnapshotQuerySet(models.QuerySet):
    def latest_first(self) -> "SnapshotQuerySet":
        return self.order_by("-computed_at", "-pk")


class Snapshot(models.Model):
    """The disclosure-controlled statistics as of one cut-off date (see statistics.py)."""

    computed_at = models.DateTimeField(_("computed at"), default=timezone.now, db_index=True)
    until = models.DateField(_("data until"))
    threshold = models.PositiveSmallIntegerField(_("threshold"))
    fingerprint = models.CharField(max_length=64, editable=False)
    data = models.JSONField(_("statistics"))
    # Never published: a digest of each dossier's and package's contribution, so that the next
    # snapshot can tell how many changed since this one (see services.compute_snapshot).
    basis = models.JSONField(default=dict, editable=False)

    objects = SnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["-computed_at", "-pk"]
        verbose_name = _("transparency snapshot")
        verbose_name_plural = _("transparency snapshots")

    def __str__(self) -> str:
        return f"{self.until} ({self.computed_at:%Y-%m-%d %H:%M})"


class OversightReport(models.Model):
    """A PDF for one regime and year, for a parliamentary committee or a journalist."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RENDERING = "rendering", _("Rendering")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    regime = models.ForeignKey(
        "submissions.Regime", on_delete=models.PROTECT, related_name="+", verbose_name=_("regime")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    snapshot = models.ForeignKey(
        Snapshot, on_delete=models.PROTECT, related_name="reports", verbose_name=_("snapshot")
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    pdf = models.FileField(upload_to="oversight/", max_length=200, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("oversight report")
        verbose_name_plural = _("oversight reports")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(year__gte=2000, year__lte=2100), name="oversight_report_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.regime.key} {self.year} ({self.language})"
