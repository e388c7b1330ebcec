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
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal import audit, health
from portal.storage import download_response
from submissions.services import TransitionNotAllowed

from . import packages
from .csv_export import to_csv
from .models import BriefVersion, Package, RecipientKey
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

    def save_related(self, request, form, formsets, change):
        """The services have set persons and dossiers; versions are never edited here."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        package = self.get_object(request, object_id)
        extra = extra_context or {}
        if package is not None:
            versions = package.versions.all()
            extra.update(
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
