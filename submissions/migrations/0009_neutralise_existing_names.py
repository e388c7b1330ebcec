"""Clean the names and texts stored before NameField: the same function as every new save."""

from django.db import migrations

FIELDS = {
    "dossier": ["title"],
    "subject": ["name", "name_original", "birth_place"],
    "incident": ["title", "place"],
    "positionheld": ["title", "organisation"],
    "source": ["pseudonym"],
    "evidence": ["posted_by"],
}


def neutralise(apps, schema_editor):
    from submissions.fields import neutralise_name, neutralise_text

    def clean(model, names, function):
        for row in model.objects.only("pk", *names).iterator(chunk_size=2000):
            changed = {
                name: function(getattr(row, name))
                for name in names
                if getattr(row, name) and function(getattr(row, name)) != getattr(row, name)
            }
            if changed:
                model.objects.filter(pk=row.pk).update(**changed)

    for model_name, names in FIELDS.items():
        clean(apps.get_model("submissions", model_name), names, neutralise_name)
    clean(apps.get_model("submissions", "evidence"), ["description"], neutralise_text)
    Subject = apps.get_model("submissions", "subject")
    for row in Subject.objects.only("pk", "aliases").iterator(chunk_size=2000):
        aliases = [neutralise_name(a) if isinstance(a, str) else a for a in row.aliases or []]
        if aliases != row.aliases:
            Subject.objects.filter(pk=row.pk).update(aliases=aliases)


class Migration(migrations.Migration):
    dependencies = [("submissions", "0008_neutralised_names")]

    operations = [migrations.RunPython(neutralise, migrations.RunPython.noop)]
