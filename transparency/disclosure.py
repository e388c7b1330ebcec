"""
Disclosure control for published counts.

Counts are published as a set of linked tables (per regime, per category, per country, per year,
regime by year) that share their totals. `protect()` decides which cells may be shown:

- primary suppression: a count of 1 to threshold - 1 is shown as "fewer than N";
- secondary (complementary) suppression: further cells are withheld until no suppressed cell
  can be worked out from what is shown, by anyone who knows every equation that links the
  tables (a total is the sum of its parts, in every table that breaks it down; delivered =
  designated + declined + no decision) and what the markers mean (a "fewer than N" cell holds
  1 to N - 1; a withheld cell holds N or more, since complements are never zero).

`audit()` is that adversary: exact linear algebra over the suppressed cells (a cell fixed by
the equations alone) and bound propagation (a cell fixed once the markers' ranges are used).
Zero counts are published: "no package was delivered to X" names nobody.
"""

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

PUBLISHED = "published"
FEWER = "fewer"  # primary: 1 <= value < threshold
WITHHELD = "withheld"  # secondary: hidden so that a FEWER cell cannot be recovered

INF = float("inf")
MAX_ROUNDS = 10_000

Key = Hashable


@dataclass(frozen=True)
class Equation:
    """`total` is the sum of `parts` (in the published data, not only in this snapshot)."""

    total: Key
    parts: tuple

    @property
    def keys(self) -> tuple:
        return (self.total, *self.parts)

    def terms(self) -> list[tuple[Key, int]]:
        """The equation as sum(coefficient * cell) = 0."""
        return [(self.total, 1), *((part, -1) for part in self.parts)]


def protect(values: Mapping[Key, int], equations: Iterable[Equation], threshold: int) -> dict:
    """Return the status of every cell: PUBLISHED, FEWER or WITHHELD."""
    equations = [e for e in equations if all(k in values for k in e.keys)]
    status = {k: FEWER if 0 < v < threshold else PUBLISHED for k, v in values.items()}
    by_key = defaultdict(list)
    for equation in equations:
        for key in equation.keys:
            by_key[key].append(equation)
    for _round in range(MAX_ROUNDS):
        exposed = audit(values, equations, status, threshold)
        if not exposed:
            return status
        touched: set = set()
        added = False
        for key in sorted(exposed, key=repr):
            if touched & {id(e) for e in by_key[key]}:
                continue  # a complement was just added next to it: audit again first
            complement = _complement(key, values, by_key, status)
            if complement is None:
                continue
            status[complement] = WITHHELD
            touched |= {id(e) for e in by_key[complement]}
            added = True
        if not added:  # nothing left to withhold around the exposed cells
            return status
    raise RuntimeError("disclosure control did not converge")  # pragma: no cover


def _complement(key, values, by_key, status):
    """The cell to withhold next to `key`: the smallest shown non-zero part of one of its
    equations (the one with the fewest cells already hidden), else that equation's total;
    failing that, the smallest shown cell linked to `key` through hidden cells."""

    def shown(k):
        return status[k] == PUBLISHED and values[k] > 0

    def hidden_count(equation):
        return sum(status[k] != PUBLISHED for k in equation.keys)

    for equation in sorted(by_key[key], key=hidden_count):
        parts = sorted((k for k in equation.parts if shown(k)), key=lambda k: (values[k], repr(k)))
        if parts:
            return parts[0]
        if shown(equation.total):
            return equation.total
    seen, frontier, candidates = {key}, [key], []
    while frontier:
        next_frontier = []
        for current in frontier:
            for equation in by_key[current]:
                for k in equation.keys:
                    if k in seen:
                        continue
                    seen.add(k)
                    if shown(k):
                        candidates.append(k)
                    elif status[k] != PUBLISHED:
                        next_frontier.append(k)
        frontier = next_frontier
    return min(candidates, key=lambda k: (values[k], repr(k)), default=None)


def audit(values, equations, status, threshold) -> dict:
    """
    Return the suppressed cells an adversary can pin down, with the value they get.

    Uses only what is published: the shown values, the equations, and the ranges the markers
    imply. `values` of suppressed cells are read only to report what was recovered.
    """
    suppressed = [k for k, s in status.items() if s != PUBLISHED]
    if not suppressed:
        return {}
    systems = _linear_system(values, equations, status)
    exposed = _solve_exactly(systems)
    bounds = _propagate_bounds(systems, status, threshold)
    for key, (low, high) in bounds.items():
        if low == high and key not in exposed:
            exposed[key] = low
    return exposed


