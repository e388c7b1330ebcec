"""
Open data: a snapshot as CSV files (one per table), the whole snapshot as JSON, and the
Frictionless Data Package (`datapackage.json`) that describes every file and field.
"""

import csv
import io
import json
import zipfile

from .disclosure import FEWER, PUBLISHED, SUPPRESSED, WITHHELD
from .statistics import FORMAT

LICENCE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0 International",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
WITHHELD_MARK = "withheld"
SUPPRESSED_MARK = "suppressed"

MEASURE_FIELDS = [
    ("submitted", "integer", "Dossiers submitted to the portal (by year of submission)."),
    ("delivered", "integer", "Sanctions packages delivered to a government."),
    ("designated", "integer", "Delivered packages that led to a designation."),
    ("declined", "integer", "Delivered packages the government declined."),
    ("awaiting", "integer", "Delivered packages with no decision yet (cut-off date)."),
    ("designation_share", "integer", "Designated as a percentage of delivered, rounded."),
    ("median_days", "integer", "Median days from first delivery to the decision."),
]
ROW_FIELDS = {
    "totals": [],
    "regime": [
        ("regime", "string", "Regime key (OpenSanctions programme key where there is one)."),
        ("regime_name", "string", "Name of the regime."),
    ],
    "category": [
        ("category", "string", "Violation category code."),
        ("category_name", "string", "Name of the violation category."),
    ],
    "country": [("country", "string", "ISO 3166-1 alpha-2 code of the country of the conduct.")],
    "year": [("year", "year", "Year of submission (dossiers) or of first delivery (packages).")],
    "regime_year": [
        ("regime", "string", "Regime key."),
        ("year", "year", "Year of submission (dossiers) or of first delivery (packages)."),
    ],
}
DESCRIPTIONS = {
    "totals": "All regimes together: one row.",
    "regime": "Per sanctions regime.",
    "category": "Per violation category of the dossiers' incidents (a dossier may count in "
    "several rows).",
    "country": "Per country where the conduct took place (a dossier may count in several rows).",
    "year": "Per year.",
    "regime_year": "Per regime and year: its sums are the per-regime and per-year tables.",
}
TABLES = list(ROW_FIELDS)


def _row_values(table: str, row: dict) -> list:
    if table == "totals":
        return []
    if table in ("regime", "category"):
        return [row["key"], row["label"]]
    if table == "regime_year":
        return [row["regime"], row["year"]]
    return [row["key"]]


def _cell(cell: dict, threshold: int) -> str:
    status = cell["status"]
    if status == PUBLISHED:
        return str(cell["value"])
    if status == FEWER:
        return f"<{threshold}"
    if status == WITHHELD:
        return WITHHELD_MARK
    if status == SUPPRESSED:
        return SUPPRESSED_MARK
    return ""


