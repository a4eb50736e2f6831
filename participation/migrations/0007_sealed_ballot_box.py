"""The sealed ballot box of referendums (participation/ballot_box.py, docs/secrecy.md)."""

import django.db.models.deletion
import uuid
from django.db import migrations, models


def seal_uncounted_ballots(apps, schema_editor):
    """Plaintext ballots of referendums not yet counted go into the sealed box, so the tally opens them like any other."""
    from participation.ballot_box import seal

    ReferendumBallot = apps.get_model("participation", "ReferendumBallot")
    SealedBallot = apps.get_model("participation", "SealedBallot")
    uncounted = ReferendumBallot.objects.filter(item__result__isnull=True)
    for ballot in uncounted.iterator():
        nonce, ciphertext = seal(ballot.item_id, ballot.option_id, ballot.receipt, ballot.segment)
        SealedBallot.objects.create(item_id=ballot.item_id, nonce=nonce, ciphertext=ciphertext)
    uncounted.delete()


class Migration(migrations.Migration):

    dependencies = [
        ('participation', '0006_audit_append_only_and_auditors'),
    ]

    operations = [
        migrations.CreateModel(
            name='SealedBallot',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('nonce', models.BinaryField(max_length=12)),
                ('ciphertext', models.BinaryField(max_length=80)),
                ('item', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='sealed_ballots', to='participation.item')),
            ],
            options={
                'verbose_name': 'sealed referendum ballot',
                'verbose_name_plural': 'sealed referendum ballots',
                'constraints': [models.CheckConstraint(condition=models.Q(('nonce__length', 12)), name='sealed_ballot_nonce_96_bits'), models.CheckConstraint(condition=models.Q(('ciphertext__length', 80)), name='sealed_ballot_fixed_length')],
            },
        ),
        migrations.RunPython(seal_uncounted_ballots, migrations.RunPython.noop),
    ]
