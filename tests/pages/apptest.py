"""Reading a page under AppTest: its tables, its Plotly figures, its text, and the
expected cell text for a `cli.py metrics` record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from streamlit.testing.v1 import AppTest

from metrics.catalog import catalog
from pages.common import format_number

APP = Path(__file__).resolve().parents[2] / "app.py"


def assert_clean(at: AppTest) -> None:
    """No exception and no error box: a page that hides a bug in an error box fails too."""
    assert not at.exception, at.exception
    assert not at.error, [str(error.value) for error in at.error]


def page_text(at: AppTest) -> str:
    parts: list[str] = []
    for kind in (
        "title",
        "subheader",
        "markdown",
        "caption",
        "info",
        "success",
        "warning",
        "error",
    ):
        parts += [str(element.value) for element in getattr(at, kind)]
    return "\n".join(parts)


def subheaders(at: AppTest) -> list[str]:
    return [str(element.value) for element in at.subheader]


def dataframe_with(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first st.dataframe whose leading columns are `columns`."""
    for element in at.dataframe:
        frame = element.value
        if list(frame.columns[: len(columns)]) == list(columns):
            return frame
    shown = [list(element.value.columns) for element in at.dataframe]
    raise AssertionError(f"no dataframe starting with {columns}; the page has {shown}")


def figures(at: AppTest) -> dict[str, dict[str, Any]]:
    """Each Plotly figure by its key (the element id ends with the key)."""
    found: dict[str, dict[str, Any]] = {}
    for element in at.get("plotly_chart"):
        key = element.proto.id.split("-", 2)[-1]
        found[key] = json.loads(element.proto.spec)
    return found


def traces(figure: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The figure's data traces by name (legend-only entries, with no point, left out)."""
    return {trace.get("name", ""): trace for trace in figure["data"] if trace.get("x") != [None]}


def expected_cell(record: dict[str, Any], tier: str | None = None) -> str:
    """A cell of a metric table for a `cli.py metrics --format json` record."""
    text = format_number(record["value"])
    if record["target"] is not None and record["value"] is not None:
        better = catalog()[record["metric"]].better
        text += f" ({'≥' if better == 'higher' else '≤'} {format_number(record['target'])})"
    if tier:
        text += f" · {tier}"
    return text


def row_of(frame: pd.DataFrame, team: str) -> dict[str, Any]:
    rows = frame[frame["Team"] == team]
    assert len(rows) == 1, f"{team} is not one row of {frame['Team'].tolist()}"
    return dict(rows.iloc[0])


def decoded(values: Any) -> list[Any]:
    """Plotly writes numeric arrays as base64 typed arrays ({"dtype", "bdata"}): read them."""
    if isinstance(values, dict) and "bdata" in values:
        import base64

        import numpy as np

        array = np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
        if "shape" in values:
            array = array.reshape([int(n) for n in str(values["shape"]).split(",")])
        return list(array.tolist())
    return list(values or [])


def marker_colours(trace: dict[str, Any]) -> set[str]:
    """The colours of a trace's points, whether given as colours or as positions on a
    colour scale of team colours (one stop per team)."""
    marker = trace["marker"]
    colours = marker["color"]
    if "colorscale" not in marker:
        return {colours} if isinstance(colours, str) else set(colours)
    scale = [stop[1] for stop in marker["colorscale"]]
    return {scale[int(position)] for position in decoded(colours)}
