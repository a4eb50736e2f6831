"""Plaintext referendum ballots no longer carry the voter's segment: only the sealed box does, until the tally.

A migration of its own, after the data migration, so that PostgreSQL has no pending trigger events on the table.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("participation", "0007_sealed_ballot_box")]

    operations = [migrations.RemoveField(model_name="referendumballot", name="segment")]
