"""
Disclosure control for published counts.

Counts are published as a set of linked tables (per regime, per category, per country, per year,
regime by year) that share their totals. `protect()` decides which cells may be shown:

- primary suppression: a count below the threshold, zero included, is shown as "fewer than N";
- secondary (complementary) suppression: further cells are withheld until no suppressed cell
  can be worked out from what is shown, by anyone who knows every equation that links the
  tables (a total is the sum of its parts, in every table that breaks it down; delivered =
  designated + declined + no decision), what the markers mean (a "fewer than N" cell holds
  0 to N - 1; a withheld cell holds N or more, since complements are never small; a
  suppressed cell holds any count) and the floors the tables' shape gives away (a country
  row exists only if some dossier concerns that country);
- escalation: a small count that keeps no second solution after a few complements has its
  rows and margins suppressed with the neutral marker (no range at all), ring by ring, until
  it has one. Fully suppressed, a linked set of cells can always be doubled, so this ends.

`audit()` plays the adversary the safe way round: a hidden small count passes only when a
second solution of everything published is exhibited that gives it another value. A hidden
zero that can be worked out gives nothing away; a hidden count from 1 to N - 1 must not be.
A threshold below 3 protects little ("fewer than 2" is 0 or 1).

Every round hides at least one more cell (or widens a marker to "suppressed"), and each
search for a second solution is bounded, so `protect()` is polynomial in the number of cells
and never returns a table it cannot show to be safe.
"""

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

PUBLISHED = "published"
FEWER = "fewer"  # primary: 0 <= value < threshold
WITHHELD = "withheld"  # secondary: value >= threshold, hidden so that a FEWER cell is not found
SUPPRESSED = "suppressed"  # escalation: hidden with no range at all (small or large)

INF = float("inf")
MAX_COMPLEMENTS = 3  # complements tried around one exposed count before escalating
SEARCH_BUDGET = 500  # nodes per hidden count and direction; beyond it, hide more instead
CYCLE_BUDGET = 2000  # nodes per search for the cells to hide next
# Nodes for a whole run of protect() (about a second per 10,000): once spent, exposed counts
# are escalated without searching, and only the doubling witness is tried, so the daily task
# ends in bounded time whatever the data.
WORK_BUDGET = 40_000
SEARCH_DEPTH = 30

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


def protect(
    values: Mapping[Key, int],
    equations: Iterable[Equation],
    threshold: int,
    floors: Mapping[Key, int] | None = None,
    *,
    fixed: Mapping[Key, str] | None = None,
    sensitive: set | None = None,
) -> dict:
    """
    Return the status of every cell: PUBLISHED, FEWER, WITHHELD or SUPPRESSED.

    `floors` are lower bounds the adversary knows without any figure (a row that exists holds
    at least one dossier; a negative floor widens a suppressed cell's range below zero).
    `fixed` cells keep the status given (what an earlier snapshot published); `sensitive`
    limits the small counts to protect (default: all). Never returns a status in which
    `audit()` finds an exposed count.
    """
    floors = dict(floors or {})
    fixed = dict(fixed or {})
    equations = [e for e in equations if all(k in values for k in e.keys)]
    # Zero is a count below the threshold too: shown as a plain 0, it would tell that the other
    # "fewer than" cells of its table are at least 1, and that can pin them down.
    status = {k: FEWER if v < threshold else PUBLISHED for k, v in values.items()}
    status.update(fixed)
    # A witness stays valid as more cells are hidden or their markers widen (it moves hidden
    # cells only, within ranges that only grow), so a count once shown safe is not searched
    # again.
    proven: set = set()
    attempts: dict = defaultdict(int)
    last_round: dict = {}
    work = [WORK_BUDGET]
    by_key = defaultdict(list)
    for equation in equations:
        for key in equation.keys:
            by_key[key].append(equation)
    # Each round hides a cell or widens a marker, and a cell can change at most twice.
    for _round in range(2 * len(values) + 1):
        exposed = audit(values, equations, status, threshold, proven, floors, work, sensitive)
        if not exposed:
            return status
        changed = False
        for key in sorted(exposed, key=repr):
            if status[key] == SUPPRESSED and attempts[key] and _round == last_round.get(key):
                continue  # suppressed in this round already: audit again first
            attempts[key] += 1
            found = None
            if attempts[key] <= MAX_COMPLEMENTS and status[key] == FEWER and key not in fixed:
                found = _cycle(key, values, equations, status, threshold, floors, work, fixed)
                if found is None:
                    complement = _complement(key, values, by_key, status, fixed)
                    found = None if complement is None else ({complement: WITHHELD}, {})
            if found is None:
                found = _cycle(
                    key, values, equations, status, threshold, floors, work, fixed, relax=True
                )
            if found is None:
                found = dict.fromkeys(_escalate(key, by_key, status, fixed), SUPPRESSED), {}
            hide, witness = found
            status.update(hide)
            proven.update(witness)  # a witness once its cells are hidden
            last_round.update(dict.fromkeys(hide, _round))
            changed = changed or bool(hide) or bool(witness)
        if not changed:  # pragma: no cover - a fully suppressed set always has a witness
            break
    # never a status known to be exposed
    return {k: fixed.get(k, SUPPRESSED) for k in values}


