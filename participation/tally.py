"""Counting a closed poll or referendum into one immutable Result.

A poll is counted in the database (one GROUP BY), and its ballots digest,
which auditors recompute from the exported ballots (docs/exports.md), follows
from the same groups. A referendum is counted from its opened ballot box
(services/counting.open_box), which also hashes the digest of exactly the rows
it writes. digest_lines() reads the lines back from the tables, for checks.

Everything here reads; the writes (the close, the Result, the opened box) are
services/counting.py's. docs/results.md follows a result from the close to the auditor.
"""

import hashlib
from collections import Counter

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce, Collate

from accounts.models import PERSONA_FIELDS, Persona, Segment

from . import suppression
from .models import Kind, PollAnswer

# Referendum breakdown cells under this many ballots are hidden, with complementary cells (suppression.py).
SMALL_CELL = 10
DIGEST_CHUNK = 10000


class NotClosedYet(Exception):
    pass


def eligible_users(item):
    """The people who could have taken part: active, in the audience, verified where required."""
    users = get_user_model().objects.filter(is_active=True)
    users = users.filter(segment__in=[s.value for s in item.segments])
    if item.personas:
        any_persona = Q()
        for persona in item.personas:
            any_persona |= Q(**{PERSONA_FIELDS[persona]: True})
        users = users.filter(any_persona)
    if item.requires_verified_identity:
        users = users.filter(verification="verified")
    return users


def eligible_count(item):
    """Turnout's denominator: everyone eligible now, plus anyone who voted and has since changed profile."""
    if item.kind == Kind.POLL:
        voters = item.poll_ballots.values("voter_id")
    else:
        voters = item.referendum_participations.values("voter_id")
    # A UNION, not `pk IN (…) OR pk IN (…)`: PostgreSQL plans the OR as a subplan per user row, which never
    # finished with a million users (FIELD-NOTES); the UNION is two scans and a de-duplication.
    eligible = eligible_users(item).order_by().values_list("pk")
    return eligible.union(voters.order_by().values_list("voter_id")).count()


def binary_order(field):
    """Order by bytes, as `LC_ALL=C sort` does, on every database."""
    return Collate(field, "C") if connection.vendor == "postgresql" else F(field)


def poll_digest_lines(item):
    """Canonical lines of a poll's ballots, in byte order: P|question|option|segment.

    question and option are their 3-digit positions; "no opinion" is option 000.
    """
    rows = (
        PollAnswer.objects.filter(ballot__item=item)
        .annotate(q=F("question__position"), o=Coalesce(F("option__position"), Value(0)), s=F("ballot__segment"))
        .order_by("q", "o", binary_order("ballot__segment"))
        .values_list("q", "o", "s")
    )
    for question, option, segment in rows.iterator(chunk_size=DIGEST_CHUNK):
        yield f"P|{question:03d}|{option:03d}|{segment}\n"


def referendum_digest_lines(item):
    """Canonical lines of a referendum's ballots, in byte order: R|receipt|option (000 = blank)."""
    rows = (
        item.referendum_ballots.annotate(o=Coalesce(F("option__position"), Value(0)))
        .order_by(binary_order("receipt"))
        .values_list("receipt", "o")
    )
    for receipt, option in rows.iterator(chunk_size=DIGEST_CHUNK):
        yield f"R|{receipt}|{option:03d}\n"


def digest_lines(item):
    return poll_digest_lines(item) if item.kind == Kind.POLL else referendum_digest_lines(item)


def ballots_digest(lines):
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8"))
    return digest.hexdigest()


def option_rows(question, counts, ballots):
    rows = []
    for option in question.options.all():
        votes = counts.get((question.pk, option.pk), 0)
        rows.append({"id": option.pk, "position": option.position, "ar": option.text_ar, "en": option.text_en, "votes": votes})
    if question.allow_abstain:
        rows.append({"id": None, "position": 0, "ar": "", "en": "", "votes": counts.get((question.pk, None), 0), "abstain": True})
    for row in rows:
        row["percent"] = round(100 * row["votes"] / ballots, 1) if ballots else 0.0
    return rows


