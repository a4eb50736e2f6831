"""What celery beat does every minute, for cron set-ups: open and close due items, then tally."""

from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils import timezone

from participation import services
from participation.models import Item, State


class Command(BaseCommand):
    help = "Open scheduled items that are due, close live items that are due, and tally what was closed."

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
            return
        from participation.tasks import open_and_close_due, tally_item

        outcome = open_and_close_due.apply().get()
        for item_id in outcome["closed"]:
            if services.needs_tally(item_id):
                tally_item.apply(args=[item_id])
        if verbosity:
            self.stdout.write(
                self.style.SUCCESS(f"opened {len(outcome['opened'])}, closed {len(outcome['closed'])} item(s)")
            )
