"""The tally: per-option counts, turnout, breakdowns, small-cell hiding, the ballots digest, immutability, concurrency."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Persona, Segment
from participation.models import Consultation, Result, State
from participation.services import voting
from participation.services.counting import tally
from participation.tally import SMALL_CELL, NotClosedYet, digest_lines, eligible_count
from tests.answers import digest_of_lines, poll_line, referendum_line
from tests.builders.items import (
    add_question,
    close,
    make_entity,
    make_poll,
    make_referendum,
    options_of,
    question_and_options,
    set_state,
    vote,
    vote_referendum,
)
from tests.builders.users import people, person

pytestmark = pytest.mark.django_db

ABSTAIN = voting.ABSTAIN


def key(question, option):
    """The breakdown's cell key: '<question id>:<option id or 0>'."""
    return f"{question.pk}:{option.pk if option is not None else 0}"


def votes_by_position(result, question_index=0):
    """{option position (0 = no opinion / blank): votes} from the stored counts."""
    return {row["position"]: row["votes"] for row in result.counts["questions"][question_index]["options"]}


@pytest.fixture
def two_question_poll():
    """A poll for everyone: Q1 single choice with "no opinion", Q2 multiple choice; four known ballots.

    Q1: citizen1 option 1, citizen2 no opinion, resident option 2, visitor option 1.
    Q2: citizen1 options 1+3, citizen2 option 2, resident options 1+2+3, visitor option 3.
    """
    poll = make_poll(allow_abstain=True, for_visitors=True, state=State.DRAFT, options=2)
    q1, (q1o1, q1o2) = question_and_options(poll)
    q2 = add_question(poll, position=2, options=3, multiple=True)
    (q2o1, q2o2, q2o3) = options_of(q2)
    set_state(poll, State.OPEN)  # questions first: the database freezes them once the poll has opened
    citizen1, citizen2 = people(2, Segment.CITIZEN)
    resident = person(Segment.RESIDENT)
    visitor = person(Segment.VISITOR)
    vote(citizen1, poll, [q1o1], [q2o1, q2o3])
    vote(citizen2, poll, [ABSTAIN], [q2o2])
    vote(resident, poll, [q1o2], [q2o1, q2o2, q2o3])
    vote(visitor, poll, [q1o1], [q2o3])
    person(Segment.CITIZEN)  # eligible, did not vote
    person(Segment.CITIZEN, is_active=False)  # not eligible: inactive
    close(poll)
    return poll, (q1, q1o1, q1o2), (q2, q2o1, q2o2, q2o3)


# ---------------------------------------------------------------------------
# Counts and turnout
# ---------------------------------------------------------------------------


def test_multiple_choice_counts_each_chosen_option_once_not_each_combination(two_question_poll):
    poll, (q1, *_), (q2, q2o1, q2o2, q2o3) = two_question_poll
    result = tally(poll.pk)
    assert result.ballots == 4
    assert votes_by_position(result, 0) == {1: 2, 2: 1, 0: 1}
    assert votes_by_position(result, 1) == {1: 2, 2: 2, 3: 3}
    q2_rows = result.counts["questions"][1]["options"]
    assert [row["id"] for row in q2_rows] == [q2o1.pk, q2o2.pk, q2o3.pk]
    assert result.counts["questions"][1]["multiple"] is True
    # Shares of multiple-choice answers are of ballots (so they may add up to more than 100).
    assert [row["percent"] for row in q2_rows] == [50.0, 50.0, 75.0]
    assert sum(row["votes"] for row in q2_rows) == 7


def test_totals_percentages_and_turnout(two_question_poll):
    poll, (q1, q1o1, q1o2), _ = two_question_poll
    result = tally(poll.pk)
    q1_rows = {row["position"]: row for row in result.counts["questions"][0]["options"]}
    assert q1_rows[1]["percent"] == 50.0
    assert q1_rows[2]["percent"] == 25.0
    assert q1_rows[0]["percent"] == 25.0
    assert q1_rows[0]["abstain"] is True
    assert result.eligible == 5  # four voters and one citizen who did not vote; the inactive citizen does not count
    assert result.turnout_percent == 80.0


