"""
Background work of the transparency app: the daily snapshot (beat, `default` queue) and
oversight reports (the `briefs` queue, by CELERY_TASK_ROUTES). Both are safe to run twice.
"""

from celery import shared_task


@shared_task
def compute_snapshot() -> int:
    """Compute the public statistics (daily); returns the id of the latest snapshot."""
    from . import services

    return services.compute_snapshot().pk


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def render_oversight_report(report_id: int) -> None:
    """Render one oversight report's PDF; does nothing if it is gone or already done."""
    from . import services
    from .models import OversightReport

    report = OversightReport.objects.filter(pk=report_id).select_related("regime").first()
    if report is None:
        return
    services.render_oversight_report(report)
