"""participation/rules.py: who may take part where, and if not, why; every kind of person for every rule.

What staff may do (formerly rules.can_manage_entity) is participation/permissions.py, tested in
tests/test_permission_table.py."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import Persona, Segment
from participation import rules
from participation.models import Item, State
from participation.rules import Barrier
from participation.services import consultation as consultation_service
from participation.services import voting
from tests.builders.items import make_consultation, make_poll, make_referendum, single_choices
from tests.factories import PollFactory, StaffUserFactory, UserFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db

DOHA = ZoneInfo("Asia/Qatar")
OPENS = datetime(2026, 3, 1, 8, 0, tzinfo=DOHA)
CLOSES = datetime(2026, 3, 15, 20, 0, tzinfo=DOHA)
DURING = OPENS + timedelta(days=1)

PEOPLE = {
    "anonymous": lambda: AnonymousUser(),
    "no segment": lambda: UserFactory(segment="", identity_number=""),
    "visitor": lambda: UserFactory(segment=Segment.VISITOR),
    "visiting student": lambda: UserFactory(segment=Segment.VISITOR, personas=[Persona.STUDENT]),
    "citizen": lambda: UserFactory(),
    "verified citizen": lambda: VerifiedUserFactory(),
    "citizen parent": lambda: UserFactory(personas=[Persona.PARENT]),
    "verified citizen parent": lambda: VerifiedUserFactory(personas=[Persona.PARENT]),
    "resident": lambda: UserFactory(segment=Segment.RESIDENT),
    "staff": lambda: StaffUserFactory(),
}

# Item audiences, and the barrier each person meets there (None: may take part).
AUDIENCES = {
    "citizens and residents": {},
    "everyone": {"for_visitors": True},
    "citizens only": {"for_residents": False},
    "parents only": {"only_parents": True},
    "students only": {"for_visitors": True, "only_students": True},
    "verified only": {"requires_verified_identity": True},
}
EXPECTED = {
    "anonymous": dict.fromkeys(AUDIENCES, Barrier.NOT_LOGGED_IN),
    "no segment": dict.fromkeys(AUDIENCES, Barrier.NO_SEGMENT),
    "staff": dict.fromkeys(AUDIENCES, Barrier.NO_SEGMENT),
    "visitor": {
        "citizens and residents": Barrier.WRONG_SEGMENT,
        "everyone": None,
        "citizens only": Barrier.WRONG_SEGMENT,
        "parents only": Barrier.WRONG_SEGMENT,
        "students only": Barrier.WRONG_PERSONA,
        "verified only": Barrier.WRONG_SEGMENT,
    },
    "visiting student": {
        "citizens and residents": Barrier.WRONG_SEGMENT,
        "everyone": None,
        "citizens only": Barrier.WRONG_SEGMENT,
        "parents only": Barrier.WRONG_SEGMENT,
        "students only": None,
        "verified only": Barrier.WRONG_SEGMENT,
    },
    "citizen": {
        "citizens and residents": None,
        "everyone": None,
        "citizens only": None,
        "parents only": Barrier.WRONG_PERSONA,
        "students only": Barrier.WRONG_PERSONA,
        "verified only": Barrier.NOT_VERIFIED,
    },
    "verified citizen": {
        "citizens and residents": None,
        "everyone": None,
        "citizens only": None,
        "parents only": Barrier.WRONG_PERSONA,
        "students only": Barrier.WRONG_PERSONA,
        "verified only": None,
    },
    "citizen parent": {
        "citizens and residents": None,
        "everyone": None,
        "citizens only": None,
        "parents only": None,
        "students only": Barrier.WRONG_PERSONA,
        "verified only": Barrier.NOT_VERIFIED,
    },
    "verified citizen parent": {
        "citizens and residents": None,
        "everyone": None,
        "citizens only": None,
        "parents only": None,
        "students only": Barrier.WRONG_PERSONA,
        "verified only": None,
    },
    "resident": {
        "citizens and residents": None,
        "everyone": None,
        "citizens only": Barrier.WRONG_SEGMENT,
        "parents only": Barrier.WRONG_PERSONA,
        "students only": Barrier.WRONG_PERSONA,
        "verified only": Barrier.NOT_VERIFIED,
    },
}


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("person", PEOPLE)
def test_eligibility_for_every_kind_of_person(person, audience):
    user = PEOPLE[person]()
    poll = make_poll(**AUDIENCES[audience])
    assert rules.eligibility_barrier(user, poll) == EXPECTED[person][audience]


@pytest.mark.parametrize("person", ["citizen", "verified citizen", "resident", "anonymous"])
def test_every_referendum_needs_a_verified_identity(person):
    user = PEOPLE[person]()
    referendum = make_referendum()
    expected = {
        "citizen": Barrier.NOT_VERIFIED,
        "resident": Barrier.NOT_VERIFIED,
        "verified citizen": None,
        "anonymous": Barrier.NOT_LOGGED_IN,
    }[person]
    assert rules.eligibility_barrier(user, referendum) == expected


# ---------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "moment", "expected"),
    [
        (State.DRAFT, DURING, Barrier.DRAFT),
        (State.SCHEDULED, OPENS - timedelta(seconds=1), Barrier.NOT_YET_OPEN),
        (State.SCHEDULED, OPENS, None),
        (State.OPEN, DURING, None),
        (State.SCHEDULED, CLOSES, Barrier.CLOSED),
        (State.OPEN, CLOSES + timedelta(days=1), Barrier.CLOSED),
        (State.CLOSED, DURING, Barrier.CLOSED),
        (State.PUBLISHED, DURING, Barrier.CLOSED),
    ],
)
def test_time_barrier_follows_the_clock(stored, moment, expected):
    poll = PollFactory(opens_at=OPENS, closes_at=CLOSES)
    Item.objects.filter(pk=poll.pk).update(state=stored)
    poll.refresh_from_db()
    assert rules.time_barrier(poll, moment) == expected


def test_time_comes_before_eligibility_and_eligibility_before_an_earlier_ballot():
    visitor = UserFactory(segment=Segment.VISITOR)
    poll = make_poll(opens_at=OPENS, closes_at=CLOSES)
    assert rules.participation_barrier(visitor, poll, OPENS - timedelta(days=1)) == Barrier.NOT_YET_OPEN
    assert rules.participation_barrier(visitor, poll, DURING) == Barrier.WRONG_SEGMENT
    assert rules.participation_barrier(AnonymousUser(), poll, CLOSES) == Barrier.CLOSED
    citizen = UserFactory()
    assert rules.participation_barrier(citizen, poll, DURING) is None
    assert rules.participation_barrier(citizen, poll, DURING, taken_part=True) == Barrier.ALREADY_TOOK_PART


# ---------------------------------------------------------------------------
# Earlier ballots
# ---------------------------------------------------------------------------


def test_has_taken_part_in_a_poll_and_a_referendum():
    citizen = VerifiedUserFactory()
    other = VerifiedUserFactory()
    poll, referendum, consultation = make_poll(), make_referendum(), make_consultation()
    assert not rules.has_taken_part(citizen, poll)
    voting.cast_poll_ballot(citizen, poll, single_choices(poll))
    voting.cast_referendum_ballot(citizen, referendum, referendum.questions.get().options.first().pk)
    consultation_service.add_comment(citizen, consultation, "A comment is not a ballot")
    assert rules.has_taken_part(citizen, poll)
    assert rules.has_taken_part(citizen, referendum)
    assert not rules.has_taken_part(citizen, consultation)
    assert not rules.has_taken_part(other, poll)
    assert not rules.has_taken_part(other, referendum)
    assert not rules.has_taken_part(AnonymousUser(), poll)
    assert rules.participation_barrier(citizen, poll) == Barrier.ALREADY_TOOK_PART
    assert rules.participation_barrier(citizen, referendum) == Barrier.ALREADY_TOOK_PART


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "live", "stored", "moment", "visible"),
    [
        ("poll", False, State.SCHEDULED, OPENS - timedelta(days=1), False),
        ("poll", True, State.SCHEDULED, OPENS - timedelta(days=1), False),
        ("poll", False, State.OPEN, DURING, False),
        ("poll", True, State.OPEN, DURING, True),
        ("poll", False, State.SCHEDULED, CLOSES, True),
        ("poll", False, State.CLOSED, DURING, True),
        ("poll", False, State.PUBLISHED, DURING, True),
        ("referendum", False, State.OPEN, DURING, False),
        ("referendum", False, State.SCHEDULED, CLOSES + timedelta(days=1), False),
        ("referendum", False, State.CLOSED, CLOSES + timedelta(days=1), False),
        ("referendum", False, State.PUBLISHED, CLOSES + timedelta(days=1), True),
        ("consultation", False, State.PUBLISHED, CLOSES + timedelta(days=1), False),
    ],
)
def test_who_sees_results_when(kind, live, stored, moment, visible):
    maker = {"poll": make_poll, "referendum": make_referendum, "consultation": make_consultation}[kind]
    item = maker(opens_at=OPENS, closes_at=CLOSES, **({"live_results": live} if kind == "poll" else {}))
    item.state = stored  # in memory: the question is asked of the item as stored, without its outcome texts
    assert rules.can_see_results(item, moment) is visible


def test_referendum_results_stay_hidden_even_if_live_results_were_forced_on():
    referendum = make_referendum(opens_at=OPENS, closes_at=CLOSES)
    referendum.live_results = True  # in memory only: the database refuses it
    assert not rules.can_see_results(referendum, DURING)
