"""What an exhibit's bytes say about it: photo EXIF, image size, PDF pages; image thumbnails."""

import io
import logging

from django.core.files.base import ContentFile
from PIL import ExifTags, Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from . import webcaptures

log = logging.getLogger(__name__)

THUMBNAIL_SIZE = (320, 320)
# EXIF tags worth keeping as evidence context (when and with what a photo was taken, where).
EXIF_KEEP = {
    "DateTime",
    "DateTimeOriginal",
    "DateTimeDigitized",
    "OffsetTimeOriginal",
    "Make",
    "Model",
    "Software",
    "LensModel",
}
Image.MAX_IMAGE_PIXELS = 200_000_000  # refuse decompression bombs beyond this


def extract(file, content_type: str) -> tuple[dict, ContentFile | None]:
    """Return (metadata, thumbnail or None); unreadable content gives a note, not a crash."""
    try:
        if content_type.startswith("image/"):
            return _image(file)
        if content_type == "application/pdf":
            return _pdf(file), None
        if content_type in webcaptures.TYPES:
            return webcaptures.describe(file, content_type), None
    except (
        UnidentifiedImageError,
        PdfReadError,
        Image.DecompressionBombError,
        ValueError,
    ) as error:
        log.warning("Could not read metadata of %s: %s", file.name, error)
        return {"error": f"{type(error).__name__}: unreadable content"}, None
    return {}, None


def _image(file) -> tuple[dict, ContentFile]:
    with file.open("rb"), Image.open(file) as image:
        found = {"width": image.width, "height": image.height, "format": image.format}
        exif = image.getexif()
        tags = {**exif, **exif.get_ifd(ExifTags.IFD.Exif)}
        for tag_id, value in tags.items():
            name = ExifTags.TAGS.get(tag_id)
            if name in EXIF_KEEP:
                found.setdefault("exif", {})[name] = str(value).strip("\x00 ")
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        if gps:
            found.setdefault("exif", {})["GPS"] = _gps(gps)
        image.thumbnail(THUMBNAIL_SIZE)
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=80)
    return found, ContentFile(out.getvalue())


def _gps(gps) -> dict:
    def degrees(values, ref):
        d, m, s = (float(v) for v in values)
        sign = -1 if ref in ("S", "W") else 1
        return round(sign * (d + m / 60 + s / 3600), 6)

    try:
        return {
            "latitude": degrees(gps[2], gps.get(1)),
            "longitude": degrees(gps[4], gps.get(3)),
        }
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return {"present": True}


def _pdf(file) -> dict:
    with file.open("rb"):
        reader = PdfReader(file)
        found = {"pages": len(reader.pages), "encrypted": reader.is_encrypted}
        info = reader.metadata or {}
        for key in ("/Title", "/Author", "/Producer", "/Creator", "/CreationDate", "/ModDate"):
            if info.get(key):
                found[key.strip("/").lower()] = str(info[key])[:300]
    return found
