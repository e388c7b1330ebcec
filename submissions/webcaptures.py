"""
Preserved web pages: WARC, WACZ and MHTML captures, told apart by their bytes.

A capture is evidence as it was received: it is hashed, stored and downloaded as an attachment,
never replayed, rendered or executed by the portal. What reviewers need without opening it (the
page's address, when it was captured, the page's text) is read from the archive here, with hard
limits on how much is read, so that a hostile or huge archive costs little.
"""

import email.parser
import email.policy
import email.utils
import html.parser
import io
import json
import logging
import zipfile
import zlib
from datetime import UTC, datetime

from warcio.archiveiterator import ArchiveIterator

log = logging.getLogger(__name__)

WARC = "application/warc"
WACZ = "application/wacz"
MHTML = "multipart/related"
TYPES = frozenset({WARC, WACZ, MHTML})

TEXT_LIMIT = 20_000  # characters of page text kept for reviewers
READ_LIMIT = 5 * 1024 * 1024  # bytes of one page read to extract its text
RECORD_LIMIT = 2_000  # WARC records looked at before giving up on finding the page
JSON_LIMIT = 1024 * 1024  # datapackage.json and the first lines of pages.jsonl


def sniff(head: bytes) -> str | None:
    """Return WARC or MHTML if the first bytes of a file show one, else None."""
    if head.startswith(b"WARC/"):
        return WARC
    if head.startswith(b"\x1f\x8b"):
        try:
            start = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 16)
        except zlib.error:
            return None
        return WARC if start.startswith(b"WARC/") else None
    if _mhtml_headers(head) is not None:
        return MHTML
    return None


def is_wacz(file) -> bool:
    """
    A ZIP with datapackage.json and at least one WARC under archive/. Only the ZIP's directory
    is read: nothing is expanded.
    """
    handle = file.open("rb")  # an upload returns itself; a file already in the store, a reader
    try:
        with zipfile.ZipFile(handle) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        if handle is file:
            file.seek(0)
        else:
            handle.close()
    return "datapackage.json" in names and any(_is_warc_name(name) for name in names)


def _is_warc_name(name: str) -> bool:
    return name.startswith("archive/") and name.endswith((".warc", ".warc.gz"))


def _mhtml_headers(head: bytes):
    """The top-level headers if `head` starts an MHTML file (multipart/related with a page)."""
    block, separator, _rest = head.replace(b"\r\n", b"\n").partition(b"\n\n")
    if not separator or b":" not in block.split(b"\n", 1)[0]:
        return None
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(block)
    if headers.get_content_type() != MHTML:
        return None
    # A saved page names where it came from; an HTML email with inline images does not.
    if headers.get("Snapshot-Content-Location") or b"Content-Location:" in head:
        return headers
    return None


# Reading a capture


def describe(file, content_type: str) -> dict:
    """
    Return what a capture says about itself: {"capture": {"url", "captured_at", "format",
    "text"}}, or {"capture": {"error": ...}} when it cannot be read. Never raises on bad data.
    """
    try:
        with file.open("rb"):
            if content_type == WARC:
                found = _warc(file)
            elif content_type == WACZ:
                found = _wacz(file)
            else:
                found = _mhtml(file)
    # warcio meets hostile or truncated records with whatever error its parser hits
    # (AttributeError on a missing header, among others): any failure is a note, not a crash.
    except Exception as error:  # noqa: BLE001
        log.warning("Could not read the web capture %s: %s", file.name, error)
        return {"capture": {"error": f"{type(error).__name__}: unreadable archive"}}
    found["format"] = {WARC: "WARC", WACZ: "WACZ", MHTML: "MHTML"}[content_type]
    return {"capture": found}


def _warc(stream) -> dict:
    """The first HTML page captured in a WARC (else the first response): address, time, text."""
    first = {}
    for count, record in enumerate(ArchiveIterator(stream)):
        if count >= RECORD_LIMIT:
            break
        if record.rec_type not in ("response", "resource"):
            continue
        found = {
            "url": record.rec_headers.get_header("WARC-Target-URI") or "",
            "captured_at": _iso(record.rec_headers.get_header("WARC-Date")),
        }
        if record.http_headers is not None:
            page_type = record.http_headers.get_header("Content-Type") or ""
        else:
            page_type = record.rec_headers.get_header("Content-Type") or ""
        if "html" in page_type.lower():
            body = record.content_stream().read(READ_LIMIT)
            return {**found, "text": html_text(body.decode(_charset(page_type), "replace"))}
        first = first or found
    return first


def _wacz(file) -> dict:
    with zipfile.ZipFile(file) as archive:
        package = json.loads(_read_member(archive, "datapackage.json") or b"{}")
        found = {
            "url": str(package.get("mainPageUrl") or ""),
            "captured_at": _iso(package.get("mainPageDate")),
        }
        if not found["url"]:
            for line in (_read_member(archive, "pages/pages.jsonl") or b"").splitlines():
                page = json.loads(line) if line.strip() else {}
                if page.get("url"):
                    found = {"url": str(page["url"]), "captured_at": _iso(page.get("ts"))}
                    break
        for name in sorted(n for n in archive.namelist() if _is_warc_name(n)):
            with archive.open(name) as member:
                page = _warc(member)
            if page:
                return {
                    "url": found["url"] or page.get("url", ""),
                    "captured_at": found["captured_at"] or page.get("captured_at"),
                    "text": page.get("text", ""),
                }
        return found


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes | None:
    if name not in archive.namelist():
        return None
    with archive.open(name) as member:
        return member.read(JSON_LIMIT)


def _mhtml(file) -> dict:
    data = file.read(READ_LIMIT)
    message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(data)
    found = {
        "url": message.get("Snapshot-Content-Location") or "",
        "captured_at": _iso(message.get("Date")),
        "text": "",
    }
    for part in message.walk():
        if part.get_content_type() == "text/html":
            found["url"] = found["url"] or part.get("Content-Location") or ""
            payload = part.get_payload(decode=True) or b""
            charset = part.get_content_charset() or "utf-8"
            found["text"] = html_text(payload.decode(_codec(charset), "replace"))
            break
    return found


def _charset(content_type: str) -> str:
    for piece in content_type.split(";"):
        key, _eq, value = piece.strip().partition("=")
        if key.lower() == "charset" and value:
            return _codec(value.strip("\"' "))
    return "utf-8"


def _codec(name: str) -> str:
    try:
        return io.TextIOWrapper(io.BytesIO(), encoding=name).encoding
    except LookupError:
        return "utf-8"


def _iso(value) -> str | None:
    """A capture time as ISO 8601 in UTC, from WARC-Date, an RFC 2822 date or ISO text."""
    if not value:
        return None
    value = str(value).strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat()


class _TextExtractor(html.parser.HTMLParser):
    SKIP = {"script", "style", "noscript", "template", "svg", "head"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "article"}:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_text(markup: str) -> str:
    """The visible text of an HTML page, as plain text (never markup), at most TEXT_LIMIT."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)[:TEXT_LIMIT]
