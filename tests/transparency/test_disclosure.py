"""Disclosure control: small counts hidden, and nothing hidden can be worked out again."""

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.transparency.attacker import exposed, feasible_values
from transparency.disclosure import (
    FEWER,
    PUBLISHED,
    SUPPRESSED,
    WITHHELD,
    Equation,
    Published,
    audit,
    protect,
    protect_after,
)

T = 5
# CI runs a fixed, fast profile; run many more locally, with new seeds each time:
#   DISCLOSURE_EXAMPLES=2000 .venv/bin/pytest tests/transparency/test_disclosure.py
EXAMPLES = int(os.environ.get("DISCLOSURE_EXAMPLES", "150"))


def small(pinned: dict) -> dict:
    """The pinned cells that the rule protects (a hidden zero may be worked out: it is 0)."""
    return {k: v for k, v in pinned.items() if 0 < v < T}


def as_pairs(equations):
    return [(e.total, list(e.parts)) for e in equations]


def one_way(total, cells: dict) -> tuple[dict, list]:
    values = {"total": total, **cells}
    return values, [Equation("total", tuple(cells))]


def test_counts_below_the_threshold_zero_included_are_hidden_and_larger_ones_shown():
    values, equations = one_way(16, {"a": 0, "b": 1, "c": 4, "d": 5, "e": 6})
    status = protect(values, equations, T)
    assert status["a"] == status["b"] == status["c"] == FEWER
    assert status["total"] == PUBLISHED
    assert small(exposed(as_pairs(equations), values, status, T)) == {}


def test_hidden_zeros_keep_a_small_total_from_pinning_its_parts():
    # Were the zero shown as 0, four parts of at least 1 adding up to fewer than 5 would each
    # be 1; as "fewer than 5" each part may be 0.
    values, equations = one_way(4, {"a": 1, "b": 1, "c": 1, "d": 1, "e": 0})
    status = protect(values, equations, T)
    assert set(status.values()) == {FEWER}
    assert small(exposed(as_pairs(equations), values, status, T)) == {}


def test_a_lone_small_cell_in_a_row_takes_the_next_smallest_with_it():
    values, equations = one_way(32, {"a": 3, "b": 10, "c": 12, "d": 7})
    status = protect(values, equations, T)
    # Without a second hidden cell, a = 32 - 10 - 12 - 7.
    assert status == {"total": PUBLISHED, "a": FEWER, "b": PUBLISHED, "c": PUBLISHED,
                      "d": WITHHELD}  # fmt: skip
    assert small(exposed(as_pairs(equations), values, status, T)) == {}


def test_small_cells_that_fill_their_total_take_the_total_with_them():
    # 4 + 4 = 8 with both parts "fewer than 5" leaves only 4 and 4: the total must go too.
    values, equations = one_way(8, {"a": 4, "b": 4})
    status = protect(values, equations, T)
    assert status == {"total": WITHHELD, "a": FEWER, "b": FEWER}
    assert small(exposed(as_pairs(equations), values, status, T)) == {}


def test_differencing_two_breakdowns_of_the_same_total_reveals_nothing():
    """
    Per-regime and per-category breakdowns of the same 30 packages, with a regime-by-category
    table behind them. Hidden cells protected one table at a time could be recovered by
    subtracting across tables; protected together, none can.
    """
    cross = {("GB", "torture"): 3, ("GB", "killing"): 6, ("US", "torture"): 11,
             ("US", "killing"): 10}  # fmt: skip
    values = {("cross", k): v for k, v in cross.items()}
    values |= {("regime", "GB"): 9, ("regime", "US"): 21}
    values |= {("category", "torture"): 14, ("category", "killing"): 16, "total": 30}
    equations = [
        Equation("total", (("regime", "GB"), ("regime", "US"))),
        Equation("total", (("category", "torture"), ("category", "killing"))),
        *(Equation(("regime", r), (("cross", (r, "torture")), ("cross", (r, "killing"))))
          for r in ("GB", "US")),
        *(Equation(("category", c), (("cross", ("GB", c)), ("cross", ("US", c))))
          for c in ("torture", "killing")),
    ]  # fmt: skip

    # The naive way: protect the cross table's rows alone. GB/torture hides with GB/killing,
    # and the attacker subtracts across the other breakdown: torture 14 - US/torture 11 = 3.
    naive = dict.fromkeys(values, PUBLISHED) | {
        ("cross", ("GB", "torture")): FEWER,
        ("cross", ("GB", "killing")): WITHHELD,
    }
    attack = exposed(as_pairs(equations), values, naive, T)
    assert attack[("cross", ("GB", "torture"))] == 3
    assert audit(values, equations, naive, T)[("cross", ("GB", "torture"))] == 3

    status = protect(values, equations, T)
    assert status[("cross", ("GB", "torture"))] == FEWER
    assert small(exposed(as_pairs(equations), values, status, T)) == {}
    assert small(audit(values, equations, status, T)) == {}
    # Totals stay shown and agree across both breakdowns.
    assert status["total"] == PUBLISHED


@st.composite
def tables(draw):
    """A rows x columns table of counts, with its row, column and grand totals."""
    rows = draw(st.integers(1, 3))
    columns = draw(st.integers(2, 3))
    small = st.one_of(st.integers(0, 6), st.integers(0, 30))
    grid = {(r, c): draw(small) for r in range(rows) for c in range(columns)}
    values = dict(grid)
    equations = []
    for r in range(rows):
        values[("row", r)] = sum(grid[(r, c)] for c in range(columns))
        equations.append(Equation(("row", r), tuple((r, c) for c in range(columns))))
    for c in range(columns):
        values[("col", c)] = sum(grid[(r, c)] for r in range(rows))
        equations.append(Equation(("col", c), tuple((r, c) for r in range(rows))))
    values["total"] = sum(grid.values())
    equations.append(Equation("total", tuple(("row", r) for r in range(rows))))
    equations.append(Equation("total", tuple(("col", c) for c in range(columns))))
    return values, equations


