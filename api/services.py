"""
Operations of the API app: creating and revoking tokens, and receiving resumable uploads.

Filing itself goes through submissions.services, exactly as the web forms do.
"""

import datetime
import fcntl
import hashlib
import secrets
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from portal.models import Membership, User
from submissions import services as filing
from submissions import uploads
from submissions.models import Dossier, Evidence

from .models import ApiToken, ResumableUpload

# The visible start of every token: a marker, not a secret.
TOKEN_PREFIX = "mag_"  # noqa: S105  # nosec B105
CHUNK = 1024 * 1024  # read and hash 1 MiB at a time


# Tokens


def may_hold_tokens(user) -> bool:
    """API tokens are for NGO members: the API files dossiers, it has no reviewer actions."""
    return user.is_authenticated and Membership.objects.filter(user=user).exists()


@transaction.atomic
def create_token(
    *, by: User, name: str, scope: str, days: int, identities: bool = False
) -> tuple[ApiToken, str]:
    """Create a token for `by`; return it with its secret, which is never stored."""
    if not may_hold_tokens(by):
        raise PermissionDenied
    if scope not in ApiToken.Scope.values:
        raise ValidationError(_("Choose read or write."))
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise ValidationError(
            _("A token lasts between 1 and %(days)s days."),
            params={"days": settings.API_TOKEN_MAX_DAYS},
        )
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=by,
        name=name,
        prefix=prefix,
        token_hash=ApiToken.hash_secret(raw),
        scope=scope,
        identities=identities,
        expires_at=timezone.now() + timedelta(days=days),
    )
    audit.record(
        actor=by,
        action="api_token.created",
        target=token,
        data={
            "prefix": prefix,
            "scope": scope,
            "identities": identities,
            "expires_at": token.expires_at,
        },
    )
    return token, raw


@transaction.atomic
def revoke_token(token: ApiToken, *, by: User) -> ApiToken:
    """Revoke one of `by`'s tokens; it stops working at once."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != by.pk:
        raise PermissionDenied
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            actor=by, action="api_token.revoked", target=token, data={"prefix": token.prefix}
        )
    return token


def find_token(raw: str) -> ApiToken | None:
    """Return the usable token whose secret is `raw`, or None."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    return (
        ApiToken.objects.usable()
        .select_related("user")
        .filter(token_hash=ApiToken.hash_secret(raw))
        .first()
    )


def mark_token_used(token: ApiToken) -> None:
    """Note when a token was last used: at most one write a minute per token."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def record_token_use(token: ApiToken, *, method: str, path: str, status: int) -> None:
    """Audit a state change made with a token (the service audited the change itself)."""
    audit.record(
        actor=token.user,
        action="api_token.used",
        target=token,
        data={"prefix": token.prefix, "method": method, "path": path, "status": status},
    )


@transaction.atomic
def record_identity_reads(sources, *, token: ApiToken) -> None:
    """
    Audit, one event per source, that a token's holder received its identity, contact and
    safety notes (never the values themselves). Raises if the token may not read them.
    """
    if not token.can_read_identities:
        raise PermissionDenied
    for source in sources:
        audit.record(
            actor=token.user,
            action="source.identity_read",
            target=source,
            data={
                "dossier": source.dossier_id,
                "pseudonym": source.pseudonym,
                "via": "api",
                "token": token.prefix,
            },
        )


# Resumable uploads (tus core protocol)


class UploadConflict(Exception):
    """The client's offset is not where the upload stands, or another request is writing."""


