"""The reporter's forms (shape only: the services decide) and the organisation's."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField

from portal.models import Organisation
from submissions.fields import validate_partial_date
from submissions.i18n_data import localized
from submissions.models import Regime, ViolationCategory

from . import receipts
from .models import Intake, IntakeConsent

COORDINATORS = "portal"
NO_CONSENT = "none"


class ChallengeForm(forms.Form):
    """The cost of a request (challenge.py): work found by the script, or an answer."""

    challenge = forms.CharField(widget=forms.HiddenInput, max_length=2000)
    counter = forms.CharField(widget=forms.HiddenInput, required=False, max_length=20)
    answer = forms.CharField(
        label=_("Your answer"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class ReportForm(ChallengeForm):
    # 1. What happened
    category = forms.ModelChoiceField(
        label=_("What kind of abuse was it?"),
        queryset=ViolationCategory.objects.filter(in_scope=True),
        required=False,
        empty_label=_("I am not sure"),
    )
    happened_on = forms.CharField(
        label=_("When did it happen?"),
        required=False,
        max_length=10,
        validators=[validate_partial_date],
        help_text=_(
            "A year (2023), a month (2023-04) or a day (2023-04-23). Leave empty if unsure."
        ),
    )
    country = LazyTypedChoiceField(
        label=_("In which country?"),
        choices=[("", _("I would rather not say"))] + list(countries),
        required=False,
    )
    place = forms.CharField(
        label=_("Where exactly?"),
        required=False,
        max_length=200,
        help_text=_("A town, a prison, a street. Only what you are comfortable sharing."),
    )
    perpetrators = forms.CharField(
        label=_("Who did it?"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Names, ranks, units or offices, if you know them."),
    )
    account = forms.CharField(
        label=_("What happened, in your own words"),
        max_length=50000,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    # 2. About you
    reporter_role = forms.ChoiceField(
        label=_("Who are you?"), choices=Intake.ReporterRole.choices, widget=forms.RadioSelect
    )
    reporter_identity = forms.CharField(
        label=_("Your name (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Leave it empty to stay anonymous. If you write it, it is stored encrypted."),
    )
    reporter_contact = forms.CharField(
        label=_("A safe way to contact you (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Only if it is safe for you: for example a Signal number. You do not need it: "
            "answers wait for you here, with your receipt code."
        ),
    )
    # 3. Evidence: the files come through request.FILES (IntakeUploadHandler)
    # 4. Who may receive it
    organisation = forms.ChoiceField(
        label=_("Who should receive your report?"), widget=forms.RadioSelect
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisations = list(Organisation.objects.filter(accepts_intakes=True))
        self.fields["organisation"].choices = [
            (COORDINATORS, _("I do not know: let the portal's coordinators choose for me")),
            *((str(o.pk), o.name) for o in self.organisations),
        ]
        self.fields["organisation"].initial = COORDINATORS
        self.regimes = list(Regime.objects.open_for_submissions().order_by("position", "name"))
        for regime in self.regimes:
            self.fields[f"consent_{regime.pk}"] = forms.ChoiceField(
                label=localized(regime, "name"),
                choices=[
                    (NO_CONSENT, _("No: do not send my account to this government")),
                    (
                        IntakeConsent.Scope.ANONYMOUS,
                        _("Yes, without my name: under a code name only"),
                    ),
                    (IntakeConsent.Scope.NAMED, _("Yes, with my name")),
                ],
                initial=NO_CONSENT,
                required=False,  # nothing chosen: no consent
                widget=forms.RadioSelect,
            )

    def consent_fields(self):
        return [self[f"consent_{regime.pk}"] for regime in self.regimes]

    def clean_organisation(self):
        value = self.cleaned_data["organisation"]
        if value == COORDINATORS:
            return None
        return next(o for o in self.organisations if str(o.pk) == value)

    def consents(self) -> list[tuple[Regime, str]]:
        return [
            (regime, self.cleaned_data[f"consent_{regime.pk}"])
            for regime in self.regimes
            if self.cleaned_data.get(f"consent_{regime.pk}") not in ("", None, NO_CONSENT)
        ]

    def intake_fields(self) -> dict:
        data = self.cleaned_data
        return {
            name: data[name] or ""
            for name in (
                "happened_on",
                "country",
                "place",
                "perpetrators",
                "account",
                "reporter_role",
                "reporter_identity",
                "reporter_contact",
            )
        } | {"category": data["category"]}


class CodeForm(ChallengeForm):
    code = forms.CharField(
        label=_("Your receipt code"),
        max_length=80,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    def clean_code(self):
        code = receipts.normalise(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError(_("A receipt code has 30 digits."))
        return code


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"), max_length=20000, widget=forms.Textarea(attrs={"rows": 4})
    )


class AdoptForm(forms.Form):
    title = forms.CharField(label=_("Title of the new dossier"), max_length=200)
    target_regimes = forms.ModelMultipleChoiceField(
        label=_("Governments to address"),
        queryset=Regime.objects.open_for_submissions(),
        widget=forms.CheckboxSelectMultiple,
    )


class RouteForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Send to"), queryset=Organisation.objects.filter(accepts_intakes=True)
    )


class ListingForm(forms.Form):
    accepts_intakes = forms.BooleanField(
        label=_("accept reports from victims and witnesses"),
        required=False,
        help_text=Organisation._meta.get_field("accepts_intakes").help_text,
    )
    intake_description = forms.CharField(
        label=_("public description for reporters"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=Organisation._meta.get_field("intake_description").help_text,
    )
