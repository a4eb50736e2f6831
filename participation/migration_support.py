"""What the data migrations that make the staff groups share: create the permissions, give them to a group.

Migrations 0003_groups, 0006_audit_append_only_and_auditors, 0012_frozen_content and 0014_staff_roles import it,
so it is part of their history: never change what a function here does (a migration that has run must run the same
on a new database); add a new function instead. It takes the historical `apps` of the migration, never real models.
What the roles then allow is decided in participation/permissions.py.
"""

from django.contrib.auth.management import create_permissions


def create_all_permissions(apps):
    """Create every installed model's permissions now (Django makes them only after the last migration)."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def grant(apps, group_name, codenames, *, replace=False, app_label="participation"):
    """Give the group (made if missing) these permissions of the app; refuse when one does not exist.

    `replace` sets the group's permissions to exactly these; otherwise they are added to what it has.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name=group_name)
    permissions = list(Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
    missing = set(codenames) - {permission.codename for permission in permissions}
    if missing:
        raise RuntimeError(f"Permissions missing for group {group_name}: {sorted(missing)}")
    if replace:
        group.permissions.set(permissions)
    else:
        group.permissions.add(*permissions)
    return group
