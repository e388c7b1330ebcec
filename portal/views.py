import base64
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LoginView, redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import health, services, twofactor
from .forms import InviteForm, ListingForm, NewAccountForm, SetupForm, TokenForm
from .models import Invitation, Membership, Organisation, User


@login_not_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


class SignInView(LoginView):
    """Django's sign-in, which also keeps the page's language on the account (for emails)."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = self.request.user
        # A language chosen with the switcher (its cookie) wins; otherwise the language the
        # sign-in page was shown in fills an account that has none yet.
        if settings.LANGUAGE_COOKIE_NAME in self.request.COOKIES or not user.language:
            services.remember_language(user, translation.get_language() or "")
        return response


@require_GET
def after_sign_in(request: HttpRequest) -> HttpResponse:
    """
    Send a person who signed in without a `next` to their own work: NGO members to their
    dossiers, reviewers to the review site, anyone else to the home page.
    """
    if Membership.objects.filter(user=request.user).exists():
        return redirect("submissions:dossier-list")
    if request.user.is_staff:
        return redirect("admin:index")
    return redirect("home")


@require_GET
def floor(request: HttpRequest) -> HttpResponse:
    """
    Render only the base template for the signed-in user: the cost of Django, the middleware,
    the session and the template, which the benchmarks measure every page against. Routed
    only in development or when PORTAL_BENCH_FLOOR is set (bench/run.py), never in production.
    """
    return render(request, "portal/floor.html")


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """
    Say whether the database, the broker and the storage answer, and whether a live worker
    consumes each queue ("queue:briefs"): 200 if all do, else 503 naming what fails.
    """
    results = health.run_checks()
    failing = [name for name, ok in results.items() if not ok]
    body = {
        "status": "error" if failing else "ok",
        "checks": {name: "ok" if ok else "error" for name, ok in results.items()},
        "failing": failing,
    }
    return JsonResponse(body, status=503 if failing else 200)


# Organisation members and invitations


def _organisation_sections(user, forms_by_organisation: dict[int, InviteForm] | None = None):
    """Return, for each of `user`'s organisations, its members and pending invitations."""
    memberships = (
        Membership.objects.filter(user=user)
        .select_related("organisation")
        .prefetch_related(
            Prefetch(
                "organisation__memberships",
                queryset=Membership.objects.select_related("user").order_by("user__email"),
                to_attr="member_list",
            ),
            Prefetch(
                "organisation__invitations",
                queryset=Invitation.objects.pending()
                .select_related("invited_by")
                .order_by("email"),
                to_attr="pending_invitations",
            ),
        )
        .order_by("organisation__name")
    )
    forms_by_organisation = forms_by_organisation or {}
    sections = []
    for membership in memberships:
        organisation = membership.organisation
        is_admin = membership.role == Membership.Role.ADMIN
        form = None
        if is_admin:
            form = forms_by_organisation.get(organisation.pk) or InviteForm(
                auto_id=_invite_form_auto_id(organisation)
            )
        sections.append(
            {
                "organisation": organisation,
                "is_admin": is_admin,
                "members": organisation.member_list,
                "invitations": organisation.pending_invitations,
                "form": form,
            }
        )
    return sections


def _invite_form_auto_id(organisation: Organisation) -> str:
    # Each organisation's form gets its own ids, so that labels stay unique on the page.
    return "id_invite_" + str(organisation.pk) + "_%s"


def _organisation_for(user, slug: str) -> Organisation:
    """Return the organisation `user` belongs to; any other is a 404, as if it did not exist."""
    return get_object_or_404(Organisation.objects.filter(memberships__user=user), slug=slug)


@require_GET
def organisation(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/organisation_detail.html",
        {"sections": _organisation_sections(request.user)},
    )


@require_POST
def organisation_invite(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation_for(request.user, slug)
    form = InviteForm(request.POST, auto_id=_invite_form_auto_id(organisation))
    if form.is_valid():
        try:
            invitation = services.invite_member(
                organisation,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                by=request.user,
                build_absolute_uri=request.build_absolute_uri,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("An invitation is on its way to %(email)s.") % {"email": invitation.email},
            )
            return redirect("organisation")
    sections = _organisation_sections(request.user, {organisation.pk: form})
    return render(request, "portal/organisation_detail.html", {"sections": sections}, status=400)


@require_POST
def organisation_member_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    organisation = _organisation_for(request.user, slug)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), organisation=organisation, pk=pk
    )
    try:
        services.remove_member(membership, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(email)s is no longer a member of %(organisation)s.")
            % {"email": membership.user.email, "organisation": organisation.name},
        )
    return redirect("organisation")


