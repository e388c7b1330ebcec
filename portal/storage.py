"""
Where files live: a private local folder that no URL serves, or an S3-compatible object store.

Both keep files private. Local files are streamed through views that check access; objects in
a bucket are read in a stream (never copied whole into memory or onto the local disk) and can
be handed out as short-lived signed URLs, again only after a view checked access.
"""

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header
from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class PrivateFileSystemStorage(FileSystemStorage):
    """
    Keep files in a folder readable by the portal's user only, with no public URL.

    Evidence is downloaded through views that check access and stream the file; asking this
    storage for a URL is a bug, so it refuses instead of handing out a guessable path.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        kwargs["base_url"] = None
        super().__init__(**kwargs)

    def url(self, name):
        raise NotImplementedError("Private files have no URL: stream them through a view.")

    def signed_url(self, name, *, filename: str = "", expire: int | None = None) -> None:
        """No signed URLs on local disk: the caller streams the file itself."""
        return None


def signed_url(storage, name: str, *, filename: str = "", expire: int | None = None):
    """A short-lived URL for `name` if `storage` gives such URLs, else None (stream it)."""
    method = getattr(storage, "signed_url", None)
    return method(name, filename=filename, expire=expire) if method else None


class ObjectStream(File):
    """
    An object of the bucket opened for reading: bytes come straight from the store as they are
    read (one GET with a Range, reopened after a seek), so a 2 GiB exhibit costs no memory and
    no local disk. Seekable, as Pillow and the type sniffer need.
    """

    def __init__(self, storage, name: str):
        self.name = name
        self.mode = "rb"
        self._client = storage.connection.meta.client
        self._bucket = storage.bucket_name
        self._key = storage._normalize_name(clean_name(name))
        try:
            head = self._client.head_object(Bucket=self._bucket, Key=self._key)
        except ClientError as error:
            if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                raise FileNotFoundError(f"No such object: {name}") from error
            raise
        self._size = head["ContentLength"]
        self._position = 0
        self._body = None
        self._closed = False
        self.file = self  # File's helpers (chunks, iteration, context manager) use self.file

    @property
    def size(self) -> int:
        return self._size

    @property
    def closed(self) -> bool:
        return self._closed

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._position, 2: self._size}[whence]
        position = max(0, base + offset)
        if position != self._position:
            self._drop_body()
            self._position = position
        return self._position

    def read(self, size: int = -1) -> bytes:
        if self._closed:
            raise ValueError("I/O operation on a closed object stream.")
        if self._position >= self._size or size == 0:
            return b""
        if self._body is None:
            self._body = self._client.get_object(
                Bucket=self._bucket, Key=self._key, Range=f"bytes={self._position}-"
            )["Body"]
        data = self._body.read(None if size is None or size < 0 else size)
        self._position += len(data)
        return data

    def open(self, mode=None):
        if self._closed:
            self._closed = False
        self.seek(0)
        return self

    def close(self) -> None:
        self._drop_body()
        self._closed = True

    def _drop_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None


class ObjectStorage(S3Storage):
    """
    An S3-compatible bucket (AWS S3, MinIO, Ceph, SeaweedFS ...), configured in settings.

    Reads stream (ObjectStream); writes go up in parts of AWS_S3_FILE_BUFFER_SIZE (5 MiB)
    held in memory (django-storages' S3File), never through a local file.
    """

    def _open(self, name, mode="rb"):
        if "w" in mode or "a" in mode or "+" in mode:
            return super()._open(name, mode)
        return ObjectStream(self, name)

    def signed_url(self, name, *, filename: str = "", expire: int | None = None) -> str:
        """A URL that lets its holder GET this object for `expire` seconds (default 300)."""
        parameters = {"ResponseContentType": "application/octet-stream"}
        if filename:
            parameters["ResponseContentDisposition"] = content_disposition_header(True, filename)
        return self.url(name, parameters=parameters, expire=expire)


# The extensions a download may carry, per type detected from the bytes; the first is the one
# given when the name's own extension does not fit (a script named statement.pdf.js that is
# text/plain downloads as statement.pdf.js.txt, and opens in a text editor, not a script host).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "application/age-encryption": (".age",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "image/tiff": (".tif", ".tiff"),
    "image/heic": (".heic", ".heif"),
    "video/mp4": (".mp4", ".m4v"),
    "video/quicktime": (".mov", ".qt"),
    "video/webm": (".webm",),
    "video/3gpp": (".3gp",),
    "video/x-matroska": (".mkv",),
    "audio/mpeg": (".mp3",),
    "audio/mp4": (".m4a", ".mp4"),
    "audio/x-m4a": (".m4a",),
    "audio/ogg": (".ogg", ".oga", ".opus"),
    "audio/x-wav": (".wav",),
    "audio/wav": (".wav",),
    "audio/amr": (".amr",),
    "text/plain": (".txt",),
    "text/csv": (".csv",),
    "message/rfc822": (".eml",),
    "application/msword": (".doc",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.ms-excel": (".xls",),
    "application/vnd.oasis.opendocument.text": (".odt",),
    "application/vnd.oasis.opendocument.spreadsheet": (".ods",),
    "application/json": (".json",),
    "application/zip": (".zip",),
    "application/warc": (".warc", ".warc.gz"),
    "application/wacz": (".wacz",),
    "multipart/related": (".mhtml", ".mht"),
}
UNKNOWN_EXTENSION = ".bin"


def download_name(name: str, detected_type: str) -> str:
    """
    `name` with an extension that matches `detected_type` (the type sniffed from the bytes):
    kept if it already does, appended otherwise, so that the receiving computer opens the file
    with the program for what it is, never for what its name claims. An unknown type gets .bin.
    """
    name = (name or "").strip() or "exhibit"
    allowed = EXTENSIONS.get(detected_type, (UNKNOWN_EXTENSION,))
    stem, dot, extension = name.rpartition(".")
    if dot and stem and f".{extension.lower()}" in allowed:
        return name
    if len(name) > 240:
        name = name[:240]
    return name + allowed[0]


def download_response(
    field_file,
    *,
    filename: str,
    detected_type: str,
    content_type: str = "application/octet-stream",
):
    """
    The answer to an access-checked download of `field_file`, always as an attachment, named
    `filename` with the extension of `detected_type` (see download_name).

    By default the portal streams it, so that a victim's browser talks to nobody but the
    portal. Where the object store is the deployment's own host and `PORTAL_SIGNED_DOWNLOADS`
    is set, the browser is sent to a URL signed for AWS_QUERYSTRING_EXPIRE seconds instead,
    which spares the web process the bytes.
    """
    filename = download_name(filename, detected_type)
    if settings.PORTAL_SIGNED_DOWNLOADS:
        url = signed_url(field_file.storage, field_file.name, filename=filename)
        if url:
            return HttpResponseRedirect(url)
    response = FileResponse(
        field_file.open("rb"), as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
