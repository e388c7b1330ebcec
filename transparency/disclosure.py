"""
Disclosure control for published counts.

Counts are published as a set of linked tables (per regime, per category, per country, per year,
regime by year) that share their totals. `protect()` decides which cells may be shown:

- primary suppression: a count below the threshold, zero included, is shown as "fewer than N";
- secondary (complementary) suppression: further cells are withheld until no suppressed cell
  can be worked out from what is shown, by anyone who knows every equation that links the
  tables (a total is the sum of its parts, in every table that breaks it down; delivered =
  designated + declined + no decision) and what the markers mean (a "fewer than N" cell holds
  0 to N - 1; a withheld cell holds N or more, since complements are never zero).

`audit()` plays that adversary, the safe way round: a hidden small count passes only when a
second solution of everything published is exhibited that gives it another value.
A hidden zero that can be worked out gives nothing away; a hidden count from 1 to N - 1 must
not be. A threshold below 3 protects little ("fewer than 2" is 0 or 1).
"""

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

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
    # Zero is a count below the threshold too: shown as a plain 0, it would tell that the other
    # "fewer than" cells of its table are at least 1, and that can pin them down.
    status = {k: FEWER if v < threshold else PUBLISHED for k, v in values.items()}
    # A witness stays valid as more cells are hidden (it moves hidden cells only), so a count
    # once shown to be safe need not be searched again.
    proven: set = set()
    by_key = defaultdict(list)
    for equation in equations:
        for key in equation.keys:
            by_key[key].append(equation)
    for _round in range(MAX_ROUNDS):
        # Only small counts are sensitive: a hidden zero or a withheld large count that can be
        # worked out gives away nothing the rule protects (the small ones are audited too).
        exposed = {
            k
            for k in audit(values, equations, status, threshold, proven)
            if 0 < values[k] < threshold
        }
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


def audit(values, equations, status, threshold, proven: set | None = None) -> dict:
    """
    Return the hidden small counts an adversary may pin down, with their value.

    The adversary knows the shown values, the equations and the markers' ranges. A hidden
    count is safe when a second solution of all that is exhibited, giving it another value:
    the true values moved along a small integer direction that keeps every equation balanced
    and every hidden cell in its range (found by a bounded search, like an augmenting cycle
    through the tables). A count without such a witness counts as exposed, so a search that
    gives up can only make `protect()` hide more, never less. Counts in `proven` are
    skipped, and the ones found safe are added to it.
    """
    truth = {k: values[k] for k, state in status.items() if state != PUBLISHED}
    sensitive = [k for k in truth if status[k] == FEWER and truth[k] > 0]
    if not sensitive:
        return {}
    ranges = {k: (0, threshold - 1) if status[k] == FEWER else (threshold, INF) for k in truth}
    rows = _linear_system(values, equations, status)
    rows_of = defaultdict(list)
    for index, (coefficients, _constant) in enumerate(rows):
        for key in coefficients:
            rows_of[key].append(index)
    exposed = {}
    for key in sensitive:
        if proven is not None and key in proven:
            continue
        if any(
            _direction({key: step}, key, truth, ranges, rows, rows_of, [SEARCH_BUDGET])
            for step in (-1, 1)
            if ranges[key][0] <= truth[key] + step <= ranges[key][1]
        ):
            if proven is not None:
                proven.add(key)
        else:
            exposed[key] = truth[key]
    return exposed


SEARCH_BUDGET = 20000  # nodes per hidden count and direction; beyond it, hide more instead
SEARCH_DEPTH = 30


def _direction(moves, origin, truth, ranges, rows, rows_of, budget, depth=0) -> bool:
    """Extend `moves` (cell -> change) until every equation balances; keep `origin`'s move."""
    budget[0] -= 1
    if budget[0] < 0 or depth > SEARCH_DEPTH:
        return False
    best = None
    for index in sorted({i for k in moves for i in rows_of[k]}):
        coefficients, _constant = rows[index]
        imbalance = sum(c * moves.get(k, 0) for k, c in coefficients.items())
        if not imbalance:
            continue
        options = _options(coefficients, imbalance, moves, origin, truth, ranges, rows_of)
        if not options:
            return False  # this equation cannot be balanced any more
        if best is None or len(options) < len(best):
            best = options  # the most constrained equation first
    if best is None:
        return True  # every equation balances: a second solution
    for key, change in best:
        extended = {**moves, key: change}
        if change == 0:
            del extended[key]
        if _direction(extended, origin, truth, ranges, rows, rows_of, budget, depth + 1):
            return True
        if budget[0] < 0:
            return False
    return False


def _options(coefficients, imbalance, moves, origin, truth, ranges, rows_of) -> list:
    """The cells whose change would balance one equation, best first."""
    found = []
    for key, coefficient in coefficients.items():
        if key == origin:
            continue
        change = moves.get(key, 0) - imbalance * coefficient  # coefficients are +1 or -1
        low, high = ranges[key]
        if low <= truth[key] + change <= high:
            # Prefer cells already moving, then cells in few equations (a change to a grand
            # total ripples through every table), then those with the most room.
            room = min(truth[key] + change - low, high - truth[key] - change)
            found.append((key not in moves, len(rows_of[key]), -room, repr(key), key, change))
    return [(key, change) for *_order, key, change in sorted(found)]


def _linear_system(values, equations, status) -> list[tuple[dict, int]]:
    """Each equation over the hidden cells only: ({cell: coefficient}, constant)."""
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
