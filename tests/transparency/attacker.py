"""
An adversary independent of transparency.disclosure: a small integer constraint solver that
tries every value a hidden cell could hold, given what is published and how the markers read.
Complete for the small systems of the tests (it searches, it does not approximate).
"""

FEWER, WITHHELD, SUPPRESSED = "fewer", "withheld", "suppressed"


def feasible_values(
    target, equations, known, hidden, threshold, ceiling, stop_at=2, zero_possible=(), floors=None
):
    """
    Return up to `stop_at` values `target` can take in some integer solution.

    equations: [(total_key, [part keys])]; known: {key: value} (published); hidden: {key:
    status}; a "fewer" cell is 1..threshold-1 (0..threshold-1 if it is a part of a "fewer"
    total: such a breakdown hides its zeros too), a "withheld" one threshold..ceiling, a
    "suppressed" one 0..ceiling; `floors` raise the lowest value of the cells they name (what
    the tables' shape tells: a row that exists holds at least one dossier).
    """
    floors = floors or {}
    domains = {}
    for key, status in hidden.items():
        if status == FEWER:
            low, high = (0 if key in zero_possible else 1), threshold - 1
        elif status == SUPPRESSED:
            low, high = 0, ceiling
        else:
            low, high = threshold, ceiling
        domains[key] = (max(low, floors.get(key, 0)), high)
    rows = []
    for total, parts in equations:
        terms = [(total, 1)] + [(p, -1) for p in parts]
        constant, unknown = 0, {}
        for key, coefficient in terms:
            if key in known:
                constant -= coefficient * known[key]
            else:
                unknown[key] = unknown.get(key, 0) + coefficient
        unknown = {k: c for k, c in unknown.items() if c}
        if unknown:
            rows.append((unknown, constant))
        elif constant != 0:
            return []  # the published figures contradict each other
    low, high = domains[target]
    found = []
    for value in range(low, high + 1):
        if _solve({**domains, target: (value, value)}, rows):
            found.append(value)
            if len(found) >= stop_at:
                break
    return found


def _solve(domains, rows) -> bool:
    domains = _propagate(dict(domains), rows)
    if domains is None:
        return False
    open_ = [k for k, (lo, hi) in domains.items() if lo != hi]
    if not open_:
        return all(sum(c * domains[k][0] for k, c in row.items()) == constant
                   for row, constant in rows)  # fmt: skip
    key = min(open_, key=lambda k: domains[k][1] - domains[k][0])
    low, high = domains[key]
    middle = (low + high) // 2
    return _solve({**domains, key: (low, middle)}, rows) or _solve(
        {**domains, key: (middle + 1, high)}, rows
    )


def _propagate(domains, rows):
    changed = True
    while changed:
        changed = False
        for row, constant in rows:
            for key, coefficient in row.items():
                low_rest = sum(c * (domains[k][0] if c > 0 else domains[k][1])
                               for k, c in row.items() if k != key)  # fmt: skip
                high_rest = sum(c * (domains[k][1] if c > 0 else domains[k][0])
                                for k, c in row.items() if k != key)  # fmt: skip
                bounds = sorted(((constant - high_rest) / coefficient,
                                 (constant - low_rest) / coefficient))  # fmt: skip
                lo = max(domains[key][0], -int(-bounds[0] // 1))
                hi = min(domains[key][1], int(bounds[1] // 1))
                if lo > hi:
                    return None
                if (lo, hi) != domains[key]:
                    domains[key] = (lo, hi)
                    changed = True
    return domains


def exposed(equations, values, status, threshold, floors=None):
    """The hidden cells whose value the adversary pins down, with that value."""
    known = {k: v for k, v in values.items() if status[k] == "published"}
    hidden = {k: s for k, s in status.items() if s != "published"}
    ceiling = sum(values.values()) or threshold
    zero_possible = set(hidden)  # zero is "fewer than" too
    pinned = {}
    for key in hidden:
        found = feasible_values(
            key,
            equations,
            known,
            hidden,
            threshold,
            ceiling,
            zero_possible=zero_possible,
            floors=floors,
        )
        assert values[key] in found or len(found) >= 2, f"{key}: truth not feasible: {found}"
        if len(found) == 1:
            pinned[key] = found[0]
    return pinned
