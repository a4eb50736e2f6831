"""A stored result cannot change: the database refuses UPDATE, DELETE (and, on PostgreSQL, TRUNCATE).

Result.save() and delete() already refuse in Python; these triggers refuse raw SQL too, so that
someone with an SQL prompt cannot quietly change the numbers that the results page shows.
PostgreSQL: ENABLE ALWAYS, so `SET session_replication_role = replica` does not switch them off.
SQLite: a table rebuild (an AlterField that SQLite cannot do in place) drops a table's triggers;
a later migration that rebuilds participation_result must create them again
(tests/participation/test_result_immutable.py fails if it does not).

Also the audit action "tally": the counts and the ballots digest of every tally go on the trail.
"""

from django.db import migrations, models

POSTGRESQL_FORBID = """
CREATE OR REPLACE FUNCTION participation_result_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a stored result is immutable (% refused)', TG_OP USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER participation_result_immutable
    BEFORE UPDATE OR DELETE ON participation_result
    FOR EACH ROW EXECUTE FUNCTION participation_result_immutable();
CREATE TRIGGER participation_result_no_truncate
    BEFORE TRUNCATE ON participation_result
    FOR EACH STATEMENT EXECUTE FUNCTION participation_result_immutable();
ALTER TABLE participation_result ENABLE ALWAYS TRIGGER participation_result_immutable;
ALTER TABLE participation_result ENABLE ALWAYS TRIGGER participation_result_no_truncate;
"""
POSTGRESQL_ALLOW = """
DROP TRIGGER IF EXISTS participation_result_no_truncate ON participation_result;
DROP TRIGGER IF EXISTS participation_result_immutable ON participation_result;
DROP FUNCTION IF EXISTS participation_result_immutable();
"""
SQLITE_FORBID = [
    """CREATE TRIGGER participation_result_no_update BEFORE UPDATE ON participation_result
    BEGIN SELECT RAISE(ABORT, 'a stored result is immutable (UPDATE refused)'); END""",
    """CREATE TRIGGER participation_result_no_delete BEFORE DELETE ON participation_result
    BEGIN SELECT RAISE(ABORT, 'a stored result is immutable (DELETE refused)'); END""",
]
SQLITE_ALLOW = [
    "DROP TRIGGER IF EXISTS participation_result_no_update",
    "DROP TRIGGER IF EXISTS participation_result_no_delete",
]


def forbid_changes(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FORBID, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORBID:
            schema_editor.execute(statement, params=None)


def allow_changes(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_ALLOW, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_ALLOW:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("participation", "0009_audit_anchor")]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("create", "Created"),
                    ("change", "Changed"),
                    ("delete", "Deleted"),
                    ("state", "State changed"),
                    ("moderate", "Moderated"),
                    ("export", "Exported"),
                    ("login", "Staff log-in"),
                    ("verify", "Identity verified"),
                    ("tally", "Results counted"),
                ],
                db_index=True,
                max_length=10,
                verbose_name="action",
            ),
        ),
        migrations.RunPython(forbid_changes, allow_changes),
    ]
