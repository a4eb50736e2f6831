"""Ministries and their items, with questions or sections, and the lifecycle as the clock and the worker move it.

`make_poll`, `make_referendum` and `make_consultation` are the only builders of items. They make a complete
draft (both languages, citizens and residents, open from yesterday for a week) with its questions and options
or sections, then give it its state:

- `state=None` (the default): scheduled through the service, as a ministry admin does; it then opens and
  closes by the clock (open now, with the default dates), and the audit trail records the scheduling;
- `state=State.DRAFT`: left a draft;
- any other state: recorded directly, as if the worker had written it, with no audit entry: for tests that
  start in the middle of the lifecycle. Content goes in first: the database freezes an item's questions
  and sections once it has opened (migration 0012_frozen_content).

They return the item; `question_and_options(item)` gives its first question and that question's options.
Ballots and comments are always written through the services (tests/builders/actions.py).
"""

from datetime import timedelta

from django.utils import timezone

from participation.ballot_box import unseal
from participation.models import Item, Option, Question, SealedBallot, State
from tests.factories import (
    ConsultationFactory,
    EntityFactory,
    PollFactory,
    QuestionFactory,
    ReferendumFactory,
    SectionFactory,
)

from . import actions

ABSTAIN = actions.ABSTAIN
YES_NO = (("نعم", "Yes"), ("لا", "No"))


def make_entity(**fields):
    """A ministry (names and slug numbered unless given)."""
    return EntityFactory(**fields)


def _option_texts(options):
    """`options` is a number (texts "الخيار n" / "Option n") or one (ar, en) pair per option."""
    if isinstance(options, int):
        return [(f"الخيار {p}", f"Option {p}") for p in range(1, options + 1)]
    return list(options)


def add_question(item, options=3, *, multiple=False, **fields):
    """A question at the next position with its options (bulk-created: big polls stay fast); returns it.

    `options` is a number or (ar, en) pairs; `multiple` lets people choose up to every option. Other fields
    (position, texts, kind, min_choices, max_choices, allow_abstain) go to the question as given.
    """
    texts = _option_texts(options)
    position = fields.pop("position", None) or item.questions.count() + 1
    fields.setdefault("text_ar", f"السؤال {position}؟")
    fields.setdefault("text_en", f"Question {position}?")
    if multiple:
        fields.setdefault("kind", Question.Kind.MULTIPLE)
        fields.setdefault("max_choices", len(texts))
    question = QuestionFactory(item=item, position=position, **fields)
    Option.objects.bulk_create(
        Option(question=question, position=p, text_ar=ar, text_en=en) for p, (ar, en) in enumerate(texts, start=1)
    )
    return question


def add_section(item, number=None, **fields):
    number = number or item.sections.count() + 1
    return SectionFactory(item=item, number=number, **fields)


def options_of(question):
    return list(question.options.order_by("position", "pk"))


def question_and_options(item, position=1):
    """(question, [its options]) of the item's question at `position`."""
    question = item.questions.get(position=position)
    return question, options_of(question)


def single_choices(item, option_index=0):
    """A valid poll ballot: the same option index in every question."""
    return {q.pk: [str(q.options.all()[option_index].pk)] for q in item.questions.all()}


def choices(poll, *choices_per_question):
    """A poll ballot from one list of options (or ABSTAIN) per question, in question order."""
    questions = list(poll.questions.all())
    return {
        q.pk: [ABSTAIN if c == ABSTAIN else c.pk for c in chosen]
        for q, chosen in zip(questions, choices_per_question, strict=True)
    }


def _with_state(item, state):
    if state is None:
        actions.schedule(item)
    elif state != State.DRAFT:
        set_state(item, state)
    return item


def make_poll(
    questions=1, options=3, *, multiple=False, allow_abstain=False, question_fields=None, state=None, **fields
):
    """A poll with `questions` questions of `options` options each; `fields` go to the item."""
    poll = PollFactory(**fields)
    for _ in range(questions):
        add_question(poll, options, multiple=multiple, allow_abstain=allow_abstain, **(question_fields or {}))
    return _with_state(poll, state)


def make_referendum(options=YES_NO, *, allow_abstain=True, question_fields=None, state=None, **fields):
    """A referendum (verified identity required) with its one question; `options` a number or (ar, en) pairs."""
    referendum = ReferendumFactory(**fields)
    add_question(referendum, options, allow_abstain=allow_abstain, **(question_fields or {}))
    return _with_state(referendum, state)


def make_consultation(sections=2, *, state=None, **fields):
    """A consultation with `sections` sections (or a list of dicts of section fields)."""
    consultation = ConsultationFactory(**fields)
    for section in range(sections) if isinstance(sections, int) else sections:
        add_section(consultation, **({} if isinstance(section, int) else section))
    return _with_state(consultation, state)


def set_state(item, state):
    """Record a state directly (no audit entry), as the worker's conditional update does."""
    Item.objects.filter(pk=item.pk).update(state=state)
    item.refresh_from_db()
    return item


# ---------------------------------------------------------------------------
# The lifecycle, as the clock and the worker move it
# ---------------------------------------------------------------------------


def close(item, seconds_ago=1):
    """The clock passes the closing time (the stored state is left as it was, as before the worker runs)."""
    closes_at = timezone.now() - timedelta(seconds=seconds_ago)
    if item.opens_at >= closes_at:
        Item.objects.filter(pk=item.pk).update(opens_at=closes_at - timedelta(hours=1))
    Item.objects.filter(pk=item.pk).update(closes_at=closes_at)
    item.refresh_from_db()
    return item


def count(item, now=None):
    """What the worker does once the clock passes the close: count, then publish unless approval is needed."""
    actions.tally_and_publish(item, now=now)
    item.refresh_from_db()
    return item


def publish(item, now=None):
    """A ministry admin publishes the stored results, or a consultation's outcome."""
    return actions.publish(item, now=now)


# ---------------------------------------------------------------------------
# Ballots and comments, through the services
# ---------------------------------------------------------------------------


def vote(user, poll, *choices_per_question):
    """Cast a poll ballot: one list of options (or ABSTAIN) per question, in question order."""
    return actions.vote_poll(user, poll, choices(poll, *choices_per_question))


def vote_referendum(user, referendum, option):
    """Cast a referendum ballot (option None = blank vote); returns the receipt."""
    return actions.vote_referendum(user, referendum, ABSTAIN if option is None else option.pk)


def sealed_ballots(item=None):
    """What the sealed box holds, opened with the ballot box key: for tests that check a vote before the tally."""
    rows = SealedBallot.objects.all() if item is None else SealedBallot.objects.filter(item=item)
    return [unseal(row.item_id, row.nonce, row.ciphertext) for row in rows]
