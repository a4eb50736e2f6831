"""Content frozen once people take part, in the database.

From the moment an item opens (state open, closed or published, or scheduled
with opens_at passed by the database's clock) the database refuses:
- changing its title, summary, body, attachment or audience;
- moving it back to a state in which it has not opened (which would unlock it);
- inserting, changing or deleting its sections, questions and options.
It refuses deleting any item that is no longer a draft, and changing or
deleting a correction. State, dates, outcome fields and updated_at stay
writable: the lifecycle writes them.

Refusals raise an integrity error (SQLSTATE 23001 on PostgreSQL, RAISE(ABORT)
on SQLite) whose message contains "content is frozen" or "corrections are
append-only"; participation.admin turns them into form errors. PostgreSQL
triggers are ENABLE ALWAYS, so `session_replication_role = replica` does not
switch them off.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from participation.migration_support import create_all_permissions

# The columns people saw when they took part (participation.models.FROZEN_ITEM_FIELDS, as of this migration).
FROZEN_COLUMNS = (
    "title_ar", "title_en", "summary_ar", "summary_en", "body_ar", "body_en", "attachment",
    "for_visitors", "for_citizens", "for_residents",
    "only_students", "only_tourists", "only_business_owners", "only_parents", "only_employees",
    "requires_verified_identity",
)
OPENED = "{0}.state IN ('open', 'closed', 'published') OR ({0}.state = 'scheduled' AND {0}.opens_at <= {1})"

# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------

PG_NOW = "now()"
PG_COLUMNS_CHANGED = "({new}) IS DISTINCT FROM ({old})".format(
    new=", ".join(f"NEW.{c}" for c in FROZEN_COLUMNS), old=", ".join(f"OLD.{c}" for c in FROZEN_COLUMNS)
)

PG_FORWARD = f"""
CREATE OR REPLACE FUNCTION participation_item_id_has_opened(target bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM participation_item i WHERE i.id = target AND ({OPENED.format("i", PG_NOW)}))
$$;

CREATE OR REPLACE FUNCTION participation_item_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.state <> 'draft' THEN
            RAISE EXCEPTION 'participation_item %: content is frozen, only a draft can be deleted', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF {OPENED.format("OLD", PG_NOW)} THEN
        IF {PG_COLUMNS_CHANGED} THEN
            RAISE EXCEPTION 'participation_item %: content is frozen once the item has opened (publish a correction)', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF NOT ({OPENED.format("NEW", PG_NOW)}) THEN
            RAISE EXCEPTION 'participation_item %: content is frozen, an item that has opened cannot be un-opened', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION participation_item_part_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_item bigint;
    new_item bigint;
BEGIN
    -- Options belong to an item through their question; sections and questions directly.
    IF TG_TABLE_NAME = 'participation_option' THEN
        IF TG_OP <> 'INSERT' THEN
            SELECT item_id INTO old_item FROM participation_question WHERE id = OLD.question_id;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            SELECT item_id INTO new_item FROM participation_question WHERE id = NEW.question_id;
        END IF;
    ELSE
        IF TG_OP <> 'INSERT' THEN old_item := OLD.item_id; END IF;
        IF TG_OP <> 'DELETE' THEN new_item := NEW.item_id; END IF;
    END IF;
    IF participation_item_id_has_opened(old_item) OR participation_item_id_has_opened(new_item) THEN
        RAISE EXCEPTION '%: content is frozen once the item has opened (% refused)', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION participation_correction_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'participation_itemcorrection: corrections are append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER participation_item_frozen
    BEFORE UPDATE OR DELETE ON participation_item
    FOR EACH ROW EXECUTE FUNCTION participation_item_frozen();
ALTER TABLE participation_item ENABLE ALWAYS TRIGGER participation_item_frozen;

CREATE TRIGGER participation_section_frozen
    BEFORE INSERT OR UPDATE OR DELETE ON participation_section
    FOR EACH ROW EXECUTE FUNCTION participation_item_part_frozen();
ALTER TABLE participation_section ENABLE ALWAYS TRIGGER participation_section_frozen;

CREATE TRIGGER participation_question_frozen
    BEFORE INSERT OR UPDATE OR DELETE ON participation_question
    FOR EACH ROW EXECUTE FUNCTION participation_item_part_frozen();
ALTER TABLE participation_question ENABLE ALWAYS TRIGGER participation_question_frozen;

CREATE TRIGGER participation_option_frozen
    BEFORE INSERT OR UPDATE OR DELETE ON participation_option
    FOR EACH ROW EXECUTE FUNCTION participation_item_part_frozen();
ALTER TABLE participation_option ENABLE ALWAYS TRIGGER participation_option_frozen;

CREATE TRIGGER participation_itemcorrection_append_only
    BEFORE UPDATE OR DELETE ON participation_itemcorrection
    FOR EACH ROW EXECUTE FUNCTION participation_correction_append_only();
