from django.core.management.base import BaseCommand, CommandError

from portal import audit


class Command(BaseCommand):
    help = (
        "Recompute the audit log's keyed hash chain end to end and check it against every "
        "checkpoint in the anchor store; exit non-zero if anything does not fit."
    )

    def handle(self, *args, **options):
        report = audit.verify_chain()
        if not report.ok:
            raise CommandError(
                f"Audit log is broken after {report.checked} good events: {report.problem}."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit log intact: {report.checked} events, "
                f"consistent with {report.checkpoints} checkpoints."
            )
        )
