from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from submissions import services
from submissions.models import Dossier


class Command(BaseCommand):
    help = (
        "Purge withdrawn and rejected dossiers (files included) older than "
        "PORTAL_RETENTION_DAYS, except those on legal hold. --dry-run lists them only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List, change nothing.")

    def handle(self, *args, dry_run=False, **options):
        due = Dossier.objects.purgeable(timezone.now(), settings.RETENTION_DAYS)
        if dry_run:
            for dossier in due.select_related("organisation"):
                self.stdout.write(
                    f"{dossier.reference}\t{dossier.status}\t{dossier.status_changed_at:%Y-%m-%d}"
                    f"\t{dossier.organisation.name}"
                )
            self.stdout.write(f"{due.count()} dossiers would be purged.")
            return
        purged = services.purge_expired_dossiers()
        self.stdout.write(self.style.SUCCESS(f"{len(purged)} dossiers purged."))
