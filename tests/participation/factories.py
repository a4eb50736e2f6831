"""Factories for participation records, and builders that take items through the services.

Factories make drafts (both languages filled in, open from yesterday for a week
once scheduled); `make_poll`, `make_referendum` and `make_consultation` add the
questions, options or sections and schedule through `lifecycle.schedule_item`, as
the admin does. Ballots and comments are always written through the services.
"""

from datetime import timedelta

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from participation.models import Consultation, Entity, Option, Poll, Question, Referendum, Section
from participation.services import lifecycle
from tests.factories import StaffUserFactory

MINISTRY_STAFF = "Ministry staff"
MINISTRY_ADMINS = "Ministry admins"
MODERATORS = "Moderators"
AUDITORS = "Auditors"


class EntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Entity

    name_ar = factory.Sequence(lambda n: f"وزارة رقم {n}")
    name_en = factory.Sequence(lambda n: f"Ministry number {n}")
    slug = factory.Sequence(lambda n: f"ministry-{n}")


class ItemFactory(factory.django.DjangoModelFactory):
    """A complete draft: both languages, citizens and residents, opens yesterday, closes in a week."""

    class Meta:
        abstract = True

    entity = factory.SubFactory(EntityFactory)
    slug = factory.Sequence(lambda n: f"item-{n}")
    title_ar = factory.Sequence(lambda n: f"عنوان البند {n}")
    title_en = factory.Sequence(lambda n: f"Item title {n}")
    summary_ar = "ملخص البند للجمهور"
    summary_en = "Summary of the item for the public"
    body_ar = "نص البند الكامل"
    body_en = "Full text of the item"
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    closes_at = factory.LazyAttribute(lambda o: o.opens_at + timedelta(days=8))


class PollFactory(ItemFactory):
    class Meta:
        model = Poll

    slug = factory.Sequence(lambda n: f"poll-{n}")


class ReferendumFactory(ItemFactory):
    class Meta:
        model = Referendum

    slug = factory.Sequence(lambda n: f"referendum-{n}")
    requires_verified_identity = True


class ConsultationFactory(ItemFactory):
    class Meta:
        model = Consultation

    slug = factory.Sequence(lambda n: f"consultation-{n}")


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    item = factory.SubFactory(PollFactory)
    position = factory.Sequence(lambda n: n + 1)
    text_ar = factory.Sequence(lambda n: f"السؤال رقم {n}؟")
    text_en = factory.Sequence(lambda n: f"Question number {n}?")


class OptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Option

    question = factory.SubFactory(QuestionFactory)
    position = factory.Sequence(lambda n: n + 1)
    text_ar = factory.Sequence(lambda n: f"الخيار {n}")
    text_en = factory.Sequence(lambda n: f"Choice {n}")


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    item = factory.SubFactory(ConsultationFactory)
    number = factory.Sequence(lambda n: n + 1)
    heading_ar = factory.Sequence(lambda n: f"القسم {n}")
    heading_en = factory.Sequence(lambda n: f"Section heading {n}")
    body_ar = "نص القسم"
    body_en = "Text of the section"


def add_question(item, options=3, **kwargs):
    """A question at the next position with `options` options (bulk-created: big polls stay fast)."""
    kwargs.setdefault("position", item.questions.count() + 1)
    question = QuestionFactory(item=item, **kwargs)
    Option.objects.bulk_create(
        Option(question=question, position=i, text_ar=f"خيار {question.pk}-{i}", text_en=f"Choice {question.pk}-{i}")
        for i in range(1, options + 1)
    )
    return question


def make_poll(questions=1, options=3, schedule=True, question_kwargs=None, **kwargs):
    """A poll with `questions` single-choice questions of `options` options, scheduled unless told otherwise."""
    poll = PollFactory(**kwargs)
    for _ in range(questions):
        add_question(poll, options, **(question_kwargs or {}))
    if schedule:
        lifecycle.schedule_item(None, poll)
    return poll


YES_NO = (("نعم", "Yes"), ("لا", "No"))


def make_referendum(options=YES_NO, schedule=True, allow_abstain=True, **kwargs):
    """A referendum with one question; `options` is a number, or one (ar, en) pair per option (default yes/no)."""
    referendum = ReferendumFactory(**kwargs)
    question = QuestionFactory(item=referendum, position=1, allow_abstain=allow_abstain)
    pairs = [(f"جواب {i}", f"Answer {i}") for i in range(1, options + 1)] if isinstance(options, int) else options
    for position, (ar, en) in enumerate(pairs, start=1):
        OptionFactory(question=question, position=position, text_ar=ar, text_en=en)
    if schedule:
        lifecycle.schedule_item(None, referendum)
    return referendum


def make_consultation(sections=2, schedule=True, **kwargs):
    consultation = ConsultationFactory(**kwargs)
    for number in range(1, sections + 1):
        SectionFactory(item=consultation, number=number)
    if schedule:
        lifecycle.schedule_item(None, consultation)
    return consultation


def first_option(item, question_index=0, option_index=0):
    return item.questions.all()[question_index].options.all()[option_index]


def single_choices(item, option_index=0):
    """A valid poll ballot: the same option index in every question."""
    return {q.pk: [str(q.options.all()[option_index].pk)] for q in item.questions.all()}


def staff_in(group_name, *entities, **kwargs):
    """A member of staff in one of the four groups, member of the given entities."""
    user = StaffUserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=group_name))
    for entity in entities:
        entity.members.add(user)
    return user


def sealed_ballots(item=None):
    """What the sealed box holds, opened with the ballot box key: for tests that check a vote before the tally."""
    from participation.ballot_box import unseal
    from participation.models import SealedBallot

    rows = SealedBallot.objects.all() if item is None else SealedBallot.objects.filter(item=item)
    return [unseal(row.item_id, row.nonce, row.ciphertext) for row in rows]
