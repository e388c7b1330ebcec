"""
The review site's pages on existing designations: import runs (with progress), the lists'
parties, screening candidates to confirm or reject, a person's gap matrix, the gap view
("designated by one of these, not by that one") with its CSV export and package button, and
the packages whose request came true. Every change goes through designations.services.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.ids import parse_id
from reviews.csv_export import to_csv
from reviews.models import Person
from submissions.models import Regime

from . import gaps, services
from .models import DesignatedParty, Designation, ImportRun, PackageOutcome, ScreeningMatch

GAP_PAGE_SIZE = 50


def _reviewer(request) -> bool:
    return getattr(request.user, "is_reviewer", False)


def _lead(request) -> bool:
    return getattr(request.user, "is_lead_reviewer", False)


class ReviewersRead:
    """Reviewers read these pages; nobody adds, edits or deletes rows by hand."""

    def has_module_permission(self, request):
        return _reviewer(request)

    def has_view_permission(self, request, obj=None):
        return _reviewer(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImportRun)
class ImportRunAdmin(ReviewersRead, admin.ModelAdmin):
    list_display = ["source", "format", "status", "progress_column", "started_at", "finished_at",
                    "added", "changed", "delisted", "errors", "unknown_column"]  # fmt: skip
    list_filter = ["source", "status", "format"]
    fields = ["source", "format", "location", "sha256", "status", "progress_column",
              "started_at", "heartbeat_at", "finished_at", "entries", "added", "changed",
              "unchanged", "delisted", "skipped", "errors", "unknown_column", "errors_column",
              "failure", "started_by"]  # fmt: skip
    readonly_fields = fields
    change_form_template = "admin/designations/importrun/change_form.html"
    change_list_template = "admin/designations/importrun/change_list.html"
    show_full_result_count = False

    @admin.display(description=_("progress"))
    def progress_column(self, run):
        percent = run.progress
        label = (
            f"{percent}%"
            if percent is not None
            else _("%(count)s entries") % {"count": run.entries}
        )
        return format_html(
            '<progress max="100" value="{}" aria-label="{}">{}</progress> {}',
            percent or 0, _("progress"), label, label,
        )  # fmt: skip

    @admin.display(description=_("unknown program keys"))
    def unknown_column(self, run):
        return ", ".join(f"{key} ({count})" for key, count in run.unknown_programs.items()) or "—"

    @admin.display(description=_("errors (first ones)"))
    def errors_column(self, run):
        if not run.error_log:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>{}: {}</li>", ((e["entry"], e["message"]) for e in run.error_log)
            ),
        )

    def changelist_view(self, request, extra_context=None):
        running = ImportRun.objects.filter(status=ImportRun.Status.RUNNING).exists()
        return super().changelist_view(request, {**(extra_context or {}), "running": running})


class DesignationInline(admin.TabularInline):
    model = Designation
    extra = 0
    can_delete = False
    fields = ["program_key", "regime", "authority", "reference", "listed_on", "delisted_on"]
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return _reviewer(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DesignatedParty)
class DesignatedPartyAdmin(ReviewersRead, admin.ModelAdmin):
    list_display = ["name", "kind", "source", "external_id", "birth_dates", "nationalities",
                    "delisted_on"]  # fmt: skip
    list_filter = ["source", "kind", ("delisted_on", admin.EmptyFieldListFilter)]
    search_fields = ["name", "external_id"]
    fields = ["name", "kind", "schema", "source", "external_id", "names_column",
              "birth_dates", "nationalities", "identifiers", "first_seen_at", "updated_at",
              "delisted_on"]  # fmt: skip
    readonly_fields = fields
    inlines = [DesignationInline]
    show_full_result_count = False

    @admin.display(description=_("names and aliases"))
    def names_column(self, party):
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><span lang="">{}</span> ({}, {})</li>',
                ((n["name"], n["script"] or "?", n["type"]) for n in party.names),
            ),
        )


class DecisionForm(forms.Form):
    verdict = forms.ChoiceField(choices=[("confirm", _("Confirm")), ("reject", _("Reject"))])


@admin.register(ScreeningMatch)
class ScreeningMatchAdmin(ReviewersRead, admin.ModelAdmin):
    """Screening candidates: confirm or reject each (audited); nothing is confirmed unasked."""

    list_display = ["target_column", "party_column", "score", "status", "reasons_column"]
    list_filter = ["status", "party__source"]
    list_select_related = ["person", "subject__dossier", "party"]
    search_fields = ["party__name", "person__name", "subject__name"]
    actions = ["confirm_action", "reject_action"]
    show_full_result_count = False

    def get_queryset(self, request):
        return (
            services.matches_visible_to(request.user)
            .select_related("person", "subject__dossier", "party")
            .order_by("status", "-score", "pk")
        )

    def get_actions(self, request):
        return super().get_actions(request) if _reviewer(request) else {}

    def has_change_permission(self, request, obj=None):
        return _reviewer(request)  # actions need it; the form itself is never shown

    def change_view(self, request, object_id, form_url="", extra_context=None):
        match = get_object_or_404(self.get_queryset(request), pk=object_id)
        if match.person_id:
            return redirect("admin:designations_person_screening", match.person_id)
        return redirect("admin:submissions_dossier_change", match.subject.dossier_id)

    @admin.display(description=_("person or subject"))
    def target_column(self, match):
        if match.person_id:
            url = reverse("admin:designations_person_screening", args=[match.person_id])
            return format_html('<a href="{}">{}</a>', url, match.person)
        return format_html("{} ({})", match.subject, match.subject.dossier.reference)

    @admin.display(description=_("designated party"))
    def party_column(self, match):
        url = reverse("admin:designations_designatedparty_change", args=[match.party_id])
        return format_html('<a href="{}">{}</a>', url, match.party)

    @admin.display(description=_("reasons"))
    def reasons_column(self, match):
        return format_html_join("", "<div>{}: {} {}</div>", reason_rows(match.reasons))

    def _decide(self, request, queryset, confirm: bool):
        done = 0
        for match in queryset:
            try:
                services.decide_match(match, by=request.user, confirm=confirm)
                done += 1
            except PermissionDenied:
                self.message_user(request, _("You may not decide %s.") % match, messages.ERROR)
        self.message_user(request, _("%(count)s answered.") % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Confirm: the same person or entity"))
    def confirm_action(self, request, queryset):
        self._decide(request, queryset, True)

    @admin.action(description=_("Reject: someone else"))
    def reject_action(self, request, queryset):
        self._decide(request, queryset, False)

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(function)

        return [
            path("gaps/", view(self.gaps_view), name="designations_gaps"),
            path(
                "person/<int:object_id>/",
                view(self.person_view),
                name="designations_person_screening",
            ),
            path(
                "<int:object_id>/decide/", view(self.decide_view), name="designations_match_decide"
            ),
            *super().get_urls(),
        ]

    # A person's screening and gap matrix

    def person_view(self, request, object_id):
        if not _reviewer(request):
            raise PermissionDenied
        person = get_object_or_404(Person.objects.visible_to(request.user), pk=object_id)
        if request.method == "POST":
            matches = services.screen_person(person)
            self.message_user(
                request, _("Screened: %(count)s candidates.") % {"count": len(matches)}
            )
            return redirect("admin:designations_person_screening", person.pk)
        matches = (
            ScreeningMatch.objects.filter(person=person)
            .select_related("party", "decided_by")
            .prefetch_related("party__designations__regime")
            .order_by("status", "-score")
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Designations of %(name)s") % {"name": person},
            "person": person,
            "matches": [(m, list(reason_rows(m.reasons))) for m in matches],
            "rows": gaps.gap_matrix(person, user=request.user),
            "is_lead": _lead(request),
        }
        return TemplateResponse(request, "admin/designations/person_screening.html", context)

    def decide_view(self, request, object_id):
        if request.method != "POST":
            raise Http404
        if not _reviewer(request):
            raise PermissionDenied
        match = get_object_or_404(services.matches_visible_to(request.user), pk=object_id)
        form = DecisionForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _("Choose confirm or reject."), messages.ERROR)
        else:
            services.decide_match(
                match, by=request.user, confirm=form.cleaned_data["verdict"] == "confirm"
            )
            self.message_user(request, _("Answer recorded."), messages.SUCCESS)
        if match.person_id:
            return redirect("admin:designations_person_screening", match.person_id)
        return redirect("admin:designations_screeningmatch_changelist")

    # The gap view

    def gaps_view(self, request):
        if not _reviewer(request):
            raise PermissionDenied
        if request.method == "POST":
            return self._start_package(request)
        form = GapForm(request.GET or None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Designated elsewhere, not yet here"),
            "form": form,
            "is_lead": _lead(request),
        }
        if form.is_valid():
            have, missing = list(form.cleaned_data["have"]), form.cleaned_data["missing"]
            persons = gaps.gap_persons(request.user, have=have, missing=missing)
            if request.GET.get("export") == "csv":
                return self._gap_csv(request, persons, have, missing)
            page = Paginator(persons, GAP_PAGE_SIZE).get_page(request.GET.get("page"))
            people = list(page.object_list)
            ids = [p.pk for p in people]
            designations = gaps.designations_of(ids)
            packages = (
                gaps.packages_of(ids, user=request.user, regime=missing) if _lead(request) else {}
            )
            context.update(
                page=page,
                missing=missing,
                rows=[
                    {
                        "person": person,
                        "designations": [d for d in designations.get(person.pk, []) if d.is_active],
                        "packages": packages.get(person.pk, []),
                    }
                    for person in people
                ],
                query=_without(request.GET, "page", "export"),
            )
        return TemplateResponse(request, "admin/designations/gaps.html", context)

    def _gap_csv(self, request, persons, have, missing) -> HttpResponse:
        people = list(persons)
        ids = [p.pk for p in people]
        designations = gaps.designations_of(ids)
        packages = (
            gaps.packages_of(ids, user=request.user, regime=missing) if _lead(request) else {}
        )
        header = ["person", "name_original", "birth_date", "designated_under", "first_listed",
                  f"packages_to_{missing.key}"]  # fmt: skip
        rows = []
        for person in people:
            active = [d for d in designations.get(person.pk, []) if d.is_active]
            rows.append([
                person.name, person.name_original, person.birth_date,
                "; ".join(sorted({d.program_key for d in active})),
                _first_listed(active),
                "; ".join(f"{p.reference} ({p.get_status_display()})"
                          for p in packages.get(person.pk, [])),
            ])  # fmt: skip
        audit.record(
            actor=request.user,
            action="designations.gaps_exported",
            data={"have": [r.key for r in have], "missing": missing.key, "persons": len(rows)},
        )
        response = HttpResponse(to_csv(header, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="gaps-{missing.key}.csv"'
        return response

    def _start_package(self, request):
        if not _lead(request):
            raise PermissionDenied
        regime = get_object_or_404(Regime, pk=parse_id(request.POST.get("regime")) or 0)
        ids = [pk for pk in map(parse_id, request.POST.getlist("persons")) if pk]
        persons = Person.objects.visible_to(request.user).filter(pk__in=ids)
        try:
            package = services.start_gap_package(regime=regime, persons=persons, by=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return redirect(
                reverse("admin:designations_gaps") + "?" + request.POST.get("query", "")
            )
        self.message_user(
            request, _("Package %(reference)s started.") % {"reference": package.reference}
        )
        return redirect("admin:reviews_package_change", package.pk)


def _first_listed(designations) -> str:
    """The earliest listing date the lists give, or "date unknown" if none gives one."""
    known = [d.listing_date for d in designations if d.listing_date is not None]
    return min(known).isoformat() if known else str(_("date unknown"))


def _without(params, *names) -> str:
    params = params.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


class GapForm(forms.Form):
    # A proposed regime (JP-PROPOSED: no law yet) designates nobody and takes no packages.
    have = forms.ModelMultipleChoiceField(
        queryset=Regime.objects.filter(status=Regime.Status.ACTIVE).order_by("position"),
        label=_("Designated by at least one of"),
        widget=forms.CheckboxSelectMultiple,
    )
    missing = forms.ModelChoiceField(
        queryset=Regime.objects.filter(status=Regime.Status.ACTIVE).order_by("position"),
        label=_("but not by"),
    )

    def clean(self):
        data = super().clean()
        if data.get("missing") and data.get("missing") in data.get("have", []):
            raise forms.ValidationError(_("Choose a regime that is not among the first ones."))
        return data


REASON_LABELS = {
    "name": _("name"),
    "birth_date": _("date of birth"),
    "nationality": _("nationality"),
    "identifier": _("identifier"),
    "delisted": _("delisted"),
}
VERDICT_LABELS = {"agrees": _("agrees"), "conflicts": _("conflicts"), "unknown": _("unknown")}


def reason_rows(reasons):
    for reason in reasons:
        yield (
            REASON_LABELS.get(reason["kind"], reason["kind"]),
            VERDICT_LABELS.get(reason["verdict"], reason["verdict"]),
            reason["detail"],
        )


@admin.register(PackageOutcome)
class PackageOutcomeAdmin(admin.ModelAdmin):
    """Delivered packages whose person was since designated: record it in one click."""

    list_display = ["package", "person", "designation", "listed_column", "detected_at",
                    "recorded_at"]  # fmt: skip
    list_filter = [("recorded_at", admin.EmptyFieldListFilter)]
    list_select_related = ["package__regime", "person", "designation"]
    actions = ["record_action"]

    def has_module_permission(self, request):
        return _lead(request)

    def has_view_permission(self, request, obj=None):
        return _lead(request)

    def has_change_permission(self, request, obj=None):
        return _lead(request)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        """The outcomes of the packages the lead may act on (Package.objects.visible_to)."""
        from reviews.models import Package

        return (
            super()
            .get_queryset(request)
            .filter(package__in=Package.objects.visible_to(request.user))
        )

    @admin.display(description=_("listed on"))
    def listed_column(self, outcome):
        return outcome.designation.listing_date_text

    def change_view(self, request, object_id, form_url="", extra_context=None):
        outcome = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not _lead(request):
            raise PermissionDenied
        return redirect("admin:reviews_package_change", outcome.package_id)

    @admin.action(description=_("Record the response: designated"))
    def record_action(self, request, queryset):
        for outcome in queryset.filter(recorded_at__isnull=True):
            self._record(request, outcome)

    def _record(self, request, outcome):
        try:
            services.record_designated(outcome, by=request.user)
        except (ValidationError, PermissionDenied) as error:
            text = " ".join(getattr(error, "messages", [])) or str(_("You may not do this."))
            self.message_user(request, f"{outcome.package}: {text}", messages.ERROR)
        else:
            self.message_user(
                request, _("%(package)s: response recorded.") % {"package": outcome.package}
            )

    def get_urls(self):
        return [
            path(
                "<int:object_id>/record/",
                self.admin_site.admin_view(self.record_view),
                name="designations_packageoutcome_record",
            ),
            *super().get_urls(),
        ]

    def record_view(self, request, object_id):
        if request.method != "POST":
            raise Http404
        if not _lead(request):
            raise PermissionDenied
        outcome = get_object_or_404(self.get_queryset(request), pk=object_id)
        self._record(request, outcome)
        return redirect("admin:reviews_package_change", outcome.package_id)


def package_outcomes_html(package) -> str:
    """The flags of a package, each with a button that records the response (package page)."""
    if package is None or package.pk is None:
        return "—"
    outcomes = list(
        PackageOutcome.objects.filter(package=package).select_related("designation", "person")
    )
    if not outcomes:
        return "—"
    items = []
    for outcome in outcomes:
        designation = outcome.designation
        text = format_html(
            "{}: {} {} ({})",
            outcome.person.name,
            designation.program_key,
            designation.listing_date_text,
            designation.reference or designation.source,
        )
        if outcome.recorded_at is None:
            # The package page is one form: the button posts it to the record view instead.
            text = format_html(
                '{} <button type="submit" class="button" formaction="{}" formmethod="post">'
                "{}</button>",
                text,
                reverse("admin:designations_packageoutcome_record", args=[outcome.pk]),
                _("Record the response: designated"),
            )
        else:
            text = format_html("{} — {}", text, _("recorded"))
        items.append(text)
    return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((i,) for i in items)))
