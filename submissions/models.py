"""
What an NGO files: the regimes and their checklist (reference data), and the dossier with its
subjects, incidents, evidence, sources and checklist answers.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from portal.crypto import EncryptedTextField

from .fields import NameField, NameListField, NeutralTextField, PartialDateField
from .i18n_data import localized
from .querysets import (
    DossierQuerySet,
    EvidenceQuerySet,
    RegimeQuerySet,
)

# Reference data (loaded from submissions/data/checklist.yaml, editable in admin)


class ChecklistVersion(models.Model):
    """One load of the checklist data file; a dossier records the version it answered."""

    version = models.CharField(max_length=40, unique=True)
    sha256 = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-loaded_at"]

    def __str__(self) -> str:
        return self.version


class ViolationCategory(models.Model):
    class Kind(models.TextChoices):
        HUMAN_RIGHTS = "human_rights", _("Human rights")
        CORRUPTION = "corruption", _("Corruption")
        OTHER = "other", _("Other")

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    in_scope = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        verbose_name_plural = _("violation categories")

    def __str__(self) -> str:
        return localized(self, "name")


class InvolvementRole(models.Model):
    """How a subject took part in an incident (perpetrator, responsible, complicit ...)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return localized(self, "name")


class Regime(models.Model):
    """A sanctions programme of one jurisdiction, with its standard of proof."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PROPOSED = "proposed", _("Proposed (no law yet)")

    key = models.CharField(max_length=40, unique=True, help_text=_("e.g. US-GLOMAG, GB-HR"))
    opensanctions_key = models.CharField(max_length=40, blank=True)
    name = models.CharField(max_length=200)
    jurisdiction = models.CharField(max_length=2, help_text=_("ISO 3166 code, or EU"))
    instrument = models.TextField(blank=True)
    covers = models.TextField(blank=True)
    standard_of_proof = models.TextField(blank=True)
    receiving_authority = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    accepts_submissions = models.BooleanField(default=True)
    guidance = models.TextField(blank=True)
    incident_age_flag_years = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "Incidents older than this are flagged (never refused): the practice of this "
            "government rarely reaches so far back."
        ),
    )
    position = models.PositiveSmallIntegerField(default=0)
    categories = models.ManyToManyField(
        ViolationCategory, through="RegimeCoverage", related_name="regimes"
    )
    roles = models.ManyToManyField(InvolvementRole, through="RegimeRole", related_name="regimes")
    criteria = models.ManyToManyField(
        "Criterion", through="RegimeCriterion", related_name="regimes"
    )

    objects = RegimeQuerySet.as_manager()

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{localized(self, 'name')} ({self.key})"


class Coverage(models.TextChoices):
    YES = "Y", _("Covered")
    CONDITIONAL = "C", _("Covered only conditionally")


class RegimeCoverage(models.Model):
    regime = models.ForeignKey(Regime, on_delete=models.CASCADE, related_name="coverage")
    category = models.ForeignKey(ViolationCategory, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=1, choices=Coverage.choices)
    note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["regime", "category"], name="regime_category_unique")
        ]

    def __str__(self) -> str:
        return f"{self.regime.key}: {self.category.code} ({self.level})"


class RegimeRole(models.Model):
    regime = models.ForeignKey(Regime, on_delete=models.CASCADE, related_name="role_coverage")
    role = models.ForeignKey(InvolvementRole, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=1, choices=Coverage.choices)
    note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["regime", "role"], name="regime_role_unique")
        ]

    def __str__(self) -> str:
        return f"{self.regime.key}: {self.role.code} ({self.level})"


class Step(models.TextChoices):
    """The steps of filing a dossier, in order."""

    BASICS = "basics", _("Basics")
    SUBJECTS = "subjects", _("Subjects")
    INCIDENTS = "incidents", _("Incidents")
    EVIDENCE = "evidence", _("Evidence")
    SOURCES = "sources", _("Sources and witnesses")
    CHECKLIST = "checklist", _("Checklist")
    REVIEW = "review", _("Review and submit")


class Level(models.TextChoices):
    BLOCKING = "blocking", _("Blocking")
    ADVISORY = "advisory", _("Advisory")


class Criterion(models.Model):
    """One item of the standard-of-proof checklist."""

    class AppliesTo(models.TextChoices):
        ALL = "all", _("Every dossier")
        PERSON = "person", _("Dossiers with a person as subject")
        ENTITY = "entity", _("Dossiers with an entity as subject")
        WEB_EVIDENCE = "web_evidence", _("Dossiers with web or social-media evidence")
        OFFICIAL = "official", _("Prongs that need a public official")

    code = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=120, blank=True, help_text=_("The item named in words."))
    question = models.TextField()
    rule = models.CharField(
        max_length=40,
        blank=True,
        help_text=_(
            "The rule that computes it from the dossier (submissions/checklist.py RULES); "
            "blank for a judgement the submitter writes."
        ),
    )
    per_government = models.BooleanField(
        default=False,
        help_text=_("A judgement answered for each government, not once for all of them."),
    )
    evidence = models.TextField(blank=True, help_text=_("What evidence satisfies it."))
    guidance = models.TextField(blank=True)
    basis = models.TextField(blank=True, help_text=_("Why the portal asks: sources."))
    level = models.CharField(max_length=10, choices=Level.choices)
    applies_to = models.CharField(max_length=20, choices=AppliesTo.choices, default=AppliesTo.ALL)
    step = models.CharField(max_length=20, choices=Step.choices, default=Step.CHECKLIST)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        verbose_name_plural = _("criteria")

    def __str__(self) -> str:
        return self.code

    @property
    def is_computed(self) -> bool:
        """Closed by the dossier's data, never typed in the checklist."""
        return bool(self.rule)

    @property
    def name(self) -> str:
        """The item named in words, in the user's language."""
        from .i18n_data import localized

        return localized(self, "title") or self.code


