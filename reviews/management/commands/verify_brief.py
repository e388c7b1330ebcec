from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reviews.briefs import verify


class Command(BaseCommand):
    help = (
        "Verify a brief: the PDF and every exhibit against the SHA-256s in its manifest. "
        "Takes the ZIP bundle, or a folder holding manifest.json, brief.pdf and exhibits/."
    )

    def add_arguments(self, parser):
        parser.add_argument("bundle", help="bundle ZIP or unpacked folder")

    def handle(self, *args, bundle, **options):
        path = Path(bundle)
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        checks = verify(path)
        for check in checks:
            mark = self.style.SUCCESS("ok  ") if check.ok else self.style.ERROR("FAIL")
            self.stdout.write(f"{mark} {check.name} {check.detail}".rstrip())
        failed = [c.name for c in checks if not c.ok]
        if failed:
            raise CommandError(f"Verification failed for: {', '.join(failed)}.")
        self.stdout.write(self.style.SUCCESS(f"All {len(checks)} files match the manifest."))
