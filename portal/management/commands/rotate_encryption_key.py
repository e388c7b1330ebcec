from django.core.management.base import BaseCommand
from django.db import transaction

from portal.crypto import encrypted_fields


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field with the first key of FIELD_ENCRYPTION_KEYS. "
        "Put the new key first, run this, then drop the old key."
    )

    def handle(self, *args, **options):
        for model, names in encrypted_fields():
            count = 0
            rows = model._default_manager.only("pk", *names).order_by("pk")
            for row in rows.iterator(chunk_size=500):
                # Loading decrypts with any key; saving encrypts with the first.
                with transaction.atomic():
                    model._default_manager.filter(pk=row.pk).update(
                        **{name: getattr(row, name) for name in names}
                    )
                count += 1
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted.")
