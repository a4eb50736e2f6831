"""The sealed ballot box of a referendum (docs/secrecy.md).

A vote's transaction writes two rows: who took part (ReferendumParticipation)
and a SealedBallot. Rows written in one PostgreSQL transaction share their
xmin, and rows written one after the other lie in the same physical order, so
anything readable in the sealed row would link a voter to a choice. Nothing in
it is: the option, the receipt and the segment are encrypted together with
AES-256-GCM under settings.BALLOT_BOX_KEY, which lives in the environment and
never in the database. The plaintext has a fixed length, so the size of the
ciphertext says nothing about the choice, and the item's id is bound in as
associated data, so a sealed ballot cannot be moved to another referendum.

Referendums have no live results, so the box stays sealed until the close.
The tally (open_box) decrypts every sealed ballot of the item, shuffles them
with the operating system's random source, writes them in plaintext as
ReferendumBallot rows in the tally's own transaction, which contains no
participation, and deletes the sealed rows. The plaintext rows then share the
tally's xmin and lie in shuffled order; their keys and receipts are random.
"""

import os
import secrets
from collections import Counter
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import connection

from .models import ReferendumBallot, SealedBallot

NONCE_BYTES = 12
# option id (20 digits, 0 = blank) | receipt (32, padded) | segment (10, padded): 64 bytes, whatever the choice.
PLAINTEXT_FORMAT = "{option:020d}|{receipt:<32}|{segment:<10}"
PLAINTEXT_BYTES = 64
WRITE_BATCH = 5000


class BallotBoxError(Exception):
    """A sealed ballot cannot be opened: the wrong key, or a row changed or moved in the database."""


@dataclass(frozen=True)
class OpenedBallot:
    option_id: int | None
    receipt: str
    segment: str


def _cipher():
    return AESGCM(settings.BALLOT_BOX_KEY)


def _associated_data(item_id):
    return f"hukoomi-referendum-ballot:{item_id}".encode()


def seal(item_id, option_id, receipt, segment):
    """The sealed form of one ballot: (nonce, ciphertext). Same length for every choice."""
    plaintext = PLAINTEXT_FORMAT.format(option=option_id or 0, receipt=receipt, segment=segment).encode("ascii")
    if len(plaintext) != PLAINTEXT_BYTES:
        raise ValueError("A ballot does not fit the sealed format.")
    nonce = os.urandom(NONCE_BYTES)
    return nonce, _cipher().encrypt(nonce, plaintext, _associated_data(item_id))


def unseal(item_id, nonce, ciphertext):
    try:
        plaintext = _cipher().decrypt(bytes(nonce), bytes(ciphertext), _associated_data(item_id)).decode("ascii")
    except InvalidTag as exc:
        raise BallotBoxError(
            f"A sealed ballot of item {item_id} does not open with this key: the key is wrong, or the row was changed."
        ) from exc
    option, receipt, segment = plaintext.split("|")
    return OpenedBallot(option_id=int(option) or None, receipt=receipt.strip(), segment=segment.strip())


def drop_in(item, option_id, receipt, segment):
    """Put one ballot into the item's sealed box (inside the vote's transaction)."""
    nonce, ciphertext = seal(item.pk, option_id, receipt, segment)
    return SealedBallot.objects.create(item=item, nonce=nonce, ciphertext=ciphertext)


def open_box(item):
    """Open the item's sealed box: shuffled plaintext ballots in, sealed rows out.

    Must run inside the tally's transaction, with the item row locked, so
    that either every sealed ballot becomes a plaintext ballot or none does.
    Returns how many ballots there were of each (segment, option id or None),
    for the breakdown, which the plaintext rows no longer carry.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("open_box must run inside the tally's transaction.")
    sealed = SealedBallot.objects.filter(item=item).values_list("nonce", "ciphertext")
    opened, refused = [], None
    # Read to the end before raising: leaving PostgreSQL's server-side cursor half-read would break the rollback.
    for nonce, ciphertext in sealed.iterator(chunk_size=WRITE_BATCH):
        try:
            opened.append(unseal(item.pk, nonce, ciphertext))
        except BallotBoxError as error:
            refused = refused or error
    if refused:
        raise refused
    # The order in which they were sealed is the order in which people voted: forget it.
    secrets.SystemRandom().shuffle(opened)
    for start in range(0, len(opened), WRITE_BATCH):
        ReferendumBallot.objects.bulk_create(
            ReferendumBallot(item=item, option_id=ballot.option_id, receipt=ballot.receipt)
            for ballot in opened[start : start + WRITE_BATCH]
        )
    SealedBallot.objects.filter(item=item).delete()
    return Counter((ballot.segment, ballot.option_id) for ballot in opened)


def sealed_count(item):
    return SealedBallot.objects.filter(item=item).count()


def vacuum():
    """Ask PostgreSQL to reclaim the deleted sealed rows now rather than whenever autovacuum comes by.

    Outside any transaction only (VACUUM cannot run inside one); elsewhere a no-op.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {SealedBallot._meta.db_table}")
    return True
