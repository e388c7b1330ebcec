"""
What the page and the report show, built from a snapshot's JSON alone (no query): the
sections with their charts and tables, in the active language.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from .charts import bar_chart, cell_text
from .disclosure import PUBLISHED

COLUMNS = [
    ("submitted", gettext_lazy("Dossiers submitted")),
    ("delivered", gettext_lazy("Packages delivered")),
    ("designated", gettext_lazy("Designated")),
    ("declined", gettext_lazy("Declined")),
    ("awaiting", gettext_lazy("No decision yet")),
    ("designation_share", gettext_lazy("Share designated")),
    ("median_days", gettext_lazy("Median days to decision")),
]
CHART_SERIES = ["submitted", "delivered", "designated"]


def section_titles() -> dict:
    return {
        "regime": _("Per regime"),
        "category": _("Per violation category"),
        "country": _("Per country of the conduct"),
        "year": _("Per year"),
        "regime_year": _("Per regime and year"),
    }


def row_label(table: str, row: dict, *, short: bool = False) -> str:
    """The label of a row in the active language (country names are translated)."""
    if table == "country":
        return str(countries.name(row["key"])) or row["key"]
    if table == "regime":
        return row["key"] if short else f"{row['label']} ({row['key']})"
    return row["label"]


def cell_display(column: str, cell: dict, threshold: int) -> str:
    if column == "designation_share" and cell["status"] == PUBLISHED:
        return f"{cell['value']} %"
    return cell_text(cell, threshold)


def table_rows(table: str, rows: list, threshold: int) -> list[dict]:
    return [
        {
            "label": row_label(table, row),
            "cells": [
                {
                    "text": cell_display(column, row["cells"][column], threshold),
                    "status": row["cells"][column]["status"],
                }
                for column, _label in COLUMNS
            ],
        }  # fmt: skip
        for row in rows
    ]


def section(table: str, rows: list, threshold: int, *, title: str, chart_id: str) -> dict:
    chart_rows = [(row_label(table, row, short=True), row["cells"]) for row in rows]
    return {
        "table": table,
        "title": title,
        "chart": bar_chart(chart_id, title, chart_rows, CHART_SERIES, threshold) if rows else None,
        "rows": table_rows(table, rows, threshold),
    }


def page_context(data: dict) -> dict:
    """Everything the public page shows, from the snapshot's data."""
    threshold = data["threshold"]
    titles = section_titles()
    sections = [
        section(table, data["tables"][table], threshold, title=titles[table],
                chart_id=f"chart-{table}")
        for table in ("regime", "category", "country", "year")
    ]  # fmt: skip
    timing_rows = [
        (row_label("regime", row, short=True), row["cells"])
        for row in data["tables"]["regime"]
        if row["cells"]["delivered"]["status"] != PUBLISHED or row["cells"]["delivered"]["value"]
    ]
    timing = (
        bar_chart(
            "chart-timing", _("Median days from delivery to decision, per regime"),
            timing_rows, ["median_days"], threshold,
        )
        if timing_rows
        else None
    )  # fmt: skip
    totals = data["totals"]
    return {
        "threshold": threshold,
        "below": threshold - 1,
        "columns": [label for _column, label in COLUMNS],
        "totals": [
            {"label": label, "text": cell_display(column, totals[column], threshold)}
            for column, label in COLUMNS
        ],
        "summary_chart": bar_chart(
            "chart-summary", _("All regimes"), [(_("All regimes"), totals)],
            ["submitted", "delivered", "designated", "declined", "awaiting"], threshold,
        ),
        "sections": sections,
        "timing": timing,
        "organisations": data["organisations"],
    }  # fmt: skip
