from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import ApiToken


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, e.g. the case system's nightly sync."),
    )
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
        widget=forms.RadioSelect,
    )
    identities = forms.BooleanField(
        label=_("Witness identities"),
        required=False,
        help_text=_(
            "Also read sources' real names, contact details and safety notes, and change them. "
            "Leave this off unless the system needs them: every read is recorded in the audit "
            "log."
        ),
    )
    days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        initial=90,
        help_text=_("It stops working after this; you can revoke it sooner."),
    )

    def clean_days(self) -> int:
        days = self.cleaned_data["days"]
        if days > settings.API_TOKEN_MAX_DAYS:
            raise forms.ValidationError(
                _("At most %(days)s days."), params={"days": settings.API_TOKEN_MAX_DAYS}
            )
        return days
