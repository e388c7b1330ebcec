"""
The copy of an exhibit that goes to a government: the same content without the metadata that
could locate or identify a witness (EXIF and GPS of photos, XMP, IPTC, comments; a PDF's
document information and XMP). The original stays untouched in storage (domain.md R1); the
manifest records both hashes.

`strip_metadata` is the one entry point. When submissions.metadata grows its own
`strip_metadata(data, content_type) -> bytes | None`, that one is used instead.
"""

import io
import struct
import zlib

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from pypdf.generic import NameObject

# Types whose bytes carry no metadata of their own: they ship unchanged.
PLAIN_TYPES = frozenset({"text/plain", "text/csv"})
# JPEG segments that hold metadata: APP1 (EXIF, XMP), APP3-APP13 (maker notes, Ducky, IPTC),
# APP15, COM (comments). APP0 (JFIF), APP2 (ICC colour profile) and APP14 (Adobe colour
# transform) are kept: decoding needs them.
JPEG_DROP = frozenset({0xE1, 0xEF, 0xFE}) | frozenset(range(0xE3, 0xEE))
# PNG chunks that hold metadata: text, EXIF, time of last change.
PNG_DROP = frozenset({b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"tIME"})


def strip_metadata(data: bytes, content_type: str) -> bytes | None:
    """
    Return `data` without its metadata, or None when this type cannot be stripped (the
    exhibit then does not ship and the lead reviewer is told).
    """
    try:
        from submissions.metadata import strip_metadata as shared
    except ImportError:
        shared = None
    if shared is not None:
        return shared(data, content_type)
    return _strip(data, content_type)


def _strip(data: bytes, content_type: str) -> bytes | None:
    if content_type in PLAIN_TYPES:
        return data
    try:
        if content_type == "image/jpeg":
            return _jpeg(data)
        if content_type == "image/png":
            return _png(data)
        if content_type == "application/pdf":
            return _pdf(data)
    except (ValueError, struct.error, PdfReadError, zlib.error):
        return None
    return None


def _jpeg(data: bytes) -> bytes:
    """Drop metadata segments losslessly: the image data is copied byte for byte."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    out, i = [b"\xff\xd8"], 2
    while i < len(data):
        if data[i] != 0xFF:
            raise ValueError("bad JPEG marker")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is image data
            out.append(data[i:])
            return b"".join(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            out.append(data[i : i + 2])
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        segment = data[i : i + 2 + length]
        if len(segment) != 2 + length:
            raise ValueError("truncated JPEG")
        if marker not in JPEG_DROP:
            out.append(segment)
        i += 2 + length
    raise ValueError("JPEG without image data")


def _png(data: bytes) -> bytes:
    signature = b"\x89PNG\r\n\x1a\n"
    if not data.startswith(signature):
        raise ValueError("not a PNG")
    out, i = [signature], len(signature)
    while i < len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        chunk = data[i : i + 12 + length]
        if len(chunk) != 12 + length:
            raise ValueError("truncated PNG")
        if kind not in PNG_DROP:
            out.append(chunk)
        i += 12 + length
        if kind == b"IEND":
            return b"".join(out)
    raise ValueError("PNG without IEND")


def _pdf(data: bytes) -> bytes | None:
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        return None  # cannot be rewritten without the password: the lead decides
    writer = PdfWriter(clone_from=reader)
    root = writer._root_object
    if "/Metadata" in root:
        del root[NameObject("/Metadata")]
    for page in writer.pages:
        if "/Metadata" in page:
            del page[NameObject("/Metadata")]
    writer._info = None  # no document information dictionary (author, producer, dates)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
