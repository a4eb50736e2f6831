"""Check a downloaded ballots CSV, whole, against the published result and against the audit trail."""

import csv
import hashlib
import re

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Segment
from participation import audit, verification
from participation.exports import ABSTAIN_LABELS, BALLOTS_HEADER, canonical_line, cell, uncell
from participation.models import Kind, Option, Result

# The export writes numbers as str(int): ASCII digits only. int() alone would also read "١" (Arabic-Indic one).
ASCII_NUMBER = re.compile(r"0|[1-9][0-9]*")
RECEIPT = re.compile(r"[A-Z0-9]+(-[A-Z0-9]+)*")
SEGMENTS = {s.value for s in Segment}
SHOWN_LIMIT = 20


class Command(BaseCommand):
    help = (
        "verify_export FILE: check a ballots CSV (docs/exports.md) against the published result and the tally's "
        "entry on the audit trail: the exact columns, one item, every option label (Arabic and English), ASCII "
        "digits, the votes per option recomputed from the file, and the SHA-256 ballots digest. Exit code 1 on any "
        "mismatch."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, file, **options):
        rows, item_key = self.read(file)
        result = Result.objects.filter(item__kind=item_key[0], item__slug=item_key[1]).select_related("item").first()
        if result is None:
            raise CommandError(f"No published result for {item_key[0]} {item_key[1]}.")
        item = result.item
        entry = verification.tally_entry(item)
        problems = []
        lines, votes = self.check_rows(item, rows, problems)
        digest = hashlib.sha256("".join(sorted(lines, key=lambda line: line.encode("utf-8"))).encode("utf-8")).hexdigest()
        recorded = entry.details if entry is not None else {}

        self.stdout.write(f"ballots in file: {len(lines)}; ballots counted in the result: {result.ballots}")
        self.stdout.write(f"digest of file:   {digest}")
        self.stdout.write(f"digest published: {result.ballots_digest}")
        self.stdout.write(f"digest on the audit trail: {recorded.get('ballots_digest', '(no tally entry)')}")

        if item.kind == Kind.REFERENDUM and len(lines) != result.ballots:
            problems.append(f"the file has {len(lines)} ballots, the result counts {result.ballots}")
        problems += self.compare_votes(votes, verification.counts_by_position(result), "the published result")
        if digest != result.ballots_digest:
            problems.append("the digest of the file is not the published ballots digest")
        if entry is None:
            problems.append("the audit trail has no tally entry for this item, so the result cannot be checked against it")
        else:
            if audit.chain_hash(entry.previous_hash, entry) != entry.entry_hash:
                problems.append(f"the tally entry {entry.pk} on the audit trail was changed (its hash does not match)")
            problems += self.compare_votes(votes, recorded.get("counts", {}), "the tally entry on the audit trail")
            if digest != recorded.get("ballots_digest"):
                problems.append("the digest of the file is not the digest recorded on the audit trail at the tally")
            for what, stored, on_trail in verification.result_disagreements(result, entry):
                problems.append(f"the stored result's {what} ({stored}) differs from the audit trail's ({on_trail})")

        if problems:
            for problem in problems[:SHOWN_LIMIT]:
                self.stdout.write(self.style.ERROR(f"MISMATCH: {problem}"))
            if len(problems) > SHOWN_LIMIT:
                self.stdout.write(self.style.ERROR(f"MISMATCH: … and {len(problems) - SHOWN_LIMIT} more"))
            self.stdout.write(self.style.ERROR("MISMATCH: this file is not exactly the ballots that were counted."))
            raise SystemExit(1)
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: the file matches the published result of {item.kind} {item.slug} and its tally on the audit trail."
            )
        )

    def read(self, file):
        """The rows as (line number, dict) and the (type, slug) they all belong to; CommandError if unusable."""
        rows, item_key = [], None
        try:
            with open(file, encoding="utf-8-sig", newline="") as handle:
                reader = csv.reader(handle)
                header = next(reader, None)
                if header != BALLOTS_HEADER:
                    raise CommandError(
                        f"{file} is not a ballots export: its columns are {header}; a ballots export has exactly "
                        f"{BALLOTS_HEADER}, in that order."
                    )
                for number, cells in enumerate(reader, start=2):
                    if len(cells) != len(BALLOTS_HEADER):
                        raise CommandError(f"Line {number} has {len(cells)} cells; a ballots export has {len(BALLOTS_HEADER)}.")
                    row = dict(zip(BALLOTS_HEADER, cells, strict=True))
                    key = (uncell(row["type"]), uncell(row["slug"]))
                    if item_key is None:
                        item_key = key
                    elif key != item_key:
                        raise CommandError(f"Line {number} belongs to another item ({key[0]} {key[1]}).")
                    rows.append((number, row))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise CommandError(f"Cannot read {file}: {exc}.") from exc
        if item_key is None:
            raise CommandError(f"{file} has no ballots; nothing to verify.")
        return rows, item_key

    def check_rows(self, item, rows, problems):
        """Digest lines and votes per (question, option) position of the rows; what is wrong goes to `problems`."""
        labels = {
            (str(question), str(option)): (text_ar, text_en)
            for question, option, text_ar, text_en in Option.objects.filter(question__item=item).values_list(
                "question__position", "position", "text_ar", "text_en"
            )
        }
        abstain = ABSTAIN_LABELS[item.kind]
        lines, votes, receipts = [], {}, set()
        for number, row in rows:
            for name in ("question", "option"):
                if not ASCII_NUMBER.fullmatch(row[name]):
                    try:
                        int(row[name])
                    except ValueError as exc:
                        raise CommandError(f"Line {number} cannot be read: {exc}.") from exc
                    problems.append(f"line {number}: the {name} {row[name]!r} is not written in ASCII digits")
            question, option = row["question"], row["option"]
            expected = abstain if int(option) == 0 else labels.get((str(int(question)), str(int(option))))
            if expected is None:
                problems.append(f"line {number}: question {question} has no option {option}")
            elif (row["option_ar"], row["option_en"]) != (cell(expected[0]), cell(expected[1])):
                problems.append(
                    f"line {number}: option {option} is labelled {row['option_ar']!r} / {row['option_en']!r}, "
                    f"but it is {expected[0]!r} / {expected[1]!r}"
                )
            if item.kind == Kind.REFERENDUM:
                if not RECEIPT.fullmatch(row["receipt"]) or row["receipt"] in receipts or row["segment"]:
                    problems.append(f"line {number}: the receipt {row['receipt']!r} is repeated or not plain ASCII, or the row has a segment")
                receipts.add(row["receipt"])
            elif row["receipt"] or row["segment"] not in SEGMENTS:
                problems.append(f"line {number}: a poll row has a receipt or an unknown segment ({row['segment']!r})")
            position = (str(int(question)), str(int(option)))
            votes.setdefault(position[0], {}).setdefault(position[1], 0)
            votes[position[0]][position[1]] += 1
            lines.append(canonical_line(row))
        return lines, votes

    def compare_votes(self, votes, published, source):
        """Differences between the votes counted in the file and `published` ({question: {option: votes}})."""
        problems = []
        for question in sorted(set(votes) | set(published), key=int):
            in_file, counted = votes.get(question, {}), published.get(question, {})
            for option in sorted(set(in_file) | set(counted), key=int):
                if in_file.get(option, 0) != counted.get(option, 0):
                    problems.append(
                        f"question {question}, option {option}: {in_file.get(option, 0)} in the file, "
                        f"{counted.get(option, 0)} in {source}"
                    )
        return problems
