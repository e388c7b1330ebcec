"""
Lead reviewers request oversight reports here and download them; every change goes through
transparency.services, and every download is audited.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal import audit

from . import services
from .models import OversightReport, Snapshot


def _is_lead(request) -> bool:
    return getattr(request.user, "is_lead_reviewer", False)


class LeadOnly:
    """Reports and snapshots are the lead reviewers' business in the review site."""

    def has_module_permission(self, request):
        return _is_lead(request)

    def has_view_permission(self, request, obj=None):
        return _is_lead(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OversightReportForm(forms.ModelForm):
    year = forms.IntegerField(
        label=_("Year"), min_value=2000, max_value=2100, initial=lambda: timezone.now().year
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    class Meta:
        model = OversightReport
        fields = ["regime", "year", "language"]


@admin.register(OversightReport)
class OversightReportAdmin(LeadOnly, admin.ModelAdmin):
    form = OversightReportForm
    list_display = ["regime", "year", "language", "status", "pages", "requested_at", "download"]
    list_filter = ["status", "language", "regime"]
    list_select_related = ["regime"]
    readonly_fields = [
        *["regime", "year", "language", "snapshot", "status", "error", "pages", "pdf_sha256"],
        *["requested_by", "requested_at", "rendered_at", "download"],
    ]
    show_full_result_count = False

    def has_add_permission(self, request, obj=None):
        return _is_lead(request)

    def get_fields(self, request, obj=None):
        return ["regime", "year", "language"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            created = services.request_oversight_report(
                regime=data["regime"], year=data["year"], language=data["language"],
                by=request.user,
            )  # fmt: skip
        except ValidationError as error:
            # Nothing was saved; say why on the list the admin returns to.
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            obj.pk = None
            return
        obj.pk = created.pk

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:
            return self.response_post_save_add(request, obj)
        self.message_user(request, _("The report is being rendered; reload this page."))
        return super().response_post_save_change(request, obj)

    def log_addition(self, request, obj, message):
        """The audit log records the request (services); admin's own log is not needed."""

    def save_related(self, request, form, formsets, change):
        """A report has no related rows to save."""

    @admin.display(description=_("PDF"))
    def download(self, report: OversightReport):
        if report.status != OversightReport.Status.DONE:
            return report.get_status_display()
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:transparency_oversightreport_download", args=[report.pk]),
            _("Download"),
        )

    def get_urls(self):
        return [
            path(
                "<int:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="transparency_oversightreport_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        report = get_object_or_404(
            OversightReport.objects.select_related("regime"), pk=object_id, status="done"
        )
        if not report.pdf:
            raise Http404
        audit.record(
            actor=request.user, action="oversight_report.downloaded", target=report, data={}
        )
        filename = f"oversight-{report.regime.key}-{report.year}-{report.language}.pdf"
        return FileResponse(report.pdf.open("rb"), as_attachment=True, filename=filename)


@admin.register(Snapshot)
class SnapshotAdmin(LeadOnly, admin.ModelAdmin):
    list_display = ["computed_at", "until", "threshold", "fingerprint"]
    fields = ["computed_at", "until", "threshold", "fingerprint", "data"]
    readonly_fields = fields
    show_full_result_count = False