def upload_dir() -> Path:
    """The private folder for partial uploads: in the data directory, never the web root."""
    path = Path(settings.API_UPLOAD_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def partial_path(upload: ResumableUpload) -> Path:
    return upload_dir() / f"{upload.pk.hex}.part"


def create_upload(
    dossier: Dossier,
    *,
    by: User,
    token: ApiToken | None,
    length: int,
    file_name: str,
    sha256: str = "",
    details: dict,
) -> ResumableUpload:
    """Open a resumable upload of `length` bytes into `dossier`."""
    filing._check_draft(dossier, by=by, statuses=filing.ATTACHABLE)
    if length > uploads.max_upload_size():
        raise ValidationError(
            uploads.rejection_message(uploads.clean_file_name(file_name), "too_large"),
            code="too_large",
        )
    if length < 1:
        raise ValidationError(_("The file is empty."), code="empty")
    upload = ResumableUpload.objects.create(
        dossier=dossier,
        user=by,
        token=token,
        file_name=uploads.clean_file_name(file_name),
        length=length,
        sha256=sha256.lower(),
        details=details,
        expires_at=timezone.now() + timedelta(seconds=settings.API_UPLOAD_EXPIRES),
    )
    path = partial_path(upload)
    path.touch(mode=0o600)
    return upload


def append_to_upload(upload: ResumableUpload, *, offset: int, stream, length: int | None) -> int:
    """
    Write the bytes of `stream` at `offset`, a piece at a time; return the new offset.

    A client that goes away mid-request leaves what arrived: the offset says where to resume.
    Only one request writes to an upload at a time (a lock on its file).
    """
    path = partial_path(upload)
    remaining = upload.length - offset
    if length is not None and length > remaining:
        raise ValidationError(_("More bytes than the upload's length."), code="too_long")
    with open(path, "r+b") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UploadConflict(_("Another request is writing to this upload.")) from None
        current = ResumableUpload.objects.values_list("offset", flat=True).get(pk=upload.pk)
        if current != offset:
            raise UploadConflict(
                _("The upload is at byte %(current)s, not %(offset)s.")
                % {"current": current, "offset": offset}
            )
        file.seek(offset)
        file.truncate()
        to_read = remaining if length is None else length
        received = 0
        try:
            while received < to_read:
                chunk = stream.read(min(CHUNK, to_read - received))
                if not chunk:
                    break  # the client went away: keep what arrived
                file.write(chunk)
                received += len(chunk)
        except OSError:
            pass  # a broken connection: keep what arrived
        finally:
            file.flush()
            ResumableUpload.objects.filter(pk=upload.pk).update(offset=offset + received)
    upload.offset = offset + received
    return upload.offset


class _PartialFile(File):
    """The finished partial file, moved (not copied) into storage when it is on the same disk."""

    def temporary_file_path(self) -> str:
        return self.file.name


def finish_upload(upload: ResumableUpload) -> Evidence:
    """
    Turn a complete upload into an exhibit through the same service as the web upload (type,
    duplicate and permission checks). A SHA-256 sent by the client that does not match the
    bytes is refused and nothing is kept. The upload is gone afterwards, either way.
    """
    path = partial_path(upload)
    try:
        digest, head = hashlib.sha256(), b""
        with open(path, "rb") as file:
            while chunk := file.read(CHUNK):
                if len(head) < uploads.SNIFF_BYTES:
                    head += chunk[: uploads.SNIFF_BYTES - len(head)]
                digest.update(chunk)
        sha256 = digest.hexdigest()
        if upload.sha256 and upload.sha256 != sha256:
            raise ValidationError(
                _(
                    "The file's SHA-256 is %(got)s, not %(sent)s as the client said: it changed "
                    "on the way and was not kept."
                ),
                params={"got": sha256, "sent": upload.sha256},
                code="checksum_mismatch",
            )
        with open(path, "rb") as raw:
            received = _PartialFile(raw, name=upload.file_name)
            received.size = upload.length
            received.sha256 = sha256
            received.sniffed_type = uploads.sniff(head)
            return filing.attach_evidence_file(
                upload.dossier,
                by=upload.user,
                upload=received,
                details=evidence_details(upload.dossier, upload.details),
            )
    finally:
        discard_upload(upload)


def evidence_details(dossier: Dossier, details: dict) -> dict:
    """The exhibit details stored with an upload, as attach_evidence_file takes them."""
    details = dict(details)
    if source := details.pop("source", None):
        details["source"] = dossier.sources.filter(pk=source).first()
        if details["source"] is None:
            raise ValidationError(_("The source is not one of this dossier's."), code="source")
    if obtained_on := details.get("obtained_on"):
        details["obtained_on"] = datetime.date.fromisoformat(obtained_on)
    return details


def discard_upload(upload: ResumableUpload) -> None:
    """Delete an upload and its partial file."""
    partial_path(upload).unlink(missing_ok=True)
    ResumableUpload.objects.filter(pk=upload.pk).delete()


def purge_expired_uploads() -> int:
    """Delete uploads past their expiry, with their partial files; return how many."""
    expired = list(ResumableUpload.objects.filter(expires_at__lte=timezone.now()))
    for upload in expired:
        discard_upload(upload)
    return len(expired)


class ReplaceRows:
    """
    Stand-in for the bound inline formset that save_subject() saves: replace all of a
    subject's documents, positions or links with `rows` (dicts of already checked values).
    """

    def __init__(self, model, rows: list[dict]):
        self.model = model
        self.rows = rows
        self.instance = None  # set by save_subject()

    def save(self) -> None:
        self.model.objects.filter(subject=self.instance).delete()
        for row in self.rows:
            obj = self.model(subject=self.instance, **row)
            obj.full_clean()
            obj.save()