def test_turnout_denominator_follows_audience_personas_and_verification():
    poll = make_poll(for_citizens=True, for_residents=True, only_parents=True, options=2, state=State.OPEN)
    person(Segment.CITIZEN, personas=[Persona.PARENT])
    person(Segment.RESIDENT, personas=[Persona.PARENT, Persona.EMPLOYEE])
    person(Segment.CITIZEN, personas=[Persona.EMPLOYEE])  # not a parent
    person(Segment.VISITOR)  # not in the audience
    assert eligible_count(poll) == 2

    verified_poll = make_poll(requires_verified_identity=True, options=2, state=State.OPEN)
    person(Segment.CITIZEN, verified=True)
    person(Segment.CITIZEN, verified=False)
    # Citizens and residents by default (the people above included); only the verified ones count.
    assert eligible_count(verified_poll) == 1


def test_turnout_counts_a_voter_whose_profile_changed_after_voting():
    poll = make_poll(for_citizens=True, for_residents=False, only_parents=True, options=2, state=State.OPEN)
    _q, (option, _other) = question_and_options(poll)
    voter = person(Segment.CITIZEN, personas=[Persona.PARENT])
    person(Segment.CITIZEN, personas=[Persona.PARENT])
    vote(voter, poll, [option])
    type(voter).objects.filter(pk=voter.pk).update(is_parent=False)
    close(poll)
    result = tally(poll.pk)
    assert result.ballots == 1
    assert result.eligible == 2
    assert result.turnout_percent == 50.0


def test_poll_breakdown_by_segment_and_by_persona_as_recorded_when_voting():
    poll = make_poll(options=2, state=State.OPEN)
    question, (first, second) = question_and_options(poll)
    parent_employee = person(Segment.CITIZEN, personas=[Persona.PARENT, Persona.EMPLOYEE])
    parent = person(Segment.CITIZEN, personas=[Persona.PARENT])
    employee = person(Segment.CITIZEN, personas=[Persona.EMPLOYEE])
    resident_parent = person(Segment.RESIDENT, personas=[Persona.PARENT])
    vote(parent_employee, poll, [first])
    vote(parent, poll, [second])
    vote(employee, poll, [first])
    vote(resident_parent, poll, [first])
    # A later change of profile does not change the persona the ballot was cast with.
    type(parent).objects.filter(pk=parent.pk).update(is_parent=False)
    close(poll)

    breakdown = tally(poll.pk).counts["breakdown"]
    assert breakdown["segment"] == {
        "citizen": {key(question, first): 2, key(question, second): 1},
        "resident": {key(question, first): 1},
    }
    assert breakdown["segment_ballots"] == {"citizen": 3, "resident": 1}
    assert breakdown["persona"] == {
        "parent": {key(question, first): 2, key(question, second): 1},
        "employee": {key(question, first): 2},
    }


# ---------------------------------------------------------------------------
# Referendums: small cells are hidden
# ---------------------------------------------------------------------------


@pytest.fixture
def referendum_with_small_cells():
    """Citizens: 10 yes and 2 no. Residents: 9 yes (one short of SMALL_CELL)."""
    assert SMALL_CELL == 10
    referendum = make_referendum(options=2, state=State.OPEN)
    question, (yes, no) = question_and_options(referendum)
    for voter in people(10, Segment.CITIZEN, verified=True):
        vote_referendum(voter, referendum, yes)
    for voter in people(2, Segment.CITIZEN, verified=True):
        vote_referendum(voter, referendum, no)
    for voter in people(9, Segment.RESIDENT, verified=True):
        vote_referendum(voter, referendum, yes)
    close(referendum)
    return referendum, question, yes, no


def test_referendum_breakdown_hides_cells_under_ten_ballots(referendum_with_small_cells):
    referendum, question, yes, no = referendum_with_small_cells
    result = tally(referendum.pk)
    breakdown = result.counts["breakdown"]
    blank = f"{question.pk}:0"
    assert breakdown["segment"]["citizen"][key(question, no)] is None  # 2: hidden
    assert breakdown["segment"]["resident"][key(question, yes)] is None  # 9: hidden
    assert breakdown["segment"]["resident"][key(question, no)] is None  # 0: hidden
    # 10 is hidden too: shown, it would give away 2 = 12 - 10 (tests/participation/test_suppression.py).
    assert breakdown["segment"]["citizen"][key(question, yes)] is None
    # Nobody voted blank: the totals say so, the cells are shown.
    assert breakdown["segment"]["citizen"][blank] == breakdown["segment"]["resident"][blank] == 0
    assert breakdown["determined"] == {"citizen": [blank], "resident": [blank]}
    assert breakdown["segment_ballots"] == {"citizen": 12, "resident": 9}  # always published
    assert breakdown["small_cell"] == 10
    assert "persona" not in breakdown  # referendums record no personas
    # The totals are not hidden.
    assert result.ballots == 21
    assert votes_by_position(result) == {1: 19, 2: 2, 0: 0}


