"""
The oversight report: what was submitted to one government under one regime in one year, what
it did and how long it took, beside the other governments; from a snapshot only, so that it
says nothing the public page does not. Rendered to PDF the way briefs are (reviews/briefs.py):
WeasyPrint, fonts with real glyphs for every script, page numbers, nothing fetched from the
network or the disk.
"""

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from weasyprint import HTML, URLFetcher

from portal import pdf_text

from . import presentation
from .charts import bar_chart
from .disclosure import FEWER, WITHHELD
from .models import OversightReport

SERIES = ["submitted", "delivered", "designated", "declined", "awaiting"]


def _empty_cells() -> dict:
    """A regime with nothing in that year: zero is shown as "fewer than N", as everywhere."""
    cells = {m: {"value": None, "status": FEWER} for m in SERIES}
    cells["designation_share"] = {"value": None, "status": WITHHELD}
    cells["median_days"] = {"value": None, "status": WITHHELD}
    return cells


def assemble(report: OversightReport) -> dict:
    """The report's content, in its language, from its snapshot."""
    data = report.snapshot.data
    threshold = data["threshold"]
    key, year = report.regime.key, report.year
    with translation.override(report.language):
        by_regime_year = {(r["regime"], r["year"]): r for r in data["tables"]["regime_year"]}
        regimes = data["tables"]["regime"]
        focus = by_regime_year.get((key, year), {"cells": _empty_cells()})["cells"]
        regime_all_years = next((r["cells"] for r in regimes if r["key"] == key), _empty_cells())
        year_row = next((r for r in data["tables"]["year"] if r["key"] == year), None)
        comparison = [
            {"key": r["key"], "label": presentation.row_label("regime", r),
             "cells": by_regime_year.get((r["key"], year), {"cells": _empty_cells()})["cells"],
             "focus": r["key"] == key}
            for r in regimes
        ]  # fmt: skip
        trend = [
            {"label": str(row["year"]), "cells": row["cells"]}
            for row in data["tables"]["regime_year"]
            if row["regime"] == key
        ]
        columns = [label for _column, label in presentation.COLUMNS]

        def rows(items):
            return [
                {"label": item["label"], "focus": item.get("focus", False),
                 "cells": [{"text": presentation.cell_display(c, item["cells"][c], threshold),
                            "status": item["cells"][c]["status"]}
                           for c, _label in presentation.COLUMNS]}
                for item in items
            ]  # fmt: skip

        title = _("Oversight report: %(regime)s, %(year)s") % {
            "regime": report.regime.name,
            "year": year,
        }
        comparison_chart = bar_chart(
            "chart-comparison",
            _("Every regime in %(year)s") % {"year": year},
            [(c["key"], c["cells"]) for c in comparison],
            presentation.CHART_SERIES,
            threshold,
        )
        trend_chart = (
            bar_chart(
                "chart-trend",
                _("%(regime)s, per year") % {"regime": key},
                [(t["label"], t["cells"]) for t in trend],
                presentation.CHART_SERIES,
                threshold,
            )
            if trend
            else None
        )
        figures = [
            {"label": label, "focus": presentation.cell_display(c, focus[c], threshold),
             "all_years": presentation.cell_display(c, regime_all_years[c], threshold)}
            for c, label in presentation.COLUMNS
        ]  # fmt: skip
        return {
            "report": report,
            "language": report.language,
            "title": title,
            "regime": report.regime,
            "year": year,
            "threshold": threshold,
            "below": threshold - 1,
            "until": data["until"],
            "computed_at": report.snapshot.computed_at,
            "figures": figures,
            "columns": columns,
            "comparison": rows(comparison),
            "comparison_chart": comparison_chart,
            "year_total": rows([{"label": _("All regimes"), "cells": year_row["cells"]}])
            if year_row
            else [],
            "trend": rows(trend),
            "trend_chart": trend_chart,
        }


def render_pdf(context: dict) -> bytes:
    """Render the report's PDF, loading nothing from the network or the disk."""
    with translation.override(context["language"]):
        html = render_to_string("transparency/oversight_report.html", context)
    fetcher = URLFetcher(allowed_protocols={"data"})
    pdf_text.install()  # names in complex scripts copy out as typed
    return HTML(string=html, url_fetcher=fetcher).write_pdf()
