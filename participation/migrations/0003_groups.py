"""The four staff groups and their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ITEM_MODELS = ["item", "poll", "referendum", "consultation", "question", "option", "section"]

GROUPS = {
    "Ministry staff": [f"{action}_{model}" for model in ITEM_MODELS for action in ("add", "change", "view")]
    + ["view_comment", "view_entity"],
    "Ministry admins": [f"{action}_{model}" for model in ITEM_MODELS for action in ("add", "change", "delete", "view")]
    + ["view_comment", "view_entity", "schedule_item"],
    "Moderators": ["view_item", "view_consultation", "view_section", "view_comment", "change_comment", "moderate_comment"],
    "Auditors": [f"view_{model}" for model in ITEM_MODELS]
    + ["view_comment", "view_entity", "view_all_entities", "view_pagefeedback"],
}


def create_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = list(Permission.objects.filter(content_type__app_label="participation", codename__in=codenames))
        missing = set(codenames) - {p.codename for p in permissions}
        if missing:
            raise RuntimeError(f"Permissions missing for group {name}: {sorted(missing)}")
        group.permissions.set(permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("participation", "0002_items_ballots_consultations"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
