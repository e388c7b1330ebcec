from django.db import migrations


def load(apps, schema_editor):
    from submissions.checklist import load_checklist

    load_checklist(apps=apps)


class Migration(migrations.Migration):
    dependencies = [("submissions", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
