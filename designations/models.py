"""
Existing designations: who the published sanctions lists name, under which program, since when;
the import runs that brought them in; the blocking keys that make screening an indexed lookup;
the reviewers' answers to screening candidates; and the packages whose request came true.

Designations are data from outside: they link to a canonical person only through a match a
reviewer confirmed (ScreeningMatch), never by themselves.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Format(models.TextChoices):
    FTM = "ftm", _("FollowTheMoney entities (one JSON object a line)")
    OFAC_SDN_XML = "ofac-sdn-xml", _("US Treasury SDN list (XML)")
    UK_SANCTIONS_LIST = "uk-sanctions-list", _("UK Sanctions List (CSV or XML)")


class ImportRun(models.Model):
    """One import of one published list file: what it held, what it changed, how far it is."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    source = models.CharField(
        _("source"), max_length=100, help_text=_("e.g. us-ofac-sdn, gb-fcdo, opensanctions")
    )
    format = models.CharField(_("format"), max_length=30, choices=Format.choices)
    location = models.CharField(_("file or URL"), max_length=1000)
    sha256 = models.CharField(_("file SHA-256"), max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    bytes_total = models.BigIntegerField(null=True, blank=True)
    bytes_read = models.BigIntegerField(default=0)
    entries = models.PositiveIntegerField(_("entries read"), default=0)
    added = models.PositiveIntegerField(_("added"), default=0)
    changed = models.PositiveIntegerField(_("changed"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    delisted = models.PositiveIntegerField(_("delisted"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    errors = models.PositiveIntegerField(_("errors"), default=0)
    unknown_programs = models.JSONField(_("unknown program keys"), default=dict, blank=True)
    error_log = models.JSONField(_("errors (first ones)"), default=list, blank=True)
    failure = models.TextField(_("why the run failed"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def progress(self) -> int | None:
        """Percent of the file read, when its size is known."""
        if self.status == self.Status.DONE:
            return 100
        if not self.bytes_total:
            return None
        return min(99, int(100 * self.bytes_read / self.bytes_total))


class DesignatedParty(models.Model):
    """A person or entity as one published list describes it (FollowTheMoney's fields)."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        ENTITY = "entity", _("Entity")

    source = models.CharField(_("source"), max_length=100)
    external_id = models.CharField(_("identifier in the list"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    schema = models.CharField(_("FollowTheMoney schema"), max_length=40)
    name = models.CharField(_("primary name"), max_length=500)
    # [{"name": ..., "script": "Cyrillic", "type": "primary" | "alias" | "weak" | "previous"}]
    names = models.JSONField(_("names and aliases"), default=list)
    birth_dates = models.JSONField(_("dates of birth"), default=list, blank=True)
    nationalities = models.JSONField(_("nationalities"), default=list, blank=True)
    # [{"type": "passport" | "national_id" | "tax_id" | "other", "number": ..., "country": ...}]
    identifiers = models.JSONField(_("identifiers"), default=list, blank=True)
    content_hash = models.CharField(max_length=64)
    first_seen_run = models.ForeignKey(
        ImportRun, on_delete=models.PROTECT, related_name="+", null=True
    )
    last_seen_run = models.ForeignKey(
        ImportRun, on_delete=models.PROTECT, related_name="+", null=True
    )
    first_seen_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    delisted_on = models.DateField(_("delisted on"), null=True, blank=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("designated party")
        verbose_name_plural = _("designated parties")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="party_unique_in_source")
        ]
        indexes = [models.Index(fields=["source", "last_seen_run"], name="party_source_seen")]

    def __str__(self) -> str:
        return f"{self.name} ({self.source} {self.external_id})"


class Designation(models.Model):
    """One listing of a party under one program, as the list publishes it."""

    source = models.CharField(_("source"), max_length=100)
    external_id = models.CharField(max_length=300)
    party = models.ForeignKey(
        DesignatedParty,
        on_delete=models.CASCADE,
        related_name="designations",
        null=True,  # an FtM Sanction may come before its entity; resolved at the end of a run
    )
    party_ref = models.CharField(max_length=200)
    program_key = models.CharField(_("program key"), max_length=120)
    regime = models.ForeignKey(
        "submissions.Regime",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="designations",
    )
    authority = models.CharField(_("authority"), max_length=300, blank=True)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    listed_on = models.DateField(_("listed on"), null=True, blank=True)
    content_hash = models.CharField(max_length=64)
    first_seen_run = models.ForeignKey(
        ImportRun, on_delete=models.PROTECT, related_name="+", null=True
    )
    last_seen_run = models.ForeignKey(
        ImportRun, on_delete=models.PROTECT, related_name="+", null=True
    )
    # The run in which the listing became active: first seen, or seen again after a delisting.
    listed_in_run = models.ForeignKey(
        ImportRun, on_delete=models.PROTECT, related_name="listed", null=True
    )
    first_seen_at = models.DateTimeField(default=timezone.now)
    delisted_on = models.DateField(_("delisted on"), null=True, blank=True)

    class Meta:
        ordering = ["listed_on", "pk"]
        verbose_name = _("designation")
        verbose_name_plural = _("designations")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="designation_unique_in_source"
            )
        ]
        indexes = [
            models.Index(fields=["party", "regime"], name="designation_party_regime"),
            models.Index(fields=["source", "last_seen_run"], name="designation_source_seen"),
            models.Index(fields=["source", "party_ref"], name="designation_party_ref"),
        ]

    def __str__(self) -> str:
        return f"{self.program_key} {self.reference or self.external_id}"

    @property
    def is_active(self) -> bool:
        return self.delisted_on is None

    @property
    def listing_date(self):
        """
        The listing's date as the list publishes it, or None when the list gives none (the
        SDN file names no designation date). Never the date the portal imported it.
        """
        return self.listed_on

    @property
    def listing_date_text(self) -> str:
        """The listing date for people to read, in their language's format, or "date unknown"."""
        if self.listed_on is None:
            return gettext("date unknown")
        return formats.date_format(self.listed_on, "SHORT_DATE_FORMAT")

    @property
    def listed_by(self):
        """
        The latest the listing can have taken effect: its published date, else the day an
        import first saw it. For deciding what came before what, never for display.
        """
        return self.listed_on or timezone.localdate(self.first_seen_at)

    def by_government_of(self, regime) -> bool:
        """Whether this listing is by `regime`'s own government (same jurisdiction)."""
        if self.regime_id is not None:
            return self.regime_id == regime.pk or self.regime.jurisdiction == regime.jurisdiction
        return self.program_key.split("-", 1)[0].upper() == regime.jurisdiction.upper()


class NameKey(models.Model):
    """A blocking key of a party's name: screening looks these up instead of scanning names."""

    party = models.ForeignKey(DesignatedParty, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["key", "party"], name="namekey_key_party")]

    def __str__(self) -> str:
        return self.key


class ScreeningMatch(models.Model):
    """
    A designated party that may be a canonical person or a subject, with its score and reasons.

    Screening only ever proposes; a reviewer confirms or rejects, and the answer is kept so that
    a rejected candidate is not proposed again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("To review")
        CONFIRMED = "confirmed", _("Confirmed: the same")
        REJECTED = "rejected", _("Rejected: someone else")

    person = models.ForeignKey(
        "reviews.Person",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="designation_matches",
    )
    subject = models.ForeignKey(
        "submissions.Subject",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="designation_matches",
    )
    party = models.ForeignKey(DesignatedParty, on_delete=models.CASCADE, related_name="matches")
    score = models.FloatField(_("score"))
    name_score = models.FloatField(_("name score"))
    reasons = models.JSONField(_("reasons"), default=list)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-score", "pk"]
        verbose_name = _("screening match")
        verbose_name_plural = _("screening matches")
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=True, subject__isnull=False)
                | Q(person__isnull=False, subject__isnull=True),
                name="screening_match_one_target",
            ),
            models.UniqueConstraint(
                fields=["person", "party"],
                condition=Q(person__isnull=False),
                name="screening_match_person_unique",
            ),
            models.UniqueConstraint(
                fields=["subject", "party"],
                condition=Q(subject__isnull=False),
                name="screening_match_subject_unique",
            ),
        ]
        indexes = [models.Index(fields=["status", "-score"], name="screening_match_queue")]

    def __str__(self) -> str:
        target = self.person_id and f"person {self.person_id}" or f"subject {self.subject_id}"
        return f"{target} / {self.party_id}: {self.status}"


class PackageOutcome(models.Model):
    """A delivered package whose person a government has since designated under its regime."""

    package = models.ForeignKey(
        "reviews.Package", on_delete=models.CASCADE, related_name="designation_outcomes"
    )
    person = models.ForeignKey("reviews.Person", on_delete=models.CASCADE, related_name="+")
    designation = models.ForeignKey(Designation, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(ImportRun, on_delete=models.SET_NULL, null=True, related_name="+")
    detected_at = models.DateTimeField(auto_now_add=True)
    recorded_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-detected_at"]
        verbose_name = _("package outcome")
        verbose_name_plural = _("package outcomes")
        constraints = [
            models.UniqueConstraint(
                fields=["package", "designation"], name="package_outcome_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.package_id}: {self.designation}"
