"""Suppression that holds: no hidden breakdown cell of a referendum can be worked out from what is published.

The attacker's solver is independent of participation.suppression: scipy's
linprog (HiGHS) takes only what outsiders can read, namely the results page (both
languages) or the results CSV, plus the participation register CSV (ballots per
segment and day), and computes the smallest and largest value of every hidden
cell over all tables consistent with them. A hidden cell whose minimum equals its
maximum has been given away, and the test fails.

Transportation polytopes have integral vertices, so the LP's bounds are the
integer bounds: "pinned" is max - min < 0.5.

That the check can fail is shown inside the suite: with complementary
suppression switched off (primary suppression only), the issue's example is
caught (test_primary_suppression_alone_is_caught).
"""

import csv
import io
import random
import re
from collections import defaultdict
from datetime import date
from html import unescape

import pytest
from django.utils import timezone, translation
from scipy.optimize import linprog

from accounts.models import Segment
from participation import exports, suppression
from participation.models import Result, State
from participation.services import counting
from participation.tally import SMALL_CELL, referendum_breakdown
from tests.answers import body_of, export_url
from tests.builders.items import close, make_referendum, question_and_options, vote_referendum
from tests.builders.users import people

from .conftest import t

pytestmark = pytest.mark.django_db

HIDDEN = "hidden"  # how a hidden cell is recorded after parsing


# ---------------------------------------------------------------------------
# The attacker: everything published, as equations, solved by an LP
# ---------------------------------------------------------------------------


def attack(segment_ballots, option_votes, cells):
    """{hidden cell: (min, max)} over all non-negative tables with these totals and shown cells.

    segment_ballots {segment: n} and option_votes {option: n} are the published totals; cells
    {(segment, option): n or HIDDEN} the published breakdown.
    """
    assert sum(segment_ballots.values()) == sum(option_votes.values()), "published totals disagree"
    index = {cell: i for i, cell in enumerate((s, o) for s in segment_ballots for o in option_votes)}
    equations, values = [], []

    def equation(members, value):
        row = [0.0] * len(index)
        for cell in members:
            row[index[cell]] = 1.0
        equations.append(row)
        values.append(value)

    for segment, n in segment_ballots.items():
        equation([(segment, o) for o in option_votes], n)
    for option, n in option_votes.items():
        equation([(s, option) for s in segment_ballots], n)
    for cell, n in cells.items():
        if n != HIDDEN:
            equation([cell], n)
    bounds = {}
    for cell in (c for c, n in cells.items() if n == HIDDEN):
        ends = []
        for sign in (1, -1):
            objective = [0.0] * len(index)
            objective[index[cell]] = sign
            solved = linprog(objective, A_eq=equations, b_eq=values, bounds=(0, None), method="highs")
            assert solved.status == 0, f"the published numbers admit no table: {solved.message}"
            ends.append(sign * solved.fun)
        bounds[cell] = (ends[0], ends[1])
    return bounds


def assert_nothing_given_away(segment_ballots, option_votes, cells, truth=None):
    bounds = attack(segment_ballots, option_votes, cells)
    pinned = {cell: lo for cell, (lo, hi) in bounds.items() if hi - lo < 0.5}
    assert not pinned, f"hidden cells worked out from the published numbers: {pinned}"
    for cell, (lo, hi) in bounds.items():
        if truth is not None:
            assert lo - 1e-6 <= truth[cell] <= hi + 1e-6, "the solver's model of the published data is wrong"
    return bounds


def pinned_cells(segment_ballots, option_votes, cells):
    return {cell: round(lo) for cell, (lo, hi) in attack(segment_ballots, option_votes, cells).items() if hi - lo < 0.5}


# ---------------------------------------------------------------------------
# Reading what is published
# ---------------------------------------------------------------------------


def number(text):
    """A count as printed: digits, possibly grouped (1,234 or 1٬234); Arabic-Indic digits accepted."""
    text = unescape(re.sub(r"<[^>]+>", "", text)).strip()
    digits = "".join(str(int(ch)) for ch in text if ch.isdigit())
    return int(digits)


def cell_value(td):
    return HIDDEN if "visually-hidden" in td and "–" in td else number(td)


def read_csv_bytes(data):
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


def register_segments(client, lang, referendum):
    """Ballots per segment, as the participation register CSV gives them (summed over days)."""
    totals = defaultdict(int)
    for row in read_csv_bytes(body_of(client.get(export_url(lang, referendum, "register")))):
        totals[row["segment"]] += int(row["participants"])
    return dict(totals)