def table_csv(data: dict, table: str) -> str:
    """One table of the snapshot as CSV text (UTF-8, a header row, "<N" and "withheld")."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if table == "organisations":
        writer.writerow(["organisation"])
        writer.writerows([name] for name in data["organisations"])
        return out.getvalue()
    writer.writerow([name for name, _t, _d in ROW_FIELDS[table] + MEASURE_FIELDS])
    rows = [{"cells": data["totals"]}] if table == "totals" else data["tables"][table]
    for row in rows:
        cells = [_cell(row["cells"][name], data["threshold"]) for name, _t, _d in MEASURE_FIELDS]
        writer.writerow(_row_values(table, row) + cells)
    return out.getvalue()


def snapshot_json(snapshot) -> bytes:
    document = {"computed_at": snapshot.computed_at.isoformat(), **snapshot.data}
    return json.dumps(document, indent=2, ensure_ascii=False).encode()


def _cell_schema() -> dict:
    return {
        "type": "object",
        "required": ["value", "status"],
        "additionalProperties": False,
        "properties": {
            "value": {"type": ["integer", "null"]},
            "status": {"enum": [PUBLISHED, FEWER, WITHHELD, SUPPRESSED, "none"]},
        },
    }


def json_schema() -> dict:
    """The JSON Schema of snapshot.json."""
    cells = {
        "type": "object",
        "required": [name for name, _t, _d in MEASURE_FIELDS],
        "additionalProperties": False,
        "properties": {name: {"$ref": "#/$defs/cell"} for name, _t, _d in MEASURE_FIELDS},
    }
    row = {
        "type": "object",
        "required": ["key", "label", "cells"],
        "properties": {
            "key": {"type": ["string", "integer"]},
            "label": {"type": "string"},
            "regime": {"type": "string"},
            "year": {"type": "integer"},
            "cells": {"$ref": "#/$defs/cells"},
        },
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["format", "computed_at", "until", "threshold", "measures", "totals",
                     "tables", "organisations"],
        "additionalProperties": False,
        "properties": {
            "format": {"const": FORMAT},
            "computed_at": {"type": "string", "format": "date-time"},
            "until": {"type": "string", "format": "date"},
            "threshold": {"type": "integer", "minimum": 1},
            "measures": {"type": "array", "items": {"type": "string"}},
            "totals": {"$ref": "#/$defs/cells"},
            "tables": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    t: {"type": "array", "items": {"$ref": "#/$defs/row"}}
                    for t in TABLES if t != "totals"
                },
            },
            "organisations": {"type": "array", "items": {"type": "string"}},
        },
        "$defs": {"cell": _cell_schema(), "cells": cells, "row": row},
    }  # fmt: skip


def datapackage(snapshot) -> dict:
    """The Frictionless Data Package descriptor of a snapshot's files."""
    threshold = snapshot.data["threshold"]
    marks = ["", f"<{threshold}", WITHHELD_MARK, SUPPRESSED_MARK]
    resources = []
    for table in TABLES:
        fields = [
            {"name": name, "type": kind, "description": description}
            for name, kind, description in ROW_FIELDS[table] + MEASURE_FIELDS
        ]
        for item in fields:
            if item["name"] == "designation_share":
                item["constraints"] = {"minimum": 0, "maximum": 100}
            elif item["name"] in {n for n, _t, _d in MEASURE_FIELDS}:
                item["constraints"] = {"minimum": 0}
        keys = [name for name, _t, _d in ROW_FIELDS[table]]
        schema = {"fields": fields, "missingValues": marks}
        if keys:
            key_fields = keys[:1] if table in ("regime", "category") else keys
            schema["primaryKey"] = key_fields
            for item in fields:
                if item["name"] in key_fields:
                    item["constraints"] = {"required": True}
        resources.append(_tabular(table, DESCRIPTIONS[table], schema))
    resources.append(
        _tabular(
            "organisations",
            "Contributing organisations that chose to be named (all others are not listed).",
            {"fields": [{"name": "organisation", "type": "string",
                         "description": "Name of the organisation.",
                         "constraints": {"required": True}}]},
        )
    )  # fmt: skip
    resources.append(
        {
            "name": "snapshot",
            "path": "snapshot.json",
            "type": "json",
            "format": "json",
            "mediatype": "application/json",
            "encoding": "utf-8",
            "title": "The whole snapshot as one JSON document",
            "description": "Every table and the totals, each cell as {value, status}: status "
            "is 'published', 'fewer' (value hidden: fewer than the threshold), 'withheld' "
            "(value hidden so that a smaller figure cannot be worked out; for the share and "
            "the median: not shown, whether or not there is anything to compute), "
            "'suppressed' (value hidden, and it may be any count, small or large) or 'none' "
            "(older snapshots: nothing to compute).",
            "jsonSchema": json_schema(),
        }
    )
    return {
        "profile": "data-package",
        "name": "magnitsky-portal-transparency",
        "title": "Magnitsky sanctions evidence portal: public statistics",
        "description": (
            "How often governments act on civil-society submissions for targeted sanctions, "
            "and how long they take. Counts up to the cut-off date "
            f"{snapshot.data['until']}. Counts from 1 to {threshold - 1} are shown as "
            f"'<{threshold}'; 'withheld' marks a count hidden so that a smaller one cannot "
            "be worked out from the totals; 'suppressed' marks a count hidden that may be "
            "small or large. No names (other than organisations that chose to "
            "be listed), no free text and no dossier-level rows are published."
        ),
        "version": snapshot.data["until"],
        "created": snapshot.computed_at.isoformat(),
        "licenses": [LICENCE],
        "resources": resources,
    }


def _tabular(name: str, description: str, schema: dict) -> dict:
    return {
        "name": name,
        "path": f"{name}.csv",
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "description": description,
        "schema": schema,
    }


def files(snapshot) -> dict[str, bytes]:
    """Every file of the data package, by name."""
    found = {f"{t}.csv": table_csv(snapshot.data, t).encode() for t in [*TABLES, "organisations"]}
    found["snapshot.json"] = snapshot_json(snapshot)
    found["datapackage.json"] = json.dumps(
        datapackage(snapshot), indent=2, ensure_ascii=False
    ).encode()
    return found


def archive(snapshot) -> bytes:
    """The data package as one ZIP file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, content in files(snapshot).items():
            bundle.writestr(name, content)
    return buffer.getvalue()
