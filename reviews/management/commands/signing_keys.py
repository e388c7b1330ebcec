from django.core.management.base import BaseCommand

from reviews import signing


class Command(BaseCommand):
    help = (
        "List the brief-signing keys (fingerprint and status, newest first), or with --generate "
        "print a new Ed25519 private key (PEM) to put first in PORTAL_SIGNING_KEY."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--generate", action="store_true", help="print a new private key (keep it secret)"
        )

    def handle(self, *args, generate=False, **options):
        if generate:
            self.stdout.write(settings_module_new_key(), ending="")
            return
        for key in signing.public_keys():
            self.stdout.write(f"{key.grouped}  {key.status}")


def settings_module_new_key() -> str:
    from portal.keys import new_signing_key

    return new_signing_key()
