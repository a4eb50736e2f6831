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
This module seals and opens; the writes are the services' (services/counting.py:
drop_in at the vote, open_box at the tally). The tally (open_box) decrypts every
sealed ballot of the item (opened_lines here), puts them in the byte order of
their random receipts (a shuffle: see open_box), writes them
in plaintext as ReferendumBallot rows in the tally's own transaction, which
contains no participation, and deletes the sealed rows. The plaintext rows
then share the tally's xmin and lie in that random order; their keys and
receipts are random.
"""

import hashlib
import os
from collections import Counter
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import connection

from .models import SealedBallot

NONCE_BYTES = 12
# option id (20 digits, 0 = blank) | receipt (32, padded) | segment (10, padded): 64 bytes, whatever the choice.
PLAINTEXT_FORMAT = "{option:020d}|{receipt:<32}|{segment:<10}"
PLAINTEXT_BYTES = 64
READ_BATCH = 10000
WRITE_BATCH = 10000


class BallotBoxError(Exception):
    """A sealed ballot cannot be opened: the wrong key, or a row changed or moved in the database."""


@dataclass(frozen=True)
class OpenedBox:
    """What the tally needs from an opened box: {(segment, option id or None): ballots} and the ballots digest."""

    cells: Counter
    digest: str
    ballots: int


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


def _opened_plaintexts(item):
    """Every sealed ballot of the item, decrypted: a list of 64-byte plaintexts, in the order they were read.

    Read from a server-side cursor (PostgreSQL) in batches; one AES-GCM decryption per row (about 1 µs).
    Reads to the end before raising: leaving PostgreSQL's server-side cursor half-read would break the rollback.
    """
    decrypt = _cipher().decrypt
    associated = _associated_data(item.pk)
    sealed = SealedBallot.objects.filter(item=item).order_by().values_list("nonce", "ciphertext")
    opened, refused = [], 0
    append = opened.append
    for nonce, ciphertext in sealed.iterator(chunk_size=READ_BATCH):
        try:
            append(decrypt(bytes(nonce), bytes(ciphertext), associated))
        except InvalidTag:
            refused += 1
    if refused:
        raise BallotBoxError(
            f"{refused} sealed ballot(s) of item {item.pk} do not open with this key: the key is wrong, or rows were changed."
        )
    return opened


def opened_lines(item, option_positions):
    """Every sealed ballot of the item, opened: ({(segment, option id or None): ballots}, digest lines in byte order).

    Reads and decrypts only; the tally's open_box (services/counting.py) writes what this returns. The
    lines are sorted (bytes against bytes): the canonical order of the ballots digest, and the shuffle
    that open_box writes the plaintext ballots in.
    """
    opened = _opened_plaintexts(item)
    cells = Counter(plaintext[:20] + plaintext[54:] for plaintext in opened)
    lines = _digest_lines(opened, option_positions)
    del opened
    lines.sort()
    counts = Counter()
    for key, n in cells.items():
        counts[key[20:].decode("ascii").strip(), int(key[:20]) or None] += n
    return counts, lines


def lines_digest(lines):
    """SHA-256 of the sorted digest lines, hashed in batches: the referendum's ballots digest."""
    digest = hashlib.sha256()
    for start in range(0, len(lines), WRITE_BATCH):
        digest.update(b"".join(lines[start : start + WRITE_BATCH]))
    return digest.hexdigest()


def _digest_lines(opened, option_positions):
    """The canonical digest line of each opened ballot, in the same order: b"R|<receipt>|<OOO>\\n"."""
    positions = {
        f"{option_id or 0:020d}".encode(): f"{position:03d}".encode()
        for option_id, position in option_positions.items()
    }
    try:
        return [b"R|" + p[21:53].rstrip(b" ") + b"|" + positions[p[:20]] + b"\n" for p in opened]
    except KeyError as exc:
        raise BallotBoxError(
            f"A sealed ballot names an option that is not in this referendum's question: {exc}"
        ) from exc


def vacuum():
    """Ask PostgreSQL to reclaim the deleted sealed rows now rather than whenever autovacuum comes by.

    Outside any transaction only (VACUUM cannot run inside one); elsewhere a no-op.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {SealedBallot._meta.db_table}")
    return True
