"""Complementary cell suppression for a two-way table whose row and column totals are published.

The table is a referendum's breakdown: rows are segments, columns are options
(and the blank vote), and a cell counts the ballots of one segment for one
option. What outsiders know besides the published cells: every row total (the
participation register gives ballots per segment), every column total (the
option's votes) and so the grand total. Hiding a small cell is worthless if it
comes back by subtraction: with 15 + 8 Yes and 3 + 12 No by citizens and
residents, hiding 8 and 3 alone leaves 8 = 23 - 15 and 3 = 15 - 12.

The method
----------
The tables consistent with everything published are the integer points of a
transportation polytope: non-negative cells, published cells fixed, row and
column sums equal to the totals. Its constraint matrix is totally unimodular,
so every vertex is integral and the values a hidden cell can take form a whole
interval of integers [lo, hi]. A hidden cell is *pinned* when lo == hi.

Both ends are computed exactly with a maximum flow on the small bipartite graph
source -> row (capacity: what the row total leaves after its published cells)
-> column (one uncapacitated edge per hidden cell) -> sink (capacity: what the
column total leaves). A table fits the published data exactly when that flow
saturates every row; the flow on an edge is the hidden cell's value. Since the
true value v is one such table and the interval has no gaps, a cell is pinned
exactly when neither v - 1 nor v + 1 fits, which costs two flows per cell
(`interval` gives both ends, for reports and tests).

`protect` then:
1. publishes every cell that the totals alone pin down (lo == hi with every
   cell hidden: a segment or an option with no ballots, a single segment, ...):
   hiding it would protect nothing, and the page says these are shown;
2. hides every other cell under the threshold (primary suppression);
3. while some hidden cell is pinned, hides one more published cell
   (complementary suppression): in the pinned cell's row or column first, the
   smallest first, preferring one that unpins it. Hiding every cell that is
   not pinned by the totals leaves nothing pinned (that is how step 1 chose),
   so the loop ends.

Limits, stated plainly: "not pinned" is the guarantee, not a minimum width of
the interval (a hidden cell may still be known to lie in [0, 1]); and the
pattern of hidden cells is not itself a secret, so someone who knows this
algorithm may reason about which hidden cells are small. Which hidden cells are
complementary is never published for that reason.

Pure Python, no dependencies: it runs inside the tally's transaction.
"""

from collections import deque

__all__ = ["determined", "interval", "is_pinned", "protect"]


def _lines(cells):
    """Rows and columns in first-seen order, and the row and column totals."""
    rows, cols = {}, {}
    for (row, col), n in cells.items():
        if n < 0:
            raise ValueError(f"negative count in cell {(row, col)!r}")
        rows[row] = rows.get(row, 0) + n
        cols[col] = cols.get(col, 0) + n
    return rows, cols


def _max_flow(supply, demand, edges):
    """Maximum flow source -> rows (supply) -> columns (edges, unbounded) -> sink (demand). Edmonds-Karp."""
    source, sink = ("source",), ("sink",)
    capacity = {}
    neighbours = {source: [], sink: []}

    def add(u, v, cap):
        neighbours.setdefault(u, []).append(v)
        neighbours.setdefault(v, []).append(u)
        capacity[u, v] = capacity.get((u, v), 0) + cap
        capacity.setdefault((v, u), 0)

    for row, cap in supply.items():
        add(source, ("row", row), cap)
    for col, cap in demand.items():
        add(("col", col), sink, cap)
    unbounded = sum(supply.values())
    for row, col in edges:
        add(("row", row), ("col", col), unbounded)

    flow = 0
    while True:
        parent = {source: None}
        queue = deque([source])
        while queue and sink not in parent:
            u = queue.popleft()
            for v in neighbours[u]:
                if v not in parent and capacity[u, v] > 0:
                    parent[v] = u
                    queue.append(v)
        if sink not in parent:
            return flow
        path, v = [], sink
        while parent[v] is not None:
            path.append((parent[v], v))
            v = parent[v]
        push = min(capacity[edge] for edge in path)
        for u, v in path:
            capacity[u, v] -= push
            capacity[v, u] += push
        flow += push


def _fits(cells, hidden, cell=None, value=None):
    """Is there a table matching everything published (and cell == value, if given)?"""
    rows, cols = _lines(cells)
    supply, demand = dict(rows), dict(cols)
    for (row, col), n in cells.items():
        if (row, col) not in hidden:
            supply[row] -= n
            demand[col] -= n
    edges = set(hidden)
    if cell is not None:
        row, col = cell
        supply[row] -= value
        demand[col] -= value
        edges.discard(cell)
    if value is not None and value < 0 or min(supply.values(), default=0) < 0 or min(demand.values(), default=0) < 0:
        return False
    return _max_flow(supply, demand, edges) == sum(supply.values())


def is_pinned(cells, hidden, cell):
    """Can a hidden cell's value be worked out from the published cells and the totals?"""
    value = cells[cell]
    return not _fits(cells, hidden, cell, value + 1) and not _fits(cells, hidden, cell, value - 1)


def interval(cells, hidden, cell):
    """(lo, hi): every value the hidden cell can take given the published cells and the totals."""
    rows, cols = _lines(cells)
    value = cells[cell]
    bounds = []
    for step in (-1, 1):
        # Widest fitting distance from the true value, by doubling then bisection (fitting values have no gaps).
        good, bad = 0, 1
        limit = value if step < 0 else min(rows[cell[0]], cols[cell[1]]) - value
        while bad <= limit and _fits(cells, hidden, cell, value + step * bad):
            good, bad = bad, bad * 2
        bad = min(bad, limit + 1)
        while bad - good > 1:
            middle = (good + bad) // 2
            if _fits(cells, hidden, cell, value + step * middle):
                good = middle
            else:
                bad = middle
        bounds.append(value + step * good)
    return bounds[0], bounds[1]


def determined(cells):
    """The cells that the row and column totals alone pin down: they are no secret."""
    everything = set(cells)
    return {cell for cell in cells if is_pinned(cells, everything, cell)}


def protect(cells, threshold):
    """The cells to hide so that no cell under `threshold` can be recovered from what is published.

    `cells` maps (row, column) to a count and must hold the whole table (zeros
    included); the row and column totals are assumed known. Cells that the
    totals pin down are never hidden (see `determined`). Deterministic: the
    same table always gives the same answer.
    """
    order = {cell: index for index, cell in enumerate(cells)}
    public = determined(cells)
    hidden = {cell for cell, n in cells.items() if n < threshold and cell not in public}
    while True:
        pinned = next((cell for cell in sorted(hidden, key=order.get) if is_pinned(cells, hidden, cell)), None)
        if pinned is None:
            return hidden
        candidates = sorted(
            (cell for cell in cells if cell not in hidden and cell not in public),
            key=lambda cell: (cell[0] != pinned[0] and cell[1] != pinned[1], cells[cell], order[cell]),
        )
        # Never empty: with every unpinnable cell hidden, nothing hidden is pinned.
        chosen = next((cell for cell in candidates if not is_pinned(cells, hidden | {cell}, pinned)), candidates[0])
        hidden.add(chosen)