NOW, BEFORE, CHANGE = "now", "before", "change"


@dataclass(frozen=True)
class Published:
    """What an earlier snapshot published, with the true counts behind it (kept private)."""

    values: Mapping[Key, int]
    status: Mapping[Key, str]
    equations: tuple
    floors: Mapping[Key, int]


def protect_after(
    values: Mapping[Key, int],
    equations: Iterable[Equation],
    threshold: int,
    floors: Mapping[Key, int] | None = None,
    before: Published | None = None,
) -> dict:
    """
    `protect()` the new figures against an adversary who also holds the snapshot `before`
    (published with the same threshold) and subtracts one from the other.

    The two snapshots are solved as one system: every cell of both, and the change of each
    cell between them (never published, of any size, below zero only if it truly is), linked
    by now = before + change. A row one snapshot lacks holds 0 in it (the adversary sees that
    it is missing). The earlier snapshot's markers are fixed (it is out already); the new one
    hides what it must so that no small count of either can be worked out. The changes
    themselves are not protected: a snapshot is made only after at least the threshold's
    number of dossiers changed (services.compute_snapshot), so they describe a group.
    """
    equations = list(equations)
    if before is None:
        return protect(values, equations, threshold, floors)
    if dict(before.values) == dict(values):
        return {key: before.status[key] for key in values}  # nothing new: the same markers
    floors = floors or {}
    keys = set(values) | set(before.values)
    joint, fixed, joint_floors, linked = {}, {}, {}, []
    for key in keys:
        now, was = values.get(key, 0), before.values.get(key, 0)
        joint |= {(NOW, key): now, (BEFORE, key): was, (CHANGE, key): now - was}
        if key not in values:
            fixed[(NOW, key)] = PUBLISHED  # a missing row: 0, and everyone can see it
        fixed[(BEFORE, key)] = before.status.get(key, PUBLISHED)
        fixed[(CHANGE, key)] = SUPPRESSED
        joint_floors[(CHANGE, key)] = min(0, now - was)
        if key in floors:
            joint_floors[(NOW, key)] = floors[key]
        if key in before.floors:
            joint_floors[(BEFORE, key)] = before.floors[key]
        linked.append(Equation((NOW, key), ((BEFORE, key), (CHANGE, key))))
    for tag, system in ((NOW, equations), (BEFORE, before.equations)):
        linked += [Equation((tag, e.total), tuple((tag, part) for part in e.parts)) for e in system]
    sensitive = {k for k in joint if k[0] != CHANGE}
    status = protect(joint, linked, threshold, joint_floors, fixed=fixed, sensitive=sensitive)
    return {key: status[(NOW, key)] for key in values}


