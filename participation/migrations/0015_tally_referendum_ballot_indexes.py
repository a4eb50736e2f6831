"""Two indexes fewer on participation_referendumballot, which the tally fills a million rows at a time.

- option_id: nothing looks ballots up by option (counts read the whole item); the foreign key stays.
- receipt: the same unique index as a named UniqueConstraint, without the varchar_pattern_ops (LIKE)
  index Django adds beside a unique CharField on PostgreSQL, which no query uses.
"""

import django.db.models.deletion
from django.db import migrations, models

import participation.models


class Migration(migrations.Migration):
    dependencies = [
        ("participation", "0014_staff_roles"),
    ]

    operations = [
        migrations.AlterField(
            model_name="referendumballot",
            name="option",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="referendum_ballots",
                to="participation.option",
            ),
        ),
        migrations.AlterField(
            model_name="referendumballot",
            name="receipt",
            field=models.CharField(default=participation.models.new_receipt_code, max_length=32),
        ),
        migrations.AddConstraint(
            model_name="referendumballot",
            constraint=models.UniqueConstraint(fields=("receipt",), name="referendum_ballot_receipt_unique"),
        ),
    ]
