"""
The review site (Django admin): the queue of dossiers, the dossier page where reviewers read
what the NGO filed and annotate it, and canonical persons.

Every list starts from `dossiers_for_review(request.user)` (which starts from
`Dossier.objects.visible_to`); every change goes through reviews.services. Nothing the NGO
filed can be changed here.
"""

import re
from collections import defaultdict
from datetime import timedelta
from functools import cached_property

from anyascii import anyascii
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
)
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_countries import countries

from portal.ids import parse_id
from portal.models import AuditEvent, Organisation, User
from portal.storage import download_response
from submissions.dashboard import cached_completeness_for
from submissions.i18n_data import text
from submissions.models import (
    ChecklistAnswer,
    Consent,
    Dossier,
    Evidence,
    Incident,
    Involvement,
    Source,
    Subject,
)
from submissions.services import TransitionNotAllowed

from . import admin_filters, matching, rubric, services
from .forms import (
    AssignForm,
    DecisionForm,
    InformationRequestForm,
    QueueActionForm,
    RecuseForm,
    RevealForm,
    ReviewForm,
    VerificationForm,
)
from .models import (
    Assignment,
    Message,
    Person,
    Review,
    ReviewerVerification,
    RubricScore,
    SubjectLink,
    Verification,
)
from .querysets import OPEN_STATUSES, count_together, dossiers_for_review