def _cycle(
    key, values, equations, status, threshold, floors, work, fixed=None, *, relax=False
) -> tuple[dict, dict] | None:
    """
    The cells to hide, with their new status, so that `key` gets a second solution: a
    balanced move through the tables like an audit witness, free to pass through shown cells
    (as if withheld: N or more), as few of them as the bounded search finds. With `relax`,
    every cell may move as if suppressed (no range but its floor), and every cell the move
    takes out of its marker's range is suppressed. Return (cells to hide, the move), the move
    being a witness once they are hidden, or None if the bounded search finds no move.
    """
    fixed = fixed or {}
    relaxed = dict.fromkeys(status, SUPPRESSED if relax else WITHHELD)
    if not relax:
        relaxed |= {k: state for k, state in status.items() if state != PUBLISHED}
    relaxed |= fixed  # a fixed cell moves within its own range only; a fixed figure not at all
    ranges = ranges_of(relaxed, threshold, floors)
    movable = {k: PUBLISHED if fixed.get(k) == PUBLISHED else WITHHELD for k in status}
    rows = _linear_system(values, equations, movable)
    rows_of = defaultdict(list)
    for index, (coefficients, _constant) in enumerate(rows):
        for k in coefficients:
            rows_of[k].append(index)
    shown = {k for k, state in status.items() if state == PUBLISHED and k not in fixed}
    current = ranges_of(status, threshold, floors)
    for step in (-1, 1):
        if ranges[key][0] <= values[key] + step <= ranges[key][1]:
            budget = CYCLE_BUDGET * (10 if relax else 1)
            moves = _search(key, step, values, ranges, rows, rows_of, budget, work, shown)
            if not moves:
                continue
            hide = {}
            for k, change in moves.items():
                if k in fixed:
                    continue  # within its range: the move never takes it out
                low, high = current.get(k, (values[k], values[k]))
                if not low <= values[k] + change <= high:
                    fits = min(values[k], values[k] + change) >= threshold
                    hide[k] = WITHHELD if k in shown and fits else SUPPRESSED
            return hide, moves
    return None


def _complement(key, values, by_key, status, fixed=frozenset()):
    """The cell to withhold next to `key`: the smallest shown non-zero part of one of its
    equations (the one with the fewest cells already hidden), else that equation's total;
    failing that, the smallest shown cell linked to `key` through hidden cells."""

    def shown(k):
        return status[k] == PUBLISHED and values[k] > 0 and k not in fixed

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


def _escalate(key, by_key, status, fixed=frozenset()) -> list:
    """
    Suppress `key` and every cell of its equations (its row and its margins) with the neutral
    marker; if they all are already, the cells of their equations, and so on outwards.
    Return the cells to change (none only when everything linked to `key` is suppressed).
    """
    ring, seen = {key}, set()
    while ring:
        cells = ring | {k for current in ring for e in by_key[current] for k in e.keys}
        changed = sorted((k for k in cells if status[k] != SUPPRESSED and k not in fixed), key=repr)
        if changed:
            return changed
        seen |= ring
        ring = cells - seen
    return []


def ranges_of(status, threshold, floors=None) -> dict:
    """What the adversary knows of each hidden cell: (lowest, highest) value."""
    floors = floors or {}
    found = {}
    for key, state in status.items():
        floor = floors.get(key, 0)
        if state == FEWER:
            found[key] = (max(0, floor), threshold - 1)
        elif state == WITHHELD:
            found[key] = (max(threshold, floor), INF)
        elif state == SUPPRESSED:
            found[key] = (floor, INF)  # a change between snapshots may be below zero
    return found


def audit(
    values,
    equations,
    status,
    threshold,
    proven: set | None = None,
    floors=None,
    work=None,
    sensitive: set | None = None,
) -> dict:
    """
    Return the hidden small counts an adversary may pin down, with their value.

    The adversary knows the shown values, the equations, the markers' ranges and the floors.
    A hidden count is safe when a second solution of all that is exhibited, giving it another
    value: the true values moved along a small integer direction that keeps every equation
    balanced and every hidden cell in its range (found by a bounded search, like an augmenting
    cycle through the tables), or the true values of every cell linked to it doubled, when all
    of those are hidden and may double. A count without such a witness counts as exposed, so
    a search that gives up can only make `protect()` hide more, never less. Counts in
    `proven` are skipped; every small count a witness moves is added to it.
    """
    ranges = ranges_of(status, threshold, floors)
    truth = {k: values[k] for k in ranges}
    wanted = sensitive
    sensitive = sorted(
        (k for k in truth if 0 < truth[k] < threshold and (wanted is None or k in wanted)),
        key=repr,
    )
    if proven is None:
        proven = set()
    if work is None:
        work = [WORK_BUDGET]
    if not all(k in proven for k in sensitive):
        rows = _linear_system(values, equations, status)
        rows_of = defaultdict(list)
        for index, (coefficients, _constant) in enumerate(rows):
            for key in coefficients:
                rows_of[key].append(index)
    exposed, by_key = {}, None
    for key in sensitive:
        if key in proven:
            continue
        witness = None
        for step in (-1, 1):
            if ranges[key][0] <= truth[key] + step <= ranges[key][1]:
                witness = _search(key, step, truth, ranges, rows, rows_of, SEARCH_BUDGET, work)
                if witness:
                    break
        if not witness:
            if by_key is None:
                by_key = defaultdict(list)
                for equation in equations:
                    for k in equation.keys:
                        by_key[k].append(equation)
            witness = _doubling(key, values, by_key, status, ranges)
        if witness:
            proven.update(k for k, change in witness.items() if change)
        else:
            exposed[key] = truth[key]
    return exposed


