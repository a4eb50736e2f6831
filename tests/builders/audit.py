"""Small worlds at fixed moments in Qatar time, for the auditors' and the public record's tests.

Built with the clock stopped (time_machine), so every byte of their CSV exports is known in advance:
closing times, tallies and comments all lie in March 2026, well before the tests run, so the items are
closed by the clock whatever today is. The same three people (`voters`) take part in every one.

The consultations of `record_of_four` are for the accountability pages: NOW (1 July 2026) is after the
default due date of consultations closed on 15 March (7 June), and before that of one closed on 20 June
(12 September). Every outcome text is written before the outcome is published, so a test can check that
what changed stays hidden until the ministry publishes it.
"""

from contextlib import nullcontext
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.utils import timezone

from accounts.models import Segment, User
from participation.models import Entity, ReferendumBallot, State

from . import actions
from .items import (
    ABSTAIN,
    YES_NO,
    add_question,
    count,
    make_consultation,
    make_poll,
    make_referendum,
    options_of,
    publish,
    set_state,
    vote,
    vote_referendum,
)
from .users import MODERATORS, make_staff, person

QATAR = ZoneInfo("Asia/Qatar")

OPENS = datetime(2026, 3, 1, 8, 0, tzinfo=QATAR)
VOTE_DAY = datetime(2026, 3, 10, 9, 30, tzinfo=QATAR)
# 01:30 in Doha is still the previous day in UTC: the export must show the Qatar date.
EARLY_HOURS = datetime(2026, 3, 11, 1, 30, tzinfo=QATAR)
CLOSES = datetime(2026, 3, 15, 8, 0, tzinfo=QATAR)
MODERATED = datetime(2026, 3, 12, 10, 0, tzinfo=QATAR)
TALLIED = datetime(2026, 3, 20, 12, 0, tzinfo=QATAR)

NOW = datetime(2026, 7, 1, 10, 0, tzinfo=QATAR)
PUBLISHED = datetime(2026, 5, 1, 10, 0, tzinfo=QATAR)
LATE_DUE = datetime(2026, 4, 1, 10, 0, tzinfo=QATAR)
RECENT_CLOSE = datetime(2026, 6, 20, 8, 0, tzinfo=QATAR)

HYPERLINK = '=HYPERLINK("x")'
RECEIPTS = ("AAAA-BBBB-CCCC-DDDD-EEEE", "KKKK-LLLL-MMMM-NNNN-2222", "QQQQ-RRRR-SSSS-TTTT-7777")


def at(moment):
    """Stop the clock at `moment` (a context manager)."""
    return time_machine.travel(moment, tick=False)


def transport_ministry():
    return Entity.objects.get_or_create(
        slug="transport", defaults={"name_ar": "وزارة المواصلات", "name_en": "Ministry of Transport"}
    )[0]


def texts(title_ar, title_en):
    """An item's title, with a short summary and body in both languages."""
    return {
        "title_ar": title_ar,
        "title_en": title_en,
        "summary_ar": "ملخص",
        "summary_en": "Summary",
        "body_ar": "النص",
        "body_en": "Text",
    }


VOTERS = (
    ("amal@example.qa", "أمل الكواري", Segment.CITIZEN),
    ("badr@example.qa", "Badr Khan", Segment.RESIDENT),
    ("carim@example.qa", "@SUM(1+1)", Segment.CITIZEN),
)


def voters():
    """Amal (citizen), Badr (resident) and a citizen whose name is a formula; identities verified.

    The same three people take part in every world here, so each item counts three eligible people.
    """
    return tuple(
        User.objects.filter(email=email).first() or person(segment, verified=True, email=email, full_name=name)
        for email, name, segment in VOTERS
    )


def _fixed_dates(slug, entity, opens_at=OPENS, closes_at=CLOSES):
    # Built as drafts and opened once their content is in: the database freezes it from the opening.
    return {
        "slug": slug,
        "entity": entity or transport_ministry(),
        "opens_at": opens_at,
        "closes_at": closes_at,
        "state": State.DRAFT,
    }


def bus_poll(slug="bus-routes", entity=None, tally=True):
    """A closed poll: one question with a comma and quotes, an option that is a formula, "no opinion".

    Amal chose option 1 and Badr option 2 on 10 March; Carim chose "no opinion" at 01:30 on 11 March.
    Returns (poll, (amal, badr, carim)).
    """
    with at(OPENS):
        poll = make_poll(questions=0, **_fixed_dates(slug, entity), **texts("استطلاع مسارات الحافلات", "Bus routes"))
        question = add_question(
            poll,
            [("الخط الأول", "Line 1, express"), (HYPERLINK, HYPERLINK)],
            text_ar="أي خط تفضّل؟",
            text_en='Which line, "A" or B?',
            allow_abstain=True,
        )
        line_1, formula = options_of(question)
        set_state(poll, State.OPEN)
        people = voters()
    amal, badr, carim = people
    with at(VOTE_DAY):
        vote(amal, poll, [line_1])
        vote(badr, poll, [formula])
    with at(EARLY_HOURS):
        vote(carim, poll, [ABSTAIN])
    if tally:
        with at(TALLIED):
            count(poll, now=timezone.now())
    poll.refresh_from_db()
    return poll, people


