"""Ids from the query string or a form, read strictly: a crafted value names nothing."""

import re

# ASCII digits only: str.isdigit() also accepts "²" and "١٢٣", which int() then refuses or reads.
_ID = re.compile(r"[0-9]{1,19}")
MAX_ID = 2**63 - 1  # the largest id a BigAutoField (SQLite's and PostgreSQL's bigint) holds


def parse_id(value) -> int | None:
    """Return `value` as a positive database id, or None if it cannot be one."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None
