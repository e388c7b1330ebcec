"""
Give the exhibits and sources filed before stable references their numbers: in each dossier,
in the order they were added (E1, E2 ... and W1, W2 ...), and set each dossier's counters.
"""

from django.db import migrations


def backfill(apps, schema_editor):
    Dossier = apps.get_model("submissions", "Dossier")
    ReferenceCounter = apps.get_model("submissions", "ReferenceCounter")
    numbered = (
        (apps.get_model("submissions", "Evidence"), "exhibits", "E"),
        (apps.get_model("submissions", "Source"), "sources", "W"),
    )
    for dossier_id in Dossier.objects.values_list("pk", flat=True).iterator(chunk_size=2000):
        counters = {"exhibits": 0, "sources": 0}
        for model, counter, letter in numbered:
            rows = model.objects.filter(dossier_id=dossier_id).order_by("created_at", "pk")
            last = max(
                rows.exclude(number__isnull=True).values_list("number", flat=True), default=0
            )
            for pk in rows.filter(number__isnull=True).values_list("pk", flat=True):
                last += 1
                model.objects.filter(pk=pk).update(
                    number=last, reference=f"D{dossier_id}-{letter}{last}"
                )
            counters[counter] = last
        if any(counters.values()):
            ReferenceCounter.objects.update_or_create(dossier_id=dossier_id, defaults=counters)


class Migration(migrations.Migration):
    dependencies = [("submissions", "0010_stable_references")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False)]
