"""
Bar charts as SVG, laid out here and drawn by templates/transparency/_chart.svg: no script, no
inline style (colours are SVG presentation attributes), a title and a description for screen
readers, and the same figures in a table beside each chart.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .disclosure import FEWER, PUBLISHED, SUPPRESSED, WITHHELD

# Colours chosen to differ for the common colour-vision deficiencies (Okabe-Ito palette).
SERIES = {
    "submitted": ("#0072B2", gettext_lazy("Dossiers submitted")),
    "delivered": ("#E69F00", gettext_lazy("Packages delivered")),
    "designated": ("#009E73", gettext_lazy("Designations")),
    "declined": ("#D55E00", gettext_lazy("Declined")),
    "awaiting": ("#999999", gettext_lazy("No decision yet")),
    "median_days": ("#CC79A7", gettext_lazy("Median days from delivery to decision")),
}

WIDTH = 680
LABEL_WIDTH = 170
PLOT_X = LABEL_WIDTH + 10
PLOT_WIDTH = 380
BAR = 13
GAP = 3
GROUP_GAP = 12
LEGEND = 28
LABEL_CHARS = 26


@dataclass
class Bar:
    series: str
    fill: str
    x: int
    y: int
    width: float
    height: int
    text: str
    text_x: float
    text_y: int
    suppressed: bool


@dataclass
class Group:
    label: str
    full_label: str
    label_y: int
    bars: list = field(default_factory=list)


@dataclass
class LegendItem:
    fill: str
    label: str
    x: int
    text_x: int


@dataclass
class Chart:
    id: str
    title: str
    description: str
    width: int
    height: int
    label_x: int
    groups: list
    legend: list


def cell_text(cell: dict, threshold: int) -> str:
    """How a cell reads, on the page, in the charts and in the report."""
    status = cell["status"]
    if status == PUBLISHED:
        return str(cell["value"])
    if status == FEWER:
        return _("fewer than %(threshold)s") % {"threshold": threshold}
    if status == WITHHELD:
        return _("withheld")
    if status == SUPPRESSED:
        return _("not shown")
    return "–"


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def bar_chart(
    chart_id: str, title: str, rows: list[tuple[str, dict]], series: list[str], threshold: int
) -> Chart:
    """Lay out one group of horizontal bars per row: `rows` are (label, cells by series)."""
    largest = max(
        (cells[s]["value"] for _label, cells in rows for s in series
         if cells[s]["status"] == PUBLISHED and cells[s]["value"]),
        default=0,
    )  # fmt: skip
    legend, x = [], 0
    for name in series:
        fill, label = SERIES[name]
        legend.append(LegendItem(fill, str(label), x, x + 16))
        x += 24 + 7 * len(str(label))
    groups, y = [], LEGEND
    for label, cells in rows:
        group = Group(_short(str(label)), str(label), y + (len(series) * (BAR + GAP)) // 2 + 4)
        for name in series:
            cell = cells[name]
            shown = cell["status"] == PUBLISHED and cell["value"] is not None
            width = PLOT_WIDTH * cell["value"] / largest if shown and largest else 0
            group.bars.append(
                Bar(
                    series=name,
                    fill=SERIES[name][0],
                    x=PLOT_X,
                    y=y,
                    width=round(width, 1),
                    height=BAR,
                    text=cell_text(cell, threshold),
                    text_x=round(PLOT_X + width + 4, 1),
                    text_y=y + BAR - 2,
                    suppressed=not shown,
                )
            )
            y += BAR + GAP
        groups.append(group)
        y += GROUP_GAP
    names = ", ".join(str(SERIES[s][1]).lower() for s in series)
    description = _(
        "Horizontal bar chart with one group of bars per row (%(rows)s rows): %(series)s. "
        "Counts below %(threshold)s are not drawn but written as “fewer than %(threshold)s”. "
        "The table next to the chart gives the same figures."
    ) % {"rows": len(rows), "series": names, "threshold": threshold}
    return Chart(
        id=chart_id,
        title=title,
        description=description,
        width=WIDTH,
        height=max(y, LEGEND + 20),
        label_x=LABEL_WIDTH,
        groups=groups,
        legend=legend,
    )
