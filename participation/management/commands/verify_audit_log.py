"""Check the audit trail: every link, every keyed hash, and the checkpoints outsiders kept (docs/audit.md)."""

from django.core.management.base import BaseCommand, CommandError

from participation.audit import Checkpoint, verify_chain
from participation.models import AuditEntry


class Command(BaseCommand):
    help = (
        "Verify the audit trail from the first entry to the last: each entry's link to the one before and its "
        "HMAC under this portal's audit key. With --checkpoint COUNT:HASH (repeatable), also check that the "
        "trail still holds at least COUNT entries and that entry number COUNT has that hash: this catches a "
        "truncated trail, a removed tail and a rewritten chain. Exit code 1 on any failure."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="COUNT:HASH",
            help="A checkpoint published earlier (the audit checkpoint page, an export's .sha256 file, a results page).",
        )

    def handle(self, *args, checkpoint, **options):
        try:
            checkpoints = sorted({Checkpoint.parse(text) for text in checkpoint}, key=lambda c: c.count)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        wanted = {c.count: c for c in checkpoints}
        seen = {}  # position -> entry_hash, for the positions a checkpoint names

        def remember(position, entry):
            if position in wanted:
                seen[position] = entry.entry_hash

        entries = AuditEntry.objects.order_by("pk").iterator(chunk_size=2000)
        try:
            checked, broken, reason = verify_chain(entries, on_entry=remember)
        finally:
            entries.close()  # a break stops mid-way: release the cursor now, not at interpreter exit
        failed = broken is not None
        if broken is None:
            self.stdout.write(
                self.style.SUCCESS(f"OK: {checked} audit entries, chain intact, every entry keyed with the audit key.")
            )
        else:
            self.stdout.write(
                self.style.ERROR(
                    f"BROKEN at entry {broken.pk} ({broken.created_at.isoformat()}, {broken.actor_label}, "
                    f"{broken.action} {broken.object_repr}): {reason}. {checked} entries before it are intact."
                )
            )
        for point in checkpoints:
            failed |= not self._check(point, seen, checked, intact=broken is None)
        if failed:
            self.stdout.write(self.style.ERROR("FAILED: the audit trail does not verify (see above)."))
            raise SystemExit(1)

    def _check(self, point, seen, checked, intact):
        """Report one checkpoint; True when the trail still holds it."""
        if point.count == 0:
            if point.head == AuditEntry.GENESIS:
                self.stdout.write(self.style.SUCCESS(f"Checkpoint {point}: OK (an empty trail; it proves nothing)."))
                return True
            self.stdout.write(self.style.ERROR(f"INVALID: checkpoint {point}: an empty trail's head is 64 zeros."))
            return False
        if point.count in seen:
            if seen[point.count] == point.head:
                self.stdout.write(self.style.SUCCESS(f"Checkpoint {point}: OK, entry number {point.count} has this hash."))
                return True
            self.stdout.write(
                self.style.ERROR(
                    f"REWRITTEN: checkpoint {point} does not match: entry number {point.count} now has hash "
                    f"{seen[point.count]}. The trail up to that entry was changed, or entries were removed "
                    "before it and the chain recomputed."
                )
            )
            return False
        if intact:
            self.stdout.write(
                self.style.ERROR(
                    f"TRUNCATED: checkpoint {point} says the trail had at least {point.count} entries; it now has "
                    f"{checked}. {point.count - checked} entries at the end were removed."
                )
            )
        else:
            self.stdout.write(
                self.style.ERROR(
                    f"NOT CHECKED: checkpoint {point} lies beyond the break ({checked} entries verify before it)."
                )
            )
        return False
