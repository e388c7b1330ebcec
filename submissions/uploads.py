"""
Evidence uploads: streamed to a private temporary file while SHA-256 is computed in the same
pass, in constant memory, with the size limit enforced as the bytes arrive and the type decided
from the content.

Use `with_hashing_upload_handler` on a view (it must run before anything reads request.POST).
"""

import hashlib
import re
import unicodedata
from functools import wraps

import magic
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from . import webcaptures
from .models import evidence_key

SNIFF_BYTES = 64 * 1024  # enough for libmagic to tell an Office document from a plain ZIP

# What a dossier may hold, decided from the bytes, never from the name or the browser's word.
ALLOWED_TYPES = {
    "application/pdf": _("PDF document"),
    "image/jpeg": _("JPEG image"),
    "image/png": _("PNG image"),
    "image/gif": _("GIF image"),
    "image/webp": _("WebP image"),
    "image/tiff": _("TIFF image"),
    "image/heic": _("HEIC image"),
    "video/mp4": _("MP4 video"),
    "video/quicktime": _("QuickTime video"),
    "video/webm": _("WebM video"),
    "video/3gpp": _("3GP video"),
    "video/x-matroska": _("Matroska video"),
    "audio/mpeg": _("MP3 audio"),
    "audio/mp4": _("M4A audio"),
    "audio/x-m4a": _("M4A audio"),
    "audio/ogg": _("Ogg audio"),
    "audio/x-wav": _("WAV audio"),
    "audio/wav": _("WAV audio"),
    "audio/amr": _("AMR voice recording"),
    "text/plain": _("Text"),
    "text/csv": _("CSV table"),
    "message/rfc822": _("Email message"),
    "application/msword": _("Word document"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _("Word document"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _("Excel workbook"),
    "application/vnd.ms-excel": _("Excel workbook"),
    "application/vnd.oasis.opendocument.text": _("OpenDocument text"),
    "application/vnd.oasis.opendocument.spreadsheet": _("OpenDocument spreadsheet"),
    # Preserved web pages: kept and downloaded as files, never replayed (webcaptures.py).
    webcaptures.WARC: _("Web archive (WARC)"),
    webcaptures.WACZ: _("Web archive (WACZ)"),
    webcaptures.MHTML: _("Saved web page (MHTML)"),
}


def max_upload_size() -> int:
    return settings.EVIDENCE_MAX_UPLOAD_SIZE


def clean_file_name(name: str) -> str:
    """Keep a file name as data: no folders, no control characters, at most 255 characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    if len(name) > 255:
        stem, dot, extension = name.rpartition(".")
        if dot and len(extension) <= 20:  # keep a real extension, cut the stem
            name = stem[: 254 - len(extension)] + dot + extension
        else:
            name = name[:255]
    return name or "unnamed"


class StoredUpload(UploadedFile):
    """
    A file that went straight into the object store while it arrived: it is already saved
    under `stored_name`. Whoever does not keep it (a refused type, a form error, a failed
    request) deletes it: `with_hashing_upload_handler` does so for every one not attached.
    """

    def __init__(self, *, name: str, size: int, storage, stored_name: str):
        super().__init__(file=None, name=name, content_type=None, size=size)
        self.storage, self.stored_name, self.attached = storage, stored_name, False

    def open(self, mode=None):
        return self.storage.open(self.stored_name, "rb")

    def close(self) -> None:
        """Nothing is open locally: the bytes are in the store."""

    def discard(self) -> None:
        if not self.attached:
            self.storage.delete(self.stored_name)


def _streams_to_store(storage) -> bool:
    return callable(getattr(storage, "signed_url", None)) and hasattr(storage, "bucket_name")


class HashingUploadHandler(TemporaryFileUploadHandler):
    """
    Hash each file as it streams in, and keep it where it goes next.

    With an object store (settings: AWS_STORAGE_BUCKET_NAME) the bytes go straight into the
    bucket in parts held in memory: nothing touches the web server's disk. Otherwise they go
    to a temporary file on disk. Never holds a whole file in memory, whatever
    FILE_UPLOAD_MAX_MEMORY_SIZE says. A file over the size limit is skipped as soon as it
    crosses it, and what was written of it is deleted.
    """

    # Django reads the request body and hands it on in pieces of the smallest handler's
    # chunk_size (64 KiB by default): 1 MiB pieces take sixteen times fewer trips through the
    # multipart parser, the hash and the write, for 1 MiB more memory at most.
    chunk_size = 1024 * 1024

    def __init__(self, request=None):
        super().__init__(request)
        self.rejected: list[tuple[str, str]] = []  # (file name, reason)
        self.storage = default_storage
        self.direct = _streams_to_store(self.storage)

    def new_file(self, field_name, file_name, *args, **kwargs):
        # The temporary file's name must not come from the client: Django puts the name's
        # "extension" in it, and a long one is more than the filesystem allows.
        self.original_name = file_name
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.head = b""
        if self.direct:
            self.field_name, self.file_name = field_name, file_name
            self.stored_name = self.storage.get_available_name(evidence_key(None, file_name))
            self.file = self.storage.open(self.stored_name, "wb")
        else:
            super().new_file(field_name, "upload", *args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        self.size += len(raw_data)
        if self.size > max_upload_size():
            self.rejected.append((clean_file_name(self.original_name), "too_large"))
            self._discard()
            raise SkipFile
        if len(self.head) < SNIFF_BYTES:
            self.head += raw_data[: SNIFF_BYTES - len(self.head)]
        self.sha256.update(raw_data)
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        if self.direct:
            self.file.close()  # the last part goes up; the object exists from now on
            del self.file
            uploaded = StoredUpload(
                name="upload",
                size=self.size,
                storage=self.storage,
                stored_name=self.stored_name,
            )
            if not hasattr(self.request, "_stored_uploads"):
                self.request._stored_uploads = []
            self.request._stored_uploads.append(uploaded)
        else:
            uploaded = super().file_complete(file_size)
        uploaded.name = clean_file_name(self.original_name)
        uploaded.sha256 = self.sha256.hexdigest()
        uploaded.sniffed_type = sniff(self.head) if self.head else ""
        return uploaded

    def upload_interrupted(self):
        # The client went away mid-file: delete what was written.
        if getattr(self, "file", None) is not None:
            self._discard()

    def _discard(self) -> None:
        if not self.direct:
            self.file.close()  # a NamedTemporaryFile: closing deletes it
            return
        multipart = getattr(self.file, "_multipart", None)
        if multipart is not None:  # parts already sent: abort, so the store drops them
            multipart.abort()
        del self.file  # (Django closes what a handler still holds as .file)
        self.storage.delete(self.stored_name)


def sniff(head: bytes) -> str:
    """Return the MIME type that the first bytes of a file show (web captures, else libmagic)."""
    return webcaptures.sniff(head) or magic.from_buffer(head, mime=True)


def with_hashing_upload_handler(view):
    """
    Run `view` with HashingUploadHandler as the only upload handler.

    Upload handlers must be set before the CSRF check reads the body, hence the order:
    exempt first, set the handler, then protect (Django docs, "Modifying upload handlers").
    """

    @wraps(view)
    @csrf_exempt
    def wrapper(request, *args, **kwargs):
        request.upload_handlers = [HashingUploadHandler(request)]
        request._stored_uploads = []
        try:
            return csrf_protect(view)(request, *args, **kwargs)
        finally:  # files streamed into the store that nothing attached: no orphan objects
            for uploaded in request._stored_uploads:
                uploaded.discard()

    return wrapper


def check_upload(uploaded) -> str | None:
    """Return why an uploaded file cannot be evidence, or None if it can."""
    if uploaded.size == 0:
        return _("The file %(name)s is empty.") % {"name": uploaded.name}
    if uploaded.sniffed_type == "application/zip" and webcaptures.is_wacz(uploaded):
        uploaded.sniffed_type = webcaptures.WACZ  # a web archive, not an archive of files
    if uploaded.sniffed_type not in ALLOWED_TYPES:
        if uploaded.sniffed_type in {"application/zip", "application/x-7z-compressed",
                                     "application/x-rar", "application/gzip",
                                     "application/x-tar"}:  # fmt: skip
            return _(
                "%(name)s is an archive. Archives are not opened here: upload the files "
                "inside it one by one."
            ) % {"name": uploaded.name}
        return _(
            "%(name)s is not a kind of file the portal accepts (it looks like %(type)s). "
            "Accepted: PDF, images, audio, video, text, email, office documents and saved web "
            "pages (WARC, WACZ, MHTML)."
        ) % {"name": uploaded.name, "type": uploaded.sniffed_type or _("unknown data")}
    return None


def rejection_message(name: str, reason: str) -> str:
    if reason == "too_large":
        limit_mb = max_upload_size() // (1024 * 1024)
        return _("%(name)s is larger than the limit of %(limit)s MB and was not kept.") % {
            "name": name,
            "limit": limit_mb,
        }
    return _("%(name)s could not be received.") % {"name": name}


def uploaded_from_bytes(content: bytes, name: str):
    """An uploaded file as HashingUploadHandler makes it, from bytes (demo data, imports)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    uploaded = SimpleUploadedFile(clean_file_name(name), content)
    uploaded.sha256 = hashlib.sha256(content).hexdigest()
    uploaded.sniffed_type = sniff(content[:SNIFF_BYTES]) if content else ""
    return uploaded
