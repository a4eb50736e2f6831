"""The database's guards on the audit trail (participation/migrations/0009_audit_anchor.py), lifted and put back.

Two users only: `flush`, which ends every transactional test by emptying all tables (the guards rightly
refuse that), and the tamper helpers, which play an attacker who has lifted them. Each guard is put back
exactly as it was: on PostgreSQL in its own enable mode (ALWAYS), on SQLite from its own CREATE statement.
"""

from django.db import connection as default_connection

AUDIT_TABLE = "participation_auditentry"
PG_ENABLE = {"A": "ENABLE ALWAYS TRIGGER", "O": "ENABLE TRIGGER", "R": "ENABLE REPLICA TRIGGER", "D": "DISABLE TRIGGER"}


def guard_statements(connection=default_connection):
    """(statements that lift every trigger on the audit table, statements that put them back)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal ORDER BY tgname",
                [AUDIT_TABLE],
            )
            triggers = cursor.fetchall()
            lift = [f"ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER {name}" for name, _mode in triggers]
            restore = [f"ALTER TABLE {AUDIT_TABLE} {PG_ENABLE[mode]} {name}" for name, mode in triggers]
            return lift, restore
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s ORDER BY name", [AUDIT_TABLE]
            )
            triggers = cursor.fetchall()
            return [f"DROP TRIGGER {name}" for name, _sql in triggers], [sql for _name, sql in triggers]
    return [], []


def flush_passing_audit_guards(sql_flush):
    """Wrap django.core.management.sql.sql_flush: when the audit table is flushed, lift its guards around it."""

    def wrapped(style, connection, *args, **kwargs):
        statements = sql_flush(style, connection, *args, **kwargs)
        if not any(AUDIT_TABLE in statement for statement in statements):
            return statements
        lift, restore = guard_statements(connection)
        return [*lift, *statements, *restore]

    return wrapped
