"""Hostile exhibits made in the test: PDFs with actions, Office files with macro projects."""

import io
import struct
import zipfile

from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def pdf_with_open_action(
    action: str = "/URI", target: str = "https://tracker.example/seen"
) -> bytes:
    """A one-page PDF that runs `action` when it is opened (written by pypdf, plain names)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    key = "/URI" if action == "/URI" else "/JS"
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject(action),
            NameObject(key): TextStringObject(target),
        }
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def escape_names(pdf: bytes, **names: str) -> bytes:
    """Write some names with #xx escapes, as an attacker does to pass a byte-pattern check."""
    for plain, escaped in names.items():
        pdf = pdf.replace(f"/{plain}".encode(), f"/{escaped}".encode())
    return pdf


def _entry(name: str, kind: int, *, child=NOSTREAM, right=NOSTREAM, start=END, size=0) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return (
        encoded.ljust(64, b"\0")
        + struct.pack("<HBBIII", len(encoded), kind, 1, NOSTREAM, right, child)
        + b"\0" * 16  # CLSID
        + struct.pack("<IQQIQ", 0, 0, 0, start, size)
    )


def ole_with_vba_project() -> bytes:
    """
    A minimal OLE compound file holding a VBA project's storages (PROJECT, VBA/dir,
    VBA/_VBA_PROJECT): what Word keeps in vbaProject.bin, whatever the part is called.
    """
    stream_size, sector = 4096, 512  # at the mini-stream cutoff: kept in regular sectors
    per_stream = stream_size // sector
    streams = 3
    first_stream = 3  # sector 0: FAT, sectors 1-2: directory
    fat = [FATSECT, 2, END]
    for index in range(streams):
        start = first_stream + index * per_stream
        fat += [*range(start + 1, start + per_stream), END]
    fat += [FREE] * (sector // 4 - len(fat))
    starts = [first_stream + i * per_stream for i in range(streams)]
    directory = b"".join(
        [
            _entry("Root Entry", 5, child=1),
            _entry("PROJECT", 2, right=2, start=starts[0], size=stream_size),
            _entry("VBA", 1, child=3),
            _entry("dir", 2, right=4, start=starts[1], size=stream_size),
            _entry("_VBA_PROJECT", 2, start=starts[2], size=stream_size),
            _entry("", 0),
            _entry("", 0),
            _entry("", 0),
        ]
    )
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, END, 0, END, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", FREE) * 108
    )
    data = b'Attribute VB_Name = "ThisDocument"\r\n'.ljust(stream_size, b"\0") * streams
    return header + struct.pack(f"<{sector // 4}I", *fat) + directory + data


def docx(extra_parts: dict[str, bytes]) -> bytes:
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("word/document.xml", "<w:document/>")
        for name, content in extra_parts.items():
            archive.writestr(name, content)
    return package.getvalue()
