"""The reviewers' rubric (domain.md section 6), read from the checklist data file."""

from dataclasses import dataclass
from functools import cache

import yaml

from submissions.checklist import DATA_FILE
from submissions.i18n_data import localized

MAX_SCORE = 5


@dataclass(frozen=True)
class RubricLine:
    code: str
    name: str
    guidance: str


@cache
def lines() -> tuple[RubricLine, ...]:
    """Return the rubric lines in the order of the data file."""
    data = yaml.safe_load(DATA_FILE.read_bytes())
    return tuple(
        RubricLine(code=row["code"], name=row["name"], guidance=row.get("guidance") or "")
        for row in data["rubric"]
    )


def codes() -> tuple[str, ...]:
    return tuple(line.code for line in lines())


def name_of(code: str) -> str:
    return next((localized(line, "name") for line in lines() if line.code == code), code)
