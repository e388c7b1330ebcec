import hashlib
import time
from base64 import b32encode
from binascii import unhexlify
from datetime import timedelta
from functools import cached_property
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP
from django_otp.util import random_hex

from .crypto import EncryptedTextField

# Group names for the reviewer roles; the groups are created by a migration.
REVIEWERS_GROUP = "Reviewers"
LEAD_REVIEWERS_GROUP = "Lead reviewers"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        # Sign-in is case-insensitive, as people type their address in any case.
        return self.get(email__iexact=email)

    def create_user(self, email, password=None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address: NGO member, reviewer or administrator."""

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    # Chosen with the language switcher; the emails the portal sends this person use it.
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, blank=True, default=""
    )
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Whether the user can sign in to the review site (Django admin)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="portal_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = type(self).objects.normalize_email(self.email)

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @cached_property
    def _group_names(self) -> frozenset[str]:
        return frozenset(self.groups.values_list("name", flat=True))

    @property
    def is_lead_reviewer(self) -> bool:
        return self.is_active and (self.is_superuser or LEAD_REVIEWERS_GROUP in self._group_names)

    @property
    def is_reviewer(self) -> bool:
        """Reviewers and lead reviewers: the people who work in the review site."""
        return self.is_active and (self.is_lead_reviewer or REVIEWERS_GROUP in self._group_names)


class Organisation(models.Model):
    """An NGO or victims' group that files dossiers."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("short name"), max_length=80, unique=True)
    country = models.CharField(
        _("country"), max_length=2, blank=True, help_text=_("ISO 3166 code of the seat.")
    )
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    # Opt-in, off by default: a contributing organisation may be at risk if named.
    listed_publicly = models.BooleanField(
        _("name us on the public transparency page"),
        default=False,
        help_text=_(
            "If ticked, the organisation's name may appear in the public list of contributing "
            "organisations. Nothing else about its dossiers is ever published."
        ),
    )
    # Opt-in: listed to people who report through the anonymous intake (/report/, issue #24).
    accepts_intakes = models.BooleanField(
        _("accept reports from victims and witnesses"),
        default=False,
        help_text=_(
            "If ticked, people who report through the portal's anonymous intake may choose "
            "this organisation, which then answers them and may adopt their report."
        ),
    )
    intake_description = models.TextField(
        _("public description for reporters"),
        blank=True,
        help_text=_(
            "Shown to reporters who choose an organisation: who you are, where you work, "
            "which languages you answer in and what you can do for them."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    def has_member(self, user) -> bool:
        return user.is_authenticated and self.memberships.filter(user=user).exists()


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        ADMIN = "admin", _("Organisation admin")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"], name="portal_membership_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.get_role_display()})"


class AuditEvent(models.Model):
    """
    One thing that happened, append-only: who did what to which object, and when.

    Each row carries an HMAC-SHA256 of its content and of the row before it, made with a key
    that is not in the database (AUDIT_HMAC_KEYS; `key_id` names which), so that a changed,
    removed or inserted row breaks the chain (`manage.py verify_audit_log`) and nobody without
    the key can re-chain it. Written only by `portal.audit.record()`.
    """

    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    created_at = models.DateTimeField(editable=False)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    previous_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)
    key_id = models.CharField(max_length=16, editable=False, default="")

    class Meta:
        ordering = ["-sequence"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.target_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")


class AuditChainHead(models.Model):
    """
    The single row that holds the end of the audit chain.

    Writers lock it (SELECT ... FOR UPDATE) before appending, which serialises appends across
    processes and machines without a lock held in any one process.
    """

    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"#{self.sequence} {self.hash[:12]}"


# How long an emailed invitation link works.
INVITATION_VALID_FOR = timedelta(days=7)


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> "InvitationQuerySet":
        """Return invitations neither accepted nor revoked (some may have expired)."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)


class Invitation(models.Model):
    """
    An emailed offer to join an organisation with a role.

    Only the SHA-256 of the token is stored: the raw token exists only in the emailed link, so
    a copy of the database does not let anyone accept an invitation.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("email address"))
    role = models.CharField(
        _("role"), max_length=16, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            # Re-inviting revokes the previous invitation first: one pending per address.
            models.UniqueConstraint(
                Lower("email"),
                "organisation",
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="portal_invitation_one_pending_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.organisation}"

    @staticmethod
    def hash_token(raw_token: str) -> str:
        return hashlib.sha256(raw_token.encode()).hexdigest()

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


# Second factor (portal.twofactor): the portal's own django-otp devices, so that the
# authenticator's shared secret is stored encrypted and recovery codes only as keyed hashes.


def new_authenticator_key() -> str:
    """Return a new shared secret for an authenticator app: 20 random bytes, hex-encoded."""
    return random_hex(20)


class AuthenticatorDevice(TimestampMixin, ThrottlingMixin, Device):
    """
    An authenticator app (TOTP, RFC 6238), as django-otp's TOTPDevice but with the secret
    encrypted at rest (FIELD_ENCRYPTION_KEYS): a copy of the database gives no one codes.

    A user has at most one confirmed app and at most one being set up.
    """

    key = EncryptedTextField(default=new_authenticator_key)
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    # The time step of the last accepted code: a code is accepted once, never again.
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "confirmed"], name="portal_authenticator_one_per_state"
            ),
        ]

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.key.encode())

    def verify_token(self, token) -> bool:
        """Accept a code from the app once; a wrong one counts towards throttling."""
        if not self.verify_is_allowed()[0]:
            return False
        totp = self._matching(token)
        if totp is None:
            self.throttle_increment(commit=True)
            return False
        self.last_t = totp.t()
        self.drift = totp.drift
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True

    def check_token(self, token) -> bool:
        """Say whether `token` is a code from the app, without using it up."""
        if not self.verify_is_allowed()[0]:
            return False
        if self._matching(token) is None:
            self.throttle_increment(commit=True)
            return False
        return True

    def _matching(self, token) -> TOTP | None:
        try:
            token = int(token)
        except (TypeError, ValueError):
            return None
        totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
        totp.time = time.time()
        return totp if totp.verify(token, self.tolerance, self.last_t + 1) else None

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    @property
    def config_url(self) -> str:
        """The otpauth:// address an authenticator app reads from the QR code."""
        issuer = settings.OTP_TOTP_ISSUER.replace(":", "")
        label = f"{issuer}:{self.user.get_username()}" if issuer else self.user.get_username()
        params = {
            "secret": b32encode(self.bin_key).decode(),
            "algorithm": "SHA1",
            "digits": self.digits,
            "period": self.step,
        }
        if issuer:
            params["issuer"] = issuer
        return f"otpauth://totp/{quote(label)}?{urlencode(params, quote_via=quote)}"


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """A user's set of single-use recovery codes, kept only as keyed hashes (RecoveryCode)."""

    class Meta(Device.Meta):
        verbose_name = _("recovery codes")
        verbose_name_plural = _("recovery codes")
        constraints = [
            models.UniqueConstraint(fields=["user"], name="portal_recovery_codes_one_per_user"),
        ]

    def verify_token(self, token) -> bool:
        if not self.verify_is_allowed()[0]:
            return False
        hashes = RecoveryCode.hashes_of(str(token))
        # Deleting is the check: of two requests with the same code, only one deletes it.
        used, _by_model = RecoveryCode.objects.filter(device=self, code_hash__in=hashes).delete()
        if used:
            self.throttle_reset(commit=False)
            self.save()
            return True
        self.throttle_increment(commit=True)
        return False

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)


class RecoveryCode(models.Model):
    """
    One unused recovery code, as HMAC-SHA256 of the code under a key derived from SECRET_KEY.

    The codes carry 48 random bits and guesses are throttled, so a fast keyed hash is enough:
    without the secret key a copy of the database cannot be checked against guesses at all.
    """

    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["device", "code_hash"], name="portal_recovery_code_unique"
            )
        ]

    def __str__(self) -> str:
        return f"recovery code #{self.pk}"

    HASH_SALT = "portal.RecoveryCode"

    @staticmethod
    def normalise(code: str) -> str:
        return "".join(code.split()).replace("-", "").lower()

    @classmethod
    def hash_of(cls, code: str, secret: str | None = None) -> str:
        return salted_hmac(
            cls.HASH_SALT, cls.normalise(code), secret=secret, algorithm="sha256"
        ).hexdigest()

    @classmethod
    def hashes_of(cls, code: str) -> list[str]:
        """The code's hash under the secret key and every fallback key (SECRET_KEY rotation)."""
        secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
        return [cls.hash_of(code, secret) for secret in secrets]