class CappedCountPaginator(Paginator):
    """
    Count at most CAP rows. A COUNT(*) over a million dossiers on every page view is what makes
    a changelist slow on PostgreSQL; past the cap, the reviewer narrows the list with filters.
    """

    CAP = 1_000  # 20 pages of 50; counting further costs more than it tells a reviewer

    def __init__(self, *args, count_also=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.count_also = count_also  # a queryset counted (in full) in the same statement
        self.also_counted = None

    @cached_property
    def count(self) -> int:
        capped = self.object_list.order_by().values("pk")[: self.CAP + 1]
        if self.count_also is None:
            counted = capped.count()
        else:
            counted, self.also_counted = count_together(capped, self.count_also)
        self.capped = counted > self.CAP
        return min(counted, self.CAP)


def scores_visible(user, dossier) -> bool:
    """services.scores_visible, from the annotations of DossierAdmin.get_queryset."""
    return services.scores_visible(
        user,
        own_review_submitted=dossier.own_review_submitted,
        awaiting_own_review=dossier.own_review_pending,
    )


class QueueChangeList(ChangeList):
    """The changelist, with what the columns need fetched once per page, not once per row."""

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        return queryset.select_related("organisation").prefetch_related(
            "target_regimes",
            Prefetch(
                "subjects",
                queryset=Subject.objects.only("id", "dossier_id", "name", "name_original"),
                to_attr="subject_list",
            ),
            Prefetch(
                "incidents",
                queryset=Incident.objects.select_related("category").only(
                    "id",
                    "dossier_id",
                    "country",
                    "category__code",
                    "category__name",
                    "category__position",
                ),
                to_attr="incident_list",
            ),
            Prefetch(
                "assignments",
                queryset=Assignment.objects.active()
                .select_related("reviewer")
                .only("id", "dossier_id", "reviewer__email", "reviewer__full_name")
                .annotate(
                    review_submitted=Exists(
                        Review.objects.submitted().filter(
                            dossier=OuterRef("dossier_id"), reviewer=OuterRef("reviewer_id")
                        )
                    )
                )
                .order_by("created_at"),
                to_attr="assignment_list",
            ),
        )

    def get_results(self, request):
        super().get_results(request)
        dossiers = list(self.result_list)
        rows = cached_completeness_for(dossiers)  # none when cached, else a fixed number
        for dossier in dossiers:
            dossier.completeness_rows = rows[dossier.pk]
            dossier.scores_visible = scores_visible(request.user, dossier)
        self.result_list = dossiers


# Filters: each one an EXISTS subquery, so that no filter multiplies rows or needs DISTINCT.


class ExistsFilter(admin.SimpleListFilter):
    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(self.condition(request, self.value()))


class StatusFilter(admin.SimpleListFilter):
    """The statuses a dossier can have in the review site (never a draft)."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(value, label) for value, label in Dossier.Status.choices if value != "draft"]

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


class RegimeFilter(ExistsFilter):
    title = _("target regime")
    parameter_name = "regime"

    def lookups(self, request, model_admin):
        return [
            (key, text("regimes", key, "name", name))
            for key, name in admin_filters.regime_choices()
        ]

    def condition(self, request, value):
        targets = Dossier.target_regimes.through.objects.filter(
            dossier_id=OuterRef("pk"), regime__key=value
        )
        return Exists(targets)


class CategoryFilter(ExistsFilter):
    title = _("violation category")
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return [
            (code, text("categories", code, "name", name))
            for code, name in admin_filters.category_choices()
        ]

    def condition(self, request, value):
        return Exists(Incident.objects.filter(dossier=OuterRef("pk"), category__code=value))


class CountryFilter(ExistsFilter):
    title = _("country of an incident")
    parameter_name = "country"
    CACHE_KEY = "reviews:incident-countries"
    CACHE_SECONDS = 300

    def lookups(self, request, model_admin):
        # The countries that incidents name, not all 250: read once per CACHE_SECONDS, since a
        # DISTINCT over every incident is too slow to run on each page view.
        codes = cache.get(self.CACHE_KEY)
        if codes is None:
            codes = sorted(set(Incident.objects.values_list("country", flat=True).distinct()))
            cache.set(self.CACHE_KEY, codes, self.CACHE_SECONDS)
        if self.value() in countries:  # the chosen one, even if newer than the cached list
            codes = {*codes, self.value()}
        return sorted(
            ((code, countries.name(code) or code) for code in codes if code),
            key=lambda choice: str(choice[1]),
        )

    def condition(self, request, value):
        return Exists(Incident.objects.filter(dossier=OuterRef("pk"), country=value))


class ReviewerFilter(ExistsFilter):
    title = _("assigned reviewer")
    parameter_name = "reviewer"

    def lookups(self, request, model_admin):
        from .forms import reviewer_choices

        return [("me", _("Assigned to me")), ("none", _("Nobody assigned")), *reviewer_choices()]

    def condition(self, request, value):
        active = Assignment.objects.active().filter(dossier=OuterRef("pk"))
        if value == "none":
            return ~Exists(active)
        if value == "me":
            return Exists(active.filter(reviewer=request.user))
        reviewer_id = parse_id(value)
        if reviewer_id is None:
            return Q(pk__in=[])
        return Exists(active.filter(reviewer_id=reviewer_id))


class SubjectFilter(ExistsFilter):
    title = _("subjects")
    parameter_name = "subjects"

    def lookups(self, request, model_admin):
        return [
            ("person", _("A person")),
            ("entity", _("An entity")),
            ("unlinked", _("A person not yet linked across dossiers")),
        ]

    def condition(self, request, value):
        subjects = Subject.objects.filter(dossier=OuterRef("pk"))
        if value == "unlinked":
            return Exists(subjects.filter(kind="person", person_link__isnull=True))
        return Exists(subjects.filter(kind=value))


class DaysInStateFilter(admin.SimpleListFilter):
    title = _("days in this state")
    parameter_name = "days"
    RANGES = {"lt7": (None, 7), "7-30": (7, 30), "gt30": (30, None)}

    def lookups(self, request, model_admin):
        return [
            ("lt7", _("Less than a week")),
            ("7-30", _("7 to 30 days")),
            ("gt30", _("More than 30 days")),
        ]

    def queryset(self, request, queryset):
        if self.value() not in self.RANGES:
            return queryset
        low, high = self.RANGES[self.value()]
        now = timezone.now()
        if low is not None:
            queryset = queryset.filter(status_changed_at__lte=now - timedelta(days=low))
        if high is not None:
            queryset = queryset.filter(status_changed_at__gt=now - timedelta(days=high))
        return queryset


class ChecklistFilter(ExistsFilter):
    title = _("checklist claims")
    parameter_name = "claims"

    def lookups(self, request, model_admin):
        return [
            ("weak", _("Some claimed partly or not met")),
            ("met", _("Every claim met or not applicable")),
        ]

    def condition(self, request, value):
        weak = Exists(
            ChecklistAnswer.objects.filter(dossier=OuterRef("pk"), status__in=["partly", "not_met"])
        )
        return weak if value == "weak" else ~weak


class VerificationFilter(ExistsFilter):
    title = _("verification")
    parameter_name = "verification"

    def lookups(self, request, model_admin):
        return [
            ("none", _("Not started")),
            ("open", _("Claims left to check")),
            ("problems", _("Disputed or insufficient")),
            ("done", _("Every claim checked")),
        ]

    def condition(self, request, value):
        answers = ChecklistAnswer.objects.filter(dossier=OuterRef("pk"))
        unchecked = Exists(answers.filter(verification__isnull=True))
        if value == "none":
            return ~Exists(answers.filter(verification__isnull=False))
        if value == "open":
            return unchecked
        if value == "problems":
            return Exists(answers.filter(verification__status__in=["disputed", "insufficient"]))
        return ~unchecked


class AverageScoreFilter(admin.SimpleListFilter):
    """Lead reviewers only; a score stays hidden where the lead's own review is pending."""

    title = _("average score")
    parameter_name = "score"
    RANGES = {"high": (4, None), "mid": (2.5, 4), "low": (None, 2.5)}

    def lookups(self, request, model_admin):
        return [
            ("high", _("4 or more")),
            ("mid", _("2.5 to 4")),
            ("low", _("Below 2.5")),
            ("none", _("No review submitted")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value == "none":
            return queryset.filter(average_score__isnull=True)
        if value not in self.RANGES:
            return queryset
        low, high = self.RANGES[value]
        queryset = queryset.filter(own_review_pending=False)
        if low is not None:
            queryset = queryset.filter(average_score__gte=low)
        if high is not None:
            queryset = queryset.filter(average_score__lt=high)
        return queryset


def _subject_search(term: str) -> Q:
    """
    Match a subject's name in any script, as typed and transliterated to Latin (against the
    Latin-script name). PostgreSQL folds case in every script; SQLite only in ASCII, so there
    the common capitalisations are tried as well.
    """
    variants = {term}
    if connection.vendor != "postgresql":
        variants |= {term.lower(), term.upper(), term.title(), term.capitalize()}
    latin = anyascii(term).strip()
    condition = Q()
    for variant in variants:
        condition |= (
            Q(name__icontains=variant)
            | Q(name_original__icontains=variant)
            | Q(aliases__icontains=variant)
        )
    if latin and latin != term:
        condition |= Q(name__icontains=latin) | Q(aliases__icontains=latin)
    return condition


# A term shaped like a dossier reference (MAG-7KQ9-X2WD, or the start of one) is looked up by
# reference alone: a prefix match on the unique index, instead of a scan of every name.
REFERENCE_TERM = re.compile(r"^MAG-[0-9A-Z-]*$", re.IGNORECASE)


class ReviewerReadOnly:
    """Reviewers see; nobody changes what the NGO filed (changes go through actions)."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_reviewer

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_reviewer

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Dossier)
class DossierAdmin(ReviewerReadOnly, admin.ModelAdmin):
    """The review queue and the dossier page. Read-only: reviewers annotate, never edit."""

    # What fits at 1280 px; "Show all columns" adds the rest (ALL_COLUMNS, kept per session).
    list_display = [
        "reference",
        "title",
        "regimes_column",
        "status",
        "reviewers_column",
        "days_in_state",
        "completeness_column",
    ]
    ALL_COLUMNS = [
        "reference",
        "title",
        "organisation",
        "regimes_column",
        "subjects_column",
        "categories_column",
        "countries_column",
        "status",
        "reviewers_column",
        "days_in_state",
        "completeness_column",
        "average_score_column",
    ]
    COLUMNS_SESSION_KEY = "review_queue_all_columns"
    list_display_links = ["reference", "title"]
    list_filter = [
        StatusFilter,
        admin_filters.OrganisationFilter,
        RegimeFilter,
        SubjectFilter,
        CategoryFilter,
        CountryFilter,
        ReviewerFilter,
        DaysInStateFilter,
        ChecklistFilter,
        VerificationFilter,
    ]
    search_fields = ["reference"]  # see get_search_results
    search_help_text = _("Reference, title, organisation, or a subject's name in any script.")
    ordering = ["status_changed_at", "pk"]  # the longest waiting first
    sortable_by = ["reference", "title", "organisation", "status", "days_in_state"]
    list_per_page = 50
    list_max_show_all = 200
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts would COUNT(*) per filter choice
    paginator = CappedCountPaginator
    action_form = QueueActionForm
    actions = ["start_review_action", "assign_reviewer_action"]
    fields = ["reference", "title", "organisation", "status"]
    readonly_fields = fields
    change_form_template = "admin/submissions/dossier/change_form.html"
    # The NGO's pages are the organisation's way in, not the reviewers' (Dossier.visible_to).
    view_on_site = False

    class Media:
        css = {"all": ["reviews/review.css"]}
        js = ["reviews/welfare.js"]

    def get_queryset(self, request):
        user = request.user
        scores = (
            RubricScore.objects.filter(
                review__dossier=OuterRef("pk"), review__submitted_at__isnull=False
            )
            .order_by()
            .values("review__dossier")
            .annotate(average=Avg("score"))
            .values("average")
        )
        own_pending = (
            Assignment.objects.active()
            .filter(dossier=OuterRef("pk"), reviewer_id=user.pk)
            .exclude(
                Exists(
                    Review.objects.submitted().filter(
                        dossier=OuterRef("dossier"), reviewer_id=user.pk
                    )
                )
            )
        )
        own_submitted = Review.objects.submitted().filter(
            dossier=OuterRef("pk"), reviewer_id=user.pk
        )
        return (
            dossiers_for_review(user)
            .select_related("organisation")
            .annotate(
                average_score=Subquery(scores, output_field=FloatField()),
                own_review_pending=Exists(own_pending),
                own_review_submitted=Exists(own_submitted),
            )
        )

    def get_changelist(self, request, **kwargs):
        return QueueChangeList

    def get_list_display(self, request):
        if request.session.get(self.COLUMNS_SESSION_KEY):
            return self.ALL_COLUMNS
        return self.list_display

    def columns_view(self, request):
        """Switch the queue between its short default columns and all of them (POST)."""
        if response := self._post_only(request):
            return response
        if not self.has_view_permission(request):
            raise PermissionDenied
        request.session[self.COLUMNS_SESSION_KEY] = request.POST.get("columns") == "all"
        return redirect("admin:submissions_dossier_changelist")

    def get_list_filter(self, request):
        if request.user.is_lead_reviewer:
            return [*self.list_filter, AverageScoreFilter]
        return self.list_filter

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if REFERENCE_TERM.match(term):
            return queryset.filter(reference__startswith=term.upper()), False
        # Each alternative is its own uncorrelated subquery, which PostgreSQL runs once (with
        # the trigram indexes) into a hash that the walk down the queue's order probes; an OR
        # of correlated conditions across tables would read every dossier and its subjects.
        subjects = Subject.objects.filter(_subject_search(term)).values("dossier_id")
        organisations = Organisation.objects.filter(name__icontains=term).values("pk")
        titles = Dossier.objects.filter(title__icontains=term).values("pk")
        references = Dossier.objects.filter(reference__icontains=term).values("pk")
        condition = (
            Q(pk__in=titles)
            | Q(pk__in=references)
            | Q(organisation__in=organisations)
            | Q(pk__in=subjects)
        )
        return queryset.filter(condition), False

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        # The count of dossiers waiting in triage (the link above the queue) goes with the
        # queue's own capped count, in one statement.
        return self.paginator(
            queryset,
            per_page,
            orphans,
            allow_empty_first_page,
            count_also=services.triage_queue(request.user),
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "title": _("Review queue"),
            "all_columns": bool(request.session.get(self.COLUMNS_SESSION_KEY)),
            **(extra_context or {}),
        }
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        if "cl" in context and "triage_count" not in context:
            counted = getattr(context["cl"].paginator, "also_counted", None)
            if counted is None:  # a changelist that did not count (never, as it stands)
                counted = services.triage_queue(request.user).count()
            context["triage_count"] = counted
        return response

    # Columns

    @admin.display(description=_("regimes"))
    def regimes_column(self, dossier):
        return ", ".join(regime.key for regime in dossier.target_regimes.all())

    @admin.display(description=_("subjects"))
    def subjects_column(self, dossier):
        # The Latin-script name; the original script shows on hover (and is searchable).
        subjects = dossier.subject_list
        shown = format_html_join(
            ", ",
            '<span title="{}">{}</span>',
            ((s.name_original or s.name, s.name) for s in subjects[:3]),
        )
        more = len(subjects) - 3
        return format_html("{} +{}", shown, more) if more > 0 else shown

    @admin.display(description=_("violations"))
    def categories_column(self, dossier):
        names = sorted({str(i.category) for i in dossier.incident_list})
        return "; ".join(names)

    @admin.display(description=_("countries"))
    def countries_column(self, dossier):
        return ", ".join(sorted({str(i.country.code) for i in dossier.incident_list}))

    @admin.display(description=_("reviewers"))
    def reviewers_column(self, dossier):
        return format_html_join(
            ", ",
            "{}{}",
            (
                (a.reviewer.get_full_name(), " ✓" if a.review_submitted else "")
                for a in dossier.assignment_list
            ),
        )

    @admin.display(description=_("days in state"), ordering="-status_changed_at")
    def days_in_state(self, dossier):
        return (timezone.now() - dossier.status_changed_at).days

    @admin.display(description=_("completeness"))
    def completeness_column(self, dossier):
        rows = getattr(dossier, "completeness_rows", [])
        total = sum(r.blocking_total + r.advisory_total for r in rows)
        done = sum(r.blocking_closed + r.advisory_answered for r in rows)
        return f"{round(100 * done / total) if total else 100}%"

    @admin.display(description=_("average score"))
    def average_score_column(self, dossier):
        if dossier.average_score is None:
            return "–"
        if not getattr(dossier, "scores_visible", False):
            return _("hidden until your review is in")
        return f"{dossier.average_score:.1f}"

    # Actions: each calls a service per dossier and reports what was refused.

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_lead_reviewer:
            actions.pop("assign_reviewer_action", None)
        return actions

    def _report(self, request, done: int, refused: list[str], verb: str) -> None:
        if done:
            self.message_user(
                request,
                ngettext("%(count)d dossier %(verb)s.", "%(count)d dossiers %(verb)s.", done)
                % {"count": done, "verb": verb},
                messages.SUCCESS,
            )
        for problem in refused:
            self.message_user(request, problem, messages.ERROR)

    @admin.action(description=_("Start the review of the selected dossiers"))
    def start_review_action(self, request, queryset):
        done, refused = 0, []
        for dossier in queryset:
            try:
                services.start_review(dossier, by=request.user)
            except (ValidationError, PermissionDenied, TransitionNotAllowed) as error:
                refused.append(f"{dossier.reference}: {_message(error)}")
            else:
                done += 1
        self._report(request, done, refused, _("taken into review"))

    @admin.action(description=_("Assign the chosen reviewer to the selected dossiers"))
    def assign_reviewer_action(self, request, queryset):
        reviewer_id = parse_id(request.POST.get("reviewer"))
        reviewer = User.objects.filter(pk=reviewer_id).first() if reviewer_id else None
        if reviewer is None:
            self.message_user(request, _("Choose a reviewer first."), messages.WARNING)
            return
        done, refused = 0, []
        for dossier in queryset:
            try:
                services.assign_reviewer(dossier, reviewer, by=request.user)
            except (ValidationError, PermissionDenied) as error:
                refused.append(f"{dossier.reference}: {_message(error)}")
            else:
                done += 1
        self._report(request, done, refused, _("assigned"))

    # The dossier page

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(function)

        name = "submissions_dossier"
        return [
            path("triage/", view(self.triage_view), name=f"{name}_triage"),
            path("columns/", view(self.columns_view), name=f"{name}_columns"),
            path(
                "triage/<int:object_id>/claim/",
                view(self.claim_view),
                name=f"{name}_claim",
            ),
            path(
                "<int:object_id>/start-review/",
                view(self.start_review_view),
                name=f"{name}_start_review",
            ),
            path("<int:object_id>/assign/", view(self.assign_view), name=f"{name}_assign"),
            path("<int:object_id>/recuse/", view(self.recuse_view), name=f"{name}_recuse"),
            path("<int:object_id>/verify/", view(self.verify_view), name=f"{name}_verify"),
            path("<int:object_id>/review/", view(self.review_view), name=f"{name}_review"),
            path(
                "<int:object_id>/request-information/",
                view(self.request_information_view),
                name=f"{name}_request_information",
            ),
            path("<int:object_id>/decide/", view(self.decide_view), name=f"{name}_decide"),
            path(
                "<int:object_id>/answers/<int:answer_id>/resolve/",
                view(self.resolve_view),
                name=f"{name}_resolve",
            ),
            path(
                "<int:object_id>/sources/<int:source_id>/reveal/",
                view(self.reveal_identity_view),
                name=f"{name}_reveal_identity",
            ),
            path(
                "<int:object_id>/evidence/<int:evidence_id>/download/",
                view(self.evidence_download_view),
                name=f"{name}_evidence_download",
            ),
            path(
                "<int:object_id>/evidence/<int:evidence_id>/allow-in-bundles/",
                view(self.evidence_allow_in_bundles_view),
                name=f"{name}_evidence_allow_in_bundles",
            ),
            path(
                "<int:object_id>/evidence/<int:evidence_id>/thumbnail/",
                view(self.evidence_thumbnail_view),
                name=f"{name}_evidence_thumbnail",
            ),
            path(
                "<int:object_id>/subjects/<int:subject_id>/matches/",
                view(self.matches_view),
                name=f"{name}_matches",
            ),
            path(
                "<int:object_id>/subjects/<int:subject_id>/unlink/",
                view(self.unlink_view),
                name=f"{name}_unlink",
            ),
            *super().get_urls(),
        ]

    def _dossier(self, request: HttpRequest, object_id: int) -> Dossier:
        """The dossier in the URL if the user may work on it; 404 otherwise."""
        return get_object_or_404(
            dossiers_for_review(request.user).select_related("organisation"), pk=object_id
        )

    def _back(self, dossier: Dossier, anchor: str = "") -> HttpResponse:
        url = reverse("admin:submissions_dossier_change", args=[dossier.pk])
        return redirect(f"{url}#{anchor}" if anchor else url)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self.dossier_page_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def dossier_page_context(self, request: HttpRequest, dossier: Dossier) -> dict:
        """Everything the dossier page shows, each kind of row fetched in one query."""
        user = request.user
        subjects = list(
            dossier.subjects.select_related("person_link__person").prefetch_related(
                "documents", "positions", "links"
            )
        )
        incidents = list(
            dossier.incidents.select_related("category").prefetch_related(
                Prefetch(
                    "involvements",
                    queryset=Involvement.objects.select_related("subject", "role").only(
                        "incident_id", "description", "subject__name", "role__code", "role__name"
                    ),
                )
            )
        )
        # Identities are read only through the audited reveal, never with the exhibits.
        exhibits = list(
            dossier.evidence.select_related("source", "translation_of")
            .defer(
                "metadata",
                "source__identity",
                "source__contact",
                "source__safety_notes",
                "translation_of__metadata",
            )
            # What a saved web page says about itself (webcaptures.py), without the rest.
            .annotate(capture=F("metadata__capture"))
        )
        sources = list(
            dossier.sources.defer("identity", "contact", "safety_notes").prefetch_related(
                Prefetch(
                    "consent_records",
                    queryset=Consent.objects.select_related("regime").filter(
                        withdrawn_on__isnull=True
                    ),
                    to_attr="active_consents",
                )
            )
        )
        answers = list(
            dossier.answers.select_related(
                "regime", "criterion", "verification__verified_by", "verification__resolved_by"
            )
            .prefetch_related(
                Prefetch(
                    "evidence", queryset=Evidence.objects.only("id", "dossier_id", "reference")
                ),
                Prefetch(
                    "reviewer_verifications",
                    queryset=ReviewerVerification.objects.select_related("reviewer"),
                    to_attr="reviewer_verification_list",
                ),
            )
            .order_by("regime__position", "criterion__position")
        )
        coverage = self._coverage(dossier, answers)
        assignments = list(
            dossier.assignments.select_related("reviewer", "assigned_by").order_by("created_at")
        )
        own_assignment = next(
            (a for a in assignments if a.reviewer_id == user.pk and a.is_active), None
        )
        reviews = list(
            dossier.reviews.select_related("reviewer")
            .prefetch_related("scores")
            .order_by("created_at")
        )
        own_review = next((r for r in reviews if r.reviewer_id == user.pk), None)
        see_scores = services.scores_visible(
            user,
            own_review_submitted=own_review is not None and own_review.is_submitted,
            awaiting_own_review=own_assignment is not None,
        )
        counted = [
            r
            for r in reviews
            if r.is_submitted
            and any(a.reviewer_id == r.reviewer_id and a.is_active for a in assignments)
        ]
        requests = list(
            dossier.information_requests.select_related("asked_by").prefetch_related(
                Prefetch("messages", queryset=Message.objects.select_related("author"))
            )
        )
        decision = (
            getattr(dossier, "decision", None)
            if dossier.status
            in (
                Dossier.Status.APPROVED,
                Dossier.Status.REJECTED,
                Dossier.Status.PACKAGED,
            )
            else None
        )
        working = dossier.status in services.WORKING_STATUSES
        may_work = own_assignment is not None or user.is_lead_reviewer
        verification_form = VerificationForm(answers=answers, user=user)
        disputes = services.open_disputes(dossier) if working else {}
        answers_by_regime = defaultdict(list)
        for answer in answers:
            answers_by_regime[answer.regime_id].append(
                (
                    answer,
                    verification_form[f"status-{answer.pk}"],
                    verification_form[f"note-{answer.pk}"],
                )
            )
        visible_reviews = [r for r in reviews if r.is_submitted] if see_scores else []
        score_rows = [
            (line, [_score_of(review, line.code) for review in visible_reviews])
            for line in rubric.lines()
        ]
        history = list(
            AuditEvent.objects.filter(
                target_type__app_label="submissions",
                target_type__model="dossier",
                target_id=str(dossier.pk),
            ).order_by("-sequence")[:30]
        )
        url = "admin:submissions_dossier"
        return {
            "title": f"{dossier.reference}: {dossier.title}",
            "dossier": dossier,
            "subjects": subjects,
            "incidents": incidents,
            "exhibits": exhibits,
            "sources": sources,
            "coverage": [
                {**row, "answers": answers_by_regime.get(row["regime"].pk, [])} for row in coverage
            ],
            "assignments": assignments,
            "own_assignment": own_assignment,
            "reviews": reviews,
            "own_review": own_review,
            "submitted_reviews": [r for r in reviews if r.is_submitted],
            "counted_reviews": counted,
            "reviews_required": services.reviews_required(),
            "see_scores": see_scores,
            "visible_reviews": visible_reviews,
            "score_rows": score_rows,
            "rubric_lines": rubric.lines(),
            "requests": requests,
            "decision": decision,
            "history": history,
            "may_work": may_work,
            "working": working,
            "can_start": dossier.status == Dossier.Status.SUBMITTED and may_work,
            "can_verify": working and may_work,
            "can_reveal": services.can_reveal_identities(user),
            "can_allow_flagged": user.is_lead_reviewer,
            "verification_form": verification_form,
            "review_form": (
                ReviewForm(review=own_review)
                if working and own_assignment and not (own_review and own_review.is_submitted)
                else None
            ),
            "assign_form": (
                AssignForm(dossier=dossier)
                if user.is_lead_reviewer and dossier.status in OPEN_STATUSES
                else None
            ),
            "recuse_form": (
                RecuseForm() if own_assignment and dossier.status in OPEN_STATUSES else None
            ),
            "request_form": InformationRequestForm() if working and may_work else None,
            "disputes": [
                (regime, disputes[regime.pk])
                for regime in dossier.target_regimes.all()
                if regime.pk in disputes
            ],
            "can_resolve": working and user.is_lead_reviewer,
            "regime_decisions": (
                list(decision.regimes.select_related("regime")) if decision else []
            ),
            "decision_form": (
                DecisionForm(regimes=dossier.target_regimes.all())
                if user.is_lead_reviewer and dossier.status == Dossier.Status.IN_REVIEW
                else None
            ),
            "urls": {
                key: reverse(f"{url}_{key}", args=[dossier.pk])
                for key in (
                    "start_review",
                    "assign",
                    "recuse",
                    "verify",
                    "review",
                    "request_information",
                    "decide",
                )
            },
        }

    @staticmethod
    def _coverage(dossier: Dossier, answers: list[ChecklistAnswer]) -> list[dict]:
        """
        Per target regime: the judgements that apply, answered and verified / disputed /
        insufficient; and the items computed from the dossier's data, met or not (in words).

        The same evaluation as the submission gate: only what applies counts, so coverage never
        passes 100%.
        """
        rows = []
        for row in cached_completeness_for([dossier])[dossier.pk]:
            # Only answers to judgements that apply: an answer to an item for entities, in a
            # dossier about a person, or a "met" typed on an item the data decides, counts
            # for nothing.
            mine = [
                a
                for a in answers
                if a.regime_id == row.regime.pk and a.criterion_id in row.judgements
            ]
            statuses = [getattr(a, "verification", None) for a in mine]
            count = {
                status: sum(1 for v in statuses if v is not None and v.status == status)
                for status in Verification.Status.values
            }
            total = len(row.judgements)
            computed = [state for state in row.items if state.criterion.is_computed]
            rows.append(
                {
                    "regime": row.regime,
                    "applicable": total,
                    "answered": len(mine),
                    "verified": count["verified"],
                    "disputed": count["disputed"],
                    "insufficient": count["insufficient"],
                    "unchecked": sum(1 for v in statuses if v is None),
                    "percent": round(100 * count["verified"] / total) if total else 0,
                    "computed_total": len(computed),
                    "computed_met": sum(1 for state in computed if state.closed),
                    "computed_open": [state for state in computed if not state.closed],
                    "warnings": row.warnings,
                }
            )
        return rows

    # Workflow views: POST only, a service call each, the result shown as a message.

    def _run(self, request, dossier, anchor, call, success):
        try:
            call()
        except (ValidationError, PermissionDenied, TransitionNotAllowed) as error:
            self.message_user(request, _message(error), messages.ERROR)
        else:
            self.message_user(request, success, messages.SUCCESS)
        return self._back(dossier, anchor)

    # Triage: dossiers that still need reviewers, shown without what the NGO filed.

    def triage_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        dossiers = services.triage_queue(request.user).prefetch_related(
            "target_regimes",
            Prefetch(
                "incidents",
                queryset=Incident.objects.select_related("category").only(
                    "id", "dossier_id", "category__name", "category__position"
                ),
                to_attr="incident_list",
            ),
        )[:200]
        rows = [
            {
                "dossier": dossier,
                "regimes": [str(regime) for regime in dossier.target_regimes.all()],
                "categories": sorted({i.category.name for i in dossier.incident_list}),
            }
            for dossier in dossiers
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("To triage"),
            "rows": rows,
            "reviews_required": services.reviews_required(),
        }
        return TemplateResponse(request, "admin/submissions/dossier/triage.html", context)

    def claim_view(self, request, object_id):
        if response := self._post_only(request):
            return response
        # Only open dossiers answer here: a draft or a decided dossier is a 404, as elsewhere.
        dossier = get_object_or_404(
            Dossier.objects.filter(status__in=OPEN_STATUSES).only("pk", "reference"), pk=object_id
        )
        try:
            services.claim_dossier(dossier, by=request.user)
        except (ValidationError, PermissionDenied) as error:
            self.message_user(request, _message(error), messages.ERROR)
            return redirect("admin:submissions_dossier_triage")
        self.message_user(
            request,
            _("You review %(reference)s now; the lead reviewers are told.")
            % {"reference": dossier.reference},
            messages.SUCCESS,
        )
        return self._back(dossier)

    def start_review_view(self, request, object_id):
        if response := self._post_only(request):
            return response
        dossier = self._dossier(request, object_id)
        return self._run(
            request,
            dossier,
            "",
            lambda: services.start_review(dossier, by=request.user),
            _("The dossier is in review."),
        )

    def assign_view(self, request, object_id):
        if response := self._post_only(request):
            return response
        dossier = self._dossier(request, object_id)
        form = AssignForm(request.POST, dossier=dossier)
        if not form.is_valid():
            self.message_user(request, _("Choose a reviewer."), messages.ERROR)
            return self._back(dossier, "assignments")
        reviewer = get_object_or_404(User, pk=form.cleaned_data["reviewer"])
        return self._run(
            request,
            dossier,
            "assignments",
            lambda: services.assign_reviewer(
                dossier, reviewer, by=request.user, due_at=form.cleaned_data["due_at"]
            ),
            _("%(reviewer)s is assigned.") % {"reviewer": reviewer.get_full_name()},
        )

    def recuse_view(self, request, object_id):
        if response := self._post_only(request):
            return response
        dossier = self._dossier(request, object_id)
        form = RecuseForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        try:
            services.recuse(dossier, by=request.user, reason=reason)
        except (ValidationError, PermissionDenied) as error:
            self.message_user(request, _message(error), messages.ERROR)
            return self._back(dossier, "assignments")
        self.message_user(request, _("You recused from this dossier."), messages.SUCCESS)
        return redirect("admin:submissions_dossier_changelist")

    def verify_view(self, request, object_id):
        if response := self._post_only(request):
            return response
        dossier = self._dossier(request, object_id)
        form = VerificationForm(request.POST, answers=dossier.answers.all(), user=request.user)
        if not form.is_valid():
            self.message_user(request, _("Check the verification entries."), messages.ERROR)
            return self._back(dossier, "checklist")
        return self._run(
            request,
            dossier,
            "checklist",
            lambda: services.verify_answers(
                dossier, by=request.user, verifications=form.verifications()
            ),
            _("Verification saved."),
        )

    def resolve_view(self, request, object_id, answer_id):
        """A lead reviewer settles a disputed item (a button inside the verification form)."""
        if response := self._post_only(request):
            return response
        dossier = self._dossier(request, object_id)
        answer = get_object_or_404(ChecklistAnswer, dossier=dossier, pk=answer_id)
        return self._run(
            request,
            dossier,
            "checklist",
            lambda: services.resolve_verification(
                answer,
                by=request.user,
                status=request.POST.get("resolution", ""),
                note=request.POST.get(f"note-{answer.pk}", ""),
            ),
            _("The disputed item is resolved."),
        )

    def review_view(self, request, object_id):
        if response := self._post_only(request):
            return response
        dossier = self._dossier(request, object_id)
        form = ReviewForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _("Check the review entries."), messages.ERROR)
            return self._back(dossier, "review")
        submit = "submit" in request.POST
        return self._run(
            request,
            dossier,
            "review",
            lambda: services.save_review(
                dossier,
                by=request.user,
                scores=form.scores(),
                recommendation=form.cleaned_data["recommendation"],
                summary=form.cleaned_data["summary"],
                submit=submit,
            ),
            _("Your review is submitted.") if submit else _("Your draft review is saved."),
        )

    def request_information_view(self, request, object_id):
        if response := self._post_only(request):
            return response
        dossier = self._dossier(request, object_id)
        form = InformationRequestForm(request.POST)
        question = form.cleaned_data["question"] if form.is_valid() else ""
        return self._run(
            request,
            dossier,
            "questions",
            lambda: services.request_information(dossier, by=request.user, question=question),
            _("The question was sent to the organisation."),
        )

    def decide_view(self, request, object_id):
        if response := self._post_only(request):
            return response
        dossier = self._dossier(request, object_id)
        form = DecisionForm(request.POST, regimes=dossier.target_regimes.all())
        if not form.is_valid():
            self.message_user(
                request,
                _("Approve or reject for each government, and give a reason."),
                messages.ERROR,
            )
            return self._back(dossier, "decision")
        return self._run(
            request,
            dossier,
            "decision",
            lambda: services.decide_dossier(
                dossier,
                by=request.user,
                reason=form.cleaned_data["reason"],
                regimes=form.outcomes(),
            ),
            _("The decision is recorded and the organisation is told."),
        )

    @staticmethod
    def _post_only(request):
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        return None

    # Witness identities, exhibits

    def reveal_identity_view(self, request, object_id, source_id):
        """Show a source's real identity after a stated reason; permission-checked, audited."""
        dossier = self._dossier(request, object_id)
        source = get_object_or_404(
            Source.objects.defer("identity", "contact"), dossier=dossier, pk=source_id
        )
        if not services.can_reveal_identities(request.user):
            raise PermissionDenied
        form = RevealForm(request.POST or None)
        revealed = None
        if request.method == "POST" and form.is_valid():
            try:
                revealed = services.reveal_source_identity(
                    source, by=request.user, reason=form.cleaned_data["reason"]
                )
            except (ValidationError, PermissionDenied) as error:
                form.add_error(None, _message(error))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Identity of %(pseudonym)s") % {"pseudonym": source.pseudonym},
            "dossier": dossier,
            "source": source,
            "form": form,
            "revealed": revealed,
        }
        response = TemplateResponse(request, "admin/reviews/source_reveal.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def evidence_download_view(self, request, object_id, evidence_id):
        """An exhibit as an attachment, after writing who downloaded it to the audit log."""
        dossier = self._dossier(request, object_id)
        evidence = get_object_or_404(
            Evidence.objects.files().exclude(file=""), dossier=dossier, pk=evidence_id
        )
        if evidence.is_flagged and request.GET.get("confirm") != "1":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("This file may be harmful"),
                "dossier": dossier,
                "evidence": evidence,
            }
            return TemplateResponse(request, "admin/reviews/evidence_warning.html", context)
        services.record_evidence_download(evidence, by=request.user)
        return download_response(
            evidence.file,
            filename=evidence.original_name or evidence.reference,
            detected_type=evidence.content_type,
        )

    def evidence_allow_in_bundles_view(self, request, object_id, evidence_id):
        """A lead reviewer lets a flagged file go into government bundles, with a reason."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        dossier = self._dossier(request, object_id)
        evidence = get_object_or_404(Evidence.objects.files(), dossier=dossier, pk=evidence_id)
        try:
            services.allow_flagged_exhibit_in_bundles(
                evidence, by=request.user, reason=request.POST.get("reason", "")
            )
        except (ValidationError, PermissionDenied) as error:
            self.message_user(request, _message(error), messages.ERROR)
        else:
            self.message_user(
                request,
                _("%(name)s may now go into government bundles; the manifest will say so.")
                % {"name": evidence.original_name},
                messages.SUCCESS,
            )
        return self._back(dossier, "exhibits")

    def evidence_thumbnail_view(self, request, object_id, evidence_id):
        dossier = self._dossier(request, object_id)
        evidence = get_object_or_404(
            Evidence.objects.exclude(thumbnail=""), dossier=dossier, pk=evidence_id
        )
        response = FileResponse(evidence.thumbnail.open("rb"), content_type="image/jpeg")
        response["X-Content-Type-Options"] = "nosniff"
        return response

    # Persons across dossiers

    def matches_view(self, request, object_id, subject_id):
        """Suggest who `subject` may be across dossiers; record each answer."""
        dossier = self._dossier(request, object_id)
        subject = get_object_or_404(
            Subject.objects.select_related("person_link__person"), dossier=dossier, pk=subject_id
        )
        if request.method == "POST":
            return self._answer_match(request, dossier, subject)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Who is %(name)s?") % {"name": subject.name},
            "dossier": dossier,
            "subject": subject,
            "link": getattr(subject, "person_link", None),
            "suggestions": matching.suggest(subject, user=request.user),
        }
        return TemplateResponse(request, "admin/reviews/subject_matches.html", context)

    def _answer_match(self, request, dossier, subject):
        if request.POST.get("verdict") == "new":
            return self._run(
                request,
                dossier,
                "subjects",
                lambda: services.create_person(subject, by=request.user),
                _("A new canonical person was made from %(name)s.") % {"name": subject.name},
            )
        kind, _sep, pk = (request.POST.get("candidate") or "").partition("-")
        pk = parse_id(pk)
        score = _float(request.POST.get("score"))
        target = {}
        if kind == "person" and pk:
            target["person"] = get_object_or_404(Person.objects.visible_to(request.user), pk=pk)
        elif kind == "subject" and pk:
            target["other"] = get_object_or_404(
                Subject.objects.filter(dossier__in=dossiers_for_review(request.user)), pk=pk
            )
        else:
            raise Http404
        try:
            if request.POST.get("verdict") == "same":
                person = services.accept_match(subject, by=request.user, score=score, **target)
                self.message_user(
                    request, _("Linked to %(person)s.") % {"person": person}, messages.SUCCESS
                )
            else:
                services.reject_match(subject, by=request.user, score=score, **target)
                self.message_user(request, _("Noted: not the same person."), messages.SUCCESS)
        except (ValidationError, PermissionDenied) as error:
            self.message_user(request, _message(error), messages.ERROR)
        return redirect("admin:submissions_dossier_matches", dossier.pk, subject.pk)

    def unlink_view(self, request, object_id, subject_id):
        if response := self._post_only(request):
            return response
        dossier = self._dossier(request, object_id)
        subject = get_object_or_404(Subject, dossier=dossier, pk=subject_id)
        return self._run(
            request,
            dossier,
            "subjects",
            lambda: services.unlink_subject(subject, by=request.user),
            _("The link was removed."),
        )


def _score_of(review: Review, code: str) -> RubricScore | None:
    return next((score for score in review.scores.all() if score.line == code), None)


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or str(_("You may not do this."))


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class SubjectLinkInline(admin.TabularInline):
    model = SubjectLink
    extra = 0
    fields = ["dossier_reference", "subject", "linked_by", "linked_at", "score"]
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request):
        # Only links into dossiers the user may see: a link must not reveal another dossier.
        return (
            super()
            .get_queryset(request)
            .filter(subject__dossier__in=dossiers_for_review(request.user))
            .select_related("subject__dossier", "linked_by")
        )

    @admin.display(description=_("dossier"))
    def dossier_reference(self, link):
        url = reverse("admin:submissions_dossier_change", args=[link.subject.dossier_id])
        return format_html('<a href="{}">{}</a>', url, link.subject.dossier.reference)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_reviewer


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    """
    Canonical records (persons and organisations): created by linking subjects on the dossier
    page or when proposing a dossier to a government, corrected here.
    """

    list_display = ["name", "kind", "name_original", "birth_date", "nationalities",
                    "subject_count"]  # fmt: skip
    list_filter = ["kind"]
    search_fields = ["name", "name_original"]
    fields = ["kind", "name", "name_original", "aliases", "birth_date", "nationalities", "notes"]
    readonly_fields = ["kind"]  # a person never becomes an organisation: its links would lie
    inlines = [SubjectLinkInline]
    show_full_result_count = False

    def get_queryset(self, request):
        return (
            Person.objects.visible_to(request.user)
            .annotate(
                subjects=Count(
                    "subject_links",
                    filter=Q(subject_links__subject__dossier__in=dossiers_for_review(request.user)),
                )
            )
            .order_by("name")
        )

    @admin.display(description=_("subjects"), ordering="subjects")
    def subject_count(self, person):
        return person.subjects

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_reviewer

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_reviewer

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_reviewer

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.update_person(
            obj,
            by=request.user,
            fields={name: form.cleaned_data[name] for name in form.changed_data},
        )


@admin.register(Assignment)
class AssignmentAdmin(ReviewerReadOnly, admin.ModelAdmin):
    """Who reviews what, and what is overdue: read-only (assign on the dossier page)."""

    list_display = ["dossier_link", "reviewer", "created_at", "due_at", "review_state"]
    list_filter = [("recused_at", admin.EmptyFieldListFilter)]
    list_select_related = ["dossier", "reviewer"]
    ordering = ["due_at", "pk"]
    show_full_result_count = False
    paginator = CappedCountPaginator

    def get_queryset(self, request):
        user = request.user
        submitted = Review.objects.submitted().filter(
            dossier=OuterRef("dossier"), reviewer=OuterRef("reviewer")
        )
        assignments = Assignment.objects.filter(dossier__in=dossiers_for_review(user))
        if not user.is_lead_reviewer:
            assignments = assignments.filter(reviewer=user)
        overdue = Assignment.objects.overdue().filter(pk=OuterRef("pk"))
        return assignments.annotate(review_submitted=Exists(submitted), is_overdue=Exists(overdue))

    @admin.display(description=_("dossier"), ordering="dossier__reference")
    def dossier_link(self, assignment):
        url = reverse("admin:submissions_dossier_change", args=[assignment.dossier_id])
        return format_html('<a href="{}">{}</a>', url, assignment.dossier.reference)

    @admin.display(description=_("review"))
    def review_state(self, assignment):
        if assignment.recused_at:
            return _("recused")
        if assignment.review_submitted:
            return _("submitted")
        if assignment.is_overdue:  # the rule the reminder emails use (AssignmentQuerySet)
            return _("overdue")
        if assignment.dossier.status not in OPEN_STATUSES:
            return _("closed")
        return _("pending")


# The lead reviewers' packages page lives in its own module.
from . import package_admin  # noqa: E402, F401