# ---------------------------------------------------------------------------
# The ballots digest, recomputed from the documented line format
# ---------------------------------------------------------------------------


def test_poll_digest_matches_the_documented_recipe(two_question_poll):
    poll, *_ = two_question_poll
    expected_lines = [
        # Q1: citizen1 option 1, citizen2 no opinion (000), resident option 2, visitor option 1
        poll_line(1, 1, "citizen"),
        poll_line(1, 0, "citizen"),
        poll_line(1, 2, "resident"),
        poll_line(1, 1, "visitor"),
        # Q2 (multiple choice): one line per chosen option
        poll_line(2, 1, "citizen"),
        poll_line(2, 3, "citizen"),
        poll_line(2, 2, "citizen"),
        poll_line(2, 1, "resident"),
        poll_line(2, 2, "resident"),
        poll_line(2, 3, "resident"),
        poll_line(2, 3, "visitor"),
    ]
    result = tally(poll.pk)
    assert result.ballots_digest == digest_of_lines(expected_lines)
    assert len(result.ballots_digest) == 64
    # The lines come out of the database already in byte order, on SQLite and PostgreSQL alike.
    assert list(digest_lines(poll)) == sorted(expected_lines, key=lambda line: line.encode("utf-8"))


def test_referendum_digest_matches_the_documented_recipe():
    referendum = make_referendum(options=2, state=State.OPEN)
    _question, (yes, no) = question_and_options(referendum)
    receipts = {
        vote_referendum(person(Segment.CITIZEN, verified=True), referendum, yes): 1,
        vote_referendum(person(Segment.CITIZEN, verified=True), referendum, yes): 1,
        vote_referendum(person(Segment.RESIDENT, verified=True), referendum, no): 2,
        vote_referendum(person(Segment.RESIDENT, verified=True), referendum, None): 0,  # blank vote: 000
    }
    close(referendum)
    expected_lines = [referendum_line(receipt, position) for receipt, position in receipts.items()]
    result = tally(referendum.pk)
    assert result.ballots_digest == digest_of_lines(expected_lines)
    assert list(digest_lines(referendum)) == sorted(expected_lines, key=lambda line: line.encode("utf-8"))


def test_the_digest_changes_with_any_ballot():
    poll_a = make_poll(options=2, state=State.OPEN)
    _q, (a1, _a2) = question_and_options(poll_a)
    poll_b = make_poll(options=2, state=State.OPEN)
    _q, (_b1, b2) = question_and_options(poll_b)
    vote(person(), poll_a, [a1])
    vote(person(), poll_b, [b2])
    close(poll_a)
    close(poll_b)
    assert tally(poll_a.pk).ballots_digest == digest_of_lines([poll_line(1, 1, "citizen")])
    assert tally(poll_b.pk).ballots_digest == digest_of_lines([poll_line(1, 2, "citizen")])
    assert tally(poll_a.pk).ballots_digest != tally(poll_b.pk).ballots_digest


def test_an_empty_poll_has_the_digest_of_nothing_and_no_turnout_division_by_zero():
    poll = make_poll(options=2, state=State.OPEN)
    close(poll)
    result = tally(poll.pk)
    assert result.ballots == 0
    assert result.ballots_digest == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert all(row["percent"] == 0.0 for row in result.counts["questions"][0]["options"])


# ---------------------------------------------------------------------------
# Aggregation in the database
# ---------------------------------------------------------------------------


def _tally_queries(ballots):
    poll = make_poll(options=2, state=State.OPEN)
    _q, (first, second) = question_and_options(poll)
    for n, voter in enumerate(people(ballots)):
        vote(voter, poll, [first if n % 2 else second])
    close(poll)
    with CaptureQueriesContext(connection) as queries:
        result = tally(poll.pk)
    assert result.ballots == ballots
    return [q["sql"] for q in queries.captured_queries]


def test_counts_are_aggregated_in_the_database_with_group_by():
    few = _tally_queries(2)
    many = _tally_queries(12)
    assert any("GROUP BY" in sql.upper() for sql in many)
    # No query per ballot: the number of queries does not grow with the number of ballots.
    assert len(many) == len(few)


# ---------------------------------------------------------------------------
# Once, immutable, only after closing
# ---------------------------------------------------------------------------


