"""
The public intake (/report/: no account, no JavaScript needed) and the receiving
organisation's queue (/intakes/). Glue only: forms check shape, services do the work.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portal.models import Membership, Organisation
from portal.storage import download_response
from submissions.services import NotEditable

from . import challenge, languages, services, throttle
from .forms import AdoptForm, CodeForm, ListingForm, MessageForm, ReportForm, RouteForm
from .models import Intake, IntakeFile
from .uploads import rejection_message, with_intake_upload_handler

SESSION_KEY = "intake_reporter"


def public(view):
    """An intake page: open to all, in the reporter's language, never stored by a cache."""
    view = languages.intake_language(view)
    view = never_cache(view)
    return login_not_required(view)


def _with_new_challenge(form):
    """Give a form (bound or not) a fresh challenge to render; return the challenge."""
    fresh = challenge.issue()
    if form.is_bound:
        form.data = form.data.copy()
        form.data.update({"challenge": fresh.token, "counter": "", "answer": ""})
    else:
        form.initial["challenge"] = fresh.token
    return fresh


def _challenge_met(form) -> bool:
    met = challenge.verify(
        form.cleaned_data["challenge"],
        counter=form.cleaned_data.get("counter", ""),
        answer=form.cleaned_data.get("answer", ""),
    )
    if not met:
        form.add_error(
            "answer",
            _("The check that keeps robots out did not work. Please answer the question."),
        )
    return met


def _sign_in(request, intake: Intake) -> None:
    request.session.cycle_key()  # a new session id: nothing links it to the page before
    request.session[SESSION_KEY] = {"pk": intake.pk, "at": int(time.time())}


def _reporter_intake(request) -> Intake | None:
    """The report this browser opened with its receipt code, while the visit lasts."""
    held = request.session.get(SESSION_KEY)
    if not held:
        return None
    now = int(time.time())
    if now - held.get("at", 0) > settings.INTAKE_SESSION_SECONDS:
        del request.session[SESSION_KEY]
        return None
    intake = Intake.objects.filter(pk=held["pk"]).first()
    if intake is None:  # purged meanwhile
        del request.session[SESSION_KEY]
        return None
    request.session[SESSION_KEY] = {"pk": intake.pk, "at": now}
    return intake


# The reporter


