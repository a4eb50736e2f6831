"""The count's writes: sealed ballots in at the vote, the box opened and the Result stored at the tally.

What is counted and how is read-only and lives beside the models: tally.py (groups, breakdowns,
digests) and ballot_box.py (sealing and opening). This module writes what they compute, inside
the transaction that needs it. docs/results.md says how a result is counted, stored, published
and checked; docs/secrecy.md why the ballots are written in this order.
"""

import contextlib
import os

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .. import audit, ballot_box, verification
from ..errors import LifecycleError
from ..models import AuditEntry, Item, Kind, ReferendumBallot, Result, SealedBallot, State
from ..tally import NotClosedYet, eligible_count, option_rows, poll_counts, referendum_breakdown
from . import lifecycle, trail

WRITE_BATCH = ballot_box.WRITE_BATCH


def drop_in(item, option_id, receipt, segment):
    """Put one ballot into the item's sealed box (inside the vote's transaction: voting.cast_referendum_ballot)."""
    nonce, ciphertext = ballot_box.seal(item.pk, option_id, receipt, segment)
    return SealedBallot.objects.create(item=item, nonce=nonce, ciphertext=ciphertext)


def open_box(item, option_positions):
    """Open the item's sealed box: plaintext ballots in, in random order, sealed rows out.

    Must run inside the tally's transaction, with the item row locked, so that either every sealed
    ballot becomes a plaintext ballot or none does. `option_positions` maps each option id of the
    question (None for a blank vote) to its position (the digest's OOO).

    The order of the written rows: the sealed rows lie in the order people voted (which the
    participations share), so the plaintext rows must not. They are written in the byte order of
    their digest lines ("R|<receipt>|<OOO>"), that is of their receipts: receipts are 128 random
    bits from the operating system's source (secrets.token_bytes), drawn independently of the
    voter and of the moment, so this order is a uniformly random permutation of the voting order,
    and it says nothing that the receipts on the public list do not already say. One sort gives
    both this shuffle and the order in which the ballots digest is hashed. On PostgreSQL the rows go
    in with one COPY in that order; elsewhere with bulk inserts in that order. Nothing is ever
    written in the sealed order.

    Returns an OpenedBox: how many ballots there were of each (segment, option id or None), for
    the breakdown (the plaintext rows no longer carry the segment), and the ballots digest of
    exactly the rows written (tally.referendum_digest_lines recomputes it from the table).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("open_box must run inside the tally's transaction.")
    cells, lines = ballot_box.opened_lines(item, option_positions)
    digest = ballot_box.lines_digest(lines)
    option_ids = {f"{position:03d}".encode(): option_id for option_id, position in option_positions.items()}
    if connection.vendor == "postgresql":
        _copy_in(item, lines, option_ids)
    else:
        for start in range(0, len(lines), WRITE_BATCH):
            ReferendumBallot.objects.bulk_create(
                ReferendumBallot(item=item, option_id=option_ids[line[-4:-1]], receipt=line[2:-5].decode("ascii"))
                for line in lines[start : start + WRITE_BATCH]
            )
    SealedBallot.objects.filter(item=item).delete()
    return ballot_box.OpenedBox(cells=cells, digest=digest, ballots=len(lines))


def _random_uuids(count):
    """`count` random (version 4) UUIDs as 32 hex digits each, from one read of the system's random source."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes(b & 0x0F | 0x40 for b in raw[6::16])  # version 4
    raw[8::16] = bytes(b & 0x3F | 0x80 for b in raw[8::16])  # RFC 4122 variant
    return raw.hex().encode("ascii")


