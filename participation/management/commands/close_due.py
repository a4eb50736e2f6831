"""What celery beat does every minute, for cron set-ups: open and close due items, then do the owed work.

The owed work is the outbox (participation/services/outbox.py): tallies of closed polls and referendums,
"opened" and "results" mailings. Here it is all done in this process, at once, whatever its age,
so cron needs no worker and no broker; a worker doing the same at the same time is harmless
(tallies and e-mails are each done once, see outbox.py).
"""

from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils import timezone

from participation import tasks
from participation.models import Item, OutboxMessage, State
from participation.services import lifecycle, outbox, verification
from participation.services import notifications as notification_service


def run_here(kind, item_id):
    """Do one owed piece of work in this process (outbox.sweep's `send`)."""
    if kind == outbox.TALLY:
        tasks.run_tally(item_id)
    else:
        tasks.run_mailing(item_id, kind, notification_service.send_batch)
    return True


class Command(BaseCommand):
    help = "Open scheduled items that are due, close live items that are due, then tally and send what is owed."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only list what would change.")

    def handle(self, *args, dry_run=False, verbosity=1, **options):
        now = timezone.now()
        if dry_run:
            due = Item.objects.filter(
                Q(state=State.SCHEDULED, opens_at__lte=now, closes_at__gt=now)
                | Q(state__in=[State.SCHEDULED, State.OPEN], closes_at__lte=now)
            )
            for item in due:
                self.stdout.write(f"would update {item.kind} {item.slug} ({item.state} -> {item.current_state(now)})")
            for message in OutboxMessage.objects.filter(done_at__isnull=True).select_related("item"):
                self.stdout.write(f"would do {message.kind} for {message.item.kind} {message.item.slug}")
            return
        opened = lifecycle.open_due_items(now)
        closed = lifecycle.close_due_items(now, nudge=False)  # the sweep below does the tallies here
        done = outbox.sweep(send=run_here, everything=True)
        decisions = verification.send_pending_decision_emails()
        if verbosity:
            self.stdout.write(
                self.style.SUCCESS(
                    f"opened {len(opened)}, closed {len(closed)} item(s); "
                    f"tallied {done[outbox.TALLY]}, mailings {done[outbox.OPENED] + done[outbox.RESULTS]}, "
                    f"verification e-mails {decisions}"
                )
            )
