"""
Could this exhibit be malicious? ClamAV when CLAMD_ADDRESS is set, and built-in checks for
active content (PDF JavaScript and launch actions, Office macros) always.

Evidence that may be malware is still evidence: it is kept, flagged, and only downloaded after
a warning. Nothing here opens or expands an archive.
"""

import logging
import re
import socket
import struct
import tempfile
import zipfile

from django.conf import settings
from oletools.olevba import VBA_Parser
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
OOXML_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
OLE_TYPES = {"application/msword", "application/vnd.ms-excel"}
ODF_TYPES = {
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
}

# PDF names that run something, fetch something or carry a file, wherever they appear (as a
# key, or as an action's /S). Names are compared after #xx escapes are decoded: /J#61vaScript
# is /JavaScript to every PDF reader.
PDF_ACTIVE_NAMES = {
    "JavaScript",
    "JS",
    "Launch",
    "EmbeddedFile",
    "EmbeddedFiles",
    "RichMedia",
    "XFA",
    "AA",
    "ImportData",
    "GoToE",
    "SubmitForm",
}
# Actions a reader runs without a click (/OpenAction, and /AA on pages, fields, the document):
# only going to a page of the file itself is harmless. A /URI run on opening tells the sender
# that, when and from where the exhibit was opened.
PDF_HARMLESS_AUTOMATIC = {"GoTo"}
PDF_NAME = re.compile(rb"/((?:[^\x00\t\n\x0c\r ()<>\[\]{}/%]|#[0-9A-Fa-f]{2})+)")
PDF_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
PDF_STREAM_START = re.compile(rb">>\s*stream(?:\r\n|\n|\r)")
PDF_STREAM_END = b"endstream"
CARRY = 256  # bytes kept between chunks: longer than any name looked for, even fully escaped
ZIP_MAX_EXPANDED = 512 * 1024 * 1024  # an Office package that expands past this is not opened
ZIP_MAX_RATIO = 200


def scan(file, content_type: str) -> str:
    """Return why the file may be malicious, or "" if nothing was found."""
    if settings.CLAMD_ADDRESS:
        found = clamav(file, settings.CLAMD_ADDRESS)
        if found:
            return f"ClamAV: {found}"
    if content_type == "application/pdf":
        return pdf_active_content(file)
    if content_type in OOXML_TYPES or content_type in OLE_TYPES:
        return office_macros(file)
    if content_type in ODF_TYPES:
        return opendocument_macros(file)
    return ""


def clamav(file, address: str, timeout: float = 60) -> str:
    """Stream the file to clamd (INSTREAM); return the signature found, or ""."""
    host, _, port = address.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as conn, file.open("rb"):
        conn.sendall(b"zINSTREAM\0")
        for chunk in iter(lambda: file.read(CHUNK), b""):
            conn.sendall(struct.pack("!L", len(chunk)) + chunk)
        conn.sendall(struct.pack("!L", 0))
        reply = b""
        while not reply.endswith(b"\0"):
            part = conn.recv(4096)
            if not part:
                break
            reply += part
    answer = reply.rstrip(b"\0").decode(errors="replace")
    if answer.endswith("FOUND"):
        return answer.removeprefix("stream:").removesuffix("FOUND").strip()
    if not answer.endswith("OK"):
        raise OSError(f"clamd answered: {answer!r}")
    return ""


# PDF


def pdf_active_content(file) -> str:
    """
    Return what in a PDF can act on the reader's computer, or "".

    Two looks, both on names as a reader decodes them (#xx escapes undone): every object the
    cross-reference table lists (compressed object streams included) walked with pypdf, and the
    raw bytes outside streams, which also sees objects left out of the table that a reader
    repairing the file would pick up. A file pypdf cannot read, or cannot decrypt, is flagged:
    what cannot be checked is not called clean.
    """
    found = _pdf_raw_names(file) & PDF_ACTIVE_NAMES
    problem = ""
    try:
        found |= _pdf_object_findings(file)
    except _Unreadable as error:
        problem = str(error)
    except Exception as error:  # noqa: BLE001 - whatever breaks the parser, the file is unchecked
        # (the raw look above already read every byte, so this is the file, not the store)
        logger.info("PDF not parsed: %r", error)
        problem = "PDF that could not be parsed"
    parts = []
    if found:
        parts.append("PDF with active content: " + ", ".join(sorted(found)))
    if problem:
        parts.append(problem)
    return "; ".join(parts)


class _Unreadable(Exception):
    pass


def decode_pdf_name(raw: bytes) -> str:
    """A PDF name's bytes (without the slash) as a reader sees them: #xx escapes decoded."""
    decoded = PDF_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
    return decoded.decode("latin-1")


def _pdf_raw_names(file) -> set[str]:
    """Every name written outside a stream's data, decoded, read in 1 MiB chunks."""
    names: set[str] = set()
    buffer, in_stream = b"", False
    with file.open("rb"):
        chunks = iter(lambda: file.read(CHUNK), b"")
        ended = False
        while not ended or buffer:
            chunk = next(chunks, b"")
            ended = ended or not chunk
            buffer += chunk
            while True:
                if in_stream:
                    end = buffer.find(PDF_STREAM_END)
                    if end < 0:
                        buffer = buffer[-len(PDF_STREAM_END) :] if not ended else b""
                        break
                    buffer, in_stream = buffer[end + len(PDF_STREAM_END) :], False
                    continue
                start = PDF_STREAM_START.search(buffer)
                region = buffer[: start.start() + 2] if start else buffer
                for match in PDF_NAME.finditer(region):
                    # A name touching the end of what was read may go on in the next chunk.
                    if start or ended or match.end() < len(region):
                        names.add(decode_pdf_name(match.group(1)))
                if start:
                    buffer, in_stream = buffer[start.end() :], True
                    continue
                buffer = buffer[-CARRY:] if not ended else b""
                break
    return names


