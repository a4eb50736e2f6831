"""Celery tasks: thin wrappers that call services with ids.

Every task is idempotent (running it twice, or two copies at once, gives the
same end state), acknowledged late and retried with backoff on database errors.
Tallies go to the "tally" queue, e-mail to the "email" queue, so that a long
mailing never holds up a result (Helios #407).

Nothing here depends on a .delay() succeeding: the work is owed in the outbox
(services/outbox.py) by the transaction that caused it, a task marks it done only when
it is complete, and open_and_close_due sweeps what is not done every minute.
"""

import logging
from datetime import timedelta

from celery import current_app, shared_task
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from . import notifications
from .models import Item, Kind, State
from .services import counting, lifecycle, outbox
from .services import notifications as notification_service
from .tally import NotClosedYet

logger = logging.getLogger(__name__)

RETRY = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


@shared_task(name="participation.open_and_close_due", **RETRY)
def open_and_close_due():
    """Every minute (beat): open and close due items, hand out their work, and sweep the outbox.

    Opening and closing record the owed mailing or tally in the outbox with the state; the
    nudges after that are best effort, and the sweep hands out anything a broker lost before.
    """
    opened = lifecycle.open_due_items()
    closed = lifecycle.close_due_items()  # each close nudges its own tally (lifecycle.close_item)
    for item_id in opened:
        outbox.nudge(item_id, outbox.OPENED)
    swept = outbox.sweep()
    return {"opened": opened, "closed": closed, "swept": swept, "wake_at": wake_at_next_close()}


def beat_interval():
    return timedelta(seconds=settings.CELERY_BEAT_SCHEDULE["open-and-close-due-items"]["schedule"])


def wake_at_next_close(now=None):
    """If a poll or referendum closes before beat's next run, run this job again at that very moment.

    Beat alone would close it up to a whole interval late, and results are due within a minute of
    the close (issue 11). The wake is a countdown shorter than beat's interval (well inside Redis's
    visibility timeout), idempotent, and best effort: if the broker loses it, beat's next run closes
    the item anyway. Returns the closing time it woke for, or None.
    """
    now = now or timezone.now()
    if current_app.conf.task_always_eager:
        return None  # eager tasks run at once: an ETA means nothing there
    closes_at = (
        Item.objects.filter(
            kind__in=[Kind.POLL, Kind.REFERENDUM], state__in=[State.SCHEDULED, State.OPEN],
            closes_at__gt=now, closes_at__lte=now + beat_interval(),
        )
        .order_by("closes_at")
        .values_list("closes_at", flat=True)
        .first()
    )
    if closes_at is None:
        return None
    try:
        open_and_close_due.apply_async(eta=closes_at)
    except outbox.BROKER_ERRORS:
        logger.warning("broker unavailable: the close at %s waits for beat's next run", closes_at, exc_info=True)
        return None
    return closes_at.isoformat()


def run_tally(item_id):
    """Count and publish (tally_and_publish), then mark the owed tally done; the Result's pk or None."""
    outbox.mark_attempt(item_id, outbox.TALLY)
    try:
        result = counting.tally_and_publish(item_id)
    except NotClosedYet:
        return None
    # After the count and the publication: a crash before this line only makes the sweep run an
    # idempotent tally again, which also publishes a result that was counted but not published.
    outbox.mark_done(item_id, outbox.TALLY)
    return result.pk


def run_mailing(item_id, kind, send_batch):
    """Hand out an owed mailing in batches with send_batch(item_id, kind, ids); mark it done when nobody is left.

    An "opened" mailing that comes after the item has closed (the broker was down for that long) is
    dropped: it would invite people to something they can no longer do.
    """
    outbox.mark_attempt(item_id, kind)
    if kind == notifications.OPENED and not Item.objects.get(pk=item_id).is_open(timezone.now()):
        outbox.mark_done(item_id, kind)
        return 0
    batches = 0
    for batch in notifications.batches(notifications.recipients(item_id, kind)):
        send_batch(item_id, kind, batch)
        batches += 1
    finish_mailing(item_id, kind)
    return batches


def finish_mailing(item_id, kind):
    """Mark the mailing done once everybody it is owed to has a Notification (batches may still be queued)."""
    if notifications.nobody_left(item_id, kind):
        outbox.mark_done(item_id, kind)


@shared_task(name="participation.tally_item", **RETRY)
def tally_item(item_id):
    return run_tally(item_id)


@shared_task(name="participation.notify_item_opened", **RETRY)
def notify_item_opened(item_id):
    return run_mailing(item_id, notifications.OPENED, lambda *args: send_notifications.delay(*args))


@shared_task(name="participation.notify_results", **RETRY)
def notify_results(item_id):
    return run_mailing(item_id, notifications.RESULTS, lambda *args: send_notifications.delay(*args))


@shared_task(name="participation.send_notifications", **RETRY)
def send_notifications(item_id, kind, user_ids):
    sent = notification_service.send_batch(item_id, kind, user_ids)
    finish_mailing(item_id, kind)
    return sent
