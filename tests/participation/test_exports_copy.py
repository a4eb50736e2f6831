"""The ballots export on PostgreSQL comes from COPY, and is byte for byte the file Python's csv path writes.

Both paths are run on the same database: the texts are chosen to exercise every rule of the format
(the formula guard on every starting character, quotes, commas, Arabic, a slug that starts with "-",
blank votes and "no opinion"). Shown to fail: without the guard in GUARD_SQL, without the LF to CRLF
turn, or with COPY's own quoting of empty strings (NULLIF removed), the files differ.
"""

import pytest

from accounts.models import Segment
from participation import exports
from participation.models import Option, PollBallot, State
from tests.builders.items import (
    close,
    count,
    make_poll,
    make_referendum,
    question_and_options,
    set_state,
    vote,
    vote_referendum,
)
from tests.builders.users import people

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ABSTAIN = "abstain"
TEXTS = [
    ("=SUM(A1:A9)", "+1 (ordinary)"),
    ("-minus", "@handle"),
    ("\tTab first", "-1 minus one"),
    ('He said "yes", then left', "comma, inside"),
    ("نعم، أوافق", "Yes, I agree"),
    ("لا", "'quoted already"),
]


def _name(options):
    """Give the options the tricky texts (before the item opens: the database freezes them afterwards)."""
    for option, (text_ar, text_en) in zip(options, TEXTS, strict=False):
        Option.objects.filter(pk=option.pk).update(text_ar=text_ar, text_en=text_en)
        option.refresh_from_db()


def python_file(item):
    return "".join(exports.csv_chunks(exports.BALLOTS_HEADER, exports.ballot_rows(item))).encode("utf-8")


def copied_file(item, chunk_rows=None):
    return b"".join(exports.copied_ballots_chunks(item, chunk_rows))


def test_a_polls_ballots_from_copy_are_the_python_file_byte_for_byte():
    poll = make_poll(options=6, multiple=True, allow_abstain=True, state=State.DRAFT, slug="-copy-poll")
    question, options = question_and_options(poll)
    _name(options)
    set_state(poll, State.OPEN)
    for n, voter in enumerate(people(5, Segment.CITIZEN) + people(4, Segment.RESIDENT)):
        chosen = [options[(n + k) % len(options)] for k in range(1 + n % 3)]
        vote(voter, poll, [ABSTAIN] if n == 4 else chosen)
    # An empty text cell (no segment: rows from before segments were required): csv.writer writes nothing
    # where COPY would write "" for an empty string.
    PollBallot.objects.filter(pk=PollBallot.objects.filter(item=poll).order_by("pk").values("pk")[:1]).update(
        segment=""
    )
    count(close(poll))
    expected = python_file(poll)
    assert b",\r\n" in expected
    assert expected.startswith(b"\xef\xbb\xbftype,slug,receipt,")
    assert b"'=SUM(A1:A9)" in expected and b"'-copy-poll" in expected and b'"He said ""yes"", then left"' in expected
    assert copied_file(poll) == expected
    assert copied_file(poll, chunk_rows=2) == expected


def test_a_referendums_ballots_from_copy_are_the_python_file_byte_for_byte():
    referendum = make_referendum(options=6, state=State.DRAFT)
    question, options = question_and_options(referendum)
    _name(options)
    set_state(referendum, State.OPEN)
    for n, voter in enumerate(people(13, Segment.CITIZEN, verified=True)):
        vote_referendum(voter, referendum, None if n % 5 == 0 else options[n % len(options)])
    count(close(referendum))
    expected = python_file(referendum)
    assert expected.count(b"\r\n") == 14 and b"\n" not in expected.replace(b"\r\n", b"")
    assert copied_file(referendum) == expected


def test_the_auditors_and_the_public_get_the_copy_stream_on_postgresql():
    referendum = make_referendum(options=2, state=State.OPEN)
    _question, options = question_and_options(referendum)
    for voter in people(3, Segment.CITIZEN, verified=True):
        vote_referendum(voter, referendum, options[0])
    count(close(referendum))
    _filename, chunks = exports.export_stream(referendum, "ballots")
    assert chunks.__name__ == "copied_ballots_chunks"
    assert b"".join(chunks) == python_file(referendum)


def test_a_download_broken_off_halfway_leaves_the_connection_usable():
    """The client goes away mid-file: the generator is closed inside COPY, which must end cleanly."""
    referendum = make_referendum(options=2, state=State.OPEN)
    _question, options = question_and_options(referendum)
    for voter in people(5, Segment.CITIZEN, verified=True):
        vote_referendum(voter, referendum, options[1])
    count(close(referendum))
    chunks = exports.copied_ballots_chunks(referendum, chunk_rows=1)
    next(chunks), next(chunks)  # the header and the first ballot
    chunks.close()
    assert Option.objects.filter(pk=options[0].pk).exists()