def _copy_in(item, lines, option_ids):
    """Write the ballots with one COPY, in the order of their lines: (random key, item, option, receipt) per row."""
    table = ReferendumBallot._meta.db_table
    item_id = str(item.pk).encode("ascii")
    options = {
        position: b"\\N" if option_id is None else str(option_id).encode("ascii")
        for position, option_id in option_ids.items()
    }
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} (id, item_id, option_id, receipt) FROM STDIN") as copy,
    ):
        for start in range(0, len(lines), WRITE_BATCH):
            batch = lines[start : start + WRITE_BATCH]
            keys = _random_uuids(len(batch))
            copy.write(
                b"".join(
                    b"%s\t%s\t%s\t%s\n" % (keys[32 * n : 32 * n + 32], item_id, options[line[-4:-1]], line[2:-5])
                    for n, line in enumerate(batch)
                )
            )


def tally(item_id, now=None):
    """Count a closed item once; return its Result.

    Idempotent: tallying twice, or two tallies at once, leaves one identical
    Result (the item row is locked FOR UPDATE; the OneToOne key refuses a second).
    The Result and its audit entries are written in one transaction.
    Closes a live item whose closes_at has passed on the way (lifecycle.close_item).
    The system counts: no actor, no permission asked.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            item = Item.objects.select_for_update().get(pk=item_id)
            existing = Result.objects.filter(item=item).first()
            if existing:
                return existing
            if item.kind == Kind.CONSULTATION:
                raise NotClosedYet("Consultations have an outcome, not a tally.")
            if not item.has_closed(now):
                raise NotClosedYet(f"{item.slug} closes at {item.closes_at.isoformat()}")
            if item.state in (State.SCHEDULED, State.OPEN):
                # Due but not yet closed (beat has not run): closed here by the one close path, on the
                # row this transaction already holds, with the same audit entry and owed tally.
                lifecycle.close_item(item.pk, now, nudge=False)
                item.refresh_from_db()
            questions = list(item.questions.prefetch_related("options"))
            if item.kind == Kind.POLL:
                ballots, per_option, breakdown, digest = poll_counts(item, questions)
            else:
                # Opened here, in the tally's transaction: all sealed ballots become plaintext, or none do.
                # The digest is that of exactly the rows open_box wrote (referendum_digest_lines reads them back).
                positions = {option.pk: option.position for option in questions[0].options.all()} | {None: 0}
                box = open_box(item, positions)
                ballots, per_option, breakdown = referendum_breakdown(questions[0], box.cells, item.segments)
                digest = box.digest
            counts = {
                "kind": item.kind,
                "questions": [
                    {
                        "id": q.pk,
                        "position": q.position,
                        "ar": q.text_ar,
                        "en": q.text_en,
                        "multiple": q.is_multiple,
                        "options": option_rows(q, per_option, ballots),
                    }
                    for q in questions
                ],
                "breakdown": breakdown,
            }
            result = Result.objects.create(
                item=item,
                tallied_at=now,
                ballots=ballots,
                eligible=eligible_count(item),
                counts=counts,
                ballots_digest=digest,
            )
            # The same numbers on the trail, in the Result's transaction: changing the Result
            # afterwards (even with the trigger dropped) no longer matches this entry (verify_export).
            trail.record_by(None, AuditEntry.Action.TALLY, obj=item, details=verification.tally_details(result))
    except IntegrityError:
        # Another tally committed first (SQLite has no row locks): theirs is the result.
        return Result.objects.get(item_id=item_id)
    return result


def tally_and_publish(item_id, now=None):
    """What the tally task does: count once, then publish unless a ministry admin must approve first.

    The system acts (actor None): the count and the publication are on the trail as the system's,
    whoever's request or task triggered them.
    """
    with audit.as_system():
        result = tally(item_id, now)
        item = result.item
        if item.state != State.PUBLISHED and not (item.kind == Kind.REFERENDUM and item.results_need_approval):
            # LifecycleError here means another worker or an admin published it meanwhile.
            with contextlib.suppress(LifecycleError):
                lifecycle.publish_results(None, item, now)
    if item.kind == Kind.REFERENDUM:
        ballot_box.vacuum()
    return result
