"""The one table `make bench` prints: every figure as a ratio to a baseline measured in the same run.

Each bench section returns `Row`s; bench/run.py collects them and prints `render(rows)`.
A row's ratio is portal / baseline. For throughputs (requests/s, rows/s) higher is better and
the target reads "≥ 0.5"; for durations (seconds) lower is better and it reads "≤ 1.5".
"""

from dataclasses import dataclass

HEADER = ("figure", "portal", "baseline", "ratio", "target", "met")


@dataclass
class Row:
    name: str  # what is measured, e.g. "poll page GET, anonymous"
    portal: float  # the portal's figure
    baseline: float  # the baseline's figure, measured in the same run
    unit: str  # "req/s", "rows/s", "s" ...
    target: str  # "≥ 0.5" or "≤ 1.5": the bound on portal / baseline
    baseline_name: str = ""  # what the baseline is: "bare template view", "COPY" ...
    note: str = ""  # anything the reader must know (errors, memory), printed under the table

    @property
    def ratio(self):
        return self.portal / self.baseline if self.baseline else float("nan")

    @property
    def met(self):
        sign, bound = self.target.split()
        bound = float(bound)
        if sign in ("≥", ">="):
            return self.ratio >= bound
        if sign in ("≤", "<="):
            return self.ratio <= bound
        raise ValueError(f"target {self.target!r}: write '≥ 0.5' or '≤ 1.5'")


def from_figure(figure, baseline_name):
    """A Row from the dicts bench/tally_bench.py and bench/export_bench.py return (they also run alone).

    A figure without a baseline (the export's memory growth) becomes a row against its absolute bound.
    """
    target = figure["target"].replace(">=", "≥").replace("<=", "≤").split(" x ")[0]
    if figure["baseline"] is None:
        # "< 50 MB": portal / bound must stay below 1.
        bound = float(figure["target"].split()[1])
        return Row(figure["name"], figure["portal"], bound, figure["unit"], "≤ 1", "the bound", "")
    extra = ", ".join(f"{key} {figure[key]}" for key in ("open_box", "commit") if key in figure)
    return Row(figure["name"], figure["portal"], figure["baseline"], figure["unit"], target, baseline_name, extra)


def _figure(value, unit):
    number = f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"
    return f"{number} {unit}"


def render(rows):
    """A Markdown table (it reads well in a terminal too), then the rows' notes."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    for row in rows:
        baseline = _figure(row.baseline, row.unit) + (f" ({row.baseline_name})" if row.baseline_name else "")
        lines.append(
            f"| {row.name} | {_figure(row.portal, row.unit)} | {baseline} | {row.ratio:.2f} | {row.target} | "
            f"{'yes' if row.met else 'NO'} |"
        )
    notes = [f"- {row.name}: {row.note}" for row in rows if row.note]
    return "\n".join(lines + ([""] + notes if notes else []))