@public
def start(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/start.html", {"intake_page": True})


@public
@with_intake_upload_handler
def new(request: HttpRequest) -> HttpResponse:
    """The report itself, in four short steps on one page (nothing is kept until it is sent)."""
    if request.method == "POST":
        form = ReportForm(request.POST)
        handler = request.upload_handlers[0]
        files = request.FILES.getlist("files")
        problems = [rejection_message(name, reason) for name, reason in handler.rejected]
        if form.is_valid() and not problems and _challenge_met(form):
            if not throttle.filing_allowed(request):
                problems.append(
                    _("Too many reports were sent from here in the last hour. Please try later.")
                )
            else:
                try:
                    intake, code = services.file_intake(
                        fields=form.intake_fields(),
                        organisation=form.cleaned_data["organisation"],
                        consents=form.consents(),
                        files=files,
                        language=request.LANGUAGE_CODE,
                    )
                except ValidationError as error:
                    problems.extend(error.messages)
                else:
                    throttle.record_filing(request)
                    _sign_in(request, intake)
                    # Shown in this answer only: the code is not in any address, cache or row.
                    response = render(
                        request,
                        "intake/receipt.html",
                        {"intake": intake, "code": code, "intake_page": True},
                    )
                    patch_cache_control(response, no_store=True, private=True)
                    return response
        for problem in problems:
            form.add_error(None, problem)
    else:
        form = ReportForm()
    fresh = _with_new_challenge(form)
    context = {
        "form": form,
        "challenge": fresh,
        "intake_page": True,
        "max_files": settings.INTAKE_MAX_FILES,
        "max_file_mb": settings.INTAKE_MAX_FILE_BYTES // (1024 * 1024),
    }
    return render(request, "intake/new.html", context, status=400 if form.errors else 200)


@public
def come_back(request: HttpRequest) -> HttpResponse:
    """Enter the receipt code; wrong codes are counted and cost work."""
    blocked = not throttle.code_attempts_allowed(request)
    if request.method == "POST" and not blocked:
        form = CodeForm(request.POST)
        if form.is_valid() and _challenge_met(form):
            intake = services.open_intake(form.cleaned_data["code"])
            if intake is not None:
                _sign_in(request, intake)
                return redirect("intake:case")
            throttle.record_code_failure(request)
            form.add_error("code", _("No report has this code. Check it and try again."))
        elif form.errors.get("code"):
            throttle.record_code_failure(request)
    else:
        form = CodeForm()
    fresh = _with_new_challenge(form)
    context = {"form": form, "challenge": fresh, "blocked": blocked, "intake_page": True}
    status = 429 if blocked else (400 if form.errors else 200)
    return render(request, "intake/come_back.html", context, status=status)


def _reporter_view(view):
    """A page of the reporter's own report: only in a visit opened with the receipt code."""

    def wrapper(request, *args, **kwargs):
        intake = _reporter_intake(request)
        if intake is None:
            messages.info(request, _("Enter your receipt code to see your report."))
            return redirect("intake:come-back")
        return view(request, intake, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@public
@_reporter_view
def case(request: HttpRequest, intake: Intake) -> HttpResponse:
    context = {
        "intake": intake,
        "files": intake.files.all(),
        "thread": intake.messages.all(),
        "message_form": MessageForm(),
        "intake_page": True,
        "strippable": services.STRIPPABLE,
        "max_files": settings.INTAKE_MAX_FILES,
        "max_file_mb": settings.INTAKE_MAX_FILE_BYTES // (1024 * 1024),
    }
    return render(request, "intake/case.html", context)


@public
@require_POST
@_reporter_view
def case_reply(request: HttpRequest, intake: Intake) -> HttpResponse:
    form = MessageForm(request.POST)
    if form.is_valid():
        services.add_reporter_message(intake, body=form.cleaned_data["body"])
        messages.success(request, _("Your message was sent."))
    else:
        messages.error(request, _("Write a message first."))
    return redirect("intake:case")


@public
@with_intake_upload_handler
@require_POST
@_reporter_view
def case_files(request: HttpRequest, intake: Intake) -> HttpResponse:
    handler = request.upload_handlers[0]
    for name, reason in handler.rejected:
        messages.error(request, rejection_message(name, reason))
    files = request.FILES.getlist("files")
    if files:
        try:
            services.add_reporter_files(intake, files=files)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Your files were added."))
    elif not handler.rejected:
        messages.error(request, _("Choose at least one file."))
    return redirect("intake:case")


@public
@require_POST
@_reporter_view
def case_remove_details(request: HttpRequest, intake: Intake, pk: int) -> HttpResponse:
    intake_file = get_object_or_404(intake.files, pk=pk)
    try:
        services.remove_file_metadata(intake_file)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except services.IntakeClosed:
        messages.error(request, _("Your report was taken on: its files can no longer change."))
    else:
        messages.success(
            request,
            _("The hidden details were removed from %(name)s.")
            % {"name": intake_file.original_name},
        )
    return redirect("intake:case")


@public
@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()
    messages.success(request, _("You left your report. Come back with your receipt code."))
    return redirect("intake:start")


@login_not_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The intake's language switcher: the portal's cookie, with the intake's languages."""
    language = request.POST.get("language", "")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("intake:start")
    response = HttpResponseRedirect(target)
    if language in languages.codes():
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            secure=settings.LANGUAGE_COOKIE_SECURE,
        )
    return response


# The receiving organisation (and the coordinators, for reports nobody was chosen for)


def _visible(request, reference: str) -> Intake:
    return get_object_or_404(Intake.objects.visible_to(request.user), reference=reference)


@never_cache
def queue(request: HttpRequest) -> HttpResponse:
    intakes = Intake.objects.visible_to(request.user).select_related("organisation", "category")
    administered = Organisation.objects.filter(
        memberships__user=request.user, memberships__role=Membership.Role.ADMIN
    )
    return render(request, "intake/queue.html", {"intakes": intakes, "administered": administered})


@never_cache
def listing(request: HttpRequest, slug: str) -> HttpResponse:
    """An organisation admin opts in to reports and describes the organisation to reporters."""
    organisation = get_object_or_404(
        Organisation.objects.filter(
            memberships__user=request.user, memberships__role=Membership.Role.ADMIN
        ),
        slug=slug,
    )
    if request.method == "POST":
        form = ListingForm(request.POST)
        if form.is_valid():
            services.set_intake_listing(
                organisation,
                by=request.user,
                accepts=form.cleaned_data["accepts_intakes"],
                description=form.cleaned_data["intake_description"],
            )
            messages.success(request, _("Saved."))
            return redirect("intake:queue")
    else:
        form = ListingForm(
            initial={
                "accepts_intakes": organisation.accepts_intakes,
                "intake_description": organisation.intake_description,
            }
        )
    return render(request, "intake/listing.html", {"form": form, "organisation": organisation})


@never_cache
def queue_detail(request: HttpRequest, reference: str) -> HttpResponse:
    intake = _visible(request, reference)
    services.record_intake_viewed(intake, by=request.user)
    can_adopt = intake.organisation is not None and intake.organisation.has_member(request.user)
    initial_regimes = [c.regime for c in intake.consents.select_related("regime")]
    context = {
        "intake": intake,
        "files": intake.files.select_related("evidence"),
        "new_files": intake.files.filter(evidence__isnull=True).exists(),
        "thread": intake.messages.select_related("author"),
        "consents": intake.consents.select_related("regime"),
        "message_form": MessageForm(),
        "adopt_form": AdoptForm(initial={"target_regimes": initial_regimes}) if can_adopt else None,
        "route_form": RouteForm()
        if request.user.is_lead_reviewer and intake.organisation is None
        else None,
    }
    return render(request, "intake/queue_detail.html", context)


@require_POST
def queue_reply(request: HttpRequest, reference: str) -> HttpResponse:
    intake = _visible(request, reference)
    form = MessageForm(request.POST)
    if form.is_valid():
        services.add_member_message(intake, by=request.user, body=form.cleaned_data["body"])
        messages.success(request, _("Your message waits for the reporter's next visit."))
    else:
        messages.error(request, _("Write a message first."))
    return redirect(intake)


@require_POST
def queue_adopt(request: HttpRequest, reference: str) -> HttpResponse:
    intake = _visible(request, reference)
    form = AdoptForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(intake)
    try:
        dossier = services.adopt_intake(
            intake,
            by=request.user,
            title=form.cleaned_data["title"],
            target_regimes=form.cleaned_data["target_regimes"],
        )
    except PermissionDenied:
        raise Http404 from None
    except services.IntakeClosed:
        messages.error(request, _("This report was already taken on."))
        return redirect(intake)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(intake)
    messages.success(request, _("The report is now a draft dossier."))
    return redirect(dossier)


@require_POST
def queue_add_files(request: HttpRequest, reference: str) -> HttpResponse:
    """Add the files the reporter sent after adoption to the dossier."""
    intake = _visible(request, reference)
    try:
        added = services.add_files_to_dossier(intake, by=request.user)
    except PermissionDenied:
        raise Http404 from None
    except NotEditable:
        messages.error(request, _("The dossier takes no new exhibits in its current status."))
        return redirect(intake)
    messages.success(
        request, _("%(count)s files were added to the dossier.") % {"count": len(added)}
    )
    return redirect(intake)


@require_POST
def queue_route(request: HttpRequest, reference: str) -> HttpResponse:
    intake = _visible(request, reference)
    form = RouteForm(request.POST)
    if form.is_valid():
        try:
            services.route_intake(
                intake, by=request.user, organisation=form.cleaned_data["organisation"]
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The report was sent to the organisation."))
            return redirect("intake:queue")
    return redirect(intake)


@never_cache
def queue_file(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    intake = _visible(request, reference)
    intake_file: IntakeFile = get_object_or_404(intake.files, pk=pk)
    services.record_file_download(intake_file, by=request.user)
    return download_response(
        intake_file.file,
        filename=intake_file.original_name,
        detected_type=intake_file.content_type,
    )
