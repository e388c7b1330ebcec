"""Security middleware: second factor, idle timeout, no caching of private pages."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import patch_cache_control

from . import twofactor


class RejectNulMiddleware:
    """
    Refuse (400) an address or query with a NUL character before any view looks it up:
    PostgreSQL text cannot hold one, so a lookup would fail with a server error.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            if request.path.startswith("/api/"):  # the API answers in problem details
                from api.problems import MEDIA_TYPE, problem

                body = problem(400, "parse-error", "NUL characters are not allowed in addresses.")
                return JsonResponse(body, status=400, content_type=MEDIA_TYPE)
            return HttpResponseBadRequest("NUL characters are not allowed in addresses.")
        return self.get_response(request)


# Pages an unverified user may still reach: the second-factor pages themselves, sign-out.
TWO_FACTOR_OPEN = ("two_factor_verify", "two_factor_setup", "logout")


class TwoFactorMiddleware:
    """Send a signed-in user who needs a second factor and has not given it to give it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and self._required(request)
            and not self._open(request)
        ):
            target = "two_factor_verify" if twofactor.has_device(user) else "two_factor_setup"
            return redirect_to_login(request.get_full_path(), reverse(target))
        return self.get_response(request)

    @staticmethod
    def _required(request) -> bool:
        # Once required, required for the rest of the session (no query per request); not yet
        # required is asked again, so that joining an organisation or a review role mid-session
        # (which opens witness identities) needs the second factor at once.
        key = twofactor.SESSION_KEY
        if not request.session.get(key):
            if not twofactor.is_required(request.user):
                return False
            request.session[key] = True
        return True

    @staticmethod
    def _open(request) -> bool:
        try:
            return resolve(request.path_info).url_name in TWO_FACTOR_OPEN
        except Resolver404:
            return True  # a 404 shows nothing


class IdleTimeoutMiddleware:
    """Sign out a session left idle: reviewers' sooner (ADMIN_IDLE_TIMEOUT) than others'."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            limit = settings.ADMIN_IDLE_TIMEOUT if user.is_staff else settings.SESSION_IDLE_TIMEOUT
            now = int(time.time())
            last = request.session.get("last_activity", now)
            if now - last > limit:
                logout(request)
                return redirect(f"{reverse('login')}?next={request.get_full_path()}&idle=1")
            if now - last >= 60 or "last_activity" not in request.session:
                request.session["last_activity"] = now  # a write a minute at most
        return self.get_response(request)


class PrivatePagesMiddleware:
    """Tell browsers and proxies to keep no copy of any page shown to a signed-in user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated:
            patch_cache_control(response, no_store=True, no_cache=True, private=True)
        return response