def check_markers(values, status, threshold):
    """Every marker tells the truth about its range; every small count is hidden."""
    for key, value in values.items():
        if status[key] == FEWER:
            assert value < threshold
        elif status[key] in (WITHHELD, PUBLISHED):
            assert value >= threshold  # a withheld cell is never small: its range holds
        else:
            assert status[key] == SUPPRESSED


@settings(max_examples=EXAMPLES, deadline=None)
@given(tables(), st.integers(3, 6))  # "fewer than 2" could only mean 1
def test_no_hidden_count_can_be_recovered_from_any_table(table, threshold):
    values, equations = table
    status = protect(values, equations, threshold)
    check_markers(values, status, threshold)
    pinned = exposed(as_pairs(equations), values, status, threshold)
    assert {k: v for k, v in pinned.items() if 0 < v < threshold} == {}


@settings(max_examples=EXAMPLES, deadline=None)
@given(tables(), st.integers(3, 6), st.data())
def test_what_the_shape_of_the_tables_tells_does_not_pin_a_count_either(table, threshold, data):
    """
    The adversary also knows floors the tables' shape gives away (a row that exists holds at
    least one dossier): given to both sides, they still leave every small count two values.
    """
    values, equations = table
    positive = sorted((k for k, v in values.items() if v > 0), key=repr)
    floored = data.draw(st.lists(st.sampled_from(positive), unique=True) if positive
                        else st.just([]))  # fmt: skip
    floors = dict.fromkeys(floored, 1)
    status = protect(values, equations, threshold, floors)
    check_markers(values, status, threshold)
    pinned = exposed(as_pairs(equations), values, status, threshold, floors)
    assert {k: v for k, v in pinned.items() if 0 < v < threshold} == {}


def test_a_table_of_only_small_cells_gives_nothing_away():
    """
    A table whose cells are all below the threshold must give none of them away. No pattern
    of "fewer than" and "withheld" can protect it (their ranges alone pin every cell), so
    `protect()` escalates to the neutral marker rather than return what it knows is exposed.
    """
    grid = {(0, 0): 1, (0, 1): 1, (1, 0): 2, (1, 1): 2}
    values = dict(grid)
    equations = []
    for r in range(2):
        values[("row", r)] = grid[(r, 0)] + grid[(r, 1)]
        equations.append(Equation(("row", r), ((r, 0), (r, 1))))
    for c in range(2):
        values[("col", c)] = grid[(0, c)] + grid[(1, c)]
        equations.append(Equation(("col", c), ((0, c), (1, c))))
    values["total"] = sum(grid.values())
    equations.append(Equation("total", (("row", 0), ("row", 1))))
    equations.append(Equation("total", (("col", 0), ("col", 1))))
    everything_hidden = {k: FEWER if v < 3 else WITHHELD for k, v in values.items()}
    assert exposed(as_pairs(equations), values, everything_hidden, 3)[(0, 0)] == 1
    status = protect(values, equations, 3)
    assert SUPPRESSED in status.values()
    pinned = exposed(as_pairs(equations), values, status, 3)
    assert {k: v for k, v in pinned.items() if 0 < v < 3} == {}
    assert audit(values, equations, status, 3) == {}


@st.composite
def two_snapshots(draw):
    """A table, and the same table a month on: every cell grown by 0 or more."""
    values, equations = draw(tables())
    grid = {k: v for k, v in values.items() if isinstance(k[0], int)}
    grown = {k: v + draw(st.integers(0, 3)) for k, v in grid.items()}
    later = dict(grown)
    for equation in equations[:-2]:  # row and column totals, then the grand total
        later[equation.total] = sum(grown[p] for p in equation.parts)
    later["total"] = sum(grown.values())
    return values, later, equations


@settings(max_examples=EXAMPLES, deadline=None)
@given(two_snapshots(), st.integers(3, 6))
def test_two_snapshots_set_side_by_side_pin_no_small_count(snapshots, threshold):
    """
    The adversary keeps every snapshot and links them: each cell now = before + change, the
    change 0 or more. Protected alone, the second snapshot can give a count of either away;
    protected with the first (`protect_after`), it does not.
    """
    before, now, equations = snapshots
    first = protect(before, equations, threshold)
    published = Published(before, first, tuple(equations), {})
    second = protect_after(now, equations, threshold, before=published)
    check_markers(now, second, threshold)
    pairs = [(("b", e.total), [("b", p) for p in e.parts]) for e in equations]
    pairs += [(("n", e.total), [("n", p) for p in e.parts]) for e in equations]
    pairs += [(("n", k), [("b", k), ("c", k)]) for k in before]
    values = {("b", k): v for k, v in before.items()} | {("n", k): v for k, v in now.items()}
    values |= {("c", k): now[k] - before[k] for k in before}
    status = {("b", k): s for k, s in first.items()} | {("n", k): s for k, s in second.items()}
    status |= {("c", k): SUPPRESSED for k in before}
    known = {k: values[k] for k, s in status.items() if s == PUBLISHED}
    hidden = {k: s for k, s in status.items() if s != PUBLISHED}
    ceiling = 2 * sum(now.values()) + threshold
    for key in hidden:
        if key[0] != "c" and 0 < values[key] < threshold:
            found = feasible_values(key, pairs, known, hidden, threshold, ceiling,
                                    zero_possible=set(hidden))  # fmt: skip
            assert len(found) >= 2, (key, found)