def _pdf_object_findings(file) -> set[str]:
    found: set[str] = set()
    with file.open("rb"):
        reader = PdfReader(file, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise _Unreadable("PDF encrypted with a password: its content could not be checked")
        references = [
            IndirectObject(number, generation, reader)
            for generation, table in reader.xref.items()
            for number in table
            if number
        ]
        references += [IndirectObject(number, 0, reader) for number in reader.xref_objStm]
        for reference in references:
            obj = reader.get_object(reference)
            _walk_pdf(obj, found, reader)
            if isinstance(obj, StreamObject):  # keep images and pages out of memory
                reader.resolved_objects.pop((reference.generation, reference.idnum), None)
        _walk_pdf(reader.trailer, found, reader)
    return found


def _walk_pdf(obj, found: set[str], reader, depth: int = 0) -> None:
    """Look at one object and the direct objects inside it (indirect ones are looked at alone)."""
    if depth > 64:
        raise _Unreadable("PDF nested too deeply to be checked")
    if isinstance(obj, DictionaryObject):
        for key, value in obj.items():
            name = str(key).lstrip("/")
            if name in PDF_ACTIVE_NAMES:
                found.add(name)
            if name == "OpenAction" or name == "AA":
                _automatic_actions(value, found, reader, name)
            _walk_pdf(value, found, reader, depth + 1)
        action = obj.get("/S")
        if action is not None and str(action).lstrip("/") in PDF_ACTIVE_NAMES:
            found.add(str(action).lstrip("/"))
        if obj.get("/Subtype") == "/FileAttachment" or obj.get("/Type") == "/EmbeddedFile":
            found.add("EmbeddedFile")
    elif isinstance(obj, ArrayObject):
        for item in obj:
            _walk_pdf(item, found, reader, depth + 1)


def _automatic_actions(value, found: set[str], reader, trigger: str) -> None:
    """Name each action run without a click: /OpenAction, /AA's entries, and their /Next."""
    seen = set()
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        if isinstance(item, ArrayObject):
            if trigger == "OpenAction":  # a destination: [page /Fit ...], nothing runs
                continue
            todo.extend(item)
        elif isinstance(item, DictionaryObject):
            kind = item.get("/S")
            if kind is not None:
                kind = str(kind).lstrip("/")
                if kind not in PDF_HARMLESS_AUTOMATIC:
                    found.add(f"{trigger} ({kind})")
                nxt = item.get("/Next")
                if nxt is not None:
                    todo.append(nxt)
            elif trigger == "AA":  # /AA maps events (/O, /C, /K ...) to actions
                todo.extend(item.values())


# Office documents


def office_macros(file) -> str:
    """
    Return whether an Office document (OOXML package or OLE file) holds VBA or Excel 4 macros,
    found by content with oletools: a macro project stored under any part name is found.
    """
    with file.open("rb"):
        if zipfile.is_zipfile(file):
            file.seek(0)
            too_big = _zip_too_big(file)
            if too_big:
                return too_big
        file.seek(0)
        with tempfile.NamedTemporaryFile(suffix=".office") as copy:
            for chunk in iter(lambda: file.read(CHUNK), b""):
                copy.write(chunk)
            copy.flush()
            try:
                parser = VBA_Parser(copy.name)
            except Exception as error:  # noqa: BLE001 - oletools raises bare Exceptions
                logger.info("Office document not parsed: %r", error)
                return "Office document that could not be checked"
            try:
                macros = parser.detect_macros()
            except Exception as error:  # noqa: BLE001 - oletools raises bare Exceptions
                logger.info("Office document not parsed: %r", error)
                return "Office document that could not be checked"
            finally:
                parser.close()
    return "Office document with macros" if macros else ""


def _zip_too_big(file) -> str:
    """Refuse to open a package that would expand out of proportion (a ZIP bomb)."""
    try:
        infos = zipfile.ZipFile(file).infolist()  # the directory only: nothing is expanded
    except zipfile.BadZipFile:
        return "Office document that is not a valid package"
    expanded = sum(info.file_size for info in infos)
    compressed = sum(info.compress_size for info in infos) or 1
    if expanded > ZIP_MAX_EXPANDED or expanded / compressed > ZIP_MAX_RATIO:
        return "Office document that expands too much to be checked"
    return ""


def opendocument_macros(file) -> str:
    """OpenDocument keeps Basic macros and scripts under Basic/ and Scripts/."""
    with file.open("rb"):
        try:
            names = zipfile.ZipFile(file).namelist()
        except zipfile.BadZipFile:
            return "OpenDocument file that is not a valid package"
    if any(name.lower().startswith(("basic/", "scripts/")) for name in names):
        return "OpenDocument file with macros"
    return ""
