"""Celery tasks: thin wrappers that call services with ids.

Every task is idempotent (running it twice, or two copies at once, gives the
same end state), acknowledged late and retried with backoff on database errors.
Tallies go to the "tally" queue, e-mail to the "email" queue, so that a long
mailing never holds up a result (Helios #407).
"""

from celery import shared_task
from django.db import DatabaseError, transaction

from . import notifications, services
from .tally import NotClosedYet

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
    """Every minute (beat): open scheduled items that are due, close live items that are due, queue their tallies."""
    opened = services.open_due_items()
    closed = services.close_due_items()
    for item_id in opened:
        transaction.on_commit(lambda item_id=item_id: notify_item_opened.delay(item_id))
    for item_id in closed:
        if services.needs_tally(item_id):
            transaction.on_commit(lambda item_id=item_id: tally_item.delay(item_id))
    return {"opened": opened, "closed": closed}


@shared_task(name="participation.tally_item", **RETRY)
def tally_item(item_id):
    try:
        result = services.tally_and_publish(item_id)
    except NotClosedYet:
        return None
    return result.pk


@shared_task(name="participation.notify_item_opened", **RETRY)
def notify_item_opened(item_id):
    for batch in notifications.batches(notifications.opened_recipients(item_id)):
        send_notifications.delay(item_id, notifications.OPENED, batch)


@shared_task(name="participation.notify_results", **RETRY)
def notify_results(item_id):
    for batch in notifications.batches(notifications.results_recipients(item_id)):
        send_notifications.delay(item_id, notifications.RESULTS, batch)


@shared_task(name="participation.send_notifications", **RETRY)
def send_notifications(item_id, kind, user_ids):
    return notifications.send_batch(item_id, kind, user_ids)
