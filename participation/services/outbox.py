"""The outbox: nothing that must happen after a change depends on a .delay() succeeding.

A change that owes follow-up work (closing owes a tally, opening an "opened" mailing, publishing a
"results" mailing) records an OutboxMessage in its own transaction (`record`), so the work is
owed exactly when the change committed. After the commit, `nudge` asks the broker to do it now;
that is best effort: a broker error is logged and never reaches the request. Beat's
open_and_close_due (and the close_due command, for cron) sweeps what is not done (`due`), and a
task marks its message done only when the work is complete (`mark_done`).

Why one row per item and kind rather than one per recipient: an "opened" mailing of a national
referendum goes to hundreds of thousands of people, and those rows would be written inside the
admin's request. Who has been e-mailed is already kept per person by Notification (unique per
item, person and kind), claimed in the same transaction that sends the e-mail; so a resumed
mailing sends only what is missing. A crash between sending and that commit rolls the claim back
and the e-mail is sent again: at least once, never lost.
"""

import logging
from datetime import timedelta

import redis
from celery import current_app
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from kombu.exceptions import KombuError

from ..models import Item, Kind, OutboxMessage, Result, State

logger = logging.getLogger(__name__)

TALLY = OutboxMessage.Kind.TALLY.value
OPENED = OutboxMessage.Kind.OPENED.value
RESULTS = OutboxMessage.Kind.RESULTS.value
# A message handed out this long ago and still not done is handed out again: its worker died, the
# broker lost it, or the nudge never reached the broker. Longer than a tally or a batch takes, so a
# sweep seldom hands out work that is still queued (doing it twice is harmless, only wasteful).
RETRY_AFTER = timedelta(minutes=2)
# What publishing raises when the broker is down or unreachable: kombu wraps most transport errors;
# sockets and the Redis client may surface as themselves. Anything else (a bug in a task run
# eagerly) is not a broker error and is not swallowed.
BROKER_ERRORS = (KombuError, OSError, redis.exceptions.RedisError)


def record(item_id, kind):
    """Owe `kind` of work on the item; call it inside the transaction of the change that causes it.

    Idempotent: the unique key (item, kind) makes a second call a no-op, even a concurrent one.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox.record() belongs inside the transaction of the change that causes it")
    OutboxMessage.objects.get_or_create(item_id=item_id, kind=kind)


# Tasks are queued by name (participation/tasks.py registers them), so the services never import the
# tasks that call them. CELERY_TASK_ROUTES in settings routes by these names: tallies to "tally",
# mailings to "email".
TASK_NAMES = {
    TALLY: "participation.tally_item",
    OPENED: "participation.notify_item_opened",
    RESULTS: "participation.notify_results",
}


def queue(name, *args):
    """Queue a task by its name, routed by CELERY_TASK_ROUTES; may raise one of BROKER_ERRORS."""
    app = current_app
    if app.conf.task_always_eager:
        # send_task knows only the name and ignores eager mode (the test suite's): run the registered
        # task here, as .delay() would. import_default_modules makes sure the tasks are registered.
        app.loader.import_default_modules()
        return app.tasks[name].apply_async(args)
    return app.send_task(name, args=args)


def send_now(kind, item_id):
    """Queue the task for one message; True if the broker took it. Never raises: the outbox keeps the work."""
    try:
        queue(TASK_NAMES[kind], item_id)
    except BROKER_ERRORS:
        logger.warning(
            "broker unavailable: %s for item %s stays in the outbox for the sweep", kind, item_id, exc_info=True
        )
        return False
    return True


def nudge(item_id, kind):
    """After the current transaction commits, ask for the work now (best effort, see send_now)."""
    transaction.on_commit(lambda: send_now(kind, item_id))


def mark_attempt(item_id, kind, now=None):
    """A worker took the message: the sweep leaves it alone for RETRY_AFTER."""
    OutboxMessage.objects.filter(item_id=item_id, kind=kind, done_at__isnull=True).update(
        attempted_at=now or timezone.now(), attempts=F("attempts") + 1
    )


def mark_done(item_id, kind, now=None):
    OutboxMessage.objects.filter(item_id=item_id, kind=kind, done_at__isnull=True).update(done_at=now or timezone.now())


def adopt_untallied(now=None):
    """Owe a tally for every closed poll or referendum without a stored Result and without a message.

    Covers items closed before the outbox existed, or closed by hand in SQL; returns how many.
    """
    untallied = Item.objects.filter(kind__in=[Kind.POLL, Kind.REFERENDUM], state=State.CLOSED).exclude(
        Exists(Result.objects.filter(item=OuterRef("pk")))
    )
    untallied = untallied.exclude(Exists(OutboxMessage.objects.filter(item=OuterRef("pk"), kind=TALLY)))
    created = OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(item_id=pk, kind=TALLY, created_at=now or timezone.now())
            for pk in untallied.values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )
    return len(created)


def due(now=None, kind=None, everything=False):
    """Messages not done whose last hand-out (or creation) is RETRY_AFTER old, or all of them with
    `everything`: (item id, kind), oldest first."""
    now = now or timezone.now()
    pending = OutboxMessage.objects.filter(done_at__isnull=True)
    if kind:
        pending = pending.filter(kind=kind)
    if not everything:
        stale = now - RETRY_AFTER
        pending = pending.filter(Q(attempted_at__lte=stale) | Q(attempted_at__isnull=True, created_at__lte=stale))
    return list(pending.order_by("created_at", "pk").values_list("item_id", "kind"))


def sweep(now=None, send=send_now, everything=False):
    """Hand out the messages that are due to send(kind, item_id); returns {kind: how many were handed out}.

    Closed polls and referendums with no Result and no message are adopted first and handed out at
    once. Tallies go first: with `everything` (the close_due command, which does the work itself),
    the "results" mailings that publishing the tallies owes are done in the same sweep.
    """
    now = now or timezone.now()
    adopted = adopt_untallied(now - RETRY_AFTER)
    if adopted:
        logger.info("outbox: adopted %d closed item(s) without a tally", adopted)
    handed = {}
    for kind in (TALLY, OPENED, RESULTS):
        handed[kind] = sum(1 for item_id, kind in due(now, kind, everything) if send(kind, item_id))
    return handed
