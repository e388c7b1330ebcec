from django.db import migrations

REVIEWERS_GROUP = "Reviewers"
LEAD_REVIEWERS_GROUP = "Lead reviewers"
GENESIS_HASH = "0" * 64


def create_groups_and_chain_head(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in (REVIEWERS_GROUP, LEAD_REVIEWERS_GROUP):
        Group.objects.get_or_create(name=name)
    AuditChainHead = apps.get_model("portal", "AuditChainHead")
    AuditChainHead.objects.get_or_create(pk=1, defaults={"sequence": 0, "hash": GENESIS_HASH})


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(create_groups_and_chain_head, migrations.RunPython.noop),
    ]
