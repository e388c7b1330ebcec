"""Forms of the filing steps: they check shape only; services decide and save."""

from crispy_forms.helper import FormHelper
from django import forms
from django.forms import inlineformset_factory
from django.utils.translation import gettext_lazy as _

from .fields import neutralise_name, neutralise_text
from .i18n_data import localized
from .models import (
    ChecklistAnswer,
    Consent,
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

PARTIAL_DATE_HELP = _("Year (1975), year and month (1975-04) or full date (1975-04-23).")


class PortalFormHelper(FormHelper):
    """Layout only: our templates render the <form> tag and the buttons."""

    form_tag = False
    disable_csrf = True


class StepForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = PortalFormHelper()
        for field in self.fields.values():
            if isinstance(field.widget, forms.Textarea) and field.widget.attrs.get("rows") == "10":
                field.widget.attrs["rows"] = 3  # Django's default of 10 rows is a wall


class DossierForm(StepForm):
    target_regimes = forms.ModelMultipleChoiceField(
        queryset=Regime.objects.open_for_submissions(),
        widget=forms.CheckboxSelectMultiple,
        label=_("Governments and regimes to address"),
        help_text=_("The checklist of each regime you choose must be met before you submit."),
    )

    class Meta:
        model = Dossier
        fields = ["title", "target_regimes", "summary", "sensitivity"]
        help_texts = {
            "title": _("A working title for your organisation; it is never sent to the subject."),
            "summary": _("In a few sentences: who did what, to whom, when and where."),
        }

    def closed_regimes(self):
        """Governments listed for what they are, though they take no submissions (Japan)."""
        return Regime.objects.exclude(pk__in=Regime.objects.open_for_submissions())


class LinesField(forms.CharField):
    """A list of strings typed one per line."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        if "\x00" in (value or ""):
            raise forms.ValidationError(_("Null characters are not allowed."), code="null")
        names = (neutralise_name(line) for line in (value or "").splitlines())
        return [name for name in names if name]


class SubjectForm(StepForm):
    aliases = LinesField(
        label=_("Aliases, former names and other spellings"),
        required=False,
        help_text=_("One per line, in any script."),
    )

    class Meta:
        model = Subject
        fields = [
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
        ]
        help_texts = {"birth_date": PARTIAL_DATE_HELP}


def _partial_date_widgets(*names):
    return {name: forms.TextInput(attrs={"placeholder": "YYYY-MM"}) for name in names}


DocumentFormSet = inlineformset_factory(
    Subject,
    IdentityDocument,
    fields=["kind", "number", "country", "issued_on", "expires_on"],
    widgets=_partial_date_widgets("issued_on", "expires_on"),
    extra=1,
    can_delete=True,
)
PositionFormSet = inlineformset_factory(
    Subject,
    PositionHeld,
    fields=["title", "organisation", "country", "start", "end"],
    widgets=_partial_date_widgets("start", "end"),
    extra=1,
    can_delete=True,
)
LinkFormSet = inlineformset_factory(
    Subject,
    JurisdictionLink,
    fields=["kind", "country", "description"],
    extra=1,
    can_delete=True,
)


class IncidentForm(StepForm):
    category = forms.ModelChoiceField(
        queryset=ViolationCategory.objects.filter(in_scope=True), label=_("Violation category")
    )

    class Meta:
        model = Incident
        fields = [
            "title",
            "category",
            "start_date",
            "end_date",
            "country",
            "place",
            "victims_count",
            "narrative",
        ]
        help_texts = {"start_date": PARTIAL_DATE_HELP, "end_date": PARTIAL_DATE_HELP}
        widgets = {"narrative": forms.Textarea(attrs={"rows": 8})}


class InvolvementForm(forms.Form):
    subject = forms.ModelChoiceField(queryset=Subject.objects.none(), label=_("Subject"))
    role = forms.ModelChoiceField(queryset=InvolvementRole.objects.all(), label=_("Role"))
    description = forms.CharField(label=_("How"), required=False, max_length=500)

    def __init__(self, *args, subjects=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = (
            subjects if subjects is not None else Subject.objects.none()
        )


InvolvementFormSet = forms.formset_factory(InvolvementForm, extra=2, can_delete=True)


class SourceForm(StepForm):
    class Meta:
        model = Source
        fields = [
            "pseudonym",
            "kind",
            "reliability",
            "reliability_reason",
            "identity",
            "contact",
            "safety_notes",
        ]
        help_texts = {
            "pseudonym": _("Used in every export. Leave empty to get the next free one (W-1 ...)."),
            "identity": _("Encrypted. Never leaves the portal without this person's consent."),
            "contact": _("Encrypted. For your organisation and reviewers only."),
        }
        widgets = {"identity": forms.Textarea(attrs={"rows": 2, "autocomplete": "off"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pseudonym"].required = False


class ConsentForm(forms.Form):
    """Consent for one government: whether it was given, how, and in what scope."""

    given = forms.BooleanField(label=_("Consents to sharing with this government"), required=False)
    scope = forms.ChoiceField(choices=Consent.Scope.choices, initial=Consent.Scope.ANONYMOUS)
    given_on = forms.DateField(
        label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    method = forms.CharField(
        label=_("How it was recorded"),
        required=False,
        max_length=200,
        help_text=_("e.g. signed form, recorded oral consent"),
    )

    def __init__(self, *args, regime: Regime, **kwargs):
        super().__init__(*args, **kwargs)
        self.regime = regime

    def clean(self):
        data = super().clean()
        if data.get("given") and not (data.get("given_on") and data.get("method")):
            raise forms.ValidationError(
                _("Say when and how consent for %(regime)s was given."),
                params={"regime": localized(self.regime, "name")},
            )
        return data


class EvidenceDetailsForm(StepForm):
    """
    The details typed with an upload. Date, source, grades and provenance apply to every file
    sent together; a description belongs to one file only: one "description" value per file,
    in the order of the files (the page's script gives each chosen file its own box).
    """

    description = forms.CharField(
        label=_("Description of this file"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Describes one file only. With several files, each gets its own box; "
            "or describe each one afterwards with “Grade and link”."
        ),
    )

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
        widgets = {"obtained_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, dossier: Dossier, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = dossier.sources.all()

    def shared_details(self) -> dict:
        """What holds for every file of the upload: everything but the description."""
        return {k: v for k, v in self.cleaned_data.items() if k != "description"}

    def descriptions(self, count: int) -> list[str]:
        """
        One description per file, in the order the files were sent ("" for none). A single
        description typed for several files is refused, never copied to each of them.
        """
        typed = [neutralise_text(d).strip() for d in self.data.getlist("description")]
        if len(typed) == count:
            return typed
        if not any(typed):
            return [""] * count
        raise forms.ValidationError(
            _(
                "A description belongs to one file, and the descriptions sent do not match "
                "the %(count)s files one by one: nothing was kept. Upload the files one at a "
                "time, or leave the description empty and describe each file afterwards with "
                "“Grade and link”."
            ),
            params={"count": count},
            code="shared_description",
        )


class EvidenceLinkForm(StepForm):
    url = forms.URLField(label=_("Address"), max_length=2000, assume_scheme="https")
    archive_url = forms.URLField(
        label=_("Archived copy"),
        max_length=2000,
        assume_scheme="https",
        required=False,
        help_text=_("e.g. the Wayback Machine or archive.today address of the page."),
    )

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
        widgets = {
            "captured_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "obtained_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, dossier: Dossier, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = dossier.sources.all()
        self.fields["url"].required = True
        self.fields["captured_at"].required = True


class EvidenceForm(StepForm):
    url = forms.URLField(
        label=_("Public address"),
        max_length=2000,
        assume_scheme="https",
        required=False,
        help_text=_("Where the file was published, if it was (a news report, a post)."),
    )
    archive_url = forms.URLField(
        label=_("Archived copy"),
        max_length=2000,
        assume_scheme="https",
        required=False,
        help_text=_("e.g. the Wayback Machine or archive.today address of the page."),
    )

    class Meta:
        model = Evidence
        fields = [
            "description",
            "translation_of",
            "url",
            "captured_at",
            "archive_url",
            "obtained_on",
            "provenance",
            "source",
            "reliability",
            "credibility",
            "grade_reason",
            "keep_metadata_in_copies",
            "incidents",
            "criteria",
        ]
        widgets = {
            "captured_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "obtained_on": forms.DateInput(attrs={"type": "date"}),
            "incidents": forms.CheckboxSelectMultiple,
            "criteria": forms.CheckboxSelectMultiple,
        }
        labels = {"criteria": _("Checklist items it supports")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        dossier = self.instance.dossier
        # Only another exhibit of this same dossier can be the original.
        self.fields["translation_of"].queryset = dossier.evidence.exclude(pk=self.instance.pk)
        self.fields["translation_of"].label_from_instance = lambda e: f"{e.reference} {e}"
        self.fields["translation_of"].empty_label = _("Not a translation")
        if self.instance.kind == Evidence.Kind.LINK:
            self.fields["url"].required = True
            self.fields["captured_at"].required = True
            self.fields["url"].label = _("Address")
            self.fields["url"].help_text = ""
        else:
            self.fields["captured_at"].help_text = _("When you saved it from that address.")
        if self.instance.kind != Evidence.Kind.FILE or not self.instance.identifying_metadata:
            del self.fields["keep_metadata_in_copies"]
        self.fields["source"].queryset = dossier.sources.all()
        self.fields["incidents"].queryset = dossier.incidents.all()
        self.fields["criteria"].queryset = (
            self.fields["criteria"]
            .queryset.filter(regimes__in=dossier.target_regimes.all())
            .distinct()
        )
        self.fields["criteria"].label_from_instance = lambda c: c.name


class AnswerForm(forms.Form):
    """The answer to one judgement, for the governments in `item["regimes"]`."""

    status = forms.ChoiceField(
        choices=[("", _("Not answered yet")), *ChecklistAnswer.Status.choices],
        required=False,
        label=_("Answer"),
    )
    explanation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("Explanation")
    )
    evidence = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Supporting exhibits"),
    )

    def __init__(self, *args, item, exhibits: dict, **kwargs):
        """`exhibits`: {pk: Evidence} of the dossier, loaded once for all the items."""
        super().__init__(*args, **kwargs)
        self.item = item  # {"criterion", "regimes", "level"}
        self.exhibits = exhibits
        self.fields["evidence"].choices = [(pk, f"{e.reference} {e}") for pk, e in exhibits.items()]

    def clean_evidence(self):
        return [self.exhibits[pk] for pk in self.cleaned_data["evidence"]]

    def clean(self):
        data = super().clean()
        if (
            data.get("status") == ChecklistAnswer.Status.NOT_APPLICABLE
            and not data.get("explanation", "").strip()
        ):
            self.add_error("explanation", _("Say why this item does not apply."))
        return data


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you withdrawing it? (for the record)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Your answer"), widget=forms.Textarea(attrs={"rows": 5}))
    evidence = forms.ModelMultipleChoiceField(
        queryset=Evidence.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Exhibits that answer it"),
    )

    def __init__(self, *args, dossier: Dossier, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evidence"].queryset = dossier.evidence.all()
