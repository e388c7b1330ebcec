"""
The REST API (/api/v1/): the submitter's filing flow. Glue only: every query starts from
Dossier.objects.visible_to(user), every change goes through submissions.services, as the
web views do.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, parsers, permissions, status, viewsets
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from portal.models import Membership
from portal.storage import download_response
from reviews.models import InformationRequest
from submissions import services as filing
from submissions import uploads
from submissions.checklist import completeness, completeness_for
from submissions.models import (
    Consent,
    Dossier,
    IdentityDocument,
    InvolvementRole,
    JurisdictionLink,
    PositionHeld,
    Regime,
    ViolationCategory,
)

from . import ftm, serializers, services
from .parsers import BodyTooLarge


class Cursor(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "id"


class DossierCursor(Cursor):
    ordering = ("-created_at", "-id")


class ApiMixin:
    """Token only, scoped, rate-limited, never cached; a change made with a token is audited."""

    pagination_class = Cursor

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        token = getattr(request, "auth", None)
        if (
            token is not None
            and request.method not in permissions.SAFE_METHODS
            and 200 <= response.status_code < 300
        ):
            services.record_token_use(
                token, method=request.method, path=request.path, status=response.status_code
            )
        return response


def member_dossiers(user):
    """The dossiers of the user's organisations: the NGO side of visible_to(user)."""
    return Dossier.objects.visible_to(user, through="organisation")


def _fake(view) -> bool:
    return getattr(view, "swagger_fake_view", False)


# Reference data


class RegimeViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    """The regimes a dossier may address, with their checklists."""

    serializer_class = serializers.RegimeSerializer
    lookup_field = "key"
    lookup_value_regex = "[^/]+"
    queryset = Regime.objects.prefetch_related("checklist__criterion").order_by("id")


class CategoryViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.CategorySerializer
    lookup_field = "code"
    queryset = ViolationCategory.objects.order_by("id")


class RoleViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.RoleSerializer
    lookup_field = "code"
    queryset = InvolvementRole.objects.order_by("id")


