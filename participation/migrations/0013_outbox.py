"""The outbox: work owed after a change (a tally, an "opened" or "results" mailing), one row per item and kind,
written in the change's own transaction and swept until done (now participation/services/outbox.py)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("participation", "0012_frozen_content"),
    ]

    operations = [
        migrations.CreateModel(
            name="OutboxMessage",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("tally", "Results counted"), ("opened", "Item opened"), ("results", "Results published")], max_length=8)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("attempted_at", models.DateTimeField(blank=True, null=True)),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("done_at", models.DateTimeField(blank=True, db_index=True, null=True)),
                ("item", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="outbox_messages", to="participation.item")),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("item", "kind"), name="outbox_once_per_item_and_kind")],
            },
        ),
    ]
