"""
Background work of the designations app, on the `designations` queue (portal/settings.py).

Thin wrappers around services: an import of the same file twice changes nothing, screening
twice keeps the reviewers' answers, a notification looks its rows up again.
"""

from celery import shared_task

RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}


@shared_task
def import_list(format: str, location: str, source: str = "", by_id: int | None = None):
    """Import one list file or URL (see services.import_designations); return the run's id."""
    from portal.models import User

    from . import services

    by = User.objects.filter(pk=by_id).first() if by_id else None
    run = services.import_designations(format=format, location=location, source=source, by=by)
    return run.pk if run else None


@shared_task(**RETRY)
def fetch_configured_lists() -> list[int]:
    """Fetch and import each list of settings.DESIGNATION_LIST_URLS that changed (beat)."""
    from . import services

    return [run.pk for run in services.fetch_configured_lists()]


@shared_task
def screen_everyone() -> int:
    """Screen every canonical person and unlinked filed subject against designations."""
    from . import services

    return services.screen_everyone()


@shared_task
def screen_person(person_id: int) -> int:
    """Screen one canonical record (new, or a subject linked to it); 0 if it has gone."""
    from reviews.models import Person

    from . import services

    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        return 0
    return len(services.screen_person(person))


@shared_task
def screen_dossier(dossier_id: int) -> int:
    """Screen the subjects of a dossier, e.g. once it is submitted."""
    from . import services

    return services.screen_dossier(dossier_id)


@shared_task(**RETRY)
def notify_package_outcome(outcome_id: int) -> int:
    """Tell a package's lead reviewer and its organisations that its person was designated."""
    from . import notifications
    from .models import PackageOutcome

    outcome = (
        PackageOutcome.objects.filter(pk=outcome_id)
        .select_related("package__created_by", "package__regime", "designation")
        .first()
    )
    if outcome is None:
        return 0
    return notifications.email_package_outcome(outcome)