def _linear_system(values, equations, status) -> list[tuple[dict, int]]:
    """Each equation over the suppressed cells only: ({cell: coefficient}, constant)."""
    rows = []
    for equation in equations:
        coefficients: dict = defaultdict(int)
        constant = 0
        for key, coefficient in equation.terms():
            if status[key] == PUBLISHED:
                constant -= coefficient * values[key]
            else:
                coefficients[key] += coefficient
        coefficients = {k: c for k, c in coefficients.items() if c}
        if coefficients:
            rows.append((coefficients, constant))
    return rows


def _solve_exactly(rows) -> dict:
    """Gaussian elimination over the rationals: cells fixed by the equations alone."""
    # Split into independent groups of cells (connected through equations): small matrices.
    parent: dict = {}

    def find(k):
        while parent.setdefault(k, k) != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for coefficients, _constant in rows:
        first, *rest = coefficients
        for other in rest:
            parent[find(other)] = find(first)
    groups = defaultdict(list)
    for row in rows:
        groups[find(next(iter(row[0])))].append(row)

    found = {}
    for group in groups.values():
        matrix = [({k: Fraction(c) for k, c in coefficients.items()}, Fraction(constant))
                  for coefficients, constant in group]  # fmt: skip
        pivots = []
        remaining = matrix
        while remaining:
            row, *remaining = remaining
            coefficients, constant = row
            if not coefficients:
                continue
            pivot = min(coefficients, key=repr)
            scale = coefficients[pivot]
            coefficients = {k: c / scale for k, c in coefficients.items()}
            constant /= scale
            reduced = []
            for other, other_constant in remaining:
                factor = other.get(pivot)
                if factor:
                    other = _subtract(other, coefficients, factor)
                    other_constant -= factor * constant
                reduced.append((other, other_constant))
            remaining = reduced
            pivots = [
                (
                    _subtract(p, coefficients, p[pivot]) if p.get(pivot) else p,
                    c - p.get(pivot, 0) * constant,
                )
                for p, c in pivots
            ]
            pivots.append((coefficients, constant))
        for coefficients, constant in pivots:
            if len(coefficients) == 1:
                (key,) = coefficients
                found[key] = constant
    return found


def _subtract(row: dict, pivot_row: dict, factor) -> dict:
    result = dict(row)
    for key, value in pivot_row.items():
        result[key] = result.get(key, 0) - factor * value
        if result[key] == 0:
            del result[key]
    return result


def _propagate_bounds(rows, status, threshold) -> dict:
    """Tighten each suppressed cell's range through every equation until nothing changes."""
    bounds = {}
    for coefficients, _constant in rows:
        for key in coefficients:
            bounds[key] = (1, threshold - 1) if status[key] == FEWER else (threshold, INF)
    changed, rounds = True, 0
    while changed and rounds < 100:
        changed, rounds = False, rounds + 1
        for coefficients, constant in rows:
            # sum(c * x) = constant  =>  c_i * x_i = constant - sum(c_j * x_j, j != i)
            for key, coefficient in coefficients.items():
                low_rest, high_rest = 0, 0
                for other, c in coefficients.items():
                    if other == key:
                        continue
                    low, high = bounds[other]
                    low_rest += c * low if c > 0 else c * high
                    high_rest += c * high if c > 0 else c * low
                if coefficient > 0:
                    new_low = (constant - high_rest) / coefficient
                    new_high = (constant - low_rest) / coefficient
                else:
                    new_low = (constant - low_rest) / coefficient
                    new_high = (constant - high_rest) / coefficient
                low, high = bounds[key]
                tightened = (
                    max(low, _ceil(new_low)),
                    min(high, _floor(new_high)),
                )
                if tightened != (low, high) and tightened[0] <= tightened[1]:
                    bounds[key] = tightened
                    changed = True
    return bounds


def _ceil(value):
    return value if value in (INF, -INF) or value != value else -int(-value // 1)


def _floor(value):
    return value if value in (INF, -INF) or value != value else int(value // 1)