def _doubling(key, values, by_key, status, ranges) -> dict | None:
    """Double every non-zero count linked to `key` through equations, if all are hidden and
    have the room: every equation is homogeneous, so twice a solution is one too."""
    linked, frontier = {key}, [key]
    while frontier:
        current = frontier.pop()
        for equation in by_key[current]:
            for k in equation.keys:
                if k not in linked and values[k]:
                    low, high = ranges.get(k, (0, -1))
                    if status[k] == PUBLISHED or not low <= 2 * values[k] <= high:
                        return None
                    linked.add(k)
                    frontier.append(k)
    if 2 * values[key] > ranges[key][1]:
        return None
    return {k: values[k] for k in linked}


def _search(origin, step, truth, ranges, rows, rows_of, budget, work, costly=frozenset()):
    """A balanced move of `origin` by `step` found within `budget` nodes, or None. `work`
    is what is left of the whole run's budget: once spent, nothing is searched any more."""
    left = [min(budget, work[0])]
    if left[0] <= 0:
        return None
    found = _direction({origin: step}, origin, truth, ranges, rows, rows_of, left, costly)
    work[0] -= min(budget, work[0]) - max(left[0], 0)
    return found


def _direction(
    moves, origin, truth, ranges, rows, rows_of, budget, costly=frozenset(), depth=0
) -> dict | None:
    """Extend `moves` (cell -> change) until every equation balances; keep `origin`'s move,
    and move cells in `costly` only when nothing else will do. Return the moves, or None."""
    budget[0] -= 1
    if budget[0] < 0 or depth > SEARCH_DEPTH:
        return None
    imbalances = {}
    for index in {i for k in moves for i in rows_of[k]}:
        coefficients, _constant = rows[index]
        imbalance = sum(c * moves.get(k, 0) for k, c in coefficients.items())
        if imbalance:
            imbalances[index] = imbalance
    best = None
    for index in sorted(imbalances):
        options = _options(index, imbalances, moves, origin, truth, ranges, rows, rows_of, costly)
        if not options:
            return None  # this equation cannot be balanced any more
        if best is None or len(options) < len(best):
            best = options  # the most constrained equation first
    if best is None:
        return moves  # every equation balances: a second solution
    for key, change in best:
        extended = {**moves, key: change}
        if change == 0:
            del extended[key]
        found = _direction(
            extended, origin, truth, ranges, rows, rows_of, budget, costly, depth + 1
        )
        if found or budget[0] < 0:
            return found
    return None


def _options(index, imbalances, moves, origin, truth, ranges, rows, rows_of, costly) -> list:
    """The cells whose change would balance equation `index`, best first: the change that
    leaves the fewest equations out of balance (so cycles close), then hidden cells over shown
    ones, then a part over its total (a total ripples through every table that breaks it
    down), then the smallest shown figure, then the most room."""
    coefficients, _constant = rows[index]
    imbalance = imbalances[index]
    found = []
    for key, coefficient in coefficients.items():
        if key == origin or imbalance % coefficient:
            continue
        delta = -imbalance // coefficient
        change = moves.get(key, 0) + delta
        low, high = ranges[key]
        if not low <= truth[key] + change <= high:
            continue
        unbalanced = 0
        for other in rows_of[key]:
            before = imbalances.get(other, 0)
            after = before + rows[other][0][key] * delta
            unbalanced += (after != 0) - (before != 0)
        room = min(truth[key] + change - low, high - truth[key] - change)
        cost = truth[key] if key in costly else 0  # hide the smallest shown figure
        order = (unbalanced, key in costly, coefficient > 0, cost, -room, repr(key))
        found.append((order, key, change))
    found.sort(key=lambda item: item[0])
    return [(key, change) for _order, key, change in found]


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
