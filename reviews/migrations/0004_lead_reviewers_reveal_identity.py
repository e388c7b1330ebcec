"""Give the lead reviewers' group the permission to reveal witness identities."""

from django.db import migrations

LEAD_REVIEWERS_GROUP = "Lead reviewers"


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    # Permissions are otherwise created after all migrations (post_migrate): make this one now.
    content_type, _ = ContentType.objects.get_or_create(app_label="reviews", model="assignment")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename="reveal_identity",
        defaults={"name": "Can reveal the real identity of a witness or source"},
    )
    group, _ = Group.objects.get_or_create(name=LEAD_REVIEWERS_GROUP)
    group.permissions.add(permission)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    permission = Permission.objects.filter(
        content_type__app_label="reviews", codename="reveal_identity"
    ).first()
    group = Group.objects.filter(name=LEAD_REVIEWERS_GROUP).first()
    if permission and group:
        group.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0003_review_workflow_and_persons"),
        ("portal", "0002_roles_and_audit_head"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
