"""A consultation is published with its outcome: what was heard and what changed, in both languages, dated.

SQLite adds a constraint by rebuilding the table, which drops the frozen-content triggers on the item
table and breaks the others that name it (0012_frozen_content); they are dropped first and re-created
after. PostgreSQL adds the constraint in place and needs neither.
"""

import importlib

from django.conf import settings
from django.db import migrations, models

frozen_content = importlib.import_module("participation.migrations.0012_frozen_content")


def drop_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        frozen_content.drop_triggers(apps, schema_editor)


def create_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        frozen_content.create_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("participation", "0015_tally_referendum_ballot_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_sqlite_triggers, create_sqlite_triggers),
        migrations.AddConstraint(
            model_name="item",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "consultation"), _negated=True),
                    models.Q(("state", "published"), _negated=True),
                    models.Q(
                        models.Q(("outcome_heard_ar", ""), _negated=True),
                        models.Q(("outcome_heard_en", ""), _negated=True),
                        models.Q(("outcome_changed_ar", ""), _negated=True),
                        models.Q(("outcome_changed_en", ""), _negated=True),
                        ("outcome_published_at__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="consultation_outcome_before_publishing",
            ),
        ),
        migrations.RunPython(create_sqlite_triggers, drop_sqlite_triggers),
    ]
