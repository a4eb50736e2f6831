"""The four staff groups and their permissions."""

from django.db import migrations

from participation.migration_support import create_all_permissions, grant

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
    create_all_permissions(apps)
    for name, codenames in GROUPS.items():
        grant(apps, name, codenames, replace=True)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("participation", "0002_items_ballots_consultations"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
