from pathlib import Path

from django.core.management.base import BaseCommand

from submissions.checklist import DATA_FILE, load_checklist


class Command(BaseCommand):
    help = "Load regimes, categories, roles and the checklist from the data file (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DATA_FILE))

    def handle(self, *args, path, **options):
        version = load_checklist(Path(path))
        self.stdout.write(self.style.SUCCESS(f"Checklist version {version} loaded."))
