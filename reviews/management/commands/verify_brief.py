from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reviews.verifier import verify as verifier


class Command(BaseCommand):
    help = (
        "Verify a brief bundle with the standalone verifier shipped in it (verify.py): the "
        "manifest's signature and timestamp, the file set, every SHA-256 and the PDF's annex. "
        "Takes the ZIP bundle, or the folder it was unpacked into."
    )

    def add_arguments(self, parser):
        parser.add_argument("bundle", help="bundle ZIP or unpacked folder")
        parser.add_argument("--keys", help="a published key list (keys.json) to check against")
        parser.add_argument("--fingerprint", help="the signing key's fingerprint you expect")

    def handle(self, *args, bundle, keys=None, fingerprint=None, **options):
        path = Path(bundle)
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        try:
            report = verifier.verify(path, keys_file=keys, fingerprint=fingerprint)
        except verifier.VerificationError as error:
            raise CommandError(str(error)) from None
        for check in report.checks:
            mark = self.style.SUCCESS("ok  ") if check.ok else self.style.ERROR("FAIL")
            self.stdout.write(f"{mark} {check.name} {check.detail}".rstrip())
        if not report.ok:
            raise CommandError(report.summary())
        self.stdout.write(self.style.SUCCESS(report.summary()))
