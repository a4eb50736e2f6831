"""The audit trail, anchored: entries keyed with HMAC-SHA256 and guarded by the database against every kind of erasure.

1. Entries written before this migration were hashed with plain SHA-256. Their chain is verified as it
   stands (the migration refuses to run on a broken chain, so that nothing tampered with is signed) and
   then re-signed with the audit key (settings.AUDIT_HMAC_KEY): same contents, same order, keyed hashes.
2. PostgreSQL: a statement-level trigger refuses TRUNCATE (a row trigger never sees it), and both
   triggers are ENABLE ALWAYS, so `SET session_replication_role = replica` does not switch them off.
   SQLite: BEFORE UPDATE and BEFORE DELETE triggers abort (SQLite has no TRUNCATE; its DELETE without
   WHERE fires row triggers, which also turns off its truncate optimisation).

docs/audit.md says what remains possible for a database superuser, and how checkpoints catch it.
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.db import migrations

TABLE = "participation_auditentry"
GENESIS = "0" * 64

POSTGRESQL_GUARD = f"""
CREATE TRIGGER participation_auditentry_no_truncate
    BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION participation_audit_append_only();
ALTER TABLE {TABLE} ENABLE ALWAYS TRIGGER participation_auditentry_append_only;
ALTER TABLE {TABLE} ENABLE ALWAYS TRIGGER participation_auditentry_no_truncate;
"""
POSTGRESQL_UNGUARD = f"""
DROP TRIGGER IF EXISTS participation_auditentry_no_truncate ON {TABLE};
ALTER TABLE {TABLE} ENABLE TRIGGER participation_auditentry_append_only;
"""
SQLITE_GUARD = [
    f"""CREATE TRIGGER participation_auditentry_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only (UPDATE refused)'); END""",
    f"""CREATE TRIGGER participation_auditentry_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only (DELETE refused)'); END""",
]
SQLITE_UNGUARD = [
    "DROP TRIGGER IF EXISTS participation_auditentry_no_update",
    "DROP TRIGGER IF EXISTS participation_auditentry_no_delete",
]


def _canonical(entry):
    """The canonical JSON of participation.audit.canonical, as it was when this migration was written."""
    fields = {
        "created_at": entry.created_at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "entity_id": entry.entity_id,
        "details": entry.details,
        "ip_address": entry.ip_address,
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _sha256(previous, entry):
    return hashlib.sha256(f"{previous}\n{_canonical(entry)}".encode()).hexdigest()


def _hmac(previous, entry):
    return hmac.new(settings.AUDIT_HMAC_KEY, f"{previous}\n{_canonical(entry)}".encode(), hashlib.sha256).hexdigest()


def _rechain(apps, schema_editor, old, new):
    """Verify every entry under the old scheme, then write the whole chain again under the new one."""
    AuditEntry = apps.get_model("participation", "AuditEntry")
    connection = schema_editor.connection
    entries = list(AuditEntry.objects.using(connection.alias).order_by("pk"))
    previous = GENESIS
    for entry in entries:
        if entry.previous_hash != previous or old(previous, entry) != entry.entry_hash:
            raise RuntimeError(
                f"The audit trail is broken at entry {entry.pk}; refusing to re-sign it. "
                "Run `python manage.py verify_audit_log` on the release before this one and investigate first."
            )
        previous = entry.entry_hash
    if not entries:
        return
    previous = GENESIS
    for entry in entries:
        entry.previous_hash = previous
        entry.entry_hash = new(previous, entry)
        previous = entry.entry_hash
    if connection.vendor == "postgresql":
        # Pending deferred foreign-key checks block ALTER TABLE; nothing here changes a key.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER participation_auditentry_append_only")
    AuditEntry.objects.using(connection.alias).bulk_update(entries, ["previous_hash", "entry_hash"], batch_size=500)
    if connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER participation_auditentry_append_only")


def sign_with_key(apps, schema_editor):
    _rechain(apps, schema_editor, _sha256, _hmac)


def unsign(apps, schema_editor):
    _rechain(apps, schema_editor, _hmac, _sha256)


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_GUARD, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_GUARD:
            schema_editor.execute(statement, params=None)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_UNGUARD, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_UNGUARD:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("participation", "0008_referendum_ballot_without_segment")]

    operations = [
        # Guards last going forward, first going back: re-signing rewrites every row once.
        migrations.RunPython(sign_with_key, unsign),
        migrations.RunPython(guard, unguard),
    ]
