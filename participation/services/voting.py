"""Ballots: a poll's whole ballot, or a referendum's secret one, written once or not at all.

Citizens act here, never staff: who may take part is Barrier's answer (rules.py), asked by
`_check_voter` before anything is written.
"""

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..errors import AlreadyVoted, InvalidBallot, Refused
from ..item_cache import questions_of
from ..models import Item, Kind, PollAnswer, PollBallot, ReferendumParticipation, new_receipt_code
from ..rules import Barrier, participation_barrier, time_barrier
from . import counting

ABSTAIN = "abstain"


def lock_open_item(item):
    """Re-read the item inside the caller's transaction and refuse unless it is open now (ballots, comments, reactions).

    On PostgreSQL the row is locked FOR KEY SHARE: ballots do not block each
    other, but close_item's FOR UPDATE waits for ballots in flight and ballots
    after it see the closed state, so no ballot lands after a close.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {Item._meta.db_table} WHERE id = %s FOR KEY SHARE", [item.pk])  # noqa: S608
    fresh = Item.objects.get(pk=item.pk)
    barrier = time_barrier(fresh, timezone.now())
    if barrier:
        raise Refused(barrier)
    return fresh


def _check_voter(user, item):
    """Refuse whoever may not vote now; someone who already has is AlreadyVoted (the unique constraint still
    holds the rule against a concurrent second ballot)."""
    barrier = participation_barrier(user, item)
    if barrier == Barrier.ALREADY_TOOK_PART:
        raise AlreadyVoted()
    if barrier:
        raise Refused(barrier)


def validate_poll_choices(item, choices):
    """Turn raw form data {question_id: [option ids or "abstain"]} into [(question, option or None)].

    Refuses tampered ids, options of another question, too many or too few
    selections, "no opinion" where it is not offered or mixed with options, and
    an empty ballot.
    """
    questions = questions_of(item)
    if not questions:
        raise InvalidBallot(_("This poll has no questions."))
    answers = []
    known = {str(q.pk) for q in questions}
    if any(str(key) not in known for key in choices):
        raise InvalidBallot(_("Your ballot contains a question that is not part of this poll."))
    for question in questions:
        picked = [str(value) for value in choices.get(question.pk, choices.get(str(question.pk), [])) if str(value)]
        if picked == [ABSTAIN]:
            if not question.allow_abstain:
                raise InvalidBallot(_("“No opinion” is not offered for “%(question)s”.") % {"question": question.text})
            answers.append((question, None))
            continue
        if ABSTAIN in picked:
            raise InvalidBallot(
                _("For “%(question)s”, choose either options or “no opinion”, not both.") % {"question": question.text}
            )
        if len(set(picked)) != len(picked):
            raise InvalidBallot(_("An option was chosen twice for “%(question)s”.") % {"question": question.text})
        options = {str(o.pk): o for o in question.options.all()}
        if any(value not in options for value in picked):
            raise InvalidBallot(
                _("Your ballot contains an option that is not part of “%(question)s”.") % {"question": question.text}
            )
        if len(picked) < question.min_choices:
            raise InvalidBallot(
                ngettext(
                    "Choose at least %(count)d option for “%(question)s”.",
                    "Choose at least %(count)d options for “%(question)s”.",
                    question.min_choices,
                )
                % {"count": question.min_choices, "question": question.text}
            )
        if len(picked) > question.max_choices:
            raise InvalidBallot(
                ngettext(
                    "Choose at most %(count)d option for “%(question)s”.",
                    "Choose at most %(count)d options for “%(question)s”.",
                    question.max_choices,
                )
                % {"count": question.max_choices, "question": question.text}
            )
        answers.extend((question, options[value]) for value in picked)
    return answers


def cast_poll_ballot(user, item, choices):
    """Record one person's whole poll ballot, or nothing.

    Guarantees: one ballot per person and poll (unique constraint; a second
    attempt, even concurrent, raises AlreadyVoted), all answers written in one
    transaction, no ballot outside the opening hours. Locks: see lock_open_item.
    """
    if item.kind != Kind.POLL:
        raise InvalidBallot(_("This is not a poll."))
    _check_voter(user, item)
    answers = validate_poll_choices(item, choices)
    try:
        with transaction.atomic():
            lock_open_item(item)
            ballot = PollBallot.objects.create(
                item=item,
                voter=user,
                segment=user.segment,
                is_student=user.is_student,
                is_tourist=user.is_tourist,
                is_business_owner=user.is_business_owner,
                is_parent=user.is_parent,
                is_employee=user.is_employee,
            )
            PollAnswer.objects.bulk_create(
                PollAnswer(ballot=ballot, question=question, option=option) for question, option in answers
            )
    except IntegrityError:
        raise AlreadyVoted() from None
    return ballot


def cast_referendum_ballot(user, item, choice):
    """Record a secret referendum ballot and return its receipt code.

    One transaction writes who took part (with the day only) and drops the
    ballot, sealed, into the item's ballot box (counting.drop_in): the two rows
    share a transaction, so the sealed one carries nothing readable. The
    receipt is returned to be shown once and is stored nowhere else. The unique
    constraint on participation makes a second ballot impossible.
    """
    option_id = check_referendum_choice(user, item, choice)
    receipt = new_receipt_code()
    try:
        with transaction.atomic():
            lock_open_item(item)
            ReferendumParticipation.objects.create(
                item=item, voter=user, segment=user.segment, voted_on=timezone.localdate()
            )
            counting.drop_in(item, option_id, receipt, user.segment)
    except IntegrityError:
        raise AlreadyVoted() from None
    return receipt


def check_referendum_choice(user, item, choice):
    """Refuse what cast_referendum_ballot would refuse, and return the chosen option's id (None: blank vote).

    It writes nothing and keeps nothing: the "check your answer" step calls it before the vote, and the
    vote calls it again, so a choice changed in between is checked as if it came first.
    """
    if item.kind != Kind.REFERENDUM:
        raise InvalidBallot(_("This is not a referendum."))
    _check_voter(user, item)
    question = item.questions.first()
    if question is None:
        raise InvalidBallot(_("This referendum has no question."))
    choice = str(choice or "")
    if choice == ABSTAIN:
        if not question.allow_abstain:
            raise InvalidBallot(_("A blank vote is not offered in this referendum."))
        return None
    return _option_id(question, choice)


def _option_id(question, choice):
    """The id of one of the question's options, from what the form sent; InvalidBallot for anything else.

    Compared as text, like poll choices: "²", "٣" or a 5,000-digit number is no option's id, and never reaches int().
    """
    option_ids = {str(pk): pk for pk in question.options.values_list("pk", flat=True)}
    if choice not in option_ids:
        raise InvalidBallot(_("Choose one of the answers shown."))
    return option_ids[choice]