def test_tallying_twice_returns_the_same_result(two_question_poll):
    poll, *_ = two_question_poll
    first = tally(poll.pk)
    second = tally(poll.pk)
    assert second.pk == first.pk
    assert second.counts == first.counts
    assert second.ballots_digest == first.ballots_digest
    assert second.tallied_at == first.tallied_at
    assert Result.objects.filter(item=poll).count() == 1


def test_a_stored_result_cannot_be_saved_again(two_question_poll):
    poll, *_ = two_question_poll
    result = tally(poll.pk)
    result.ballots = 999
    with pytest.raises(ValidationError):
        result.save()
    result.refresh_from_db()
    assert result.ballots == 4


def test_an_open_item_is_not_tallied():
    poll = make_poll(options=2, state=State.OPEN)
    _q, (first, _second) = question_and_options(poll)
    vote(person(), poll, [first])
    with pytest.raises(NotClosedYet):
        tally(poll.pk)
    poll.refresh_from_db()
    assert poll.state == State.OPEN
    assert not Result.objects.filter(item=poll).exists()


def test_a_consultation_is_never_tallied():
    now = timezone.now()
    consultation = Consultation.objects.create(
        entity=make_entity(),
        slug="closed-consultation",
        title_ar="مشاورة",
        title_en="Consultation",
        summary_ar="ملخص",
        summary_en="Summary",
        body_ar="نص",
        body_en="Text",
        opens_at=now - timedelta(days=2),
        closes_at=now - timedelta(days=1),
        state=State.OPEN,
    )
    with pytest.raises(NotClosedYet):
        tally(consultation.pk)
    assert not Result.objects.filter(item=consultation).exists()


def test_tallying_a_live_item_past_its_closing_time_records_it_as_closed():
    poll = make_poll(options=2, state=State.OPEN)
    _q, (first, _second) = question_and_options(poll)
    vote(person(), poll, [first])
    close(poll)
    assert poll.state == State.OPEN
    result = tally(poll.pk)
    poll.refresh_from_db()
    assert poll.state == State.CLOSED
    assert result.item_id == poll.pk


def test_a_scheduled_item_that_never_opened_can_be_tallied_after_closing():
    poll = make_poll(options=2, state=State.OPEN)
    set_state(poll, State.SCHEDULED)
    close(poll)
    result = tally(poll.pk)
    assert result.ballots == 0
    poll.refresh_from_db()
    assert poll.state == State.CLOSED


# ---------------------------------------------------------------------------
# Two tallies at once (PostgreSQL: real row locks and separate connections)
# ---------------------------------------------------------------------------


def _run_at_once(target, item_id, copies=2):
    barrier = threading.Barrier(copies, timeout=20)
    outcomes, errors = [], []

    def worker():
        try:
            barrier.wait()
            outcomes.append(target(item_id))
        except Exception as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a tally thread is stuck"
    assert not errors, errors
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tallies_at_once_leave_one_identical_result():
    poll = make_poll(options=2, state=State.OPEN)
    _q, (first, second) = question_and_options(poll)
    for n, voter in enumerate(people(6)):
        vote(voter, poll, [first if n < 4 else second])
    close(poll)

    results = _run_at_once(tally, poll.pk)

    assert len(results) == 2
    assert results[0].pk == results[1].pk
    assert results[0].ballots_digest == results[1].ballots_digest
    assert results[0].counts == results[1].counts
    assert Result.objects.filter(item=poll).count() == 1
    stored = Result.objects.get(item=poll)
    assert stored.ballots == 6
    assert votes_by_position(stored) == {1: 4, 2: 2}
    assert stored.ballots_digest == digest_of_lines([poll_line(1, 1, "citizen")] * 4 + [poll_line(1, 2, "citizen")] * 2)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tally_tasks_at_once_publish_once_and_mail_each_participant_once(mailoutbox):
    from participation.tasks import tally_item

    poll = make_poll(options=2, state=State.OPEN)
    _q, (first, _second) = question_and_options(poll)
    voters = people(3)
    for voter in voters:
        vote(voter, poll, [first])
    close(poll)

    def run_task(item_id):
        outcome = tally_item.apply(args=[item_id])
        assert outcome.successful(), outcome.traceback
        return outcome.result  # not .get(): Celery refuses it while another thread is inside a task

    pks = _run_at_once(run_task, poll.pk)

    assert pks[0] == pks[1] == Result.objects.get(item=poll).pk
    poll.refresh_from_db()
    assert poll.state == State.PUBLISHED
    assert sorted(m.to[0] for m in mailoutbox) == sorted(v.email for v in voters)