class RegimeCriterion(models.Model):
    """A criterion as it applies to one regime, with the level it has there."""

    regime = models.ForeignKey(Regime, on_delete=models.CASCADE, related_name="checklist")
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=10, choices=Level.choices)

    class Meta:
        ordering = ["criterion__position"]
        constraints = [
            models.UniqueConstraint(fields=["regime", "criterion"], name="regime_criterion_unique")
        ]

    def __str__(self) -> str:
        return f"{self.regime.key}: {self.criterion.code} ({self.level})"


# The dossier and what it holds


def new_reference() -> str:
    """Return a reference like MAG-7KQ9-X2WD: short to read aloud, 40 random bits to guess."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
    chars = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"MAG-{chars[:4]}-{chars[4:]}"


class Dossier(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        IN_REVIEW = "in_review", _("In review")
        INFORMATION_REQUESTED = "information_requested", _("Information requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        PACKAGED = "packaged", _("Packaged")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Sensitivity(models.TextChoices):
        STANDARD = "standard", _("Standard")
        HIGH = "high", _("High: people named in it are at risk")
        EXTREME = "extreme", _("Extreme: lives are at risk if it leaks")

    reference = models.CharField(max_length=24, unique=True, editable=False, default=new_reference)
    organisation = models.ForeignKey(
        "portal.Organisation", on_delete=models.PROTECT, related_name="dossiers"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    title = NameField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    sensitivity = models.CharField(
        _("sensitivity"), max_length=10, choices=Sensitivity.choices, default=Sensitivity.HIGH
    )
    target_regimes = models.ManyToManyField(
        Regime, related_name="dossiers", verbose_name=_("target regimes")
    )
    checklist_version = models.ForeignKey(
        ChecklistVersion, on_delete=models.PROTECT, null=True, related_name="+"
    )
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    legal_hold = models.BooleanField(
        _("legal hold"),
        default=False,
        help_text=_("Keep this dossier past the retention period (e.g. for proceedings)."),
    )
    legal_hold_reason = models.CharField(_("reason for the hold"), max_length=300, blank=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DossierQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["organisation", "-updated_at"]),
            # The review queue orders by status_changed_at (then id, for a stable order).
            models.Index(fields=["status_changed_at", "id"], name="dossier_status_changed_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("submissions:dossier-detail", args=[self.reference])

    def can_move_to(self, status: str) -> bool:
        return status in TRANSITIONS.get(self.status, frozenset())

    @property
    def is_editable(self) -> bool:
        """The NGO changes what it filed only while the dossier is a draft."""
        return self.status == self.Status.DRAFT


S = Dossier.Status

# Which status may follow which (architecture.md, "Dossier states").
# Who may make each move is decided in services.py, not here.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.SUBMITTED: frozenset({S.IN_REVIEW, S.WITHDRAWN}),
    S.IN_REVIEW: frozenset({S.INFORMATION_REQUESTED, S.APPROVED, S.REJECTED}),
    S.INFORMATION_REQUESTED: frozenset({S.IN_REVIEW, S.WITHDRAWN}),
    S.APPROVED: frozenset({S.PACKAGED}),
}


class ReferenceCounter(models.Model):
    """
    The last exhibit and source numbers handed out in one dossier.

    A number is never handed out twice, so a removed exhibit leaves a gap (E1, E3) and
    "E-3" in an NGO's text always means the same file.
    """

    dossier = models.OneToOneField(
        Dossier, on_delete=models.CASCADE, primary_key=True, related_name="reference_counter"
    )
    exhibits = models.PositiveIntegerField(default=0)
    sources = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.dossier_id}: E{self.exhibits} W{self.sources}"


# What each counter numbers, and the letter its references carry.
REFERENCE_LETTERS = {"exhibits": "E", "sources": "W"}


def allocate_reference(dossier_id: int, counter: str) -> tuple[int, str]:
    """
    Return the next number of `counter` ("exhibits" or "sources") in a dossier and its
    reference, e.g. (3, "D14-E3").

    The counter row is locked for the rest of the caller's transaction, so two uploads at once
    never get the same number, on any number of processes or machines.
    """
    letter = REFERENCE_LETTERS[counter]
    with transaction.atomic():
        row, _created = ReferenceCounter.objects.select_for_update().get_or_create(
            dossier_id=dossier_id
        )
        number = getattr(row, counter) + 1
        setattr(row, counter, number)
        row.save(update_fields=[counter])
    return number, f"D{dossier_id}-{letter}{number}"


class Subject(models.Model):
    """A person or entity accused in a dossier (fields follow FollowTheMoney)."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        ENTITY = "entity", _("Entity (organisation or company)")

    class Gender(models.TextChoices):
        UNKNOWN = "", _("Unknown")
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="subjects")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    name = NameField(
        _("name in Latin script"), max_length=300, help_text=_("As on official documents.")
    )
    name_original = NameField(
        _("name in original script"),
        max_length=300,
        blank=True,
        help_text=_("e.g. Иван Петров, 王伟, محمد"),
    )
    aliases = NameListField(_("aliases and former names"), default=list, blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    birth_date = PartialDateField(_("date of birth"), blank=True)
    birth_place = NameField(_("place of birth"), max_length=200, blank=True)
    nationalities = CountryField(_("nationalities"), multiple=True, blank=True)
    registration_number = models.CharField(_("registration number"), max_length=100, blank=True)
    jurisdiction = CountryField(_("jurisdiction of registration"), blank=True)
    legal_form = models.CharField(_("legal form"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.name_original})" if self.name_original else self.name


class IdentityDocument(models.Model):
    class Kind(models.TextChoices):
        PASSPORT = "passport", _("Passport")
        NATIONAL_ID = "national_id", _("National identity card")
        TAX_ID = "tax_id", _("Tax number")
        OTHER = "other", _("Other")

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    number = models.CharField(_("number"), max_length=100)
    country = CountryField(_("issuing country"), blank=True)
    issued_on = PartialDateField(_("issued"), blank=True)
    expires_on = PartialDateField(_("expires"), blank=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class PositionHeld(models.Model):
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="positions")
    title = NameField(_("position"), max_length=200)
    organisation = NameField(_("organisation or body"), max_length=200, blank=True)
    country = CountryField(_("country"), blank=True)
    start = PartialDateField(_("from"), blank=True)
    end = PartialDateField(_("until"), blank=True, help_text=_("Leave empty if still held."))

    class Meta:
        ordering = ["start"]

    def __str__(self) -> str:
        return self.title


class JurisdictionLink(models.Model):
    """What ties a subject to a target jurisdiction: assets, travel, family, companies."""

    class Kind(models.TextChoices):
        ASSET = "asset", _("Assets, accounts or property")
        COMPANY = "company", _("Company or business")
        TRAVEL = "travel", _("Travel")
        FAMILY = "family", _("Family")
        STUDY = "study", _("Studies or residence")
        OTHER = "other", _("Other")

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    country = CountryField(_("country"))
    description = models.CharField(_("description"), max_length=500)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} in {self.country}"