def new_law_referendum(slug="new-law", entity=None, known_receipts=True):
    """A closed, published referendum: yes, no and a blank vote, with known receipt codes (RECEIPTS) if asked.

    Returns (referendum, {receipt: option position}).
    """
    with at(OPENS):
        referendum = make_referendum(
            YES_NO,
            question_fields={"text_ar": "هل توافق؟", "text_en": "Do you agree?"},
            **_fixed_dates(slug, entity),
            **texts("قانون المرور الجديد", "The new traffic law"),
        )
        yes, no = options_of(referendum.questions.get())
        set_state(referendum, State.OPEN)
        amal, badr, carim = voters()
    # Known receipts (in reverse order of casting, so the export's order is not the casting order).
    with actions.receipts(reversed(RECEIPTS)) if known_receipts else nullcontext():
        with at(VOTE_DAY):
            vote_referendum(amal, referendum, yes)
            vote_referendum(badr, referendum, no)
        with at(EARLY_HOURS):
            vote_referendum(carim, referendum, None)
    with at(TALLIED):
        count(referendum, now=timezone.now())
    ballots = ReferendumBallot.objects.filter(item=referendum).select_related("option")
    return referendum, {ballot.receipt: ballot.option.position if ballot.option else 0 for ballot in ballots}


def transport_consultation(slug="transport-law", entity=None):
    """A closed consultation with a published, a hidden (formula) and a pending (two-line) comment.

    Returns (consultation, [comments in order of writing], moderator).
    """
    with at(OPENS):
        consultation = make_consultation(
            [{"heading_ar": "التعريفات", "heading_en": "Definitions", "body_ar": "نص", "body_en": "Text"}],
            **_fixed_dates(slug, entity),
            **texts("مسودة قانون النقل", "Draft transport law"),
        )
        section = consultation.sections.get()
        set_state(consultation, State.OPEN)
        amal, badr, carim = voters()
        moderator = User.objects.filter(email="moderator@gov.example.qa").first() or make_staff(
            MODERATORS, email="moderator@gov.example.qa"
        )
        consultation.entity.members.add(moderator)
    with at(VOTE_DAY):
        published = actions.comment(amal, consultation, 'Good idea, but "slow"', section=section)
    with at(VOTE_DAY.replace(minute=31)):
        hidden = actions.comment(badr, consultation, "=1+1")
    with at(EARLY_HOURS):
        pending = actions.comment(carim, consultation, "- point one\n- point two")
    with at(MODERATED):
        actions.moderate(moderator, published, approve=True)
        actions.moderate(moderator, hidden, approve=False, reason="Not about the draft")
    consultation.refresh_from_db()
    return consultation, [published, hidden, pending], moderator


def still_open_poll(slug="still-open", opens_at=OPENS, closes_at=None, state=State.OPEN, entity=None):
    """A poll with one question and two options; open now unless told otherwise."""
    poll = make_poll(
        questions=0,
        **_fixed_dates(slug, entity, opens_at, closes_at or timezone.now() + timedelta(days=7)),
        **texts("استطلاع", "A poll"),
    )
    add_question(poll, [("خيار 1", "Choice 1"), ("خيار 2", "Choice 2")], text_ar="سؤال؟", text_en="Question?")
    return set_state(poll, state)


def ten_ballot_poll(slug="ten-ballots"):
    """A closed, tallied poll with ten ballots of one answer each (for the streaming tests)."""
    poll = still_open_poll(slug=slug, closes_at=CLOSES)
    options = options_of(poll.questions.get())
    with at(VOTE_DAY):
        for n in range(10):
            voter = person(Segment.CITIZEN if n % 2 else Segment.RESIDENT)
            vote(voter, poll, [options[n % len(options)]])
    with at(TALLIED):
        count(poll, now=timezone.now())
    return poll


def closed_consultation(
    slug, *, entity=None, closes_at=CLOSES, due_at=None, published_at=None, took_part=0, state=State.CLOSED
):
    """A consultation of `entity` closed at `closes_at`; `took_part` of the three voters commented (the first
    of them also reacted to the section, counting once); its outcome published at `published_at` if given."""
    opens_at = min(OPENS, closes_at - timedelta(days=14))
    with at(opens_at):
        item = make_consultation(
            [{"heading_ar": "القسم", "heading_en": "Section", "body_ar": "نص", "body_en": "Text"}],
            outcome_due_at=due_at,
            outcome_heard_ar=f"ما سمعناه في {slug}",
            outcome_heard_en=f"What we heard in {slug}",
            outcome_changed_ar=f"ما غيرناه في {slug}",
            outcome_changed_en=f"What we changed in {slug}",
            **_fixed_dates(slug, entity, opens_at, closes_at),
            **texts(f"استشارة {slug}", f"Consultation {slug}"),
        )
        section = item.sections.get()
        set_state(item, State.OPEN)
        people = voters()[:took_part]
    with at(opens_at + timedelta(days=1)):
        for someone in people:
            actions.comment(someone, item, f"A comment on {slug}", section=section)
        if people:
            actions.react(people[0], section, True)
    if state != State.OPEN:
        set_state(item, State.CLOSED)
    if published_at is not None:
        with at(published_at):
            publish(item, now=timezone.now())
    item.refresh_from_db()
    return item


def record_of_four(entity=None):
    """On time (3 took part), late (2), overdue (1) and not yet due (0), plus an open one and a draft."""
    items = {
        "on_time": closed_consultation("on-time", entity=entity, published_at=PUBLISHED, took_part=3),
        "late": closed_consultation("late", entity=entity, due_at=LATE_DUE, published_at=PUBLISHED, took_part=2),
        "overdue": closed_consultation("overdue", entity=entity, took_part=1),
        "awaiting": closed_consultation("awaiting", entity=entity, closes_at=RECENT_CLOSE),
        "open": closed_consultation("still-open", entity=entity, closes_at=NOW + timedelta(days=30), state=State.OPEN),
    }
    with at(OPENS):
        items["draft"] = make_consultation(
            0,
            state=State.DRAFT,
            entity=items["on_time"].entity,
            slug="a-draft",
            opens_at=NOW,
            closes_at=NOW + timedelta(days=9),
            outcome_changed_en="Draft outcome text",
            **texts("مسودة", "A draft consultation"),
        )
    return items
