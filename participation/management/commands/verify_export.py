"""Recompute the ballots digest of a downloaded ballots CSV and compare it with the published result."""

import csv
import hashlib

from django.core.management.base import BaseCommand, CommandError

from participation.exports import BALLOTS_HEADER, canonical_line, uncell
from participation.models import Result


class Command(BaseCommand):
    help = (
        "verify_export FILE: recompute the SHA-256 ballots digest from a ballots CSV (docs/exports.md) and say "
        "whether it equals the digest stored with the published result. Exit code 1 when it does not."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, file, **options):
        lines, item_key = [], None
        try:
            with open(file, encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                if reader.fieldnames != BALLOTS_HEADER:
                    raise CommandError(f"{file} is not a ballots export: its header is {reader.fieldnames}.")
                for number, row in enumerate(reader, start=2):
                    key = (uncell(row["type"]), uncell(row["slug"]))
                    if item_key is None:
                        item_key = key
                    elif key != item_key:
                        raise CommandError(f"Line {number} belongs to another item ({key[0]} {key[1]}).")
                    try:
                        lines.append(canonical_line(row))
                    except (KeyError, ValueError) as exc:
                        raise CommandError(f"Line {number} cannot be read: {exc}.") from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc}.") from exc
        if item_key is None:
            raise CommandError(f"{file} has no ballots; nothing to verify.")
        digest = hashlib.sha256("".join(sorted(lines, key=lambda line: line.encode("utf-8"))).encode("utf-8")).hexdigest()
        result = Result.objects.filter(item__kind=item_key[0], item__slug=item_key[1]).select_related("item").first()
        if result is None:
            raise CommandError(f"No published result for {item_key[0]} {item_key[1]}.")
        self.stdout.write(f"ballots in file: {len(lines)}; ballots counted in the result: {result.ballots}")
        self.stdout.write(f"digest of file:   {digest}")
        self.stdout.write(f"digest published: {result.ballots_digest}")
        if digest != result.ballots_digest:
            self.stdout.write(self.style.ERROR("MISMATCH: this file is not exactly the ballots that were counted."))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(f"OK: the file matches the published result of {item_key[0]} {item_key[1]}."))
