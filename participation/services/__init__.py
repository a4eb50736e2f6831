"""Every write that matters: ballots, comments, moderation and the item lifecycle.

Views, admin actions, tasks, management commands and tests call these; each
raises a ParticipationError subclass with a translated message on refusal.
"""

import contextlib
import re

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import audit, ballot_box, outbox
from ..errors import (  # noqa: F401
    AlreadyVoted,
    InvalidBallot,
    InvalidComment,
    LifecycleError,
    NotPermitted,
    ParticipationError,
    Refused,
)
from ..item_cache import questions_of
from ..models import (
    COMMENT_MAX,
    MAX_OPTIONS,
    MAX_REFERENDUM_OPTIONS,
    MIN_OPTIONS,
    AuditEntry,
    Comment,
    Item,
    ItemCorrection,
    Kind,
    PollAnswer,
    PollBallot,
    ReferendumParticipation,
    Result,
    SectionReaction,
    State,
    content_frozen,
    new_receipt_code,
)
from ..rules import eligibility_barrier, participation_barrier, time_barrier

ABSTAIN = "abstain"
HTML_RE = re.compile(r"<\s*[a-zA-Z/!?]")


# ---------------------------------------------------------------------------
# Voting
# ---------------------------------------------------------------------------


def _lock_open_item(item):
    """Re-read the item inside the ballot's transaction and refuse unless it is open now.

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
    barrier = participation_barrier(user, item, taken_part=False)
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
    transaction, no ballot outside the opening hours. Locks: see _lock_open_item.
    """
    if item.kind != Kind.POLL:
        raise InvalidBallot(_("This is not a poll."))
    _check_voter(user, item)
    answers = validate_poll_choices(item, choices)
    try:
        with transaction.atomic():
            _lock_open_item(item)
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
    ballot, sealed, into the item's ballot box (ballot_box.py): the two rows
    share a transaction, so the sealed one carries nothing readable. The
    receipt is returned to be shown once and is stored nowhere else. The unique
    constraint on participation makes a second ballot impossible.
    """
    option_id = check_referendum_choice(user, item, choice)
    receipt = new_receipt_code()
    try:
        with transaction.atomic():
            _lock_open_item(item)
            ReferendumParticipation.objects.create(
                item=item, voter=user, segment=user.segment, voted_on=timezone.localdate()
            )
            ballot_box.drop_in(item, option_id, receipt, user.segment)
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


# ---------------------------------------------------------------------------
# Consultations
# ---------------------------------------------------------------------------


def _clean_comment(body):
    body = (body or "").strip()
    if not body:
        raise InvalidComment(_("Write your comment before sending it."))
    if len(body) > COMMENT_MAX:
        raise InvalidComment(
            _("Comments can be at most %(max)d characters; yours has %(count)d.") % {"max": COMMENT_MAX, "count": len(body)}
        )
    if HTML_RE.search(body):
        raise InvalidComment(_("Comments cannot contain HTML. Write plain text, without < and > around words."))
    return body


def _check_commenter(user, item):
    if item.kind != Kind.CONSULTATION:
        raise InvalidComment(_("Comments are taken on consultations only."))
    barrier = time_barrier(item) or eligibility_barrier(user, item)
    if barrier:
        raise Refused(barrier)


def add_comment(user, item, body, section=None):
    """Add a comment on the whole draft or on one of its sections.

    It waits for moderation or appears at once, as the consultation is set.
    """
    _check_commenter(user, item)
    body = _clean_comment(body)
    if section is not None and section.item_id != item.pk:
        raise InvalidComment(_("That section is not part of this consultation."))
    status = Comment.Status.PENDING if item.moderate_before_publishing else Comment.Status.PUBLISHED
    return Comment.objects.create(item=item, section=section, author=user, body=body, status=status)


def react_to_section(user, section, agrees):
    """Agree or disagree with a section; a second answer replaces the first."""
    _check_commenter(user, section.item)
    reaction, _created = SectionReaction.objects.update_or_create(
        section=section, user=user, defaults={"agrees": bool(agrees)}
    )
    return reaction


def moderate_comment(moderator, comment, approve, reason=""):
    """Publish or hide a comment. Hiding needs a reason, which the author may be shown.

    The decision and its audit entry (naming the moderator) are written in one transaction.
    """
    reason = (reason or "").strip()
    if not approve and not reason:
        raise InvalidComment(_("Give a reason for hiding the comment."))
    comment.status = Comment.Status.PUBLISHED if approve else Comment.Status.HIDDEN
    comment.moderation_reason = reason
    comment.moderated_by = moderator
    comment.moderated_at = timezone.now()
    with transaction.atomic():
        comment.save(update_fields=["status", "moderation_reason", "moderated_by", "moderated_at"])
        audit.record(
            AuditEntry.Action.MODERATE,
            actor=moderator,
            obj=comment,
            entity=comment.item.entity,
            details={"status": comment.status, "reason": reason, "item": comment.item.slug},
        )
    return comment


def publish_correction(staff, item, note_ar, note_en):
    """A dated public note that corrects an item whose content is frozen (it has opened).

    Written with its audit entry in one transaction. Add-only: the database refuses changing or
    deleting a correction (migration 0012_frozen_content). Before opening, staff correct the item itself.
    """
    if not content_frozen(item):
        raise LifecycleError(_("This item has not opened yet: correct the item itself instead of adding a correction."))
    with transaction.atomic():
        correction = ItemCorrection.objects.create(item=item, note_ar=note_ar, note_en=note_en, created_by=staff)
        audit.record(
            AuditEntry.Action.CREATE,
            actor=staff,
            obj=correction,
            entity=item.entity,
            details={"item_id": item.pk, "note_ar": note_ar, "note_en": note_en},
        )
    return correction


# ---------------------------------------------------------------------------
# Lifecycle
# ---------------------------------------------------------------------------


def readiness_problems(item):
    """What must be fixed before an item can be scheduled (translated messages)."""
    problems = []
    if item.missing_translations():
        problems.append(_("Fill in the title, summary and body in both Arabic and English."))
    if item.closes_at <= item.opens_at:
        problems.append(_("The closing time must be after the opening time."))
    if item.kind in (Kind.POLL, Kind.REFERENDUM):
        questions = list(item.questions.prefetch_related("options"))
        if not questions:
            problems.append(_("Add at least one question."))
        if item.kind == Kind.REFERENDUM and len(questions) > 1:
            problems.append(_("A referendum asks exactly one question."))
        most = MAX_REFERENDUM_OPTIONS if item.kind == Kind.REFERENDUM else MAX_OPTIONS
        for question in questions:
            count = len(question.options.all())
            if not MIN_OPTIONS <= count <= most:
                problems.append(
                    _("“%(question)s” needs between %(min)d and %(max)d options; it has %(count)d.")
                    % {"question": question.text, "min": MIN_OPTIONS, "max": most, "count": count}
                )
            if question.max_choices > count:
                problems.append(
                    _("“%(question)s” allows more selections than it has options.") % {"question": question.text}
                )
    if item.kind == Kind.CONSULTATION and not item.sections.exists():
        problems.append(_("Add at least one section to the draft."))
    return problems


def schedule_item(item):
    """Move a draft to scheduled; it opens and closes by the clock from then on.

    The state and its audit entry are written in one transaction.
    """
    if item.state != State.DRAFT:
        raise LifecycleError(_("Only drafts can be scheduled."))
    problems = readiness_problems(item)
    if problems:
        raise LifecycleError(" ".join(str(p) for p in problems))
    with transaction.atomic():
        updated = Item.objects.filter(pk=item.pk, state=State.DRAFT).update(state=State.SCHEDULED)
        if not updated:
            raise LifecycleError(_("Only drafts can be scheduled."))
        _audit_state(item, State.DRAFT, State.SCHEDULED)
    item.state = State.SCHEDULED
    return item


def _audit_state(item, before, after, actor=None):
    """Record a state change; call it inside the change's transaction. The actor defaults to the
    request's user (admin actions), or the system outside a request (worker, commands)."""
    audit.record(AuditEntry.Action.STATE, actor=actor, obj=item, details={"from": before, "to": after})