ALTER TABLE participation_itemcorrection ENABLE ALWAYS TRIGGER participation_itemcorrection_append_only;
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS participation_itemcorrection_append_only ON participation_itemcorrection;
DROP TRIGGER IF EXISTS participation_option_frozen ON participation_option;
DROP TRIGGER IF EXISTS participation_question_frozen ON participation_question;
DROP TRIGGER IF EXISTS participation_section_frozen ON participation_section;
DROP TRIGGER IF EXISTS participation_item_frozen ON participation_item;
DROP FUNCTION IF EXISTS participation_correction_append_only();
DROP FUNCTION IF EXISTS participation_item_part_frozen();
DROP FUNCTION IF EXISTS participation_item_frozen();
DROP FUNCTION IF EXISTS participation_item_id_has_opened(bigint);
"""

# ---------------------------------------------------------------------------
# SQLite: datetimes are stored as UTC text, which julianday() reads.
# ---------------------------------------------------------------------------

SQLITE_NOW = "julianday('now')"
SQLITE_OPENED = OPENED.replace("{0}.opens_at", "julianday({0}.opens_at)")
SQLITE_COLUMNS_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FROZEN_COLUMNS)


def _sqlite_item_opened(item_id):
    """SQL that is true when the item with this id has opened."""
    return f"EXISTS (SELECT 1 FROM participation_item i WHERE i.id = {item_id} AND ({SQLITE_OPENED.format('i', SQLITE_NOW)}))"


def _sqlite_option_item(question_id):
    return f"(SELECT q.item_id FROM participation_question q WHERE q.id = {question_id})"


def _sqlite_refuse(name, when, table, operation, message):
    return (
        f"CREATE TRIGGER {name} BEFORE {operation} ON {table} FOR EACH ROW WHEN {when} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END;"
    )


def _sqlite_forward():
    statements = [
        _sqlite_refuse(
            "participation_item_frozen_delete",
            "OLD.state <> 'draft'",
            "participation_item",
            "DELETE",
            "participation_item: content is frozen, only a draft can be deleted",
        ),
        _sqlite_refuse(
            "participation_item_frozen_update",
            f"({SQLITE_OPENED.format('OLD', SQLITE_NOW)}) AND ({SQLITE_COLUMNS_CHANGED})",
            "participation_item",
            "UPDATE",
            "participation_item: content is frozen once the item has opened (publish a correction)",
        ),
        _sqlite_refuse(
            "participation_item_frozen_unopen",
            f"({SQLITE_OPENED.format('OLD', SQLITE_NOW)}) AND NOT ({SQLITE_OPENED.format('NEW', SQLITE_NOW)})",
            "participation_item",
            "UPDATE",
            "participation_item: content is frozen, an item that has opened cannot be un-opened",
        ),
    ]
    parts = {
        "participation_section": ("OLD.item_id", "NEW.item_id"),
        "participation_question": ("OLD.item_id", "NEW.item_id"),
        "participation_option": (_sqlite_option_item("OLD.question_id"), _sqlite_option_item("NEW.question_id")),
    }
    for table, (old_item, new_item) in parts.items():
        conditions = {
            "INSERT": _sqlite_item_opened(new_item),
            "UPDATE": f"{_sqlite_item_opened(old_item)} OR {_sqlite_item_opened(new_item)}",
            "DELETE": _sqlite_item_opened(old_item),
        }
        for operation, when in conditions.items():
            statements.append(
                _sqlite_refuse(
                    f"{table}_frozen_{operation.lower()}",
                    when,
                    table,
                    operation,
                    f"{table}: content is frozen once the item has opened ({operation} refused)",
                )
            )
    for operation in ("UPDATE", "DELETE"):
        statements.append(
            _sqlite_refuse(
                f"participation_itemcorrection_append_only_{operation.lower()}",
                "1",
                "participation_itemcorrection",
                operation,
                f"participation_itemcorrection: corrections are append-only ({operation} refused)",
            )
        )
    return statements


SQLITE_TRIGGERS = (
    "participation_item_frozen_delete",
    "participation_item_frozen_update",
    "participation_item_frozen_unopen",
    *(f"{t}_frozen_{op}" for t in ("participation_section", "participation_question", "participation_option")
      for op in ("insert", "update", "delete")),
    "participation_itemcorrection_append_only_update",
    "participation_itemcorrection_append_only_delete",
)


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in _sqlite_forward():
            schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for name in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name};", params=None)


# Who may add corrections (the staff who edit items) and read them; nobody may change or delete one.
CORRECTION_PERMISSIONS = {
    "Ministry staff": ["add_itemcorrection", "view_itemcorrection"],
    "Ministry admins": ["add_itemcorrection", "view_itemcorrection"],
    "Moderators": ["view_itemcorrection"],
    "Auditors": ["view_itemcorrection"],
}


def grant_corrections(apps, schema_editor):
    create_all_permissions(apps)
    # Added without refusing a missing one, as this migration always did (grant() would refuse).
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in CORRECTION_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="participation", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("participation", "0011_single_line_fields"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="comment",
            name="item",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="comments",
                to="participation.item",
                verbose_name="consultation",
            ),
        ),
        migrations.AlterField(
            model_name="comment",
            name="section",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="comments",
                to="participation.section",
                verbose_name="section",
            ),
        ),
        migrations.CreateModel(
            name="ItemCorrection",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("note_ar", models.TextField(verbose_name="correction (Arabic)")),
                ("note_en", models.TextField(verbose_name="correction (English)")),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="published at"),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="written by",
                    ),
                ),
                (
                    "item",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="corrections",
                        to="participation.item",
                        verbose_name="item",
                    ),
                ),
            ],
            options={
                "verbose_name": "correction",
                "verbose_name_plural": "corrections",
                "ordering": ["created_at", "pk"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(models.Q(("note_ar", ""), _negated=True), models.Q(("note_en", ""), _negated=True)),
                        name="correction_in_both_languages",
                    )
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.RunPython(grant_corrections, migrations.RunPython.noop),
    ]