class Incident(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="incidents")
    title = NameField(_("short title"), max_length=200)
    category = models.ForeignKey(
        ViolationCategory,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("violation category"),
    )
    start_date = PartialDateField(_("date (or first day)"))
    end_date = PartialDateField(_("last day"), blank=True, help_text=_("For a date range."))
    country = CountryField(_("country"))
    place = NameField(_("place"), max_length=200, blank=True)
    narrative = models.TextField(_("what happened"))
    victims_count = models.PositiveIntegerField(_("number of victims"), null=True, blank=True)
    subjects = models.ManyToManyField(Subject, through="Involvement", related_name="incidents")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start_date", "id"]

    def __str__(self) -> str:
        return self.title


class Involvement(models.Model):
    """Which subject took which role in an incident."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="involvements")
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="involvements")
    role = models.ForeignKey(InvolvementRole, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("how"), max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "subject", "role"], name="involvement_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} - {self.role} - {self.incident}"


RELIABILITY = [
    ("A", _("A: Completely reliable")),
    ("B", _("B: Usually reliable")),
    ("C", _("C: Fairly reliable")),
    ("D", _("D: Not usually reliable")),
    ("E", _("E: Unreliable")),
    ("F", _("F: Reliability cannot be judged")),
]
CREDIBILITY = [
    ("1", _("1: Confirmed by other sources")),
    ("2", _("2: Probably true")),
    ("3", _("3: Possibly true")),
    ("4", _("4: Doubtful")),
    ("5", _("5: Improbable")),
    ("6", _("6: Truth cannot be judged")),
]


class NumberedInDossier:
    """Give a new row its dossier-scoped number and reference when it is first saved."""

    reference_counter = ""  # "exhibits" or "sources"

    def save(self, *args, **kwargs):
        if self.number is not None or not self.dossier_id:
            return super().save(*args, **kwargs)
        try:
            with transaction.atomic():
                self.number, self.reference = allocate_reference(
                    self.dossier_id, self.reference_counter
                )
                return super().save(*args, **kwargs)
        except BaseException:
            # Rolled back: the number was not used, and a retry must ask for a new one.
            self.number, self.reference = None, ""
            raise


class Source(NumberedInDossier, models.Model):
    """A witness, victim or other source. Identity and contact are encrypted at rest."""

    class Kind(models.TextChoices):
        WITNESS = "witness", _("Witness")
        VICTIM = "victim", _("Victim or survivor")
        INSIDER = "insider", _("Insider or official")
        DOCUMENT = "document", _("Document holder or archive")
        OPEN_SOURCE = "open_source", _("Open source (media, web)")
        OTHER = "other", _("Other")

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="sources")
    reference_counter = "sources"
    number = models.PositiveIntegerField(null=True, editable=False)
    reference = models.CharField(
        _("reference"),
        max_length=32,
        blank=True,
        editable=False,
        help_text=_("Given once when the source is added, e.g. D14-W1; never reused."),
    )
    pseudonym = NameField(_("pseudonym"), max_length=40)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    reliability = models.CharField(_("reliability"), max_length=1, choices=RELIABILITY, blank=True)
    reliability_reason = models.TextField(_("why this grade"), blank=True)
    identity = EncryptedTextField(_("real name and identifying details"), blank=True)
    contact = EncryptedTextField(_("contact details"), blank=True)
    safety_notes = EncryptedTextField(_("risks and protection needs"), blank=True)
    consents = models.ManyToManyField(Regime, through="Consent", related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pseudonym"]
        constraints = [
            models.UniqueConstraint(
                fields=["dossier", "pseudonym"], name="source_pseudonym_unique"
            ),
            models.UniqueConstraint(
                fields=["dossier", "number"],
                condition=models.Q(number__isnull=False),
                name="source_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.pseudonym


class Consent(models.Model):
    """A source's informed consent to share their information with one government."""

    class Scope(models.TextChoices):
        NAMED = "named", _("May be named to this government")
        ANONYMOUS = "anonymous", _("Only under the pseudonym")

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="consent_records")
    regime = models.ForeignKey(Regime, on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.ANONYMOUS)
    given_on = models.DateField(_("consent given on"))
    method = models.CharField(_("how it was recorded"), max_length=200)
    withdrawn_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "regime"], name="consent_unique")]

    def __str__(self) -> str:
        return f"{self.source} -> {self.regime.key} ({self.scope})"


