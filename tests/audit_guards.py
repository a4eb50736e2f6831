"""The database's guards on the audit trail (participation/migrations/0009_audit_anchor.py), lifted and put back.

Two users only: `flush`, which ends every transactional test by emptying all tables (the guards rightly
refuse that), and the tamper helpers, which play an attacker who has lifted them. Each guard is put back
exactly as it was: on PostgreSQL in its own enable mode (ALWAYS), on SQLite from its own CREATE statement.
"""

from django.db import connection as default_connection
from django.db import transaction

AUDIT_TABLE = "participation_auditentry"
PG_ENABLE = {"A": "ENABLE ALWAYS TRIGGER", "O": "ENABLE TRIGGER", "R": "ENABLE REPLICA TRIGGER", "D": "DISABLE TRIGGER"}


def guard_statements(connection=default_connection, table=AUDIT_TABLE):
    """(statements that lift every trigger on the table, statements that put them back); every table if None."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal "
                "AND n.nspname = current_schema() AND (%s::text IS NULL OR c.relname = %s) ORDER BY c.relname, t.tgname",
                [table, table],
            )
            triggers = cursor.fetchall()
            lift = [f"ALTER TABLE {name} DISABLE TRIGGER {trigger}" for name, trigger, _mode in triggers]
            restore = [f"ALTER TABLE {name} {PG_ENABLE[mode]} {trigger}" for name, trigger, mode in triggers]
            return lift, restore
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND (%s IS NULL OR tbl_name = %s) "
                "ORDER BY name",
                [table, table],
            )
            triggers = cursor.fetchall()
            return [f"DROP TRIGGER {name}" for name, _sql in triggers], [sql for _name, sql in triggers]
    return [], []


def flush_passing_audit_guards(sql_flush):
    """Wrap django.core.management.sql.sql_flush: when the tables are flushed, lift every guard trigger around it
    (the audit trail's, the stored results', the frozen content's)."""

    def wrapped(style, connection, *args, **kwargs):
        statements = sql_flush(style, connection, *args, **kwargs)
        if not statements:
            return statements
        lift, restore = guard_statements(connection, table=None)
        return [*lift, *statements, *restore]

    return wrapped


def tamper_with_audit_log(sql, params):
    """Run one UPDATE or DELETE on the audit table as an attacker who can lift the database's guards.

    Every trigger on the audit table is lifted for the statement and put back afterwards as it was
    (PostgreSQL: disabled and enabled ALWAYS again; SQLite: dropped and created again).
    """
    connection = default_connection
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks of this test's inserts are "pending trigger events", which
            # ALTER TABLE refuses to run beside: check them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        lift, restore = guard_statements(connection)
        for statement in lift:
            cursor.execute(statement)
        cursor.execute(sql, params)
        for statement in restore:
            cursor.execute(statement)
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def tamper_object_repr(entry, text="x"):
    tamper_with_audit_log("UPDATE participation_auditentry SET object_repr = %s WHERE id = %s", [text, entry.pk])


def remove_audit_entry(entry):
    tamper_with_audit_log("DELETE FROM participation_auditentry WHERE id = %s", [entry.pk])