def from_csv(client, lang, referendum):
    """(segment_ballots, option_votes, cells) from the results CSV and the register CSV."""
    segments = register_segments(client, lang, referendum)
    option_votes, cells = {}, {}
    for row in read_csv_bytes(body_of(client.get(export_url(lang, referendum, "results")))):
        option = int(row["option"])
        option_votes[option] = int(row["votes"])
        for segment in Segment.values:
            value = row[f"votes_{segment}"]
            if segment not in segments:
                assert value == "0", f"{segment} cast no ballots, yet its cell is {value!r}"
                continue
            cells[segment, option] = HIDDEN if value == "" else int(value)
    for segment in Segment.values:
        segments.setdefault(segment, 0)
        for option in option_votes:
            cells.setdefault((segment, option), 0)
    return segments, option_votes, cells


def section(html, title_id):
    return html.split(f'id="{title_id}"', 1)[1].split("</section>", 1)[0]


ROW_RE = re.compile(r'<tr>\s*<th scope="row"[^>]*>(.*?)</th>(.*?)</tr>', re.S)
TD_RE = re.compile(r"<td[^>]*>(.*?)</td>", re.S)


def from_page(client, lang, referendum):
    """(segment_ballots, option_votes, cells) from the results page alone, keyed by the page's labels."""
    response = client.get(f"/{lang}/referendums/{referendum.slug}/results/")
    assert response.status_code == 200
    html = response.content.decode()
    option_votes = {
        unescape(label): number(TD_RE.findall(tds)[0]) for label, tds in ROW_RE.findall(section(html, "results-title"))
    }
    breakdown = section(html, "breakdown-title")
    segments = [unescape(s) for s in re.findall(r'<th scope="col">(.*?)</th>', breakdown.split("</thead>", 1)[0])][1:]
    body, foot = breakdown.split("<tfoot>", 1)
    cells = {}
    for label, tds in ROW_RE.findall(body):
        for segment, td in zip(segments, TD_RE.findall(tds), strict=True):
            cells[segment, unescape(label)] = cell_value(td)
    [(_label, tds)] = ROW_RE.findall(foot)
    segment_ballots = {segment: cell_value(td) for segment, td in zip(segments, TD_RE.findall(tds), strict=True)}
    assert HIDDEN not in segment_ballots.values(), "ballots per segment must always be published"
    with translation.override(lang):
        for segment in Segment:
            segment_ballots.setdefault(str(segment.label), 0)  # a segment not shown cast no ballots
    for segment in segment_ballots:
        for option in option_votes:
            cells.setdefault((segment, option), 0)
    return segment_ballots, option_votes, html, cells


# ---------------------------------------------------------------------------
# Referendums voted through the services, read back from the page and the CSVs
# ---------------------------------------------------------------------------


def referendum_with(table, options=2, **fields):
    """A tallied, published referendum; table {(segment, option position or 0 for blank): ballots}."""
    referendum = make_referendum(options=options, **fields, state=State.OPEN)
    _question, opts = question_and_options(referendum)
    by_position = {option.position: option for option in opts}
    for (segment, position), n in table.items():
        for voter in people(n, segment, verified=True):
            vote_referendum(voter, referendum, by_position.get(position))
    close(referendum)
    counting.tally_and_publish(referendum.pk)
    return referendum


ISSUE_EXAMPLE = {  # 15 + 8 Yes, 3 + 12 No, by citizens and residents
    (Segment.CITIZEN, 1): 15,
    (Segment.RESIDENT, 1): 8,
    (Segment.CITIZEN, 2): 3,
    (Segment.RESIDENT, 2): 12,
}

