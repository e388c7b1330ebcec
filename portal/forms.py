"""Forms of the portal's own pages: they check shape; services decide."""

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Membership


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Role"), choices=Membership.Role.choices, initial=Membership.Role.MEMBER
    )


class NewAccountForm(forms.Form):
    """The name and password of an account created by accepting an invitation."""

    full_name = forms.CharField(
        label=gettext_lazy("Your name"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Optional. The other members of the organisation see it."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password_again = forms.CharField(
        label=gettext_lazy("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password"), cleaned.get("password_again")
        if first and second and first != second:
            self.add_error("password_again", _("The two passwords are not the same."))
        return cleaned


class ListingForm(forms.Form):
    """An organisation admin's choice to be named on the public transparency page."""

    listed_publicly = forms.BooleanField(
        label=gettext_lazy("Name our organisation on the public transparency page"),
        required=False,
        help_text=gettext_lazy(
            "Only the name appears, in the list of contributing organisations; nothing about "
            "your dossiers is ever published. Leave it unticked if being named could put you "
            "or the people you work with at risk."
        ),
    )


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=gettext_lazy(
            "The six digits your authenticator app shows now, or one of your recovery codes."
        ),
    )


class SetupForm(forms.Form):
    """A code from the new authenticator; to replace one, also a code from the current one."""

    token = forms.CharField(
        label=gettext_lazy("Code from the new app"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=gettext_lazy("The six digits the app you are setting up shows now."),
    )
    current_token = forms.CharField(
        label=gettext_lazy("Code from your current app, or a recovery code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=gettext_lazy(
            "Replacing your authenticator needs proof that you hold the current one. If you "
            "have lost both your phone and your recovery codes, ask an administrator to reset "
            "your second factor."
        ),
    )

    def __init__(self, *args, replacing: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not replacing:
            del self.fields["current_token"]
