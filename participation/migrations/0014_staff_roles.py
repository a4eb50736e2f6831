"""Ministry staff may remove questions, options and sections of their drafts (on the item's own page).

Nothing that has opened can lose them: the admin locks the inlines and the triggers of 0012_frozen_content refuse.
"""

from django.db import migrations

from participation.migration_support import grant

ADDED = {"Ministry staff": ["delete_question", "delete_option", "delete_section"]}


def add_permissions(apps, schema_editor):
    for name, codenames in ADDED.items():
        grant(apps, name, codenames)


def remove_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ADDED.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="participation", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [("participation", "0013_outbox")]

    operations = [migrations.RunPython(add_permissions, remove_permissions)]