def close_item(item_id, now=None):
    """Close an open item now; returns True for exactly one caller.

    Takes the item row FOR UPDATE, so it waits for ballots in flight and none
    lands after it. A poll or referendum owes its tally from the same commit
    (outbox.py): a broker that is down delays the count, never loses it.
    """
    with transaction.atomic():
        item = Item.objects.select_for_update().get(pk=item_id)
        # The clock is read after the lock: ballots we waited for were cast before this close.
        now = now or timezone.now()
        if item.state not in (State.SCHEDULED, State.OPEN) or item.opens_at >= now:
            return False
        Item.objects.filter(pk=item.pk).update(state=State.CLOSED, closes_at=min(item.closes_at, now))
        _audit_state(item, item.state, State.CLOSED)
        if item.kind != Kind.CONSULTATION:
            # The tally is owed in the close's own transaction; the nudge after commit is best effort.
            outbox.record(item.pk, outbox.TALLY)
            outbox.nudge(item.pk, outbox.TALLY)
    return True


def close_item_now(item):
    """Admin's "close now": refuses items that have not opened or have already closed."""
    if item.current_state() == State.SCHEDULED:
        raise LifecycleError(_("This item has not opened yet, so it cannot be closed."))
    if item.state not in (State.SCHEDULED, State.OPEN):
        raise LifecycleError(_("This item is not open."))
    if not close_item(item.pk):
        raise LifecycleError(_("This item has not opened yet, so it cannot be closed."))
    return True


