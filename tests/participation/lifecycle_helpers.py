"""Builders for the lifecycle tests (tally, tasks, notifications, results pages, commands, worker).

Items are built open (opened a day ago, closing in a day) so that ballots go
through the real services; `close()` then moves the closing time into the
past, as the clock would. The expected ballot digests are computed here from
the documented line format, independently of participation.tally.
"""

import hashlib
import itertools
import re
from datetime import timedelta
from urllib.parse import urlsplit

from django.utils import timezone

from accounts.models import Segment
from participation.models import Entity, Item, Option, Poll, Question, Referendum, State
from participation.services import counting, voting
from tests.factories import UserFactory, VerifiedUserFactory

_serial = itertools.count(1)
UNSUBSCRIBE_RE = re.compile(r"https?://\S+/(ar|en)/unsubscribe/(?P<token>[^/\s]+)/")


def next_serial():
    return next(_serial)


# ---------------------------------------------------------------------------
# Entities, items, questions
# ---------------------------------------------------------------------------


def make_entity():
    n = next_serial()
    return Entity.objects.create(name_ar=f"وزارة الاختبار {n}", name_en=f"Ministry of Testing {n}", slug=f"lc-ministry-{n}")


def _item(model, label_ar, label_en, *, slug=None, state=State.OPEN, opens_at=None, closes_at=None, entity=None, **fields):
    n = next_serial()
    now = timezone.now()
    opens_at = opens_at or now - timedelta(days=1)
    closes_at = closes_at or max(now, opens_at) + timedelta(days=1)
    return model.objects.create(
        entity=entity or make_entity(),
        slug=slug or f"lc-{model.proxy_kind}-{n}",
        title_ar=f"{label_ar} رقم {n}",
        title_en=f"{label_en} number {n}",
        summary_ar="ملخص البند باللغة العربية.",
        summary_en="The summary in English.",
        body_ar="نص البند باللغة العربية.",
        body_en="The text in English.",
        opens_at=opens_at,
        closes_at=closes_at,
        state=state,
        **fields,
    )


def add_question(item, position=1, options=2, *, multiple=False, max_choices=None, allow_abstain=False):
    """A question with `options` options at positions 1..n; returns (question, [options])."""
    question = Question.objects.create(
        item=item,
        position=position,
        text_ar=f"السؤال {position}؟",
        text_en=f"Question {position}?",
        kind=Question.Kind.MULTIPLE if multiple else Question.Kind.SINGLE,
        min_choices=1,
        max_choices=(max_choices or options) if multiple else 1,
        allow_abstain=allow_abstain,
    )
    created = [
        Option.objects.create(question=question, position=p, text_ar=f"الخيار {p}", text_en=f"Option {p}")
        for p in range(1, options + 1)
    ]
    return question, created


def make_poll(*, options=2, multiple=False, allow_abstain=False, state=State.OPEN, **fields):
    """An open poll with one question; returns (poll, question, options).

    Written as a draft, then given its state: the database freezes an item's questions once it has opened.
    """
    poll = _item(Poll, "استطلاع", "Poll", state=State.DRAFT, **fields)
    question, opts = add_question(poll, options=options, multiple=multiple, allow_abstain=allow_abstain)
    return set_state(poll, state), question, opts


def make_referendum(*, options=2, allow_abstain=True, state=State.OPEN, **fields):
    """An open referendum (verified identity required) with its one question; returns (referendum, question, options)."""
    referendum = _item(Referendum, "استفتاء", "Referendum", state=State.DRAFT, **fields)
    question, opts = add_question(referendum, options=options, allow_abstain=allow_abstain)
    return set_state(referendum, state), question, opts


def close(item, seconds_ago=1):
    """The clock passes the closing time (the stored state is left as it was)."""
    closes_at = timezone.now() - timedelta(seconds=seconds_ago)
    if item.opens_at >= closes_at:
        Item.objects.filter(pk=item.pk).update(opens_at=closes_at - timedelta(hours=1))
    Item.objects.filter(pk=item.pk).update(closes_at=closes_at)
    item.refresh_from_db()
    return item


def count(item):
    """What the worker does once the clock passes the close: count, then publish unless approval is needed."""

    counting.tally_and_publish(item.pk)
    item.refresh_from_db()
    return item


def set_state(item, state):
    Item.objects.filter(pk=item.pk).update(state=state)
    item.refresh_from_db()
    return item


# ---------------------------------------------------------------------------
# People and ballots
# ---------------------------------------------------------------------------


def person(segment=Segment.CITIZEN, *, verified=False, **fields):
    factory = VerifiedUserFactory if verified else UserFactory
    return factory(segment=segment, **fields)


def people(count, segment=Segment.CITIZEN, **fields):
    return [person(segment, **fields) for _ in range(count)]


def vote(user, poll, *choices_per_question):
    """Cast a poll ballot: one list of options (or voting.ABSTAIN) per question, in question order."""
    questions = list(poll.questions.all())
    choices = {
        q.pk: [voting.ABSTAIN if c == voting.ABSTAIN else c.pk for c in chosen]
        for q, chosen in zip(questions, choices_per_question, strict=True)
    }
    return voting.cast_poll_ballot(user, poll, choices)


def vote_referendum(user, referendum, option):
    """Cast a referendum ballot (option None = blank vote); returns the receipt."""
    return voting.cast_referendum_ballot(user, referendum, voting.ABSTAIN if option is None else option.pk)


# ---------------------------------------------------------------------------
# The documented digest, computed independently
# ---------------------------------------------------------------------------


def digest_of_lines(lines):
    """SHA-256 of the lines sorted bytewise (as `LC_ALL=C sort`), concatenated."""
    return hashlib.sha256(b"".join(sorted(line.encode("utf-8") for line in lines))).hexdigest()


def poll_line(question_position, option_position, segment):
    """One answer: P|qqq|ooo|segment (option 000 = no opinion)."""
    return f"P|{question_position:03d}|{option_position:03d}|{segment}\n"


def referendum_line(receipt, option_position):
    """One ballot: R|receipt|ooo (000 = blank vote)."""
    return f"R|{receipt}|{option_position:03d}\n"


def unsubscribe_path(body):
    """The path of the unsubscribe link in an e-mail body (the host is PORTAL_BASE_URL)."""
    match = UNSUBSCRIBE_RE.search(body)
    assert match, f"no unsubscribe link in the e-mail:\n{body}"
    return urlsplit(match.group(0)).path
