#!/usr/bin/env python3
"""Verify a published referendum on your own computer, without access to the portal's server.

Usage:  python3 verify_referendum.py ballots.csv result.json

Download both files from the referendum's results page ("For auditors"):
  ballots.csv   every ballot: receipt and option, one row per ballot
  result.json   the published result: options with their labels and votes, ballots, eligible,
                the ballots digest, and the tally's place on the portal's audit trail

The verifier recomputes, from the ballots alone, the votes for each option, the number of ballots
and the SHA-256 ballots digest, and compares them with the published result. It also checks that
the file is exactly in the published format: the same columns in the same order, one referendum
only, every option's Arabic and English label as published, numbers in ASCII digits (0-9), no
receipt twice. It prints OK, or every difference it found, and exits with 0 (OK), 1 (mismatch)
or 2 (a file cannot be read).

The digest recipe (docs/exports.md): one line "R|RECEIPT|OOO\\n" per ballot, OOO being the option's
position on three digits (000 = blank vote); the lines sorted bytewise and concatenated; SHA-256.

Python 3.8 or later, standard library only. This file is the whole program: read it before you trust it.
"""

import csv
import hashlib
import json
import re
import sys

FORMAT = "hukoomi-referendum-result/1"
COLUMNS = ["type", "slug", "receipt", "question", "option", "option_ar", "option_en", "segment"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ASCII_NUMBER = re.compile(r"0|[1-9][0-9]*")  # written as the portal writes numbers: ASCII, no leading zero
RECEIPT = re.compile(r"[A-Z0-9]+(-[A-Z0-9]+)*")  # ASCII only: str.isalnum() would accept Arabic-Indic digits
SHOWN_LIMIT = 20


def as_cell(text):
    """How the portal writes a text cell: one that a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class Check:
    def __init__(self):
        self.problems = []

    def expect(self, condition, message):
        if not condition:
            self.problems.append(message)
        return condition


def load_result(path, check):
    with open(path, encoding="utf-8") as handle:
        result = json.load(handle)
    if not check.expect(isinstance(result, dict) and result.get("format") == FORMAT, f"{path} is not a {FORMAT} file"):
        return None
    check.expect(result.get("columns") == COLUMNS, f"the result lists the columns {result.get('columns')}, not {COLUMNS}")
    options = {}
    for option in result.get("options", []):
        position = option.get("position")
        if not check.expect(is_count(position), f"the result has an option whose position is not a number: {position!r}"):
            continue
        check.expect(position not in options, f"the result lists option {position} twice")
        check.expect(is_count(option.get("votes")), f"the votes of option {position} are not a plain number: {option.get('votes')!r}")
        options[position] = option
    result["_options"] = options
    for key in ("ballots", "eligible"):
        check.expect(is_count(result.get(key)), f"the result's {key} is not a plain number: {result.get(key)!r}")
    if is_count(result.get("ballots")) and all(is_count(o.get("votes")) for o in options.values()):
        check.expect(
            sum(o["votes"] for o in options.values()) == result["ballots"],
            f"the result's votes add up to {sum(o['votes'] for o in options.values())}, not to its {result['ballots']} ballots",
        )
    if is_count(result.get("ballots")) and is_count(result.get("eligible")):
        check.expect(result["ballots"] <= result["eligible"], "the result counts more ballots than eligible people")
    digest = result.get("ballots_digest")
    check.expect(isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest), f"the result's ballots digest is not a SHA-256: {digest!r}")
    return result


def read_ballots(path, result, check):
    """Check every row against the result; return (digest lines, votes per option position)."""
    item = result.get("item", {})
    question = result.get("question", {})
    options = result["_options"]
    lines, votes, receipts = [], {}, set()
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not check.expect(header == COLUMNS, f"the columns are {header}, not {COLUMNS}"):
            return lines, votes
        for number, row in enumerate(reader, start=2):
            problem = row_problem(row, item, question, options, receipts)
            if problem:
                check.expect(False, f"line {number}: {problem}")
                continue
            position = int(row[4])
            receipts.add(row[2])
            votes[position] = votes.get(position, 0) + 1
            lines.append(f"R|{row[2]}|{position:03d}\n")
    return lines, votes


def row_problem(row, item, question, options, receipts):
    """What is wrong with one ballot row, or None."""
    if len(row) != len(COLUMNS):
        return f"{len(row)} cells instead of {len(COLUMNS)}"
    kind, slug, receipt, question_cell, option_cell, label_ar, label_en, segment = row
    if kind != "referendum" or slug != as_cell(str(item.get("slug", ""))):
        return f"a ballot of another item ({kind} {slug}), not of referendum {item.get('slug')}"
    if not RECEIPT.fullmatch(receipt):
        return f"the receipt {receipt!r} is not written in ASCII letters, digits and dashes"
    if receipt in receipts:
        return f"the receipt {receipt} appears twice"
    for name, value in (("question", question_cell), ("option", option_cell)):
        if not ASCII_NUMBER.fullmatch(value):
            return f"the {name} {value!r} is not a number written in ASCII digits"
    if int(question_cell) != question.get("position"):
        return f"question {question_cell}, but the referendum's question is {question.get('position')}"
    option = options.get(int(option_cell))
    if option is None:
        return f"option {option_cell} is not one of the result's options"
    if label_ar != as_cell(str(option.get("ar", ""))) or label_en != as_cell(str(option.get("en", ""))):
        return f"option {option_cell} is labelled {label_ar!r} / {label_en!r}, but published as {option.get('ar')!r} / {option.get('en')!r}"
    if segment:
        return f"a referendum ballot carries a segment ({segment!r})"
    return None


def verify(ballots_path, result_path, out=sys.stdout):
    """Return the exit code: 0 when the ballots and the result agree, 1 when they do not, 2 when unreadable."""
    check = Check()
    try:
        result = load_result(result_path, check)
        lines, votes = read_ballots(ballots_path, result, check) if result is not None else ([], {})
    except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        print(f"CANNOT READ: {exc}", file=out)
        return 2
    if result is not None:
        digest = hashlib.sha256("".join(sorted(lines, key=lambda line: line.encode("utf-8"))).encode("utf-8")).hexdigest()
        print(f"referendum:       {result.get('item', {}).get('slug')}", file=out)
        print(f"ballots in file:  {len(lines)}; ballots in the result: {result.get('ballots')}", file=out)
        print(f"digest of file:   {digest}", file=out)
        print(f"digest published: {result.get('ballots_digest')}", file=out)
        check.expect(len(lines) == result.get("ballots"), f"the file has {len(lines)} ballots, the result counts {result.get('ballots')}")
        for position in sorted(set(votes) | set(result["_options"])):
            published = result["_options"].get(position, {}).get("votes")
            check.expect(votes.get(position, 0) == published, f"option {position}: {votes.get(position, 0)} ballots in the file, {published} in the result")
        check.expect(digest == result.get("ballots_digest"), "the digest of the file is not the published ballots digest")
        audit = result.get("audit") or {}
        if audit:
            print(f"tally on the audit trail: entry {audit.get('position')}, hash {audit.get('entry_hash')}", file=out)
    if check.problems:
        for problem in check.problems[:SHOWN_LIMIT]:
            print(f"MISMATCH: {problem}", file=out)
        if len(check.problems) > SHOWN_LIMIT:
            print(f"MISMATCH: … and {len(check.problems) - SHOWN_LIMIT} more", file=out)
        return 1
    print("OK: the ballots file gives exactly the published result.", file=out)
    return 0


def main(argv):
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    return verify(argv[1], argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
