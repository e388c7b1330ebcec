"""
Resumable evidence upload: the core of the tus protocol 1.0.0 (https://tus.io/protocols/
resumable-upload), with its creation, termination and expiration extensions.

POST creates an upload (Upload-Length; Upload-Metadata with the file name, details and
optionally the client's SHA-256), HEAD tells the offset, PATCH appends at Upload-Offset
(application/offset+octet-stream, streamed a piece at a time), DELETE cancels. When the last
byte arrives the file becomes an exhibit through the same service as the web upload.
"""

import base64
import binascii
import re

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, UnsupportedMediaType, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from submissions import uploads

from . import serializers, services
from .models import ResumableUpload
from .views import DossierChild

TUS_VERSION = "1.0.0"
OFFSET_TYPE = "application/offset+octet-stream"
METADATA_KEYS = {"filename", "sha256", *serializers.EvidenceDetailsSerializer.Meta.fields}

TUS_RESUMABLE = OpenApiParameter(
    "Tus-Resumable", str, OpenApiParameter.HEADER, required=True, enum=[TUS_VERSION]
)


class TusVersionMismatch(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "Send Tus-Resumable: 1.0.0."


class OffsetParser(parsers.BaseParser):
    """Declares the PATCH body type; the view reads the stream itself, a piece at a time."""

    media_type = OFFSET_TYPE

    def parse(self, stream, media_type=None, parser_context=None):
        return {}


def _header_int(request, name: str, *, required: bool = True) -> int | None:
    value = request.headers.get(name)
    if value is None and not required:
        return None
    if value is None or not re.fullmatch(r"\d{1,19}", value.strip()):
        raise ValidationError({name: _("A whole number of bytes.")})
    return int(value)


def parse_metadata(header: str) -> dict:
    """Upload-Metadata: comma-separated "key base64(value)" pairs."""
    metadata = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _sep, encoded = pair.partition(" ")
        if key not in METADATA_KEYS:
            raise ValidationError({"Upload-Metadata": _("Unknown key %(key)s.") % {"key": key}})
        try:
            metadata[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ValidationError(
                {"Upload-Metadata": _("The value of %(key)s is not base64.") % {"key": key}}
            ) from None
    return metadata


class TusMixin(DossierChild):
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method != "OPTIONS" and request.headers.get("Tus-Resumable") != TUS_VERSION:
            raise TusVersionMismatch

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Tus-Resumable"] = TUS_VERSION
        if response.status_code == 412:
            response["Tus-Version"] = TUS_VERSION
        return response


class UploadCreateView(TusMixin, GenericAPIView):
    """Start a resumable upload into a dossier (tus creation)."""

    def options(self, request, *args, **kwargs):
        response = Response(status=status.HTTP_204_NO_CONTENT)
        response["Tus-Version"] = TUS_VERSION
        response["Tus-Extension"] = "creation,termination,expiration"
        response["Tus-Max-Size"] = str(uploads.max_upload_size())
        return response

    @extend_schema(
        request=None,
        parameters=[
            TUS_RESUMABLE,
            OpenApiParameter("Upload-Length", int, OpenApiParameter.HEADER, required=True),
            OpenApiParameter(
                "Upload-Metadata",
                str,
                OpenApiParameter.HEADER,
                description=(
                    "key base64(value) pairs, comma-separated: filename, sha256 (hex, "
                    "checked when the upload completes), description, obtained_on, source, "
                    "reliability, credibility, provenance."
                ),
            ),
        ],
        responses={201: OpenApiResponse(description="Created; Location names the upload.")},
    )
    def post(self, request, reference):
        dossier = self.get_dossier()
        if request.headers.get("Upload-Defer-Length"):
            raise ValidationError({"Upload-Defer-Length": _("Send Upload-Length instead.")})
        length = _header_int(request, "Upload-Length")
        metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
        file_name = metadata.pop("filename", "") or "upload"
        sha256 = metadata.pop("sha256", "").strip().lower()
        if sha256 and not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValidationError({"sha256": _("A SHA-256 is 64 hexadecimal digits.")})
        details = serializers.EvidenceDetailsSerializer(
            data=metadata, context=self.get_serializer_context()
        )
        details.is_valid(raise_exception=True)
        stored = {
            key: (value.pk if key == "source" and value else value)
            for key, value in details.validated_data.items()
        }
        if stored.get("obtained_on"):
            stored["obtained_on"] = stored["obtained_on"].isoformat()
        upload = services.create_upload(
            dossier,
            by=request.user,
            token=request.auth,
            length=length,
            file_name=file_name,
            sha256=sha256,
            details=stored,
        )
        response = Response(status=status.HTTP_201_CREATED)
        response["Location"] = reverse("api:upload-detail", args=[dossier.reference, upload.pk])
        response["Upload-Expires"] = http_date(upload.expires_at.timestamp())
        response["Upload-Offset"] = "0"
        return response


class UploadView(TusMixin, GenericAPIView):
    """One resumable upload: its offset (HEAD), the next bytes (PATCH), cancel (DELETE)."""

    parser_classes = [OffsetParser]

    def get_upload(self) -> ResumableUpload:
        return get_object_or_404(
            ResumableUpload.objects.select_related("dossier"),
            dossier=self.get_dossier(),
            user=self.request.user,
            expires_at__gt=timezone.now(),
            pk=self.kwargs["pk"],
        )

    def _progress(self, response, upload):
        response["Upload-Offset"] = str(upload.offset)
        response["Upload-Length"] = str(upload.length)
        response["Upload-Expires"] = http_date(upload.expires_at.timestamp())
        return response

    @extend_schema(parameters=[TUS_RESUMABLE], responses=serializers.UploadStatusSerializer)
    def get(self, request, reference, pk):
        """The upload's progress as JSON (HEAD gives the same in Upload-Offset)."""
        upload = self.get_upload()
        return self._progress(Response(serializers.UploadStatusSerializer(upload).data), upload)

    def head(self, request, reference, pk):
        return self._progress(Response(status=status.HTTP_200_OK), self.get_upload())

    @extend_schema(
        request={OFFSET_TYPE: OpenApiTypes.BINARY},
        parameters=[
            TUS_RESUMABLE,
            OpenApiParameter("Upload-Offset", int, OpenApiParameter.HEADER, required=True),
        ],
        responses={
            204: OpenApiResponse(
                description=(
                    "Bytes kept; Upload-Offset says how many there are. After the last byte, "
                    "Evidence-Location names the new exhibit."
                )
            )
        },
    )
    def patch(self, request, reference, pk):
        upload = self.get_upload()
        if request.content_type.split(";")[0].strip() != OFFSET_TYPE:
            raise UnsupportedMediaType(request.content_type)
        offset = _header_int(request, "Upload-Offset")
        length = _header_int(request, "Content-Length", required=False)
        services.append_to_upload(upload, offset=offset, stream=request._request, length=length)
        response = self._progress(Response(status=status.HTTP_204_NO_CONTENT), upload)
        if upload.is_complete:
            evidence = services.finish_upload(upload)
            response["Evidence-Location"] = reverse(
                "api:evidence-detail", args=[reference, evidence.pk]
            )
        return response

    @extend_schema(parameters=[TUS_RESUMABLE], responses={204: None})
    def delete(self, request, reference, pk):
        """Cancel the upload and delete what was received (tus termination)."""
        services.discard_upload(self.get_upload())
        return Response(status=status.HTTP_204_NO_CONTENT)
