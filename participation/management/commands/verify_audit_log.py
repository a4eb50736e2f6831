"""Check the audit trail's hash chain from the first entry to the last."""

from django.core.management.base import BaseCommand

from participation.audit import verify_chain
from participation.models import AuditEntry


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; report the first entry where it breaks (exit code 1)."

    def handle(self, *args, **options):
        entries = AuditEntry.objects.order_by("pk").iterator(chunk_size=2000)
        checked, broken, reason = verify_chain(entries)
        if broken is None:
            self.stdout.write(self.style.SUCCESS(f"OK: {checked} audit entries, chain intact."))
            return
        self.stdout.write(
            self.style.ERROR(
                f"BROKEN at entry {broken.pk} ({broken.created_at.isoformat()}, {broken.actor_label}, "
                f"{broken.action} {broken.object_repr}): {reason}. {checked} entries before it are intact."
            )
        )
        raise SystemExit(1)
