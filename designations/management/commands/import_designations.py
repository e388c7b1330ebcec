"""python manage.py import_designations --format FORMAT PATH_OR_URL [--source NAME] [--queue]"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from designations import services, tasks
from designations.models import Format


class Command(BaseCommand):
    help = "Import a published designation list (FtM, OFAC SDN XML, UK Sanctions List)."

    def add_arguments(self, parser):
        parser.add_argument("location", help="a file path, or an http(s) URL to fetch")
        parser.add_argument("--format", required=True, choices=Format.values)
        parser.add_argument(
            "--source",
            default="",
            help="the list's source name; delisting compares files of the same source "
            "(default: us-ofac-sdn, gb-fcdo or opensanctions, by format)",
        )
        parser.add_argument(
            "--queue", action="store_true", help="run on the designations queue instead of here"
        )

    def handle(self, *args, location, format, source, queue, **options):
        if queue:
            result = tasks.import_list.delay(format, location, source)
            self.stdout.write(f"Queued as task {result.id}.")
            return
        try:
            run = services.import_designations(format=format, location=location, source=source)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            f"{run.source}: {run.status}, {run.entries} entries read, {run.added} added, "
            f"{run.changed} changed, {run.unchanged} unchanged, {run.delisted} delisted, "
            f"{run.skipped} skipped, {run.errors} errors; SHA-256 {run.sha256 or '-'}"
        )
        for key, count in run.unknown_programs.items():
            self.stdout.write(f"  unknown program key {key}: {count}")
        for error in run.error_log[:20]:
            self.stdout.write(f"  error at {error['entry']}: {error['message']}")
        if run.failure:
            raise CommandError(run.failure)
