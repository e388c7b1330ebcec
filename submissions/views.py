"""The NGO's pages: dashboard, the filing steps, evidence, submission and receipt. Glue only."""

import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.db.models import Count, Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portal.models import Membership
from portal.storage import download_response
from portal.twofactor import verified_required
from reviews.models import InformationRequest

from . import dashboard, receipts, services, uploads
from .checklist import completeness, item_anchor
from .forms import (
    AnswerForm,
    ConsentForm,
    DocumentFormSet,
    DossierForm,
    EvidenceDetailsForm,
    EvidenceForm,
    EvidenceLinkForm,
    IncidentForm,
    InvolvementFormSet,
    LinkFormSet,
    PositionFormSet,
    ReplyForm,
    SourceForm,
    SubjectForm,
    WithdrawForm,
)
from .models import Consent, Dossier, Evidence, Step

log = logging.getLogger(__name__)

UNSAVED = gettext_lazy(
    "The portal could not save this just now, so nothing was changed. Your work is still "
    "here: try again in a few minutes, and tell your contact if it keeps happening."
)

DASHBOARD_PAGE_SIZE = 50

# Helpers


# The NGO's pages are its members' way in: reviewers read dossiers in the review site, where
# recusal, conflicts of interest and the audit of what they read are enforced.
NGO = "organisation"


def _dossier(request: HttpRequest, reference: str, *related: str) -> Dossier:
    """The dossier named in the URL, if `request.user` may see it here; 404 otherwise."""
    return get_object_or_404(
        Dossier.objects.visible_to(request.user, through=NGO).select_related(
            "organisation", *related
        ),
        reference=reference,
    )


def _draft(request: HttpRequest, reference: str) -> Dossier:
    dossier = _dossier(request, reference)
    if not dossier.is_editable:
        raise services.NotEditable(dossier)
    return dossier


def _step(request, dossier, step, template, context):
    """Render a filing step with the step list and the completeness meter beside it."""
    return render(
        request,
        template,
        {
            "dossier": dossier,
            "step": step,
            "steps": Step,
            **context,
            "completeness": context.get("completeness") or completeness(dossier),
        },
    )


def _fail(request, error: Exception) -> None:
    """Show a service's refusal as a message (each missing checklist item linked)."""
    linked = [e for e in getattr(error, "error_list", []) if e.params and "url" in e.params]
    if linked:
        messages.error(
            request,
            format_html(
                '{}<ul class="mb-0">{}</ul>',
                _("Not submitted: the standard of proof still needs these items."),
                format_html_join(
                    "",
                    '<li><a class="alert-link" href="{}">{}</a>: {}</li>',
                    ((e.params["url"], e.params["name"], e.params["missing"]) for e in linked),
                ),
            ),
        )
    elif isinstance(error, ValidationError):
        messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, str(error))


def filing_view(view):
    """Common handling of the filing pages: never cached; a submitted dossier is read-only."""

    @never_cache
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except services.NotEditable as locked:
            messages.info(request, str(locked))
            return redirect(locked.dossier)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


# Dashboard and the dossier


@never_cache
def dossier_list(request: HttpRequest) -> HttpResponse:
    """The organisation's dossiers, with status, regimes, completeness and open questions."""
    organisations = list(
        Membership.objects.filter(user=request.user).values_list("organisation_id", flat=True)
    )
    page, dossiers = dashboard.page_of_dossiers(
        request.user, organisations, request.GET.get("page")
    )
    can_file = bool(organisations)
    from designations.gaps import (
        DESIGNATED_SINCE_SECONDS,
        DESIGNATIONS,
        designated_since_submission,
    )

    # Changes only when designations are imported or matches confirmed (DESIGNATIONS moves);
    # kept five minutes at most, whatever path changed them.
    designated_since = dashboard.versioned(
        f"designated-since:{request.user.pk}",
        lambda: designated_since_submission(request.user),
        organisation_id=DESIGNATIONS,
        seconds=DESIGNATED_SINCE_SECONDS,
    )
    return render(
        request,
        "submissions/dossier_list.html",
        {
            "dossiers": dossiers,
            "page": page,
            "can_file": can_file,
            "designated_since": designated_since,
        },
    )


