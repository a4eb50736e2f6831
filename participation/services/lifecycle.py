"""An item's life: ready, scheduled, opened, closed, published.

Staff act through schedule_item, close_item_now and publish_results, each with the actor first; the
permission is asked (permissions.require) before anything is written, and the state and its audit
entry, naming the actor, commit together. `actor=None` means the system: beat's worker, the
close_due and tally commands, the tally's own publication. Those ask no permission.

One close path: close_item closes one item (lock, state, audit entry, owed tally). close_item_now
(an admin), close_due_items (beat and close_due) and the tally of a due item (counting.tally) all
call it, so a close reads the same on the trail whoever caused it.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import permissions
from ..errors import LifecycleError
from ..models import MAX_OPTIONS, MAX_REFERENDUM_OPTIONS, MIN_OPTIONS, AuditEntry, Item, Kind, Result, State
from . import outbox, trail


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


def schedule_item(actor, item):
    """Move a draft to scheduled; it opens and closes by the clock from then on.

    Asks participation.schedule_item for the actor (None: the system, e.g. the demo seed). The
    state and its audit entry are written in one transaction.
    """
    if item.state != State.DRAFT:
        raise LifecycleError(_("Only drafts can be scheduled."))
    _require(actor, "participation.schedule_item", item)
    problems = readiness_problems(item)
    if problems:
        raise LifecycleError(" ".join(str(p) for p in problems))
    with transaction.atomic():
        updated = Item.objects.filter(pk=item.pk, state=State.DRAFT).update(state=State.SCHEDULED)
        if not updated:
            raise LifecycleError(_("Only drafts can be scheduled."))
        _audit_state(actor, item, State.DRAFT, State.SCHEDULED)
    item.state = State.SCHEDULED
    return item


def _require(actor, permission, item):
    """Staff must hold the permission; the system (None) acts on its own authority.

    Asked after the state checks, so that a refusal by state is the same LifecycleError whoever acts;
    the permission's own state checks (permissions.py) then agree with them.
    """
    if actor is not None:
        permissions.require(actor, permission, item)


def _audit_state(actor, item, before, after):
    """Record a state change naming the actor; call it inside the change's transaction.

    actor None is the system: the entry says so even when a request triggered the change (a
    results page tallying a due item), so a close or a publication reads the same whoever caused it.
    """
    trail.record_by(actor, AuditEntry.Action.STATE, obj=item, details={"from": before, "to": after})


def close_item(item_id, now=None, actor=None, nudge=True):
    """Close one open item; returns True for exactly one caller. The one close path.

    Takes the item row FOR UPDATE, so it waits for ballots in flight and none lands after it (a
    caller that already holds the lock, the tally, takes it again at no cost). Then, in one
    transaction: the state, closes_at cut to now if the item closes early, the audit entry naming
    the actor (None: the system), and for a poll or referendum the tally owed in the outbox
    (outbox.py), nudged after the commit unless `nudge` is False (the caller does the work itself:
    the tally, the close_due command): a broker that is down delays the count, never loses it.
    Asks no permission: close_item_now does, for staff.
    """
    with transaction.atomic():
        item = Item.objects.select_for_update().get(pk=item_id)
        # The clock is read after the lock: ballots we waited for were cast before this close.
        now = now or timezone.now()
        if item.state not in (State.SCHEDULED, State.OPEN) or item.opens_at >= now:
            return False
        Item.objects.filter(pk=item.pk).update(state=State.CLOSED, closes_at=min(item.closes_at, now))
        _audit_state(actor, item, item.state, State.CLOSED)
        if item.kind != Kind.CONSULTATION:
            # The tally is owed in the close's own transaction; the nudge after commit is best effort.
            outbox.record(item.pk, outbox.TALLY)
            if nudge:
                outbox.nudge(item.pk, outbox.TALLY)
    return True


def close_item_now(actor, item):
    """Admin's "close now": asks participation.close_item, which refuses items that have not opened or have closed."""
    if item.current_state() == State.SCHEDULED:
        raise LifecycleError(_("This item has not opened yet, so it cannot be closed."))
    if item.state not in (State.SCHEDULED, State.OPEN):
        raise LifecycleError(_("This item is not open."))
    _require(actor, "participation.close_item", item)
    if not close_item(item.pk, actor=actor):
        # Open by the clock since this very instant: closing now would leave it no time open at all
        # (item_closes_after_opening), or another close came first.
        raise LifecycleError(_("This item has only just opened or has just been closed. Try again in a moment."))
    return True


def publish_results(actor, item, now=None):
    """Publish the stored results of a closed poll or referendum, or a consultation's outcome.

    Asks participation.publish_item for the actor (None: the system, counting.tally_and_publish).
    Never counts: the worker's tally (counting.tally_and_publish) stores the result first. Returns
    the item. The state, its audit entry naming the actor and the owed "results" mailing
    (outbox.py) commit together or not at all.
    """
    now = now or timezone.now()
    if not item.has_closed(now):
        raise LifecycleError(_("Results can be published only after the item has closed."))
    if item.state == State.PUBLISHED:
        raise LifecycleError(_("The results are already published."))
    _require(actor, "participation.publish_item", item)
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
    with transaction.atomic():
        before = item.state
        updated = Item.objects.filter(pk=item.pk).exclude(state=State.PUBLISHED).update(state=State.PUBLISHED, **extra)
        if not updated:
            raise LifecycleError(_("The results are already published."))
        item.refresh_from_db()
        _audit_state(actor, item, before, State.PUBLISHED)
        if item.kind != Kind.CONSULTATION:
            # The mailing is owed in the publication's own transaction; the nudge after commit is best effort.
            outbox.record(item.pk, outbox.RESULTS)
            outbox.nudge(item.pk, outbox.RESULTS)
    return item


def open_due_items(now=None):
    """The system marks scheduled items whose opening time has come as open; return their ids.

    The state is only a record (the clock already makes them open); the
    conditional update makes exactly one caller see each item. The "opened"
    mailing is owed (outbox.py) in the same transaction as the state; the
    caller hands it out.
    """
    now = now or timezone.now()
    opened = []
    for pk in Item.objects.filter(state=State.SCHEDULED, opens_at__lte=now, closes_at__gt=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():  # each item's state with its audit entry and its owed mailing
            if Item.objects.filter(pk=pk, state=State.SCHEDULED).update(state=State.OPEN):
                _audit_state(None, Item.objects.get(pk=pk), State.SCHEDULED, State.OPEN)
                outbox.record(pk, outbox.OPENED)
                opened.append(pk)
    return opened


def close_due_items(now=None, nudge=True):
    """Close every live item whose closing time has passed (close_item, as the system); return the ids this caller closed.

    Each close is its own transaction: a poll or referendum owes its tally (outbox.py) from the same
    commit as its state, nudged after it unless `nudge` is False.
    """
    now = now or timezone.now()
    due = Item.objects.filter(state__in=[State.SCHEDULED, State.OPEN], closes_at__lte=now)
    return [pk for pk in due.values_list("pk", flat=True) if close_item(pk, now, nudge=nudge)]
