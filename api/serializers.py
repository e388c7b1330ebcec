"""Shapes of the API's requests and responses. They check input; services decide and save."""

from django_countries.serializers import CountryFieldMixin
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from reviews.models import InformationRequest, Message
from submissions.models import (
    ChecklistAnswer,
    Consent,
    Criterion,
    Dossier,
    Evidence,
    IdentityDocument,
    Incident,
    InvolvementRole,
    JurisdictionLink,
    PositionHeld,
    Regime,
    Source,
    Subject,
    ViolationCategory,
)


class OfDossier(serializers.PrimaryKeyRelatedField):
    """A row of the dossier in the serializer's context (found lazily: nested serializers get
    their context only when bound)."""

    def __init__(self, related: str, model, **kwargs):
        self.related = related
        super().__init__(queryset=model.objects.none(), **kwargs)  # the type, for the schema

    def get_queryset(self):
        dossier = self.context.get("dossier")
        if dossier is None:
            return Dossier.objects.none()
        return getattr(dossier, self.related).all()


class CriterionOfDossier(serializers.SlugRelatedField):
    """A criterion of the dossier's target regimes (or of the regime in the context)."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", queryset=Criterion.objects.none(), **kwargs)

    def get_queryset(self):
        if (regime := self.context.get("regime")) is not None:
            return Criterion.objects.filter(pk__in=regime.checklist.values("criterion_id"))
        if (dossier := self.context.get("dossier")) is not None:
            return Criterion.objects.filter(regimes__in=dossier.target_regimes.all()).distinct()
        return Criterion.objects.none()


# Reference data


class CriterionItemSerializer(serializers.Serializer):
    code = serializers.CharField(source="criterion.code")
    name = serializers.CharField(source="criterion.name", help_text="The item in words.")
    question = serializers.CharField(source="criterion.question")
    computed = serializers.BooleanField(
        source="criterion.is_computed",
        help_text="Closed by the dossier's data; cannot be answered.",
    )
    per_government = serializers.BooleanField(
        source="criterion.per_government",
        help_text="Answered for each government (otherwise once for all that ask it).",
    )
    level = serializers.CharField()
    applies_to = serializers.CharField(source="criterion.applies_to")
    step = serializers.CharField(source="criterion.step")


class RegimeSerializer(serializers.ModelSerializer):
    checklist = CriterionItemSerializer(many=True, read_only=True)

    class Meta:
        model = Regime
        fields = [
            "key",
            "name",
            "jurisdiction",
            "status",
            "accepts_submissions",
            "standard_of_proof",
            "incident_age_flag_years",
            "checklist",
        ]


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = ViolationCategory
        fields = ["code", "name", "kind", "in_scope"]


class RoleSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvolvementRole
        fields = ["code", "name", "description"]


# The dossier


class OpenItemSerializer(serializers.Serializer):
    criterion = serializers.CharField(source="criterion.code")
    name = serializers.CharField(help_text="The item in words.")
    missing = serializers.CharField(help_text="What is missing, in words.")
    step = serializers.CharField()
    url = serializers.CharField(help_text="The page that fixes it.")


class CompletenessSerializer(serializers.Serializer):
    regime = serializers.CharField(source="regime.key")
    ready = serializers.BooleanField()
    percent = serializers.IntegerField()
    blocking_total = serializers.IntegerField()
    blocking_closed = serializers.IntegerField()
    advisory_total = serializers.IntegerField()
    advisory_answered = serializers.IntegerField()
    open_items = OpenItemSerializer(many=True)
    warnings = serializers.ListField(
        child=serializers.CharField(),
        help_text="Scope, age and consent flags: never a refusal.",
    )


class DossierCompletenessSerializer(serializers.Serializer):
    reference = serializers.CharField()
    regimes = CompletenessSerializer(many=True)
    ready = serializers.SerializerMethodField()

    def get_ready(self, data) -> bool:
        return all(row.ready for row in data["regimes"])


class DossierSerializer(serializers.ModelSerializer):
    target_regimes = serializers.SlugRelatedField(
        slug_field="key", many=True, queryset=Regime.objects.open_for_submissions()
    )
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    completeness = serializers.SerializerMethodField()

    class Meta:
        model = Dossier
        fields = [
            "reference",
            "title",
            "summary",
            "sensitivity",
            "target_regimes",
            "organisation",
            "status",
            "created_at",
            "updated_at",
            "status_changed_at",
            "submitted_at",
            "completeness",
        ]
        read_only_fields = [
            "reference",
            "status",
            "created_at",
            "updated_at",
            "status_changed_at",
            "submitted_at",
        ]

    def validate_target_regimes(self, value):
        if not value:
            raise serializers.ValidationError("Choose at least one government to address.")
        return value

    @extend_schema_field(CompletenessSerializer(many=True))
    def get_completeness(self, dossier) -> list[dict]:
        rows = getattr(dossier, "completeness_rows", None) or []
        return CompletenessSerializer(rows, many=True).data


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


# Subjects


class DocumentSerializer(CountryFieldMixin, serializers.ModelSerializer):
    class Meta:
        model = IdentityDocument
        fields = ["kind", "number", "country", "issued_on", "expires_on"]


class PositionSerializer(CountryFieldMixin, serializers.ModelSerializer):
    class Meta:
        model = PositionHeld
        fields = ["title", "organisation", "country", "start", "end"]


class LinkSerializer(CountryFieldMixin, serializers.ModelSerializer):
    class Meta:
        model = JurisdictionLink
        fields = ["kind", "country", "description"]


class SubjectSerializer(CountryFieldMixin, serializers.ModelSerializer):
    aliases = serializers.ListField(
        child=serializers.CharField(max_length=300), required=False, max_length=100
    )
    documents = DocumentSerializer(many=True, required=False)
    positions = PositionSerializer(many=True, required=False)
    links = LinkSerializer(many=True, required=False)

    class Meta:
        model = Subject
        fields = [
            "id",
            "kind",
            "name",
            "name_original",
            "aliases",
            "gender",
            "birth_date",
            "birth_place",
            "nationalities",
            "registration_number",
            "jurisdiction",
            "legal_form",
            "notes",
            "documents",
            "positions",
            "links",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        # An organisation has no nationality (its country is `jurisdiction`); a person's may
        # be unknown: the model allows none, so the API does too.
        extra_kwargs = {"nationalities": {"required": False, "allow_empty": True}}


# Incidents


class InvolvementSerializer(serializers.Serializer):
    subject = OfDossier("subjects", Subject)
    role = serializers.SlugRelatedField(slug_field="code", queryset=InvolvementRole.objects.all())
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)


class IncidentSerializer(CountryFieldMixin, serializers.ModelSerializer):
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=ViolationCategory.objects.filter(in_scope=True)
    )
    involvements = InvolvementSerializer(many=True, required=False)

    class Meta:
        model = Incident
        fields = [
            "id",
            "title",
            "category",
            "start_date",
            "end_date",
            "country",
            "place",
            "victims_count",
            "narrative",
            "involvements",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


# Sources


class ConsentSerializer(serializers.ModelSerializer):
    regime = serializers.SlugRelatedField(slug_field="key", queryset=Regime.objects.all())

    class Meta:
        model = Consent
        fields = ["regime", "scope", "given_on", "method"]
        extra_kwargs = {"method": {"allow_blank": False}}


IDENTITY_FIELDS = ("identity", "contact", "safety_notes")


class SourceSerializer(serializers.ModelSerializer):
    consents = serializers.SerializerMethodField()
    consents_given = ConsentSerializer(
        many=True,
        required=False,
        write_only=True,
        source="consents_input",
        help_text="Replaces the source's consents: a regime left out has none (withdrawn).",
    )

    class Meta:
        model = Source
        fields = [
            "id",
            "reference",
            "pseudonym",
            "kind",
            "reliability",
            "reliability_reason",
            "identity",
            "contact",
            "safety_notes",
            "consents",
            "consents_given",
            "created_at",
        ]
        read_only_fields = ["id", "reference", "created_at"]
        extra_kwargs = {
            "pseudonym": {"required": False, "allow_blank": True},
            **{
                name: {
                    "help_text": (
                        "Returned only to a token with the witness identities scope, and each "
                        "read is audited. Any write token may send it for a new source; "
                        "changing it on an existing source needs that scope."
                    )
                }
                for name in IDENTITY_FIELDS
            },
        }
        # The pseudonym's uniqueness per dossier is checked by the service.
        validators = []

    def get_fields(self):
        fields = super().get_fields()
        # Identities leave the API only for a token with the identities scope (the view says
        # which, and audits each read); any other token may still send them, never read them.
        if self.context.get("identities") is False:
            for name in IDENTITY_FIELDS:
                fields[name].write_only = True
        return fields

    @extend_schema_field(ConsentSerializer(many=True))
    def get_consents(self, source) -> list[dict]:
        rows = [c for c in source.consent_records.all() if c.withdrawn_on is None]
        return ConsentSerializer(rows, many=True).data

    def validate_consents_given(self, value):
        dossier = self.context["dossier"]
        targets = {r.pk for r in dossier.target_regimes.all()}
        for consent in value:
            if consent["regime"].pk not in targets:
                raise serializers.ValidationError(
                    f"{consent['regime'].key} is not a target regime of this dossier."
                )
        return value


# Evidence


class EvidenceSerializer(serializers.ModelSerializer):
    """An exhibit as the API shows it; the file itself is downloaded separately."""

    incidents = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    criteria = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    source = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    scanned = serializers.SerializerMethodField()
    # Empty when not given: plain strings (an empty string is neither a URI nor a grade).
    url = serializers.CharField(read_only=True)
    archive_url = serializers.CharField(read_only=True)
    reliability = serializers.CharField(read_only=True, help_text="A-F, or empty")
    credibility = serializers.CharField(read_only=True, help_text="1-6, or empty")
    translation_of = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The id of the exhibit this one translates."
    )
    translation_of_reference = serializers.SerializerMethodField(
        help_text="The reference of the exhibit this one translates (e.g. D14-E2), or null."
    )
    identifying_metadata = serializers.SerializerMethodField(
        help_text="What the file carries that could locate or identify whoever made it: "
        '{"gps": {"latitude", "longitude"} or null, "device": "..."}, or null when nothing. '
        "Copies that leave the portal are stripped of it unless keep_metadata_in_copies."
    )

    class Meta:
        model = Evidence
        fields = [
            "id",
            "reference",
            "kind",
            "original_name",
            "size",
            "sha256",
            "content_type",
            "url",
            "captured_at",
            "archive_url",
            "posted_by",
            "description",
            "obtained_on",
            "provenance",
            "source",
            "reliability",
            "credibility",
            "grade_reason",
            "translation_of",
            "translation_of_reference",
            "incidents",
            "criteria",
            "identifying_metadata",
            "keep_metadata_in_copies",
            "malware_warning",
            "scanned",
            "created_at",
        ]
        read_only_fields = fields

    def get_scanned(self, evidence) -> bool:
        return evidence.scanned_at is not None

    def get_translation_of_reference(self, evidence) -> str | None:
        return evidence.translation_of.reference if evidence.translation_of_id else None

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "gps": {"type": "object", "nullable": True},
                "device": {"type": "string"},
            },
        }
    )
    def get_identifying_metadata(self, evidence) -> dict | None:
        if not evidence.identifying_metadata:
            return None
        return {"gps": evidence.location, "device": evidence.device}


class EvidenceDetailsSerializer(serializers.ModelSerializer):
    """The details sent with an uploaded file (the same for the simple and resumable upload)."""

    source = OfDossier("sources", Source, required=False, allow_null=True)

    class Meta:
        model = Evidence
        fields = [
            "description",
            "obtained_on",
            "source",
            "reliability",
            "credibility",
            "provenance",
        ]


class EvidenceUploadSerializer(EvidenceDetailsSerializer):
    file = serializers.FileField(help_text="The file, as multipart/form-data.")
    sha256 = serializers.RegexField(
        r"^[0-9a-fA-F]{64}$",
        required=False,
        help_text="The SHA-256 the client computed; a file that does not match is refused.",
    )

    class Meta(EvidenceDetailsSerializer.Meta):
        # A file may carry the public address it was taken from, with its capture record.
        fields = [
            *EvidenceDetailsSerializer.Meta.fields,
            "url",
            "captured_at",
            "archive_url",
            "file",
            "sha256",
        ]


class EvidenceLinkSerializer(serializers.ModelSerializer):
    source = OfDossier("sources", Source, required=False, allow_null=True)

    class Meta:
        model = Evidence
        fields = [
            "url",
            "captured_at",
            "archive_url",
            "posted_by",
            "description",
            "obtained_on",
            "source",
            "reliability",
            "credibility",
            "provenance",
        ]
        extra_kwargs = {"url": {"required": True, "allow_blank": False}}

    def validate(self, data):
        if not data.get("captured_at"):
            raise serializers.ValidationError({"captured_at": "Say when the page was captured."})
        return data


class EvidenceUpdateSerializer(serializers.ModelSerializer):
    source = OfDossier("sources", Source, required=False, allow_null=True)
    incidents = OfDossier("incidents", Incident, many=True, required=False)
    criteria = CriterionOfDossier(many=True, required=False)
    translation_of = OfDossier(
        "evidence",
        Evidence,
        required=False,
        allow_null=True,
        help_text="The id of the exhibit of this dossier that this one translates.",
    )

    class Meta:
        model = Evidence
        fields = [
            "description",
            "translation_of",
            "url",
            "captured_at",
            "archive_url",
            "keep_metadata_in_copies",
            "obtained_on",
            "provenance",
            "source",
            "reliability",
            "credibility",
            "grade_reason",
            "incidents",
            "criteria",
        ]

    def validate(self, data):
        if self.instance is not None and self.instance.kind == Evidence.Kind.LINK:
            if "url" in data and not data["url"]:
                raise serializers.ValidationError({"url": "A web item needs its address."})
            if "captured_at" in data and not data["captured_at"]:
                raise serializers.ValidationError({"captured_at": "Say when it was captured."})
        if self.instance is not None and data.get("translation_of") == self.instance:
            raise serializers.ValidationError(
                {"translation_of": "An exhibit cannot be a translation of itself."}
            )
        return data


# Checklist


class AnswerSerializer(serializers.ModelSerializer):
    regime = serializers.SlugRelatedField(slug_field="key", read_only=True)
    criterion = serializers.SlugRelatedField(slug_field="code", read_only=True)
    evidence = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = ChecklistAnswer
        fields = ["regime", "criterion", "question", "status", "explanation", "evidence"]
        read_only_fields = fields


class AnswerInputSerializer(serializers.Serializer):
    criterion = CriterionOfDossier()
    status = serializers.ChoiceField(
        choices=[("", "Not answered (clears the answer)"), *ChecklistAnswer.Status.choices]
    )
    explanation = serializers.CharField(required=False, allow_blank=True, default="")
    evidence = OfDossier("evidence", Evidence, many=True, required=False, default=list)

    def validate(self, data):
        if (
            data["status"] == ChecklistAnswer.Status.NOT_APPLICABLE
            and not (data.get("explanation") or "").strip()
        ):
            raise serializers.ValidationError({"explanation": "Say why this item does not apply."})
        if data["criterion"].is_computed:
            raise serializers.ValidationError(
                {"criterion": f"{data['criterion'].code} is computed from the dossier's data."}
            )
        return data


class ChecklistInputSerializer(serializers.Serializer):
    answers = AnswerInputSerializer(many=True, allow_empty=False)


# Information requests


class MessageSerializer(serializers.ModelSerializer):
    evidence = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    from_organisation = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["body", "evidence", "created_at", "from_organisation"]

    def get_from_organisation(self, message) -> bool:
        return message.author_id in self.context.get("member_ids", ())


class InformationRequestSerializer(serializers.ModelSerializer):
    messages = MessageSerializer(many=True, read_only=True)
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = InformationRequest
        fields = ["id", "question", "asked_at", "answered_at", "is_open", "messages"]


class ReplySerializer(serializers.Serializer):
    body = serializers.CharField()
    evidence = OfDossier("evidence", Evidence, many=True, required=False, default=list)


# Resumable uploads


class UploadStatusSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    file_name = serializers.CharField()
    length = serializers.IntegerField()
    offset = serializers.IntegerField()
    expires_at = serializers.DateTimeField()


# FollowTheMoney


class FtmImportResultSerializer(serializers.Serializer):
    created = SubjectSerializer(many=True)
    skipped = serializers.IntegerField(help_text="Entities of other schemata (not imported).")
