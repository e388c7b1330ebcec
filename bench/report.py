"""
Print bench/results.json (or the file named) as the Markdown table of docs/benchmarks.md:
`.venv/bin/python bench/report.py [results.json]`.
"""

import json
import sys
from pathlib import Path

from run import format_value


def markdown(result: dict) -> str:
    machine = result["machine"]
    lines = [
        f"Run of {machine['date']} ({result['duration_seconds'] / 60:.1f} minutes"
        f"{', quick mode' if result.get('quick') else ''}): {machine['cpu']}, "
        f"{machine['cores']} cores, {machine['memory_gib']} GiB, {machine['os']}, "
        f"Python {machine['python']}, PostgreSQL {machine['postgresql']}; load average "
        f"{machine.get('load_average_at_start')} at the start, "
        f"{machine.get('load_average_at_end')} at the end.",
        "",
        "| benchmark | case | metric | value | unit | reference | ratio | target | met |",
        "|---|---|---|---:|---|---:|---:|---|---|",
    ]
    for row in result["results"]:
        met = {True: "yes", False: "**no**", None: ""}[row.get("met")]
        cells = [
            row["benchmark"],
            row["case"],
            row["metric"],
            format_value(row["value"]),
            row["unit"],
            format_value(row.get("reference")),
            format_value(row.get("ratio")),
            row.get("target") or "",
            met,
        ]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("results.json")
    print(markdown(json.loads(path.read_text())))
