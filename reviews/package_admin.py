"""
The lead reviewers' packages page in admin: build a package, render its brief (progress and
versions shown), download the files, record delivery and the government's response, export CSV.
Every change goes through reviews.packages; every package shown or acted on comes from
Package.objects.visible_to(user), so a lead of an organisation that filed one of a package's
dossiers gets a 404 on each of its pages, actions and downloads.
"""

from functools import cached_property

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal import audit, health
from portal.storage import download_response
from submissions.models import Regime
from submissions.services import TransitionNotAllowed

from . import matching, packages
from .csv_export import to_csv
from .models import BriefText, BriefVersion, Package, RecipientKey
from .querysets import dossiers_for_review


class PackageForm(forms.ModelForm):
    class Meta:
        model = Package
        fields = [
            "regime",
            "recipient",
            "language",
            "persons",
            "dossiers",
            "cover_note",
            "handling_marking",
            "recipient_key",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "regime" in self.fields:  # a proposed regime (JP-PROPOSED) takes no package
            self.fields["regime"].queryset = Regime.objects.filter(status=Regime.Status.ACTIVE)
        if "language" in self.fields:  # English unless the lead chooses otherwise
            self.fields["language"].required = False
        if "recipient_key" in self.fields:
            self.fields["recipient_key"].queryset = RecipientKey.objects.filter(active=True)
        if "recipient" in self.fields:
            self.fields["recipient"].required = False
            self.fields["recipient"].help_text = _("Leave empty for the regime's authority.")

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and {"regime", "persons", "dossiers"} <= data.keys():
            try:
                packages.check_contents(
                    data["regime"], list(data["persons"]), list(data["dossiers"])
                )
            except ValidationError as error:
                raise forms.ValidationError(error.messages) from None
        return data


class DeliveryForm(forms.Form):
    version = forms.ModelChoiceField(queryset=BriefVersion.objects.none(), label=_("Version"))
    delivered_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    recipient = forms.CharField(max_length=300)
    channel = forms.CharField(max_length=200)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    recipient_key = forms.ModelChoiceField(
        queryset=RecipientKey.objects.none(),
        required=False,
        label=_("Encrypt to"),
        help_text=_("The ministry's key: the delivery is then the bundle encrypted to it."),
    )


class ResponseForm(forms.Form):
    response = forms.ChoiceField(choices=Package.Response.choices[1:])
    response_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    designated_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


def _is_lead(request) -> bool:
    return getattr(request.user, "is_lead_reviewer", False)  # anonymous users have no role


class LeadOnly:
    """Packages are the lead reviewers' work: nobody else sees them."""

    def has_module_permission(self, request):
        return _is_lead(request)

    def has_view_permission(self, request, obj=None):
        return _is_lead(request)

    def has_add_permission(self, request, obj=None):
        return _is_lead(request)

    def has_change_permission(self, request, obj=None):
        return _is_lead(request)

    def has_delete_permission(self, request, obj=None):
        return False


BRIEFS_QUEUE = "briefs"  # where reviews.tasks.render_brief runs (CELERY_TASK_ROUTES)


class BriefVersionInline(LeadOnly, admin.TabularInline):
    model = BriefVersion
    extra = 0
    can_delete = False
    fields = [
        "number",
        "status",
        "progress",
        "pages",
        "exhibits",
        "withheld",
        "warnings",
        "files",
        "rendered_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @cached_property
    def briefs_worker_missing(self) -> bool:
        """Whether no live worker consumes the briefs queue (asked once per page)."""
        return BRIEFS_QUEUE in health.queues_without_consumer()

    @admin.display(description=_("files"))
    def files(self, version: BriefVersion):
        if version.status == BriefVersion.Status.QUEUED and self.briefs_worker_missing:
            return _(
                "Waiting: no worker consumes the briefs queue, so this brief will not render "
                "until one starts (see /healthz)."
            )
        if version.status != BriefVersion.Status.DONE:
            return version.error or "—"
        links = [
            format_html(
                '<a href="{}">{}</a> <code title="SHA-256">{}</code>',
                reverse(
                    "admin:reviews_package_download",
                    args=[version.package_id, version.number, kind],
                ),
                label,
                digest[:16],
            )
            for kind, label, digest in [
                ("pdf", "PDF", version.pdf_sha256),
                ("manifest", "manifest", version.manifest_sha256),
                ("bundle", "bundle", version.bundle_sha256),
            ]
        ]
        if version.package.recipient_key_id:
            return format_html(
                '{}<br><code title="SHA-256">{}</code>',
                _("encrypted to the recipient: download it from a delivery"),
                version.bundle_sha256[:16],
            )
        return format_html("{}<br>{}<br>{}", *links)


@admin.register(Package)
class PackageAdmin(LeadOnly, admin.ModelAdmin):
    form = PackageForm
    list_display = ["reference", "regime", "recipient", "status", "response", "updated_at"]
    list_filter = ["status", "regime", "response"]
    list_select_related = ["regime"]
    search_fields = ["reference", "persons__name", "persons__name_original"]
    autocomplete_fields = ["persons"]
    filter_horizontal = ["dossiers"]
    inlines = [BriefVersionInline]
    actions = ["mark_ready", "render_new_version", "export_csv"]
    change_form_template = "admin/reviews/package/change_form.html"
    readonly_fields = ["reference", "status", "response", "response_on", "designated_on",
                       "designation_outcomes"]  # fmt: skip
    show_full_result_count = False

    @admin.display(description=_("designated since delivery"))
    def designation_outcomes(self, package):
        """Listings of the package's persons found by designations imports (one-click record)."""
        from designations.admin import package_outcomes_html

        return package_outcomes_html(package)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(pk__in=Package.objects.visible_to(request.user).values("pk"))
        )

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != Package.Status.DRAFT:
            return [*self.readonly_fields, *PackageForm.Meta.fields]
        return self.readonly_fields

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "dossiers":
            kwargs["queryset"] = (
                dossiers_for_review(request.user)
                .filter(status__in=["approved", "packaged"])
                .select_related("organisation")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            packages.update_package(
                obj,
                by=request.user,
                recipient=data["recipient"],
                cover_note=data["cover_note"],
                handling_marking=data["handling_marking"],
                persons=data["persons"],
                dossiers=data["dossiers"],
                language=data.get("language"),
                recipient_key=data.get("recipient_key"),
            )
            return
        created = packages.create_package(
            regime=data["regime"],
            persons=data["persons"],
            dossiers=data["dossiers"],
            recipient=data["recipient"],
            cover_note=data["cover_note"],
            language=data.get("language") or "en",
            recipient_key=data.get("recipient_key"),
            by=request.user,
        )
        obj.pk, obj.reference = created.pk, created.reference
        self._warn(request, created)

    def _warn(self, request, package) -> None:
        for warning in packages.package_warnings(package, by=request.user):
            self.message_user(request, warning, messages.WARNING)

    def save_related(self, request, form, formsets, change):
        """The services have set persons and dossiers; versions are never edited here."""

    def construct_change_message(self, request, form, formsets, add=False):
        # The versions inline is read-only and never saved (save_related), so its formset has
        # no new, changed or deleted objects to report: only the package form's changes count.
        return super().construct_change_message(request, form, [], add)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        package = self.get_object(request, object_id)
        extra = extra_context or {}
        if package is not None:
            versions = package.versions.all()
            extra.update(
                package_warnings=packages.package_warnings(package, by=request.user),
                can_mark_ready=package.can_move_to(Package.Status.READY),
                can_render=package.status != Package.Status.DRAFT,
                rendering=any(v.status in ("queued", "rendering") for v in versions),
                delivery_form=self._delivery_form(package),
                response_form=ResponseForm(),
                deliveries=package.deliveries.select_related("version", "delivered_by"),
            )
        return super().change_view(request, object_id, form_url, extra)

    @staticmethod
    def _delivery_form(package, data=None):
        form = DeliveryForm(
            data, initial={"recipient": package.recipient, "recipient_key": package.recipient_key}
        )
        form.fields["version"].queryset = package.versions.filter(status="done")
        keys = RecipientKey.objects.filter(active=True)
        if package.recipient_key_id:  # this package leaves only encrypted to its key
            keys = keys.filter(pk=package.recipient_key_id)
            form.fields["recipient_key"].required = True
        form.fields["recipient_key"].queryset = keys
        return form

    # Actions

    @admin.action(description=_("Mark ready to render"))
    def mark_ready(self, request, queryset):
        for package in queryset:
            try:
                packages.mark_ready(package, by=request.user)
            except (ValidationError, PermissionDenied, TransitionNotAllowed) as error:
                self.message_user(request, f"{package}: {_refusal(error)}", messages.ERROR)
            else:
                self.message_user(request, f"{package}: ready.", messages.SUCCESS)

    @admin.action(description=_("Render a new version of the brief"))
    def render_new_version(self, request, queryset):
        for package in queryset:
            try:
                version = packages.request_render(package, by=request.user)
            except (ValidationError, PermissionDenied) as error:
                self.message_user(request, f"{package}: {_refusal(error)}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{package}: version {version.number} is being rendered.",
                    messages.INFO,
                )

    @admin.action(description=_("Export the selected packages as CSV"))
    def export_csv(self, request, queryset):
        counted = queryset.select_related("regime").annotate(
            n_persons=Count("persons", distinct=True), n_dossiers=Count("dossiers", distinct=True)
        )
        rows = (
            (p.reference, p.regime.key, p.recipient, p.get_status_display(), p.response,
             p.response_on, p.designated_on, p.n_persons, p.n_dossiers)
            for p in counted
        )  # fmt: skip
        header = ["reference", "regime", "recipient", "status", "response", "response_on",
                  "designated_on", "persons", "dossiers"]  # fmt: skip
        return _csv_response(to_csv(header, rows), "packages.csv")

    # Views of one package

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(function)

        return [
            path("<int:object_id>/render/", view(self.render_view), name="reviews_package_render"),
            path(
                "<int:object_id>/ready/", view(self.mark_ready_view), name="reviews_package_ready"
            ),
            path(
                "propose/<int:dossier_id>/<int:regime_id>/",
                view(self.propose_view),
                name="reviews_package_propose",
            ),
            path(
                "<int:object_id>/versions/<int:number>/<str:kind>/",
                view(self.download_view),
                name="reviews_package_download",
            ),
            path(
                "<int:object_id>/deliver/", view(self.deliver_view), name="reviews_package_deliver"
            ),
            path(
                "<int:object_id>/deliveries/<int:delivery_id>/bundle.zip.age",
                view(self.delivery_download_view),
                name="reviews_package_delivery_download",
            ),
            path(
                "<int:object_id>/response/",
                view(self.response_view),
                name="reviews_package_response",
            ),
            path(
                "<int:object_id>/exhibits.csv",
                view(self.exhibits_csv_view),
                name="reviews_package_exhibits_csv",
            ),
            *super().get_urls(),
        ]

    def _package(self, request, object_id, *, post=False) -> Package:
        if post and request.method != "POST":
            raise Http404
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(Package.objects.visible_to(request.user), pk=object_id)

    def _back(self, package):
        return redirect("admin:reviews_package_change", package.pk)

    def mark_ready_view(self, request, object_id):
        package = self._package(request, object_id, post=True)
        try:
            packages.mark_ready(package, by=request.user)
        except (ValidationError, TransitionNotAllowed) as error:
            self.message_user(request, _refusal(error), messages.ERROR)
        else:
            self.message_user(request, _("The package is ready to render."), messages.SUCCESS)
        return self._back(package)

    def propose_view(self, request, dossier_id, regime_id):
        """
        "Propose to government X" from an approved dossier's page: choose the canonical record
        of each subject (match suggestions shown), then start or extend a draft package.
        """
        if not self.has_add_permission(request):
            raise PermissionDenied
        dossier = get_object_or_404(dossiers_for_review(request.user), pk=dossier_id)
        regime = get_object_or_404(packages.proposable_regimes(dossier), pk=regime_id)
        subjects = list(
            dossier.subjects.select_related("person_link__person").order_by("created_at", "pk")
        )
        drafts = list(packages.draft_packages_for(regime, by=request.user))
        if request.method == "POST":
            chosen = {}
            for subject in subjects:
                if request.POST.get(f"include-{subject.pk}"):
                    chosen[subject] = request.POST.get(f"record-{subject.pk}", "")
            target = request.POST.get("package", "")
            package = next((p for p in drafts if str(p.pk) == target), None)
            if target not in ("", packages.NEW) and package is None:
                raise Http404
            try:
                package = packages.propose_to_government(
                    dossier, regime, by=request.user, subjects=chosen, package=package
                )
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("Dossier %(dossier)s is in package %(package)s.")
                    % {"dossier": dossier.reference, "package": package.reference},
                    messages.SUCCESS,
                )
                self._warn(request, package)
                return self._back(package)
        rows = [
            {
                "subject": subject,
                "link": getattr(subject, "person_link", None),
                "suggestions": []
                if hasattr(subject, "person_link")
                else matching.suggest(subject, user=request.user, limit=5),
            }
            for subject in subjects
        ]
        already = (
            Package.objects.visible_to(request.user)
            .filter(regime=regime, dossiers=dossier)
            .order_by("created_at")
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Propose %(dossier)s to %(regime)s")
            % {"dossier": dossier.reference, "regime": regime.name},
            "dossier": dossier,
            "regime": regime,
            "rows": rows,
            "drafts": drafts,
            "already": already,
            "new": packages.NEW,
        }
        return TemplateResponse(request, "admin/reviews/package/propose.html", context)

    def render_view(self, request, object_id):
        package = self._package(request, object_id, post=True)
        try:
            version = packages.request_render(package, by=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, _("Version %s is being rendered.") % version.number)
        return self._back(package)

    def deliver_view(self, request, object_id):
        package = self._package(request, object_id, post=True)
        form = self._delivery_form(package, request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                packages.record_delivery(package, data.pop("version"), by=request.user, **data)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(request, _("Delivery recorded."))
        else:
            self.message_user(request, _("Fill in every field of the delivery."), messages.ERROR)
        return self._back(package)

    def response_view(self, request, object_id):
        package = self._package(request, object_id, post=True)
        form = ResponseForm(request.POST)
        if form.is_valid():
            try:
                packages.record_response(package, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(request, _("Response recorded."))
        else:
            self.message_user(request, _("Give the response and its date."), messages.ERROR)
        return self._back(package)

    def download_view(self, request, object_id, number, kind):
        package = self._package(request, object_id)
        version = get_object_or_404(package.versions, number=number, status="done")
        files = {"pdf": version.pdf, "manifest": version.manifest, "bundle": version.bundle}
        if kind not in files:
            raise Http404
        if package.recipient_key_id:
            # Nothing readable leaves the portal: only the delivery's encrypted bundle does.
            self.message_user(
                request,
                _("This package is encrypted to its recipient: download a delivery's encrypted "
                  "bundle instead."),
                messages.ERROR,
            )  # fmt: skip
            return self._back(package)
        audit.record(
            actor=request.user,
            action="brief.downloaded",
            target=package,
            data={"version": number, "file": kind},
        )
        names = {"pdf": "brief.pdf", "manifest": "manifest.json", "bundle": "bundle.zip"}
        types = {
            "pdf": "application/pdf",
            "manifest": "application/json",
            "bundle": "application/zip",
        }
        return download_response(
            files[kind],
            filename=f"{package.reference}-v{number}-{names[kind]}",
            detected_type=types[kind],
        )

    def delivery_download_view(self, request, object_id, delivery_id):
        package = self._package(request, object_id)
        delivery = get_object_or_404(
            package.deliveries.exclude(encrypted_bundle=""), pk=delivery_id
        )
        audit.record(
            actor=request.user,
            action="brief.downloaded",
            target=package,
            data={"version": delivery.version.number, "file": "encrypted-bundle",
                  "encrypted_to": delivery.key_fingerprint},
        )  # fmt: skip
        return download_response(
            delivery.encrypted_bundle,
            filename=f"{package.reference}-v{delivery.version.number}-bundle.zip.age",
            detected_type="application/age-encryption",
        )

    def exhibits_csv_view(self, request, object_id):
        package = self._package(request, object_id)
        content = packages.briefs.assemble(package, version=0)
        rows = (
            (e.number, e.evidence.dossier.reference, e.evidence.description,
             e.evidence.original_name or e.evidence.url, e.evidence.obtained_on,
             e.evidence.grade, e.evidence.sha256, e.evidence.malware_warning,
             "yes" if e.evidence.kind == "file" and e.evidence.ships_in_bundles else "no")
            for e in content.exhibits
        )  # fmt: skip
        header = ["exhibit", "dossier", "description", "file_or_url", "obtained_on", "grade",
                  "sha256", "may_be_harmful", "file_in_bundle"]  # fmt: skip
        return _csv_response(to_csv(header, rows), f"{package.reference}-exhibits.csv")


def _refusal(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    if isinstance(error, TransitionNotAllowed):
        return str(_("This package cannot make that move in its present state."))
    return str(error) or str(_("You may not do this."))


class RecipientKeyForm(forms.ModelForm):
    class Meta:
        model = RecipientKey
        fields = ["recipient", "label", "public_key"]


@admin.register(RecipientKey)
class RecipientKeyAdmin(LeadOnly, admin.ModelAdmin):
    """Ministries' public keys (age): added and deactivated, never edited or deleted."""

    form = RecipientKeyForm
    list_display = ["recipient", "label", "short_fingerprint", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["recipient", "label", "fingerprint"]
    actions = ["deactivate"]

    @admin.display(description=_("fingerprint"))
    def short_fingerprint(self, key):
        return format_html("<code>{}</code>", key.fingerprint)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ["recipient", "label", "public_key", "fingerprint", "active", "created_by"]
        return []

    def save_model(self, request, obj, form, change):
        if change:
            return
        created = packages.register_recipient_key(
            recipient=obj.recipient, label=obj.label, public_key=obj.public_key, by=request.user
        )
        obj.pk = created.pk

    @admin.action(description=_("Deactivate: no new deliveries to these keys"))
    def deactivate(self, request, queryset):
        for key in queryset.filter(active=True):
            packages.deactivate_recipient_key(key, by=request.user)


def _csv_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.register(BriefText)
class BriefTextAdmin(LeadOnly, admin.ModelAdmin):
    """
    The lead reviewer's wording of a finding for one regime's briefs about one subject. The
    NGO's answer or narrative stays as filed; saving and deleting go through
    packages.edit_brief_text, which checks and audits.
    """

    list_display = ["subject", "regime", "answer", "incident", "edited_by", "edited_at"]
    list_select_related = ["subject", "regime", "answer__criterion", "incident", "edited_by"]
    fields = ["regime", "subject", "answer", "incident", "original", "text"]
    readonly_fields = ["original"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only records of dossiers this lead may work on: a raw id field would name any
        # subject or incident (other organisations' drafts included) when the form re-renders.
        scope = {
            "subject": "dossier__in",
            "answer": "dossier__in",
            "incident": "dossier__in",
        }.get(db_field.name)
        if scope is not None:
            model = db_field.remote_field.model
            kwargs["queryset"] = model.objects.filter(
                **{scope: dossiers_for_review(request.user)}
            ).select_related("dossier")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(subject__dossier__in=dossiers_for_review(request.user))
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # what a wording is about does not change; write a new one
            return ["regime", "subject", "answer", "incident", "original"]
        return self.readonly_fields

    @admin.display(description=_("as the organisation filed it"))
    def original(self, obj: BriefText) -> str:
        if obj is None or obj.pk is None:
            return ""
        return obj.answer.explanation if obj.answer_id else obj.incident.narrative

    def save_model(self, request, obj, form, change):
        try:
            saved = packages.edit_brief_text(
                regime=obj.regime, subject=obj.subject, by=request.user, text=obj.text,
                answer=obj.answer, incident=obj.incident,
            )  # fmt: skip
        except (ValidationError, PermissionDenied) as error:
            raise PermissionDenied(" ".join(getattr(error, "messages", [str(error)]))) from error
        if saved is not None:
            obj.pk = saved.pk

    def delete_model(self, request, obj):
        packages.edit_brief_text(
            regime=obj.regime, subject=obj.subject, by=request.user, text="",
            answer=obj.answer, incident=obj.incident,
        )  # fmt: skip

    def has_delete_permission(self, request, obj=None):
        return _is_lead(request)
