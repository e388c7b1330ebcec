"""
Could this exhibit be malicious? ClamAV when CLAMD_ADDRESS is set, and built-in checks for
active content (PDF JavaScript and launch actions, Office macros) always.

Evidence that may be malware is still evidence: it is kept, flagged, and only downloaded after
a warning. Nothing here opens or expands an archive.
"""

import re
import socket
import struct
import zipfile

from django.conf import settings

CHUNK = 1024 * 1024
PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile|RichMedia|XFA)\b")
OOXML_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def scan(file, content_type: str) -> str:
    """Return why the file may be malicious, or "" if nothing was found."""
    if settings.CLAMD_ADDRESS:
        found = clamav(file, settings.CLAMD_ADDRESS)
        if found:
            return f"ClamAV: {found}"
    if content_type == "application/pdf":
        return _pdf_active_content(file)
    if content_type in OOXML_TYPES:
        return _office_macros(file)
    if content_type == "application/msword":
        return _legacy_office_macros(file)
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


def _pdf_active_content(file) -> str:
    found = set()
    tail = b""
    with file.open("rb"):
        for chunk in iter(lambda: file.read(CHUNK), b""):
            window = tail + chunk
            found.update(m.group(1).decode() for m in PDF_ACTIVE.finditer(window))
            tail = window[-32:]
    if found:
        return "PDF with active content: " + ", ".join(sorted(found))
    return ""


def _office_macros(file) -> str:
    with file.open("rb"):
        try:
            names = zipfile.ZipFile(file).namelist()  # the directory only: nothing is expanded
        except zipfile.BadZipFile:
            return "Office document that is not a valid package"
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return "Office document with macros"
    return ""


def _legacy_office_macros(file) -> str:
    with file.open("rb"):
        for chunk in iter(lambda: file.read(CHUNK), b""):
            if b"_VBA_PROJECT" in chunk or b"V\x00B\x00A\x00" in chunk:
                return "Office document with macros"
    return ""