@filing_view
def dossier_create(request: HttpRequest) -> HttpResponse:
    memberships = Membership.objects.filter(user=request.user).select_related("organisation")
    if not memberships:
        raise Http404
    form = DossierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organisation = memberships[0].organisation
        try:
            dossier = services.create_dossier(
                organisation=organisation,
                by=request.user,
                title=form.cleaned_data["title"],
                summary=form.cleaned_data["summary"],
                sensitivity=form.cleaned_data["sensitivity"],
                target_regimes=form.cleaned_data["target_regimes"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Draft saved. Next: the people or entities accused."))
            return redirect("submissions:subject-list", dossier.reference)
    return render(request, "submissions/dossier_create.html", {"form": form})


@filing_view
def dossier_basics(request: HttpRequest, reference: str) -> HttpResponse:
    dossier = _draft(request, reference)
    form = DossierForm(request.POST or None, instance=dossier)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_dossier(dossier, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Basics saved."))
            return redirect("submissions:subject-list", dossier.reference)
    return _step(request, dossier, Step.BASICS, "submissions/step_basics.html", {"form": form})


@never_cache
def dossier_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """Everything filed, for review before submitting, or read-only once submitted."""
    dossier = _dossier(request, reference, "decision")  # joined: no query of its own
    decision = getattr(dossier, "decision", None)
    context = {
        "decision": decision,
        # The outcome per government: one query, and only when there is a decision.
        "per_government": (
            list(decision.regimes.select_related("regime")) if decision is not None else []
        ),
        "subjects": dossier.subjects.prefetch_related("documents", "positions", "links"),
        "incidents": dossier.incidents.select_related("category").prefetch_related(
            "involvements__subject", "involvements__role"
        ),
        "exhibits": dossier.evidence.select_related("source", "translation_of"),
        "sources": dossier.sources.prefetch_related("consent_records__regime"),
        "requests": dossier.information_requests.prefetch_related("messages__author"),
        "reply_form": ReplyForm(dossier=dossier),
        "withdraw_form": WithdrawForm(),
        "can_withdraw": dossier.can_move_to(Dossier.Status.WITHDRAWN),
    }
    return _step(request, dossier, Step.REVIEW, "submissions/dossier_detail.html", context)


@require_POST
def dossier_submit(request: HttpRequest, reference: str) -> HttpResponse:
    dossier = _dossier(request, reference)
    try:
        services.submit_dossier(dossier, by=request.user)
    except DatabaseError:
        log.exception("Submitting %s failed", dossier.reference)
        messages.error(request, UNSAVED)
        return redirect(dossier)
    except (ValidationError, PermissionDenied) as error:
        _fail(request, error)
        return redirect(dossier)
    except services.TransitionNotAllowed:
        messages.error(request, _("This dossier can no longer be submitted."))
        return redirect(dossier)
    messages.success(request, _("Dossier submitted. Keep this receipt."))
    return redirect("submissions:dossier-receipt", dossier.reference)


@never_cache
def dossier_receipt(request: HttpRequest, reference: str) -> HttpResponse:
    dossier = _dossier(request, reference)
    if dossier.submitted_at is None:
        raise Http404
    return render(request, "submissions/receipt.html", receipts.context(dossier))


@never_cache
def dossier_receipt_pdf(request: HttpRequest, reference: str) -> HttpResponse:
    dossier = _dossier(request, reference)
    if dossier.submitted_at is None:
        raise Http404
    response = HttpResponse(receipts.render_pdf(dossier, request), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="receipt-{dossier.reference}.pdf"'
    return response


@require_POST
def dossier_withdraw(request: HttpRequest, reference: str) -> HttpResponse:
    dossier = _dossier(request, reference)
    form = WithdrawForm(request.POST)
    form.is_valid()
    try:
        services.withdraw_dossier(dossier, by=request.user, reason=form.cleaned_data["reason"])
    except PermissionDenied as error:
        _fail(request, error)
    except services.TransitionNotAllowed:
        messages.error(
            request, _("Reviewers have decided on this dossier: it cannot be withdrawn.")
        )
    else:
        messages.success(request, _("Dossier withdrawn."))
    return redirect(dossier)


@require_POST
def request_reply(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    dossier = _dossier(request, reference)
    question = get_object_or_404(InformationRequest, dossier=dossier, pk=pk)
    form = ReplyForm(request.POST, dossier=dossier)
    if not form.is_valid():
        messages.error(request, _("Write an answer before sending it."))
        return redirect(dossier)
    try:
        services.reply_to_information_request(
            question,
            by=request.user,
            body=form.cleaned_data["body"],
            evidence=form.cleaned_data["evidence"],
        )
    except (ValidationError, PermissionDenied, services.TransitionNotAllowed) as error:
        _fail(request, error)
    else:
        messages.success(request, _("Answer sent to the reviewers."))
    return redirect(dossier)


# Subjects


@filing_view
def subject_list(request: HttpRequest, reference: str) -> HttpResponse:
    dossier = _draft(request, reference)
    subjects = dossier.subjects.prefetch_related("documents", "positions", "links")
    return _step(
        request, dossier, Step.SUBJECTS, "submissions/step_subjects.html", {"subjects": subjects}
    )


@filing_view
def subject_edit(request: HttpRequest, reference: str, pk: int | None = None) -> HttpResponse:
    dossier = _draft(request, reference)
    subject = get_object_or_404(dossier.subjects, pk=pk) if pk else None
    data = request.POST or None
    form = SubjectForm(data, instance=subject)
    formsets = {
        "documents": DocumentFormSet(data, instance=subject, prefix="documents"),
        "positions": PositionFormSet(data, instance=subject, prefix="positions"),
        "links": LinkFormSet(data, instance=subject, prefix="links"),
    }
    if (
        request.method == "POST"
        and form.is_valid()
        and all(f.is_valid() for f in formsets.values())
    ):
        try:
            services.save_subject(
                dossier,
                by=request.user,
                subject=subject,
                fields=form.cleaned_data,
                **formsets,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Subject saved."))
            return redirect("submissions:subject-list", dossier.reference)
    return _step(
        request,
        dossier,
        Step.SUBJECTS,
        "submissions/subject_form.html",
        {"form": form, "formsets": formsets, "subject": subject},
    )


@filing_view
@require_POST
def subject_remove(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    dossier = _draft(request, reference)
    services.remove_subject(get_object_or_404(dossier.subjects, pk=pk), by=request.user)
    messages.success(request, _("Subject removed."))
    return redirect("submissions:subject-list", dossier.reference)


# Incidents


@filing_view
def incident_list(request: HttpRequest, reference: str) -> HttpResponse:
    dossier = _draft(request, reference)
    incidents = dossier.incidents.select_related("category").prefetch_related(
        "involvements__subject", "involvements__role"
    )
    return _step(
        request,
        dossier,
        Step.INCIDENTS,
        "submissions/step_incidents.html",
        {"incidents": incidents, "has_subjects": dossier.subjects.exists()},
    )


@filing_view
def incident_edit(request: HttpRequest, reference: str, pk: int | None = None) -> HttpResponse:
    dossier = _draft(request, reference)
    incident = get_object_or_404(dossier.incidents, pk=pk) if pk else None
    data = request.POST or None
    form = IncidentForm(data, instance=incident)
    initial = (
        [
            {"subject": i.subject, "role": i.role, "description": i.description}
            for i in incident.involvements.select_related("subject", "role")
        ]
        if incident
        else []
    )
    involvements = InvolvementFormSet(
        data,
        initial=initial,
        prefix="involvements",
        form_kwargs={"subjects": dossier.subjects.all()},
    )
    if request.method == "POST" and form.is_valid() and involvements.is_valid():
        rows = [
            {key: f.cleaned_data[key] for key in ("subject", "role", "description")}
            for f in involvements.forms
            if f.cleaned_data.get("subject") and not f.cleaned_data.get("DELETE")
        ]
        try:
            services.save_incident(
                dossier,
                by=request.user,
                incident=incident,
                fields=form.cleaned_data,
                involvements=rows,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Incident saved."))
            return redirect("submissions:incident-list", dossier.reference)
    return _step(
        request,
        dossier,
        Step.INCIDENTS,
        "submissions/incident_form.html",
        {"form": form, "involvements": involvements, "incident": incident},
    )


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@filing_view
@require_POST
def incident_remove(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    dossier = _draft(request, reference)
    services.remove_incident(get_object_or_404(dossier.incidents, pk=pk), by=request.user)
    messages.success(request, _("Incident removed."))
    return redirect("submissions:incident-list", dossier.reference)


# Sources and witnesses


@filing_view
def source_list(request: HttpRequest, reference: str) -> HttpResponse:
    dossier = _draft(request, reference)
    sources = dossier.sources.prefetch_related(
        Prefetch(
            "consent_records",
            queryset=Consent.objects.select_related("regime"),
            to_attr="consent_list",
        )
    ).annotate(exhibits=Count("evidence"))
    return _step(
        request, dossier, Step.SOURCES, "submissions/step_sources.html", {"sources": sources}
    )


@filing_view
@verified_required  # shows identity, contact and safety notes: not on a password alone
def source_edit(request: HttpRequest, reference: str, pk: int | None = None) -> HttpResponse:
    dossier = _draft(request, reference)
    source = get_object_or_404(dossier.sources, pk=pk) if pk else None
    data = request.POST or None
    form = SourceForm(data, instance=source)
    existing = (
        {c.regime_id: c for c in source.consent_records.filter(withdrawn_on__isnull=True)}
        if source
        else {}
    )
    consent_forms = []
    for regime in dossier.target_regimes.all():
        record = existing.get(regime.pk)
        initial = (
            {
                "given": True,
                "scope": record.scope,
                "given_on": record.given_on,
                "method": record.method,
            }
            if record
            else {}
        )
        consent_forms.append(
            ConsentForm(data, initial=initial, regime=regime, prefix=f"consent-{regime.pk}")
        )
    if request.method == "POST" and form.is_valid() and all(f.is_valid() for f in consent_forms):
        consents = [
            {"regime": f.regime, **{k: f.cleaned_data[k] for k in ("scope", "given_on", "method")}}
            for f in consent_forms
            if f.cleaned_data["given"]
        ]
        try:
            saved = services.save_source(
                dossier, by=request.user, source=source, fields=form.cleaned_data, consents=consents
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("Source %(reference)s saved. Identity and contact details are encrypted.")
                % {"reference": saved.reference},
            )
            if request.GET.get("then") == "evidence":  # added from the evidence step: go back
                return redirect("submissions:evidence-list", dossier.reference)
            return redirect("submissions:source-list", dossier.reference)
    return _step(
        request,
        dossier,
        Step.SOURCES,
        "submissions/source_form.html",
        {"form": form, "consent_forms": consent_forms, "source": source},
    )


@filing_view
@require_POST
def source_remove(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    dossier = _draft(request, reference)
    services.remove_source(get_object_or_404(dossier.sources, pk=pk), by=request.user)
    messages.success(request, _("Source removed."))
    return redirect("submissions:source-list", dossier.reference)


# Evidence


@filing_view
def evidence_list(request: HttpRequest, reference: str) -> HttpResponse:
    dossier = _draft(request, reference)
    exhibits = dossier.evidence.select_related("source", "translation_of").annotate(
        incident_count=Count("incidents", distinct=True)
    )
    return _step(
        request,
        dossier,
        Step.EVIDENCE,
        "submissions/step_evidence.html",
        {
            "exhibits": exhibits,
            "details_form": EvidenceDetailsForm(dossier=dossier),
            "link_form": EvidenceLinkForm(dossier=dossier),
            "max_upload_mb": uploads.max_upload_size() // (1024 * 1024),
        },
    )


@uploads.with_hashing_upload_handler
@require_POST
def evidence_upload(request: HttpRequest, reference: str) -> HttpResponse:
    """
    Receive one or more files. Each is streamed to a temporary file and hashed on the way in
    (uploads.py), checked, then kept; every file gets its own message.
    """
    dossier = _dossier(request, reference)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    form = EvidenceDetailsForm(request.POST, dossier=dossier)
    results = []  # (ok, message, exhibit or None)
    handler = request.upload_handlers[0]
    for name, reason in handler.rejected:
        results.append((False, uploads.rejection_message(name, reason), None))
    files = request.FILES.getlist("files")
    if not files and not results:
        results.append((False, _("Choose at least one file."), None))
    if files and not form.is_valid():
        results.append(
            (
                False,
                _("Check the details of the upload: %(errors)s")
                % {"errors": " ".join(e for errors in form.errors.values() for e in errors)},
                None,
            )
        )
        files = []
    descriptions = []
    if files:
        try:
            descriptions = form.descriptions(len(files))
        except ValidationError as error:
            results.append((False, " ".join(error.messages), None))
            files = []
    for upload, description in zip(files, descriptions, strict=True):
        try:
            evidence = services.attach_evidence_file(
                dossier,
                by=request.user,
                upload=upload,
                details={**form.shared_details(), "description": description},
            )
        except (OSError, DatabaseError):
            log.exception("Storing an upload to %s failed", dossier.reference)
            results.append((False, f"{upload.name}: {UNSAVED}", None))
        except (ValidationError, PermissionDenied, services.NotEditable) as error:
            message = (
                " ".join(error.messages)
                if isinstance(error, ValidationError)
                else (str(error) or _("You cannot add evidence to this dossier."))
            )
            results.append((False, message, None))
        else:
            results.append(
                (
                    True,
                    _("%(name)s received as exhibit %(reference)s (SHA-256 %(hash)s).")
                    % {
                        "name": evidence.original_name,
                        "reference": evidence.reference,
                        "hash": evidence.sha256,
                    },
                    evidence,
                )
            )
        finally:
            upload.close()
    if wants_json:
        status = 200 if all(ok for ok, *_ in results) else 400
        return JsonResponse(
            {
                "results": [
                    {
                        "ok": ok,
                        "message": m,
                        "evidence": e.pk if e else None,
                        "reference": e.reference if e else None,
                    }
                    for ok, m, e in results
                ]
            },
            status=status,
        )
    for ok, message, _pk in results:
        (messages.success if ok else messages.error)(request, message)
    return redirect(_evidence_return(dossier))


def _evidence_return(dossier: Dossier) -> str:
    if dossier.status == Dossier.Status.DRAFT:
        return reverse("submissions:evidence-list", args=[dossier.reference])
    return dossier.get_absolute_url()


@require_POST
def evidence_link(request: HttpRequest, reference: str) -> HttpResponse:
    dossier = _dossier(request, reference)
    form = EvidenceLinkForm(request.POST, dossier=dossier)
    if form.is_valid():
        try:
            evidence = services.attach_evidence_link(
                dossier, by=request.user, details=form.cleaned_data
            )
        except (ValidationError, PermissionDenied, services.NotEditable) as error:
            _fail(request, error)
        else:
            messages.success(
                request,
                _("Web item added as exhibit %(reference)s.") % {"reference": evidence.reference},
            )
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return redirect(_evidence_return(dossier))


@filing_view
def evidence_edit(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    dossier = _draft(request, reference)
    evidence = get_object_or_404(dossier.evidence.select_related("translation_of"), pk=pk)
    form = EvidenceForm(request.POST or None, instance=evidence)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        incidents, criteria = data.pop("incidents"), data.pop("criteria")
        try:
            services.update_evidence(
                evidence, by=request.user, fields=data, incidents=incidents, criteria=criteria
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Exhibit saved."))
            return redirect("submissions:evidence-list", dossier.reference)
    return _step(
        request,
        dossier,
        Step.EVIDENCE,
        "submissions/evidence_form.html",
        {"form": form, "evidence": evidence},
    )


@filing_view
@require_POST
def evidence_remove(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    dossier = _draft(request, reference)
    services.remove_evidence(get_object_or_404(dossier.evidence, pk=pk), by=request.user)
    messages.success(request, _("Exhibit removed."))
    return redirect("submissions:evidence-list", dossier.reference)


@never_cache
def evidence_download(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    """Stream an exhibit to someone who may see its dossier, always as an attachment."""
    evidence = get_object_or_404(
        Evidence.objects.visible_to(request.user, through=NGO).files().select_related("dossier"),
        dossier__reference=reference,
        pk=pk,
    )
    if evidence.malware_warning and request.GET.get("confirm") != "1":
        return render(
            request,
            "submissions/evidence_warning.html",
            {"evidence": evidence, "dossier": evidence.dossier},
        )
    services.record_evidence_download(evidence, by=request.user)
    return download_response(
        evidence.file, filename=evidence.original_name, detected_type=evidence.content_type
    )


@never_cache
def evidence_thumbnail(request: HttpRequest, reference: str, pk: int) -> FileResponse:
    evidence = get_object_or_404(
        Evidence.objects.visible_to(request.user, through=NGO).exclude(thumbnail=""),
        dossier__reference=reference,
        pk=pk,
    )
    return FileResponse(evidence.thumbnail.open("rb"), content_type="image/jpeg")


# Checklist


def _checklist_forms(dossier, rows, data):
    """
    One form per judgement: once for the governments that share a question, once per
    government for a question it asks on its own. Computed items have no form.
    """
    answers = {}
    for answer in dossier.answers.prefetch_related("evidence"):
        answers[(answer.criterion_id, answer.regime_id)] = answer
    exhibits = {e.pk: e for e in dossier.evidence.all()}
    shared: dict[int, dict] = {}
    forms = []
    for row in rows:
        for state in row.items:
            criterion = state.criterion
            if criterion.is_computed:
                continue
            if criterion.per_government:
                forms.append(
                    {"criterion": criterion, "regimes": [row.regime], "level": state.level}
                )
            elif criterion.pk in shared:
                shared[criterion.pk]["regimes"].append(row.regime)
                if state.level == "blocking":
                    shared[criterion.pk]["level"] = "blocking"
            else:
                shared[criterion.pk] = {
                    "criterion": criterion,
                    "regimes": [row.regime],
                    "level": state.level,
                }
                forms.append(shared[criterion.pk])
    forms.sort(key=lambda f: (f["criterion"].position, f["regimes"][0].position))
    built = []
    for entry in forms:
        criterion, regimes = entry["criterion"], entry["regimes"]
        anchor = item_anchor(criterion, regimes[0])
        answer = next(
            (answers[(criterion.pk, r.pk)] for r in regimes if (criterion.pk, r.pk) in answers),
            None,
        )
        initial = (
            {
                "status": answer.status,
                "explanation": answer.explanation,
                "evidence": [e.pk for e in answer.evidence.all()],
            }
            if answer
            else {}
        )
        form = AnswerForm(
            data, initial=initial, item=entry, exhibits=exhibits, prefix=anchor[len("item-") :]
        )
        form.anchor = anchor
        built.append(form)
    return built


@filing_view
def checklist(request: HttpRequest, reference: str, regime: str | None = None) -> HttpResponse:
    """The judgements of every target government on one page; computed items shown as facts."""
    dossier = _draft(request, reference)
    if regime is not None:  # the former page per government
        return redirect("submissions:checklist", dossier.reference)
    rows = completeness(dossier)
    if not rows:
        messages.info(request, _("Choose the governments to address first."))
        return redirect("submissions:dossier-basics", dossier.reference)
    forms = _checklist_forms(dossier, rows, request.POST or None)
    failing = []
    if request.method == "POST":
        valid = [f for f in forms if f.is_valid()]
        failing = [f for f in forms if f.errors]
        if valid:
            services.answer_checklist_items(
                dossier,
                by=request.user,
                answers=[
                    {
                        "criterion": f.item["criterion"],
                        "regime": f.item["regimes"][0],
                        **f.cleaned_data,
                    }
                    for f in valid
                ],
            )
        if not failing:
            messages.success(request, _("Checklist answers saved."))
            return redirect(dossier)
        if valid:
            messages.warning(
                request,
                _("The other answers were saved; the items listed above need a correction."),
            )
        rows = completeness(dossier)  # the meter shows what was just saved
    computed = {}
    for row in rows:
        for state in row.items:
            if state.criterion.is_computed:
                entry = computed.setdefault(
                    state.criterion.pk, {"criterion": state.criterion, "states": []}
                )
                entry["states"].append((row.regime, state))
    return _step(
        request,
        dossier,
        Step.CHECKLIST,
        "submissions/step_checklist.html",
        {
            "completeness": rows,
            "forms": forms,
            "failing": failing,
            "computed": sorted(computed.values(), key=lambda e: e["criterion"].position),
        },
    )