@require_POST
def organisation_invitation_revoke(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    organisation = _organisation_for(request.user, slug)
    invitation = get_object_or_404(Invitation, organisation=organisation, pk=pk)
    try:
        services.revoke_invitation(invitation, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The invitation to %(email)s was withdrawn.") % {"email": invitation.email},
        )
    return redirect("organisation")


@require_POST
def organisation_listing(request: HttpRequest, slug: str) -> HttpResponse:
    """The organisation admin's choice to be named on the public transparency page."""
    organisation = _organisation_for(request.user, slug)
    form = ListingForm(request.POST)
    form.is_valid()  # a boolean: an unticked or missing box is a valid "no"
    listed = form.cleaned_data.get("listed_publicly", False)
    try:
        services.set_listed_publicly(organisation, listed=listed, by=request.user)
    except PermissionDenied:
        messages.error(request, _("Only an organisation admin can change this."))
    else:
        if listed:
            message = _("%(organisation)s may now be named on the transparency page.")
        else:
            message = _("%(organisation)s will not be named on the transparency page.")
        messages.success(request, message % {"organisation": organisation.name})
    return redirect("organisation")


@login_not_required
@never_cache
@sensitive_post_parameters("password", "password_again")
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Let the invited person join: create an account, or confirm while signed in."""
    try:
        invitation = services.find_invitation(token)
    except ValidationError as error:
        return render(
            request,
            "portal/invitation_accept.html",
            {"problem": " ".join(error.messages)},
            status=404 if error.code == "unknown" else 410,
        )

    user = request.user if request.user.is_authenticated else None
    account_exists = user is None and User.objects.filter(email__iexact=invitation.email).exists()
    wrong_user = user is not None and user.email.casefold() != invitation.email.casefold()
    form = None
    if user is None and not account_exists:
        form = NewAccountForm(request.POST if request.method == "POST" else None)
    problem = ""

    if request.method == "POST" and not account_exists and not wrong_user:
        if form is None or form.is_valid():
            fields = form.cleaned_data if form is not None else {}
            try:
                membership = services.accept_invitation(
                    token,
                    user=user,
                    password=fields.get("password"),
                    full_name=fields.get("full_name", ""),
                )
            except ValidationError as error:
                if form is not None and hasattr(error, "error_dict"):
                    form.add_error(None, error)
                else:
                    problem = " ".join(error.messages)
            else:
                if user is None:
                    # The emailed link proved the address: sign the new account in at once.
                    login(
                        request,
                        membership.user,
                        backend="django.contrib.auth.backends.ModelBackend",
                    )
                messages.success(
                    request,
                    _("Welcome to %(organisation)s.")
                    % {"organisation": membership.organisation.name},
                )
                return redirect("organisation")

    return render(
        request,
        "portal/invitation_accept.html",
        {
            "invitation": invitation,
            "form": form,
            "account_exists": account_exists,
            "wrong_user": wrong_user,
            "problem": problem,
            "login_url": reverse("login") + "?" + urlencode({"next": request.path}),
        },
        status=400 if request.method == "POST" else 200,
    )


# Second factor


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("after-sign-in")


@never_cache
@sensitive_post_parameters("token")
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Ask a signed-in user with a second factor for a code from it."""
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = twofactor.verify(request.user, form.cleaned_data["token"])
        if device is not None:
            twofactor.pass_second_factor(request, device)
            return redirect(_next_url(request))
        form.add_error("token", _("That code is not right, or has expired. Try the current one."))
    return render(
        request, "portal/two_factor_verify.html", {"form": form, "next": _next_url(request)}
    )


@never_cache
@sensitive_post_parameters("token", "current_token")
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the code, confirm with a code, keep the recovery codes.

    Replacing a second factor needs one in this session first (a password alone reaches only
    the code page), and then a code from the current app or a recovery code as well.
    """
    replacing = twofactor.has_device(request.user)
    if replacing and not request.user.is_verified():
        return redirect_to_login(request.get_full_path(), reverse("two_factor_verify"))
    device = twofactor.pending_authenticator(request.user)
    form = SetupForm(request.POST or None, replacing=replacing)
    if request.method == "POST" and form.is_valid():
        try:
            codes = twofactor.confirm_authenticator(
                device,
                form.cleaned_data["token"],
                by=request.user,
                current_token=form.cleaned_data.get("current_token", ""),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            twofactor.pass_second_factor(request, device)
            return render(
                request,
                "portal/recovery_codes.html",
                {"codes": codes, "next": _next_url(request)},
            )
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "portal/two_factor_setup.html",
        {
            "form": form,
            "qr_uri": qr.svg_data_uri(scale=5),
            "secret": base64.b32encode(device.bin_key).decode(),
            "required": twofactor.is_required(request.user),
            "replacing": replacing,
            "next": _next_url(request),
        },
    )


@never_cache
@require_POST
def recovery_codes_reset(request: HttpRequest) -> HttpResponse:
    if not twofactor.has_device(request.user):
        return redirect("two_factor_setup")
    if not request.user.is_verified():
        return redirect_to_login(reverse("two_factor_setup"), reverse("two_factor_verify"))
    codes = twofactor.reset_recovery_codes(request.user)
    return render(
        request, "portal/recovery_codes.html", {"codes": codes, "next": _next_url(request)}
    )


@login_not_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switcher: Django's, plus the choice kept on the account for emails."""
    response = i18n.set_language(request)
    services.remember_language(request.user, request.POST.get("language", ""))
    return response
