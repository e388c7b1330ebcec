"""
What reviewers do: assignments (which reviewer sees which dossier), verification of the NGO's
checklist claims, independent reviews with rubric scores, questions to the NGO, decisions,
and the canonical persons that subjects of different dossiers are linked to.
"""

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from submissions.fields import NameField, NameListField, PartialDateField

from .querysets import AssignmentQuerySet, PackageQuerySet, PersonQuerySet, ReviewQuerySet


class Assignment(models.Model):
    """A reviewer asked to review one dossier."""

    dossier = models.ForeignKey(
        "submissions.Dossier", on_delete=models.CASCADE, related_name="assignments"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField(_("review due"), null=True, blank=True)
    recused_at = models.DateTimeField(_("recused at"), null=True, blank=True)
    recusal_reason = models.TextField(_("reason for recusal"), blank=True)
    # When the last overdue reminder went out: at most one a day (see tasks.remind_overdue).
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.UniqueConstraint(fields=["dossier", "reviewer"], name="assignment_unique"),
            models.CheckConstraint(
                condition=models.Q(recused_at__isnull=True) | ~models.Q(recusal_reason=""),
                name="assignment_recusal_has_reason",
            ),
        ]
        # App-wide permissions of the review site live here (any model of the app would do).
        permissions = [
            ("reveal_identity", _("Can reveal the real identity of a witness or source")),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} on {self.dossier}"

    @property
    def is_active(self) -> bool:
        return self.recused_at is None


class InformationRequest(models.Model):
    """A question from reviewers to the submitting organisation, and its thread."""

    dossier = models.ForeignKey(
        "submissions.Dossier", on_delete=models.CASCADE, related_name="information_requests"
    )
    question = models.TextField(_("question"))
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-asked_at"]

    def __str__(self) -> str:
        return f"{self.dossier}: {self.question[:60]}"

    @property
    def is_open(self) -> bool:
        return self.answered_at is None


class Message(models.Model):
    """One message in an information request's thread (the NGO's reply, or a follow-up)."""

    request = models.ForeignKey(
        InformationRequest, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("message"))
    evidence = models.ManyToManyField("submissions.Evidence", related_name="+", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.author} on {self.request_id}"


