from django.core.management.base import BaseCommand, CommandError

from portal import audit


class Command(BaseCommand):
    help = (
        "Verify the audit log, then write a signed checkpoint of its last event to the anchor "
        "store (outside the database). The beat schedule does this daily."
    )

    def handle(self, *args, **options):
        try:
            checkpoint = audit.write_checkpoint()
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Checkpoint {checkpoint.name}: {checkpoint.count} events, "
                f"last #{checkpoint.sequence} {checkpoint.hash}."
            )
        )
