"""The audit trail is append-only in the database too (PostgreSQL trigger), and auditors may export."""

from django.db import migrations

from participation.migration_support import create_all_permissions

FORBID_SQL = """
CREATE OR REPLACE FUNCTION participation_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER participation_auditentry_append_only
    BEFORE UPDATE OR DELETE ON participation_auditentry
    FOR EACH ROW EXECUTE FUNCTION participation_audit_append_only();
"""
UNFORBID_SQL = """
DROP TRIGGER IF EXISTS participation_auditentry_append_only ON participation_auditentry;
DROP FUNCTION IF EXISTS participation_audit_append_only();
"""


def forbid_changes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID_SQL, params=None)


def allow_changes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNFORBID_SQL, params=None)


def grant_auditors(apps, schema_editor):
    create_all_permissions(apps)
    # Added without refusing a missing one, as this migration always did (grant() would refuse).
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    auditors, _ = Group.objects.get_or_create(name="Auditors")
    auditors.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="participation",
            codename__in=["export_results", "view_auditentry", "view_result"],
        )
    )
    admins, _ = Group.objects.get_or_create(name="Ministry admins")
    admins.permissions.add(*Permission.objects.filter(content_type__app_label="participation", codename="view_result"))


class Migration(migrations.Migration):
    dependencies = [("participation", "0005_audit_trail")]

    operations = [
        migrations.RunPython(forbid_changes, allow_changes),
        migrations.RunPython(grant_auditors, migrations.RunPython.noop),
    ]
