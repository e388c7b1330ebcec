"""The page where an NGO member creates, lists and revokes API tokens (signed in, 2FA)."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portal import twofactor

from . import services
from .forms import TokenForm
from .models import ApiToken


def _member_with_second_factor(request: HttpRequest) -> HttpResponse | None:
    """404 for non-members; members without a verified second factor are sent to set it up."""
    if not services.may_hold_tokens(request.user):
        raise Http404
    if not request.user.is_verified():
        messages.info(
            request, _("API tokens need two-factor sign-in: set up an authenticator app.")
        )
        target = "two_factor_verify" if twofactor.has_device(request.user) else "two_factor_setup"
        return redirect(f"{reverse(target)}?next={reverse('api:token-list')}")
    return None


@never_cache
def token_list(request: HttpRequest) -> HttpResponse:
    if (refusal := _member_with_second_factor(request)) is not None:
        return refusal
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        token, raw = services.create_token(by=request.user, **form.cleaned_data)
        created = {"token": token, "secret": raw}
        form = TokenForm()
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at")
    return render(
        request,
        "api/token_list.html",
        {
            "form": form,
            "tokens": tokens,
            "created": created,
            "docs_url": reverse("api:docs"),
            "max_days": settings.API_TOKEN_MAX_DAYS,
        },
    )


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    if (refusal := _member_with_second_factor(request)) is not None:
        return refusal
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=pk)
    services.revoke_token(token, by=request.user)
    messages.success(request, _("Token %(prefix)s revoked.") % {"prefix": token.prefix})
    return redirect("api:token-list")