# Dossiers


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "status", str, enum=Dossier.Status.values, description="Only this status"
            ),
            OpenApiParameter("regime", str, description="Only dossiers addressing this regime"),
            OpenApiParameter(
                "updated_since", OpenApiTypes.DATETIME, description="Changed at or after this"
            ),
        ]
    )
)
class DossierViewSet(
    ApiMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Dossiers of the token holder's organisation."""

    serializer_class = serializers.DossierSerializer
    pagination_class = DossierCursor
    lookup_field = "reference"

    def get_queryset(self):
        if _fake(self):
            return Dossier.objects.none()
        queryset = (
            member_dossiers(self.request.user)
            .select_related("organisation")
            .prefetch_related("target_regimes")
        )
        if self.action != "list":
            return queryset
        params = self.request.query_params
        if value := params.get("status"):
            if value not in Dossier.Status.values:
                raise ValidationError({"status": f"One of: {', '.join(Dossier.Status.values)}."})
            queryset = queryset.filter(status=value)
        if value := params.get("regime"):
            queryset = queryset.filter(target_regimes__key=value)
        if value := params.get("updated_since"):
            try:
                moment = parse_datetime(value)
            except ValueError:
                moment = None
            if moment is None:
                raise ValidationError({"updated_since": "An ISO 8601 date and time."})
            queryset = queryset.filter(updated_at__gte=moment)
        return queryset

    def _with_completeness(self, dossiers):
        rows = completeness_for(dossiers)
        for dossier in dossiers:
            dossier.completeness_rows = rows[dossier.pk]
        return dossiers

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = self.get_serializer(self._with_completeness(list(page)), many=True).data
        return self.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs):
        dossier = self.get_object()
        dossier.completeness_rows = completeness(dossier)
        return Response(self.get_serializer(dossier).data)

    def _respond(self, dossier, code=status.HTTP_200_OK):
        dossier = self.get_queryset().get(pk=dossier.pk)
        dossier.completeness_rows = completeness(dossier)
        return Response(self.get_serializer(dossier).data, status=code)

    def create(self, request, *args, **kwargs):
        """Start a draft for the token holder's organisation."""
        membership = Membership.objects.filter(user=request.user).select_related("organisation")
        membership = membership.order_by("pk").first()
        if membership is None:
            raise Http404
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dossier = filing.create_dossier(
            organisation=membership.organisation, by=request.user, **serializer.validated_data
        )
        return self._respond(dossier, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        """Change a draft's basics (PATCH: only the fields sent)."""
        dossier = self.get_object()
        partial = kwargs.get("partial", False)
        serializer = self.get_serializer(dossier, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = {
            "title": dossier.title,
            "summary": dossier.summary,
            "sensitivity": dossier.sensitivity,
            "target_regimes": list(dossier.target_regimes.all()),
            **serializer.validated_data,
        }
        filing.update_dossier(dossier, by=request.user, **data)
        return self._respond(dossier)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(request=None)
    def submit(self, request, *args, **kwargs):
        """Submit: refused while a blocking checklist item of a target regime is open."""
        dossier = filing.submit_dossier(self.get_object(), by=request.user)
        return self._respond(dossier)

    @extend_schema(request=serializers.WithdrawSerializer)
    def withdraw(self, request, *args, **kwargs):
        """Withdraw a dossier reviewers have not decided on."""
        serializer = serializers.WithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dossier = filing.withdraw_dossier(
            self.get_object(), by=request.user, reason=serializer.validated_data["reason"]
        )
        return self._respond(dossier)

    @extend_schema(responses=serializers.DossierCompletenessSerializer)
    def completeness(self, request, *args, **kwargs):
        """How far the dossier meets each target regime's checklist."""
        dossier = self.get_object()
        data = {"reference": dossier.reference, "regimes": completeness(dossier)}
        return Response(serializers.DossierCompletenessSerializer(data).data)


class DossierChild(ApiMixin):
    """Rows of one dossier, named by its reference in the URL."""

    def get_dossier(self) -> Dossier:
        if not hasattr(self, "_dossier"):
            self._dossier = get_object_or_404(
                member_dossiers(self.request.user).select_related("organisation"),
                reference=self.kwargs["reference"],
            )
        return self._dossier

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not _fake(self):
            context["dossier"] = self.get_dossier()
        return context

    def created(self, obj):
        return Response(
            self.get_serializer(self.get_queryset().get(pk=obj.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    def saved(self, obj):
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data)


class SubjectViewSet(DossierChild, viewsets.ModelViewSet):
    """The people and entities accused in a dossier, with documents, posts and ties."""

    serializer_class = serializers.SubjectSerializer
    NESTED = {"documents": IdentityDocument, "positions": PositionHeld, "links": JurisdictionLink}

    def get_queryset(self):
        if _fake(self):
            return serializers.Subject.objects.none()
        return self.get_dossier().subjects.prefetch_related("documents", "positions", "links")

    def _save(self, request, subject=None, partial=False):
        serializer = self.get_serializer(subject, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        nested = {
            name: services.ReplaceRows(model, fields.pop(name)) if name in fields else None
            for name, model in self.NESTED.items()
        }
        return filing.save_subject(
            self.get_dossier(), by=request.user, subject=subject, fields=fields, **nested
        )

    def create(self, request, *args, **kwargs):
        return self.created(self._save(request))

    def update(self, request, *args, partial=False, **kwargs):
        """Change a subject; documents, positions and links sent replace the earlier ones."""
        return self.saved(self._save(request, self.get_object(), partial))

    def destroy(self, request, *args, **kwargs):
        filing.remove_subject(self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class IncidentViewSet(DossierChild, viewsets.ModelViewSet):
    """What happened, and which subject took which role."""

    serializer_class = serializers.IncidentSerializer

    def get_queryset(self):
        if _fake(self):
            return serializers.Incident.objects.none()
        return (
            self.get_dossier()
            .incidents.select_related("category")
            .prefetch_related("involvements__subject", "involvements__role")
        )

    def _save(self, request, incident=None, partial=False):
        serializer = self.get_serializer(incident, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        if "involvements" in fields:
            involvements = [{"description": "", **row} for row in fields.pop("involvements")]
        elif incident is not None:  # not sent: keep them
            involvements = [
                {"subject": i.subject, "role": i.role, "description": i.description}
                for i in incident.involvements.all()
            ]
        else:
            involvements = []
        return filing.save_incident(
            self.get_dossier(),
            by=request.user,
            incident=incident,
            fields=fields,
            involvements=involvements,
        )

    def create(self, request, *args, **kwargs):
        return self.created(self._save(request))

    def update(self, request, *args, partial=False, **kwargs):
        return self.saved(self._save(request, self.get_object(), partial))

    def destroy(self, request, *args, **kwargs):
        filing.remove_incident(self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SourceViewSet(DossierChild, viewsets.ModelViewSet):
    """
    Witnesses and other sources; identity, contact and safety notes are encrypted. They are
    shown only to a token with the identities scope, and each source so shown is audited.
    """

    serializer_class = serializers.SourceSerializer

    def _identities(self) -> bool:
        token = getattr(self.request, "auth", None)
        return token is not None and token.can_read_identities

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not _fake(self):
            context["identities"] = self._identities()
        return context

    def _shown(self, sources, code=status.HTTP_200_OK, *, many=False) -> Response:
        """The sources' data; first audited, one event each, if identities are in it."""
        rows = list(sources) if many else [sources]
        if self._identities():
            services.record_identity_reads(rows, token=self.request.auth)
        return Response(self.get_serializer(sources, many=many).data, status=code)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        if page is None:
            return self._shown(list(queryset), many=True)
        response = self._shown(page, many=True)
        return self.get_paginated_response(response.data)

    def retrieve(self, request, *args, **kwargs):
        return self._shown(self.get_object())

    def created(self, obj):
        return self._shown(self.get_queryset().get(pk=obj.pk), status.HTTP_201_CREATED)

    def saved(self, obj):
        return self._shown(self.get_queryset().get(pk=obj.pk))

    def get_queryset(self):
        if _fake(self):
            return serializers.Source.objects.none()
        return self.get_dossier().sources.prefetch_related(
            Prefetch("consent_records", queryset=Consent.objects.select_related("regime"))
        )

    def _save(self, request, source=None, partial=False):
        serializer = self.get_serializer(source, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        if source is not None and not self._identities():
            # A token that may not read identities may file a new source's, never replace one
            # (a changed contact would send the reviewers to someone else).
            if any(name in fields for name in serializers.IDENTITY_FIELDS):
                raise PermissionDenied(
                    _(
                        "Changing a source's identity, contact or safety notes needs a token "
                        "with the witness identities scope."
                    )
                )
        consents = fields.pop("consents_input", None)
        return filing.save_source(
            self.get_dossier(),
            by=request.user,
            source=source,
            fields=fields,
            consents=[dict(c) for c in consents] if consents is not None else None,
        )

    def create(self, request, *args, **kwargs):
        return self.created(self._save(request))

    def update(self, request, *args, partial=False, **kwargs):
        return self.saved(self._save(request, self.get_object(), partial))

    def destroy(self, request, *args, **kwargs):
        filing.remove_source(self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EvidenceViewSet(DossierChild, viewsets.ModelViewSet):
    """Exhibits: files (uploaded streaming, hashed on the way in) and web items."""

    serializer_class = serializers.EvidenceSerializer
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if _fake(self):
            return serializers.Evidence.objects.none()
        return (
            self.get_dossier()
            .evidence.select_related("translation_of")
            .prefetch_related("incidents", "criteria")
        )

    def get_serializer_class(self):
        if self.action == "create":
            return serializers.EvidenceLinkSerializer
        if self.action in ("update", "partial_update"):
            return serializers.EvidenceUpdateSerializer
        if self.action == "upload":
            return serializers.EvidenceUploadSerializer
        return serializers.EvidenceSerializer

    def _shown(self, evidence, code=status.HTTP_200_OK):
        evidence = self.get_queryset().get(pk=evidence.pk)
        return Response(serializers.EvidenceSerializer(evidence).data, status=code)

    @extend_schema(
        request=serializers.EvidenceLinkSerializer,
        responses={201: serializers.EvidenceSerializer},
    )
    def create(self, request, *args, **kwargs):
        """Add a web page or social-media post, with its capture record."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        evidence = filing.attach_evidence_link(
            self.get_dossier(), by=request.user, details=dict(serializer.validated_data)
        )
        return self._shown(evidence, status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.EvidenceUpdateSerializer,
        responses=serializers.EvidenceSerializer,
    )
    def update(self, request, *args, partial=False, **kwargs):
        """Change an exhibit's description, grades, source and what it supports."""
        evidence = self.get_object()
        serializer = self.get_serializer(evidence, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        incidents = fields.pop("incidents", None)
        criteria = fields.pop("criteria", None)
        filing.update_evidence(
            evidence,
            by=request.user,
            fields=fields,
            incidents=evidence.incidents.all() if incidents is None else incidents,
            criteria=evidence.criteria.all() if criteria is None else criteria,
        )
        return self._shown(evidence)

    @extend_schema(
        request=serializers.EvidenceUpdateSerializer, responses=serializers.EvidenceSerializer
    )
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        filing.remove_evidence(self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request={"multipart/form-data": serializers.EvidenceUploadSerializer},
        responses={201: serializers.EvidenceSerializer},
    )
    def upload(self, request, *args, **kwargs):
        """
        Upload one file (multipart/form-data, field "file"): streamed to a private temporary
        file and hashed on the way in, like the web upload. For large files use /uploads/.
        """
        # Before anything reads the body: stream to disk and hash in the same pass.
        handler = uploads.HashingUploadHandler(request._request)
        request._request.upload_handlers = [handler]
        dossier = self.get_dossier()
        if dossier.status not in filing.ATTACHABLE:
            raise filing.NotEditable(dossier)  # refused before the body is read
        try:
            serializer = self.get_serializer(data=request.data)
            for name, reason in handler.rejected:
                raise DjangoValidationError(uploads.rejection_message(name, reason), code=reason)
            serializer.is_valid(raise_exception=True)
            details = dict(serializer.validated_data)
            upload, sent = details.pop("file"), details.pop("sha256", "").lower()
            if sent and sent != upload.sha256:
                raise DjangoValidationError(
                    _(
                        "The file's SHA-256 is %(got)s, not %(sent)s as the client said: it "
                        "changed on the way and was not kept."
                    ),
                    params={"got": upload.sha256, "sent": sent},
                    code="checksum_mismatch",
                )
            evidence = filing.attach_evidence_file(
                dossier, by=request.user, upload=upload, details=details
            )
        finally:
            for received in getattr(request._request, "_files", {}).values():
                received.close()  # deletes the temporary file
            for stored in getattr(request._request, "_stored_uploads", []):
                stored.discard()  # streamed into the object store but not attached
        return self._shown(evidence, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "confirm",
                str,
                enum=["1"],
                description="Download a file flagged as possibly malicious",
            )
        ],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def download(self, request, *args, **kwargs):
        """The exhibit's file, as stored (its SHA-256 is in the exhibit)."""
        evidence = get_object_or_404(self.get_queryset().files(), pk=kwargs["pk"])
        if evidence.malware_warning and request.query_params.get("confirm") != "1":
            raise Flagged(evidence.malware_warning)
        filing.record_evidence_download(evidence, by=request.user)
        return download_response(
            evidence.file, filename=evidence.original_name, detected_type=evidence.content_type
        )


class Flagged(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This file may be malicious: add ?confirm=1 to download it anyway."


class ChecklistViewSet(DossierChild, viewsets.GenericViewSet):
    """The submitter's checklist answers, per target regime."""

    serializer_class = serializers.AnswerSerializer
    pagination_class = None

    def get_queryset(self):
        if _fake(self):
            return serializers.ChecklistAnswer.objects.none()
        return (
            self.get_dossier()
            .answers.select_related("regime", "criterion")
            .prefetch_related("evidence")
            .order_by("regime__position", "criterion__position")
        )

    def list(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    @extend_schema(
        request=serializers.ChecklistInputSerializer,
        responses=serializers.AnswerSerializer(many=True),
    )
    def answer(self, request, *args, **kwargs):
        """Answer items of one regime's checklist; an empty status clears an answer."""
        dossier = self.get_dossier()
        regime = get_object_or_404(dossier.target_regimes.all(), key=kwargs["regime"])
        serializer = serializers.ChecklistInputSerializer(
            data=request.data, context={**self.get_serializer_context(), "regime": regime}
        )
        serializer.is_valid(raise_exception=True)
        filing.answer_checklist(
            dossier, regime, by=request.user, answers=serializer.validated_data["answers"]
        )
        return Response(
            self.get_serializer(self.get_queryset().filter(regime=regime), many=True).data
        )


class InformationRequestViewSet(DossierChild, viewsets.ReadOnlyModelViewSet):
    """Reviewers' questions to the organisation, and the answers."""

    serializer_class = serializers.InformationRequestSerializer

    def get_queryset(self):
        if _fake(self):
            return InformationRequest.objects.none()
        return self.get_dossier().information_requests.prefetch_related("messages__evidence")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not _fake(self):
            context["member_ids"] = set(
                self.get_dossier().organisation.memberships.values_list("user_id", flat=True)
            )
        return context

    @extend_schema(
        request=serializers.ReplySerializer, responses=serializers.InformationRequestSerializer
    )
    def reply(self, request, *args, **kwargs):
        """Answer a question; once every question is answered the dossier goes back to review."""
        question = self.get_object()
        serializer = serializers.ReplySerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        filing.reply_to_information_request(question, by=request.user, **serializer.validated_data)
        return self.saved(question)


# FollowTheMoney


class NDJSONParser(parsers.BaseParser):
    """FtM entities, one JSON object a line; read a line at a time."""

    media_type = "application/x-ndjson"
    MAX_LINE = 1024 * 1024
    # The whole body: ftm.MAX_ENTITIES entities of about 3 KB; more is refused (413) as it
    # streams in, not after it has filled the memory (10,000 lines of 1 MiB would be 10 GiB).
    MAX_BYTES = 32 * 1024 * 1024

    def parse(self, stream, media_type=None, parser_context=None):
        if stream is None:
            return []
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH", "") if request is not None else ""
        if declared.isascii() and declared.isdigit() and int(declared) > self.MAX_BYTES:
            raise BodyTooLarge(self.MAX_BYTES)
        lines, read = [], 0
        while line := stream.readline(self.MAX_LINE + 1):
            if len(line) > self.MAX_LINE:
                raise ValidationError({"": "A line is longer than 1 MiB."})
            read += len(line)
            if read > self.MAX_BYTES:
                raise BodyTooLarge(self.MAX_BYTES)
            lines.append(line)
            if len(lines) > ftm.MAX_ENTITIES:
                break
        return lines


class FtmView(DossierChild, GenericAPIView):
    """The dossier's subjects as FollowTheMoney entities: export and import."""

    parser_classes = [NDJSONParser]

    @extend_schema(responses={(200, "application/x-ndjson"): OpenApiTypes.STR})
    def get(self, request, reference):
        """Export: one FtM entity (JSON) a line, valid against the FtM schema."""
        dossier = self.get_dossier()
        response = StreamingHttpResponse(
            ftm.to_lines(ftm.export_entities(dossier)), content_type="application/x-ndjson"
        )
        response["Content-Disposition"] = f'attachment; filename="{dossier.reference}.ftm.json"'
        return response

    @extend_schema(
        request={"application/x-ndjson": OpenApiTypes.STR},
        responses={201: serializers.FtmImportResultSerializer},
    )
    def post(self, request, reference):
        """Import FtM Person / Organization entities as subjects of a draft: all or nothing."""
        dossier = self.get_dossier()
        entities = ftm.parse_lines(request.data)
        created, skipped = ftm.import_subjects(dossier, by=request.user, entities=entities)
        subjects = dossier.subjects.filter(pk__in=[s.pk for s in created]).prefetch_related(
            "documents", "positions", "links"
        )
        data = {
            "created": serializers.SubjectSerializer(subjects, many=True).data,
            "skipped": skipped,
        }
        return Response(data, status=status.HTTP_201_CREATED)
