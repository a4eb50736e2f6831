"""Eligibility is written twice: in Python for one person (rules) and in SQL for counting and
listing (tally.eligible_users, ItemQuerySet.for_audience). These tests hold the two to one meaning."""

import itertools

import pytest

from accounts.models import PERSONAS_BY_SEGMENT, Persona, Segment
from participation import rules
from participation.models import Item
from participation.tally import eligible_users
from tests.factories import PollFactory, UserFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db

AUDIENCES = [
    {"for_visitors": True, "for_citizens": False, "for_residents": False},
    {"for_visitors": False, "for_citizens": True, "for_residents": True},
    {"for_visitors": True, "for_citizens": True, "for_residents": True},
]
PERSONA_LIMITS = [{}, {"only_parents": True}, {"only_students": True, "only_employees": True}]


def _people():
    people = []
    for segment, allowed in PERSONAS_BY_SEGMENT.items():
        for personas in [[], *[[p] for p in allowed], list(allowed)]:
            for factory in (UserFactory, VerifiedUserFactory):
                people.append(factory(segment=segment, personas=personas))
    return people


@pytest.mark.parametrize("verified_only", [False, True])
def test_sql_and_python_agree_on_who_may_take_part(verified_only):
    people = _people()
    for number, (audience, limits) in enumerate(itertools.product(AUDIENCES, PERSONA_LIMITS)):
        item = PollFactory(
            slug=f"agree-{verified_only}-{number}", requires_verified_identity=verified_only, **audience, **limits
        )
        in_sql = set(eligible_users(item).values_list("pk", flat=True))
        in_python = {person.pk for person in people if rules.eligibility_barrier(person, item) is None}
        assert in_sql == in_python, (audience, limits, verified_only)


def test_the_list_filter_agrees_with_the_rules_for_each_picker_choice():
    people = _people()
    items = [
        PollFactory(slug=f"list-{n}", **audience, **limits)
        for n, (audience, limits) in enumerate(itertools.product(AUDIENCES, PERSONA_LIMITS))
    ]
    for segment in Segment:
        for persona in PERSONAS_BY_SEGMENT[segment]:
            listed = set(
                Item.objects.filter(pk__in=[i.pk for i in items])
                .for_audience(segment, persona)
                .values_list("pk", flat=True)
            )
            person = next(p for p in people if p.segment == segment and p.personas == [persona] and not p.is_verified)
            allowed = {i.pk for i in items if rules.eligibility_barrier(person, i) is None}
            assert listed == allowed, (segment, persona)


def test_a_persona_outside_every_segment_is_not_a_silent_match():
    item = PollFactory(
        slug="tourists-only", for_visitors=True, for_citizens=False, for_residents=False, only_tourists=True
    )
    citizen_parent = UserFactory(segment=Segment.CITIZEN, personas=[Persona.PARENT])
    tourist = UserFactory(segment=Segment.VISITOR, personas=[Persona.TOURIST])
    assert rules.eligibility_barrier(citizen_parent, item) == rules.Barrier.WRONG_SEGMENT
    assert rules.eligibility_barrier(tourist, item) is None
    assert list(eligible_users(item)) == [tourist]
