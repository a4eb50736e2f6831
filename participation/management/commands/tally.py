"""Tally one closed poll or referendum (idempotent) and print its result."""

from django.core.management.base import BaseCommand, CommandError

from participation.models import Item, Kind
from participation.services import counting
from participation.tally import NotClosedYet


class Command(BaseCommand):
    help = "Tally a closed poll or referendum: tally <poll|referendum> <slug>. Running it again changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=[Kind.POLL, Kind.REFERENDUM])
        parser.add_argument("slug")

    def handle(self, kind, slug, verbosity=1, **options):
        item = Item.objects.filter(kind=kind, slug=slug).first()
        if item is None:
            raise CommandError(f"No {kind} with the slug {slug!r}.")
        try:
            result = counting.tally_and_publish(item.pk)
        except NotClosedYet as exc:
            raise CommandError(f"{slug} has not closed yet ({exc}).") from exc
        if verbosity:
            self.stdout.write(
                f"{kind} {slug}: {result.ballots} ballots of {result.eligible} eligible, "
                f"tallied at {result.tallied_at.isoformat()}, digest {result.ballots_digest}"
            )