def evidence_key(instance, filename: str) -> str:
    """Store under a random key: the original name is data, never part of a path."""
    return f"evidence/{uuid.uuid4().hex}"


class Evidence(NumberedInDossier, models.Model):
    class Kind(models.TextChoices):
        FILE = "file", _("File")
        LINK = "link", _("Web page or post")

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="evidence")
    reference_counter = "exhibits"
    number = models.PositiveIntegerField(null=True, editable=False)
    reference = models.CharField(
        _("reference"),
        max_length=32,
        blank=True,
        editable=False,
        help_text=_("Given once at upload, e.g. D14-E3; a removed exhibit leaves a gap."),
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    file = models.FileField(upload_to=evidence_key, max_length=200, blank=True)
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    content_type = models.CharField(max_length=100, blank=True)
    url = models.URLField(_("address"), max_length=2000, blank=True)
    captured_at = models.DateTimeField(_("captured at"), null=True, blank=True)
    archive_url = models.URLField(_("archived copy"), max_length=2000, blank=True)
    posted_by = NameField(_("posted by"), max_length=200, blank=True)
    description = NeutralTextField(_("description"), blank=True)
    obtained_on = models.DateField(_("date obtained"), null=True, blank=True)
    provenance = models.TextField(
        _("provenance and custody"),
        blank=True,
        help_text=_("Who collected it, when, how, from where, and who has held it since."),
    )
    source = models.ForeignKey(
        Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="evidence"
    )
    reliability = models.CharField(
        _("source reliability"), max_length=1, choices=RELIABILITY, blank=True
    )
    credibility = models.CharField(
        _("information credibility"), max_length=1, choices=CREDIBILITY, blank=True
    )
    grade_reason = models.TextField(_("why these grades"), blank=True)
    translation_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="translations",
        verbose_name=_("translation of"),
        help_text=_("The exhibit of this dossier that this one translates, if it is one."),
    )
    keep_metadata_in_copies = models.BooleanField(
        _("send its metadata with the copies for governments"),
        default=False,
        help_text=_(
            "Off (the default): copies that leave the portal are stripped of the GPS position, "
            "device and author. On: they keep them, e.g. when the position itself proves where "
            "a photo was taken. The original stays in the portal either way."
        ),
    )
    incidents = models.ManyToManyField(Incident, related_name="evidence", blank=True)
    criteria = models.ManyToManyField(Criterion, related_name="+", blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    scanned_at = models.DateTimeField(null=True, blank=True)
    malware_warning = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("Why this file may be malicious; kept as evidence, downloaded with a warning."),
    )
    bundle_override_at = models.DateTimeField(
        _("allowed in bundles at"),
        null=True,
        blank=True,
        help_text=_("A lead reviewer let this flagged file go into government bundles."),
    )
    bundle_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("allowed in bundles by"),
    )
    bundle_override_reason = models.TextField(_("why it may go into bundles"), blank=True)
    thumbnail = models.FileField(upload_to="thumbnails/", max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = _("evidence")
        constraints = [
            # A file is stored once per dossier: the same bytes are reported, not duplicated.
            models.UniqueConstraint(
                fields=["dossier", "sha256"],
                condition=~models.Q(sha256=""),
                name="evidence_sha256_unique_per_dossier",
            ),
            models.UniqueConstraint(
                fields=["dossier", "number"],
                condition=models.Q(number__isnull=False),
                name="evidence_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.original_name or self.url or self.reference

    @property
    def is_flagged(self) -> bool:
        """A check found that the file may be malicious (it is kept, and shown with a warning)."""
        return bool(self.malware_warning)

    @property
    def ships_in_bundles(self) -> bool:
        """The file goes into a government bundle: it is not flagged, or a lead overrode."""
        return not self.is_flagged or self.bundle_override_at is not None

    @property
    def grade(self) -> str:
        """The Admiralty grade pair, e.g. B2."""
        return f"{self.reliability}{self.credibility}"

    @property
    def location(self) -> dict | None:
        """The GPS position found in the file on upload ({"latitude", "longitude"} or
        {"present": True} when unreadable), or None."""
        return (self.metadata or {}).get("exif", {}).get("GPS") or None

    @property
    def device(self) -> str:
        """The camera or phone named in the file on upload (make and model), or ""."""
        exif = (self.metadata or {}).get("exif", {})
        make, model = exif.get("Make", ""), exif.get("Model", "")
        if make and model.lower().startswith(make.lower()):
            make = ""  # "Canon" + "Canon EOS 5D" reads once
        return " ".join(part for part in (make, model) if part)

    @property
    def identifying_metadata(self) -> bool:
        """The file carries what could locate or identify whoever took it."""
        exif = (self.metadata or {}).get("exif", {})
        pdf = self.metadata or {}
        return bool(self.location or self.device or exif.get("Software") or pdf.get("author"))


class ChecklistAnswer(models.Model):
    """The submitter's claim on one criterion for one target regime."""

    class Status(models.TextChoices):
        MET = "met", _("Met")
        PARTLY = "partly", _("Partly met")
        NOT_MET = "not_met", _("Not met")
        NOT_APPLICABLE = "not_applicable", _("Not applicable")

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="answers")
    regime = models.ForeignKey(Regime, on_delete=models.PROTECT, related_name="+")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    question = models.TextField(help_text=_("The question as it was asked, kept with the answer."))
    status = models.CharField(max_length=20, choices=Status.choices)
    explanation = models.TextField(blank=True)
    evidence = models.ManyToManyField(Evidence, related_name="answers", blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dossier", "regime", "criterion"], name="answer_unique")
        ]

    def __str__(self) -> str:
        return f"{self.dossier}: {self.regime.key} {self.criterion.code} = {self.status}"

    @property
    def closes_blocking_item(self) -> bool:
        """Met, or not applicable with a reason (domain.md section 4)."""
        if self.status == self.Status.MET:
            return True
        return self.status == self.Status.NOT_APPLICABLE and bool(self.explanation.strip())