class Verification(models.Model):
    """
    The settled verification of one checklist claim: what the dossier's reviewers agree on.

    Each reviewer's own check is a ReviewerVerification, kept separately; this row follows
    them (services.settle_verification): their common status when they agree, "disputed" when
    they disagree, until a lead reviewer resolves it (`resolved_at`), after which the lead's
    status stands. Every change is in the audit log with the status before and after.
    """

    class Status(models.TextChoices):
        VERIFIED = "verified", _("Verified")
        DISPUTED = "disputed", _("Disputed")
        INSUFFICIENT = "insufficient", _("Insufficient evidence")

    answer = models.OneToOneField(
        "submissions.ChecklistAnswer", on_delete=models.CASCADE, related_name="verification"
    )
    status = models.CharField(_("verification"), max_length=20, choices=Status.choices)
    note = models.TextField(_("note"), blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(auto_now=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("verification")
        verbose_name_plural = _("verifications")

    def __str__(self) -> str:
        return f"{self.answer_id}: {self.status}"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def is_open_dispute(self) -> bool:
        """Disputed, and no lead reviewer has resolved it yet: blocks approval if blocking."""
        return self.status == self.Status.DISPUTED and not self.is_resolved


class ReviewerVerification(models.Model):
    """
    One reviewer's own check of one checklist claim. A second reviewer's check never changes
    the first's: each has a row, and the settled Verification is derived from them.
    """

    answer = models.ForeignKey(
        "submissions.ChecklistAnswer",
        on_delete=models.CASCADE,
        related_name="reviewer_verifications",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("verification"), max_length=20, choices=Verification.Status.choices)
    note = models.TextField(_("note"), blank=True)
    verified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["verified_at", "pk"]
        verbose_name = _("reviewer's verification")
        verbose_name_plural = _("reviewers' verifications")
        constraints = [
            models.UniqueConstraint(
                fields=["answer", "reviewer"], name="reviewer_verification_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.answer_id} by {self.reviewer_id}: {self.status}"


class Recommendation(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    REQUEST_INFORMATION = "request_information", _("Ask for information")


class Review(models.Model):
    """
    One reviewer's independent assessment of a dossier: rubric scores and a recommendation.

    A draft until submitted; once submitted it cannot change, and only then does its author
    see the other reviewers' scores.
    """

    dossier = models.ForeignKey(
        "submissions.Dossier", on_delete=models.CASCADE, related_name="reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    recommendation = models.CharField(
        _("recommendation"), max_length=30, choices=Recommendation.choices, blank=True
    )
    summary = models.TextField(_("summary for the lead reviewer"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            models.UniqueConstraint(fields=["dossier", "reviewer"], name="review_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} on {self.dossier}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    @property
    def average_score(self) -> float | None:
        """The mean of the rubric scores (uses prefetched scores when there are)."""
        scores = [score.score for score in self.scores.all()]
        return round(sum(scores) / len(scores), 1) if scores else None


class RubricScore(models.Model):
    """A score from 0 to 5, with a note, on one line of the rubric (domain.md section 6)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="scores")
    line = models.CharField(_("rubric line"), max_length=40)
    score = models.PositiveSmallIntegerField(_("score"), validators=[MaxValueValidator(5)])
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("rubric score")
        verbose_name_plural = _("rubric scores")
        constraints = [
            models.UniqueConstraint(fields=["review", "line"], name="rubric_score_unique"),
            models.CheckConstraint(condition=models.Q(score__lte=5), name="rubric_score_0_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.line}: {self.score}"


class Decision(models.Model):
    """
    The lead reviewer's decision on a dossier, with the reason the NGO receives. Its outcome
    is "approved" when at least one government was approved (RegimeDecision), else "rejected".
    """

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    dossier = models.OneToOneField(
        "submissions.Dossier", on_delete=models.CASCADE, related_name="decision"
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reason = models.TextField(_("reason (sent to the organisation)"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)
    reviews = models.ManyToManyField(Review, related_name="+", blank=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="decision_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.dossier}: {self.outcome}"


class RegimeDecision(models.Model):
    """The decision for one target government (regime) of a dossier: approved or rejected."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="regimes")
    regime = models.ForeignKey(
        "submissions.Regime", on_delete=models.PROTECT, related_name="+", verbose_name=_("regime")
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Decision.Outcome.choices)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["regime__key"]
        verbose_name = _("decision for a government")
        verbose_name_plural = _("decisions for each government")
        constraints = [
            models.UniqueConstraint(fields=["decision", "regime"], name="regime_decision_unique"),
            models.CheckConstraint(
                condition=~models.Q(outcome="rejected", reason=""),
                name="regime_rejection_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.regime_id}: {self.outcome}"


# Persons across dossiers


class Person(models.Model):
    """
    A canonical record: the one individual, or the one organisation, that subjects of several
    dossiers refer to. (Named Person for history; `kind` says which.) It holds the most precise
    data of its linked subjects (reviews.canonical.absorb) and is screened against the
    imported designation lists as soon as it exists.
    """

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        ENTITY = "entity", _("Organisation")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    name = NameField(_("name in Latin script"), max_length=300)
    name_original = NameField(_("name in original script"), max_length=300, blank=True)
    aliases = NameListField(_("aliases and other spellings"), default=list, blank=True)
    birth_date = PartialDateField(_("date of birth"), blank=True)
    nationalities = CountryField(_("nationalities"), multiple=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("person")
        verbose_name_plural = _("persons")

    def __str__(self) -> str:
        return f"{self.name} ({self.name_original})" if self.name_original else self.name


class SubjectLink(models.Model):
    """A subject of a dossier identified as a canonical person."""

    subject = models.OneToOneField(
        "submissions.Subject", on_delete=models.CASCADE, related_name="person_link"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="subject_links")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    linked_at = models.DateTimeField(auto_now_add=True)
    score = models.FloatField(_("match score"), null=True, blank=True)

    class Meta:
        verbose_name = _("subject link")
        verbose_name_plural = _("subject links")

    def __str__(self) -> str:
        return f"{self.subject_id} is {self.person}"


class MatchDecision(models.Model):
    """
    A reviewer's answer to a suggested match, so that it is not suggested again.

    The candidate is either a canonical person or another subject; a pair of subjects is
    stored once, lower id first, whichever side it was suggested from.
    """

    subject = models.ForeignKey(
        "submissions.Subject", on_delete=models.CASCADE, related_name="match_decisions"
    )
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="match_decisions"
    )
    other = models.ForeignKey(
        "submissions.Subject", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    accepted = models.BooleanField()
    score = models.FloatField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("match decision")
        verbose_name_plural = _("match decisions")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=True, other__isnull=False)
                | models.Q(person__isnull=False, other__isnull=True),
                name="match_decision_one_candidate",
            ),
            models.CheckConstraint(
                condition=models.Q(other__isnull=True) | models.Q(subject__lt=models.F("other")),
                name="match_decision_pair_ordered",
            ),
            models.UniqueConstraint(
                fields=["subject", "person"],
                condition=models.Q(person__isnull=False),
                name="match_decision_person_unique",
            ),
            models.UniqueConstraint(
                fields=["subject", "other"],
                condition=models.Q(other__isnull=False),
                name="match_decision_pair_unique",
            ),
        ]

    def __str__(self) -> str:
        verdict = "same" if self.accepted else "different"
        return f"{self.subject_id} / {self.person_id or self.other_id}: {verdict}"


class NameKey(models.Model):
    """
    A blocking key of a person's or a subject's name (reviews/matching.py): a normalised word
    or its first letters. Only names that share a key with the query are scored, so that one
    lookup reads a few index entries instead of every person. Kept by matching.update_keys.
    """

    key = models.CharField(max_length=40)
    # The owner's year of birth ("" if unknown): candidates are blocked by it as well.
    birth_year = models.CharField(max_length=4, blank=True)
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="name_keys"
    )
    subject = models.ForeignKey(
        "submissions.Subject", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["key", "birth_year", "person"], name="name_key_person"),
            models.Index(fields=["key", "birth_year", "subject"], name="name_key_subject"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=True, subject__isnull=False)
                | models.Q(person__isnull=False, subject__isnull=True),
                name="name_key_one_owner",
            )
        ]

    def __str__(self) -> str:
        return self.key


# Sanctions packages and government briefs


def new_package_reference() -> str:
    import secrets

    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    chars = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"PKG-{chars[:4]}-{chars[4:]}"


DEFAULT_MARKING = "OFFICIAL-SENSITIVE: contains material from protected sources. Do not publish."


def validate_age_recipient(value: str) -> None:
    import pyrage

    try:
        pyrage.x25519.Recipient.from_str(value.strip())
    except pyrage.RecipientError:
        raise ValidationError(
            _("Give the ministry's age public key (it starts with age1).")
        ) from None


class RecipientKey(models.Model):
    """
    A receiving ministry's public key (age, X25519): a brief delivered with it leaves the portal
    only encrypted to it. Only public keys are kept here; the ministry keeps its private key.
    """

    recipient = models.CharField(_("ministry"), max_length=300)
    label = models.CharField(_("label"), max_length=200, help_text=_("e.g. who holds it"))
    public_key = models.CharField(
        _("age public key"), max_length=100, unique=True, validators=[validate_age_recipient]
    )
    fingerprint = models.CharField(max_length=64, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recipient", "-created_at"]
        verbose_name = _("recipient key")
        verbose_name_plural = _("recipient keys")

    def __str__(self) -> str:
        return f"{self.recipient}: {self.label} ({self.fingerprint[:16]})"

    def save(self, *args, **kwargs):
        self.public_key = self.public_key.strip()
        self.fingerprint = hashlib.sha256(self.public_key.encode()).hexdigest()
        super().save(*args, **kwargs)


class Package(models.Model):
    """One government brief: persons asked to be designated under one regime, and its evidence."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        READY = "ready", _("Ready to render")
        RENDERED = "rendered", _("Rendered")
        DELIVERED = "delivered", _("Delivered")
        RESPONSE_RECORDED = "response_recorded", _("Response recorded")

    class Response(models.TextChoices):
        NONE = "", _("No response yet")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        UNDER_CONSIDERATION = "under_consideration", _("Under consideration")
        DESIGNATED = "designated", _("Designated")
        DECLINED = "declined", _("Declined")

    reference = models.CharField(
        max_length=24, unique=True, editable=False, default=new_package_reference
    )
    regime = models.ForeignKey(
        "submissions.Regime", on_delete=models.PROTECT, related_name="packages"
    )
    recipient = models.CharField(
        _("recipient ministry"), max_length=300, help_text=_("e.g. FCDO Sanctions Directorate")
    )
    persons = models.ManyToManyField(Person, related_name="packages", verbose_name=_("persons"))
    dossiers = models.ManyToManyField(
        "submissions.Dossier", related_name="packages", verbose_name=_("approved dossiers")
    )
    cover_note = models.TextField(_("cover note / executive summary"), blank=True)
    handling_marking = models.CharField(
        _("handling marking"), max_length=200, default=DEFAULT_MARKING
    )
    language = models.CharField(
        _("brief language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text=_("The language the brief is written in for the receiving government."),
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    recipient_key = models.ForeignKey(
        RecipientKey,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="packages",
        verbose_name=_("encrypt to"),
        help_text=_(
            "The ministry's key: the brief then leaves the portal only encrypted to it "
            "(no plain download)."
        ),
    )
    response = models.CharField(
        _("government response"), max_length=30, choices=Response.choices, blank=True
    )
    response_on = models.DateField(_("response received on"), null=True, blank=True)
    designated_on = models.DateField(_("designated on"), null=True, blank=True)
    response_note = models.TextField(_("response note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    status_changed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = PackageQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("sanctions package")
        verbose_name_plural = _("sanctions packages")

    def __str__(self) -> str:
        return f"{self.reference} ({self.regime.key})"

    def can_move_to(self, status: str) -> bool:
        return status in PACKAGE_TRANSITIONS.get(self.status, frozenset())


P = Package.Status

# Which status may follow which (architecture.md, "Package states"). A delivered package may be
# handed over again (another channel or ministry), and a recorded response may be corrected.
# Who may make each move is decided in packages.py, not here.
PACKAGE_TRANSITIONS: dict[str, frozenset[str]] = {
    P.DRAFT: frozenset({P.READY}),
    P.READY: frozenset({P.RENDERED}),
    P.RENDERED: frozenset({P.DELIVERED}),
    P.DELIVERED: frozenset({P.DELIVERED, P.RESPONSE_RECORDED}),
    P.RESPONSE_RECORDED: frozenset({P.RESPONSE_RECORDED}),
}


class BriefVersion(models.Model):
    """One rendering of a package: its PDF, manifest and bundle, with their hashes."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RENDERING = "rendering", _("Rendering")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    pdf = models.FileField(upload_to="briefs/", max_length=200, blank=True)
    manifest = models.FileField(upload_to="briefs/", max_length=200, blank=True)
    bundle = models.FileField(upload_to="briefs/", max_length=200, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    bundle_sha256 = models.CharField(max_length=64, blank=True)
    # manifest.sig as shipped (signature, key fingerprint, RFC 3161 token) and the signing key.
    manifest_signature = models.TextField(blank=True)
    signing_key = models.CharField(max_length=64, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    exhibits = models.PositiveIntegerField(null=True, blank=True)
    withheld = models.PositiveIntegerField(null=True, blank=True)
    # What the lead reviewer must look at: exhibits whose metadata could not be removed (they
    # were not shipped), findings left out because they rest on withheld material.
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["package", "number"], name="brief_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.package.reference} v{self.number}"


class Delivery(models.Model):
    """When, to whom and how a brief was handed over, and by whom."""

    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="deliveries")
    version = models.ForeignKey(BriefVersion, on_delete=models.PROTECT, related_name="+")
    delivered_on = models.DateField(_("delivered on"))
    recipient = models.CharField(_("delivered to"), max_length=300)
    channel = models.CharField(
        _("channel"), max_length=200, help_text=_("e.g. secure email, meeting, diplomatic pouch")
    )
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    # Encryption to the recipient (optional): the key used, by fingerprint, and the file sent.
    recipient_key = models.ForeignKey(
        RecipientKey, on_delete=models.PROTECT, null=True, blank=True, related_name="deliveries"
    )
    key_fingerprint = models.CharField(max_length=64, blank=True)
    encrypted_bundle = models.FileField(upload_to="deliveries/", max_length=200, blank=True)
    encrypted_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return f"{self.package.reference} to {self.recipient} on {self.delivered_on}"


class NotificationClaim(models.Model):
    """
    One sending of a notification task, claimed before it sends (tasks.sends_once): a task the
    broker delivers again (late acknowledgement, a worker lost) finds the claim and sends
    nothing twice. The key is the Celery task id, which a redelivery and a retry keep.
    """

    key = models.CharField(max_length=255, unique=True)
    task = models.CharField(max_length=200)
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification claim")
        verbose_name_plural = _("notification claims")

    def __str__(self) -> str:
        return f"{self.task} {self.key}"


class BriefText(models.Model):
    """
    A lead reviewer's wording of one finding for the briefs of one regime, about one subject:
    either a checklist answer's text or an incident's narrative. What the NGO filed is never
    changed; the brief prints this text instead (briefs.assemble). Every change is audited
    (packages.edit_brief_text).
    """

    regime = models.ForeignKey("submissions.Regime", on_delete=models.CASCADE, related_name="+")
    subject = models.ForeignKey(
        "submissions.Subject", on_delete=models.CASCADE, related_name="brief_texts"
    )
    answer = models.ForeignKey(
        "submissions.ChecklistAnswer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="brief_texts",
    )
    incident = models.ForeignKey(
        "submissions.Incident",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="brief_texts",
    )
    text = models.TextField(_("text for the brief"))
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    edited_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("finding as worded for the brief")
        verbose_name_plural = _("findings as worded for briefs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(answer__isnull=True, incident__isnull=False)
                | models.Q(answer__isnull=False, incident__isnull=True),
                name="brief_text_one_finding",
            ),
            models.UniqueConstraint(
                fields=["regime", "subject", "answer"],
                condition=models.Q(answer__isnull=False),
                name="brief_text_answer_unique",
            ),
            models.UniqueConstraint(
                fields=["regime", "subject", "incident"],
                condition=models.Q(incident__isnull=False),
                name="brief_text_incident_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.regime_id}/{self.subject_id}: {self.answer_id or self.incident_id}"