def poll_counts(item, questions):
    """A poll's counts, breakdowns and ballots digest from two GROUP BYs; no ballot is read one by one.

    The digest needs no ballot either: a poll's canonical lines carry only the question, the option
    and the segment, so the sorted lines are each distinct line repeated as often as its group counts.
    Returns (ballots, per_option, breakdown, digest).
    """
    answers = PollAnswer.objects.filter(ballot__item=item).order_by()
    persona_counts = {p.value: Count("id", filter=Q(**{f"ballot__{PERSONA_FIELDS[p]}": True})) for p in Persona}
    groups = answers.values("question_id", "option_id", "ballot__segment").annotate(n=Count("id"), **persona_counts)
    question_positions = {question.pk: question.position for question in questions}
    option_positions = {option.pk: option.position for question in questions for option in question.options.all()}
    per_option, by_segment, personas, lines = Counter(), {}, {p.value: Counter() for p in Persona}, Counter()
    for row in groups:
        question_id, option_id, segment = row["question_id"], row["option_id"], row["ballot__segment"]
        key = f"{question_id}:{option_id or 0}"
        per_option[question_id, option_id] += row["n"]
        by_segment.setdefault(segment, {})[key] = row["n"]
        for persona in Persona:
            personas[persona.value][key] += row[persona.value]
        question, option = question_positions[question_id], option_positions.get(option_id, 0)
        lines[f"P|{question:03d}|{option:03d}|{segment}\n".encode()] += row["n"]
    by_persona = {persona: {k: n for k, n in cells.items() if n} for persona, cells in personas.items()}
    by_persona = {persona: cells for persona, cells in by_persona.items() if cells}
    segment_ballots = dict(item.poll_ballots.order_by().values_list("segment").annotate(n=Count("id")))
    breakdown = {"segment": by_segment, "persona": by_persona, "segment_ballots": segment_ballots}
    return sum(segment_ballots.values()), per_option, breakdown, repeated_lines_digest(lines)


def repeated_lines_digest(lines):
    """The ballots digest of {canonical line (bytes): how many times}: the lines in byte order, hashed."""
    digest = hashlib.sha256()
    for line in sorted(lines):
        remaining = lines[line]
        while remaining:
            repeat = min(remaining, DIGEST_CHUNK)
            digest.update(line * repeat)
            remaining -= repeat
    return digest.hexdigest()


def referendum_breakdown(question, counts, segments=()):
    """A referendum's totals and its segment breakdown, with complementary suppression.

    `counts` maps (segment, option id or None for blank) to ballots: plain
    numbers, wherever they were counted. `segments` are the item's audience,
    listed even when nobody from them voted. Returns (ballots, per_option,
    breakdown) with breakdown = {"segment": {segment: {"<question>:<option or 0>":
    n or None}}, "segment_ballots": {segment: n}, "small_cell": SMALL_CELL,
    "determined": {segment: [keys]}}.

    Guaranteed: no hidden (None) cell can be worked out from everything else
    that is published, namely the option totals, the ballots per segment (always
    published: the participation register gives them), turnout and the shown
    cells (participation.suppression). Cells under SMALL_CELL are shown only
    when those totals alone fix them; "determined" lists them for the page.
    """
    options = [option.pk for option in question.options.all()]
    if question.allow_abstain or any(option is None for _segment, option in counts):
        options.append(None)
    present = {Segment(segment) for segment, _option in counts} | {Segment(segment) for segment in segments}
    rows = [segment.value for segment in Segment if segment in present]
    cells = {(segment, option): counts.get((segment, option), 0) for segment in rows for option in options}
    hidden = suppression.protect(cells, SMALL_CELL)
    small_and_shown = {cell for cell in suppression.determined(cells) if cells[cell] < SMALL_CELL}

    def key(option):
        return f"{question.pk}:{option or 0}"

    by_segment = {
        segment: {key(option): None if (segment, option) in hidden else cells[segment, option] for option in options}
        for segment in rows
    }
    determined = {}
    for segment, option in cells:
        if (segment, option) in small_and_shown:
            determined.setdefault(segment, []).append(key(option))
    per_option = {(question.pk, option): sum(cells[segment, option] for segment in rows) for option in options}
    segment_ballots = {segment: sum(cells[segment, option] for option in options) for segment in rows}
    breakdown = {
        "segment": by_segment,
        "segment_ballots": segment_ballots,
        "small_cell": SMALL_CELL,
        "determined": determined,
    }
    return sum(segment_ballots.values()), per_option, breakdown
