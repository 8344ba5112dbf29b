"""The HTML report's building blocks: matplotlib set up for reproducible inline SVG,
escaping, tables, status marks, a time axis over the report's window."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import datetime
from typing import Any

import matplotlib

matplotlib.use("svg")  # no display, no GUI toolkit: SVG text only

import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from ai_gate.safe_text import printable

# glyphs as paths, fixed ids and no date: the same data gives the same file
matplotlib.rcParams.update(
    {
        "svg.fonttype": "path",
        "svg.hashsalt": "ai-gate",
        "svg.id": None,
        "font.size": 8,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)


def svg(figure: plt.Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    # the RDF metadata block says only "made with matplotlib"
    start, end = text.find("<metadata>"), text.find("</metadata>")
    if start >= 0 and end > start:
        text = text[:start] + text[end + len("</metadata>") :]
    return text


# What the standard library's html.escape replaces (quotes too: cells become attribute
# values in links); spelled here, as importing `html` from this package reads as this
# package's html.py to tools that draw the import graph.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})


def escape(value: object) -> str:
    return printable("" if value is None else str(value)).translate(_ESCAPES)


def number(value: object, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    number = float(value)  # type: ignore[arg-type]
    return f"{number:,.1f}" if abs(number) >= 10 else f"{number:.{digits}f}"


def table(headers: list[str], rows: list[list[str]], raw: bool = False) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell if raw else escape(cell)}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    # a wide table scrolls inside its section instead of running off the page
    return (
        f'<div class="table-scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def status_span(value: object) -> str:
    text = escape(value)
    return f'<span class="{text}">{text.upper()}</span>'


def time_axis(axes: plt.Axes, start: datetime, end: datetime) -> None:
    """A time axis over the report's window, whatever the points: one run, or none,
    still gets the window's dates (matplotlib alone would span years, or 1970)."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    formatter = mdates.ConciseDateFormatter(locator)
    formatter.offset_formats = [""] * 6  # the window is in the page's header
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(formatter)
    axes.set_xlim(start, end)


def grouped(rows: list[Any], key: str) -> dict[str, list[Any]]:
    """`rows` (dicts or objects) by the value of `key`, each group in the rows' order."""
    groups: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        groups[str(row[key] if isinstance(row, dict) else getattr(row, key))].append(row)
    return groups


def link(anchor: str, text: str, anchors: set[str]) -> str:
    """A link to a row of the page when the page lists it, else the text alone."""
    if anchor in anchors:
        return f'<a href="#{escape(anchor)}">{escape(text)}</a>'
    return escape(text)


def change_link_cells(links: tuple[int | None, str | None] | None, anchors: set[str]) -> list[str]:
    """A flag change's cells for the decision in force and the last drill before it."""
    decision_id, drill_id = links or (None, None)
    return [
        "—" if decision_id is None else link(f"decision-{decision_id}", f"#{decision_id}", anchors),
        "—" if drill_id is None else link(f"drill-{drill_id}", drill_id[:8], anchors),
    ]