CASES = {
    "issue example": (ISSUE_EXAMPLE, {}),
    "three segments, a silent option": (
        {
            (Segment.VISITOR, 1): 11,
            (Segment.VISITOR, 0): 2,
            (Segment.CITIZEN, 1): 14,
            (Segment.CITIZEN, 2): 1,
            (Segment.CITIZEN, 0): 12,
            (Segment.RESIDENT, 2): 13,
            (Segment.RESIDENT, 1): 4,
        },
        {"options": 3, "for_visitors": True},
    ),
    "a segment that cast no ballots": (
        {(Segment.CITIZEN, 1): 12, (Segment.CITIZEN, 2): 4, (Segment.RESIDENT, 1): 2, (Segment.RESIDENT, 2): 11},
        {"for_visitors": True},
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_nothing_hidden_can_be_worked_out_from_the_page_and_the_csvs(auditor_client, lang, case):
    table, fields = CASES[case]
    referendum = referendum_with(table, **fields)

    segments, option_votes, cells = from_csv(auditor_client, lang, referendum)
    truth = {(s, o): table.get((Segment(s), o), 0) for s, o in cells}
    assert HIDDEN in cells.values()  # there is something to protect in every case
    assert_nothing_given_away(segments, option_votes, cells, truth)

    page_segments, page_votes, html, page_cells = from_page(auditor_client, lang, referendum)
    assert (
        t(
            lang,
            "Where needed, some larger groups are not shown either, so that no hidden number can be "
            "worked out from the totals and the other numbers.",
        )
        in html
    )
    assert_nothing_given_away(page_segments, page_votes, page_cells)
    # The page hides exactly what the CSV hides.
    assert sorted(page_cells.values(), key=str) == sorted(cells.values(), key=str)


def test_the_issue_example_hides_the_whole_two_by_two_block(auditor_client, lang):
    referendum = referendum_with(ISSUE_EXAMPLE)
    segments, option_votes, cells = from_csv(auditor_client, lang, referendum)
    assert segments == {"citizen": 18, "resident": 20, "visitor": 0}
    assert option_votes == {1: 23, 2: 15, 0: 0}
    for segment in ("citizen", "resident"):
        assert cells[segment, 1] == cells[segment, 2] == HIDDEN
        assert cells[segment, 0] == 0  # nobody voted blank: the totals say so
    bounds = attack(segments, option_votes, cells)
    assert bounds[("citizen", 1)] == pytest.approx((3, 18))


def test_primary_suppression_alone_is_caught(auditor_client, lang, monkeypatch):
    """The check can fail: hiding only the small cells (as before) gives 8 and 3 away by subtraction."""

    def primary_only(cells, threshold):
        public = suppression.determined(cells)
        return {cell for cell, n in cells.items() if n < threshold and cell not in public}

    monkeypatch.setattr(suppression, "protect", primary_only)
    referendum = referendum_with(ISSUE_EXAMPLE)

    assert pinned_cells(*from_csv(auditor_client, lang, referendum)) == {("resident", 1): 8, ("citizen", 2): 3}
    segment_ballots, option_votes, _html, cells = from_page(auditor_client, lang, referendum)
    assert sorted(pinned_cells(segment_ballots, option_votes, cells).values()) == [3, 8]


def test_a_single_segment_is_no_secret_and_the_page_says_so(auditor_client, lang):
    """Only citizens may take part: the option totals are the citizens' cells, so small cells are shown."""
    referendum = referendum_with({(Segment.CITIZEN, 1): 3, (Segment.CITIZEN, 2): 1}, for_residents=False)
    _segments, _votes, html, cells = from_page(auditor_client, lang, referendum)
    assert HIDDEN not in cells.values()
    with translation.override(lang):
        citizens = str(Segment.CITIZEN.label)
    assert sorted(n for (segment, _option), n in cells.items() if segment == citizens) == [0, 1, 3]
    assert (
        t(
            lang,
            "A small number is shown when the published totals already give it away, for example when a "
            "group cast no ballots or only one group voted.",
        )
        in html
    )
    _segments, _votes, csv_cells = from_csv(auditor_client, lang, referendum)
    assert HIDDEN not in csv_cells.values()


# ---------------------------------------------------------------------------
# Randomised tables: the real breakdown and the real CSV writer, many shapes
# ---------------------------------------------------------------------------


def random_table(rng, segments, options):
    """Counts that mix small and large cells, with empty rows, columns and cells now and then."""
    shape = rng.choice(["small", "mixed", "large", "sparse"])
    table = {}
    for segment in segments:
        silent = rng.random() < 0.1
        for option in options:
            if silent or shape == "sparse" and rng.random() < 0.5:
                n = 0
            elif shape == "small" or shape == "mixed" and rng.random() < 0.5:
                n = rng.randint(0, 12)
            else:
                n = rng.randint(0, 60)
            table[segment, option] = n
    return table


def csv_of(header, rows):
    return "".join(exports.csv_chunks(header, rows)).encode("utf-8")


def published_csvs(referendum, question, table):
    """The results CSV and register CSV that exports writes for this table (register: all on one day)."""
    counts = {(segment, option.pk if option else None): n for (segment, option), n in table.items() if n}
    ballots, per_option, breakdown = referendum_breakdown(question, counts, referendum.segments)
    options = [
        {
            "id": o.pk,
            "position": o.position,
            "ar": o.text_ar,
            "en": o.text_en,
            "votes": per_option[question.pk, o.pk],
            "percent": 0.0,
        }
        for o in question.options.all()
    ]
    options.append(
        {
            "id": None,
            "position": 0,
            "ar": "",
            "en": "",
            "abstain": True,
            "votes": per_option[question.pk, None],
            "percent": 0.0,
        }
    )
    result = Result(
        item=referendum,
        tallied_at=timezone.now(),
        ballots=ballots,
        eligible=ballots,
        ballots_digest="0" * 64,
        counts={
            "kind": "referendum",
            "breakdown": breakdown,
            "questions": [{"id": question.pk, "position": 1, "ar": "", "en": "", "options": options}],
        },
    )
    register = [
        ["referendum", referendum.slug, date(2026, 3, 10), segment, n]
        for segment, n in breakdown["segment_ballots"].items()
        if n
    ]
    return (
        csv_of(exports.RESULTS_HEADER, exports.results_rows(referendum, result)),
        csv_of(exports.REFERENDUM_REGISTER_HEADER, register),
    )


def parse_published(results_csv, register_csv):
    segments = defaultdict(int)
    for row in read_csv_bytes(register_csv):
        segments[row["segment"]] += int(row["participants"])
    option_votes, cells = {}, {}
    for row in read_csv_bytes(results_csv):
        option_votes[int(row["option"])] = int(row["votes"])
        for segment in Segment.values:
            value = row[f"votes_{segment}"]
            segments.setdefault(segment, 0)
            cells[segment, int(row["option"])] = HIDDEN if value == "" else int(value)
    return dict(segments), option_votes, cells


@pytest.mark.parametrize("segment_count", [2, 3])
@pytest.mark.parametrize("option_count", [2, 3, 4, 5])
def test_random_tables_give_nothing_away(segment_count, option_count):
    rng = random.Random(f"suppression-{segment_count}-{option_count}")
    audience = {"for_visitors": segment_count == 3}
    referendum = make_referendum(options=option_count, **audience, state=State.OPEN)
    question, opts = question_and_options(referendum)
    segments = [s.value for s in referendum.segments]
    assert len(segments) == segment_count
    checked = hidden_total = 0
    for _ in range(15):
        table = random_table(rng, segments, [*opts, None])
        results_csv, register_csv = published_csvs(referendum, question, table)
        segment_ballots, option_votes, cells = parse_published(results_csv, register_csv)
        truth = {(s, o.position if o else 0): n for (s, o), n in table.items()}
        for cell, n in cells.items():
            if n != HIDDEN:
                assert n == truth.get(cell, 0)
            elif truth[cell] < SMALL_CELL:
                checked += 1
        hidden_total += list(cells.values()).count(HIDDEN)
        assert_nothing_given_away(segment_ballots, option_votes, cells, {c: truth.get(c, 0) for c in cells})
    assert checked > 10 and hidden_total > checked  # small cells were hidden, and complementary ones with them


# ---------------------------------------------------------------------------
# The module itself, checked against the LP
# ---------------------------------------------------------------------------


def test_exact_intervals_agree_with_the_lp():
    rng = random.Random("intervals")
    for _ in range(60):
        rows, cols = rng.randint(1, 3), rng.randint(2, 6)
        cells = {(r, c): rng.choice([0, 0, 1, 2, 4, 9, 10, 15, 40]) for r in range(rows) for c in range(cols)}
        hidden = {cell for cell in cells if rng.random() < 0.5}
        published = {cell: HIDDEN if cell in hidden else n for cell, n in cells.items()}
        segment_totals = {r: sum(cells[r, c] for c in range(cols)) for r in range(rows)}
        option_totals = {c: sum(cells[r, c] for r in range(rows)) for c in range(cols)}
        bounds = attack(segment_totals, option_totals, published)
        for cell in hidden:
            lo, hi = suppression.interval(cells, hidden, cell)
            assert (lo, hi) == pytest.approx(bounds[cell]), (cells, hidden, cell)
            assert suppression.is_pinned(cells, hidden, cell) == (lo == hi)


def test_protect_hides_small_cells_publishes_what_totals_fix_and_is_deterministic():
    cells = {("c", "y"): 15, ("r", "y"): 8, ("c", "n"): 3, ("r", "n"): 12, ("c", None): 0, ("r", None): 0}
    assert suppression.determined(cells) == {("c", None), ("r", None)}
    assert suppression.protect(cells, 10) == {("c", "y"), ("r", "y"), ("c", "n"), ("r", "n")}
    assert suppression.protect(dict(reversed(cells.items())), 10) == suppression.protect(cells, 10)
    # Nothing under the threshold: nothing hidden.
    assert suppression.protect({("c", "y"): 15, ("r", "y"): 10, ("c", "n"): 30, ("r", "n"): 12}, 10) == set()
    # One segment: every cell is its option's total.
    assert suppression.protect({("c", "y"): 3, ("c", "n"): 1}, 10) == set()