@transaction.atomic
def publish_results(item, now=None):
    """Publish the stored results of a closed poll or referendum, or a consultation's outcome.

    Never counts: the worker's tally (tally_and_publish) stores the result first. Returns the item.
    The state, its audit entry and the owed "results" mailing (outbox.py) commit together or not at all.
    """
    now = now or timezone.now()
    if not item.has_closed(now):
        raise LifecycleError(_("Results can be published only after the item has closed."))
    if item.state == State.PUBLISHED:
        raise LifecycleError(_("The results are already published."))
    extra = {}
    if item.kind == Kind.CONSULTATION:
        fields = ("outcome_heard_ar", "outcome_heard_en", "outcome_changed_ar", "outcome_changed_en")
        if any(not getattr(item, f).strip() for f in fields):
            raise LifecycleError(
                _("Write what you heard and what you changed, in Arabic and English, before publishing the outcome.")
            )
        extra["outcome_published_at"] = now
    elif not Result.objects.filter(item=item).exists():
        raise LifecycleError(_("The ballots are still being counted. Publish the results once the count is stored."))
    before = item.state
    updated = Item.objects.filter(pk=item.pk).exclude(state=State.PUBLISHED).update(state=State.PUBLISHED, **extra)
    if not updated:
        raise LifecycleError(_("The results are already published."))
    item.refresh_from_db()
    _audit_state(item, before, State.PUBLISHED)
    if item.kind != Kind.CONSULTATION:
        # The mailing is owed in the publication's own transaction; the nudge after commit is best effort.
        outbox.record(item.pk, outbox.RESULTS)
        outbox.nudge(item.pk, outbox.RESULTS)
    return item


def tally_and_publish(item_id, now=None):
    """What the tally task does: count once, then publish unless a ministry admin must approve first."""
    from ..tally import tally

    with audit.as_system():
        result = tally(item_id, now)
        item = result.item
        if item.state != State.PUBLISHED and not (item.kind == Kind.REFERENDUM and item.results_need_approval):
            # LifecycleError here means another worker or an admin published it meanwhile.
            with contextlib.suppress(LifecycleError):
                publish_results(item, now)
    if item.kind == Kind.REFERENDUM:
        ballot_box.vacuum()
    return result


def open_due_items(now=None):
    """Mark scheduled items whose opening time has come as open; return their ids.

    The state is only a record (the clock already makes them open); the
    conditional update makes exactly one caller see each item. The "opened"
    mailing is owed (outbox.py) in the same transaction as the state; the
    caller hands it out.
    """
    now = now or timezone.now()
    opened = []
    for pk in Item.objects.filter(state=State.SCHEDULED, opens_at__lte=now, closes_at__gt=now).values_list("pk", flat=True):
        with transaction.atomic():  # each item's state with its audit entry and its owed mailing
            if Item.objects.filter(pk=pk, state=State.SCHEDULED).update(state=State.OPEN):
                _audit_state(Item.objects.get(pk=pk), State.SCHEDULED, State.OPEN)
                outbox.record(pk, outbox.OPENED)
                opened.append(pk)
    return opened


def close_due_items(now=None):
    """Close every live item whose closing time has passed; return the ids this caller closed.

    A poll or referendum owes its tally (outbox.py) from the same transaction as its state; the
    caller hands it out.
    """
    now = now or timezone.now()
    closed = []
    due = Item.objects.filter(state__in=[State.SCHEDULED, State.OPEN], closes_at__lte=now)
    for pk, before, kind in due.values_list("pk", "state", "kind"):
        with transaction.atomic():  # each item's state with its audit entry and its owed tally
            if Item.objects.filter(pk=pk, state=before).update(state=State.CLOSED):
                _audit_state(Item.objects.get(pk=pk), before, State.CLOSED)
                if kind != Kind.CONSULTATION:
                    outbox.record(pk, outbox.TALLY)
                closed.append(pk)
    return closed


def needs_tally(item_id):
    return Item.objects.filter(pk=item_id, kind__in=[Kind.POLL, Kind.REFERENDUM], result__isnull=True).exists()
