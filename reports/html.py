"""The report as one self-contained web page: interactive Plotly charts, and a print style
that puts each team on its own A4 page.

Plotly's JavaScript is inlined once in the head, so the file opens offline and
from a mail attachment; every other figure only carries its data. All text is
escaped: team, model and check names come from configuration and sources.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape
from typing import Final

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from metrics.rubric import LEVELS
from reports.formatting import (
    LEGEND_TEAMS,
    LEVEL_TINT,
    NEUTRAL,
    NO_VALUE,
    PILLAR_STYLE,
    STATUS_COLOUR,
    STATUS_TINT,
    format_change,
    format_level,
    format_level_change,
    format_number,
    format_score,
    format_target,
    improved,
)
from reports.model import TREND_METRICS, MetricLine, PillarLine, Report, TeamSection
from reports.sparklines import Sparkline, sparklines

PLOTLY_CONFIG: Final = {"displaylogo": False, "responsive": True}
PERIOD_SHADE: Final = "rgba(100, 116, 139, 0.12)"
DASH: Final = {"solid": "solid", "dashed": "dash", "dotted": "dot"}
STYLE: Final = """
:root { --ink: #1E293B; --muted: #64748B; --rule: #E2E8F0; --head: #F1F5F9; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink);
  margin: 0; background: #F8FAFC; font-size: 14px; line-height: 1.4; }
main { max-width: 1120px; margin: 0 auto; padding: 0 24px 48px; }
header.band { background: #0F172A; color: #fff; padding: 28px 24px 22px; }
header.band div { max-width: 1072px; margin: 0 auto; }
header.band h1 { margin: 0 0 6px; font-size: 30px; }
header.band p { margin: 2px 0; color: #CBD5E1; }
header.band p.small { color: #94A3B8; font-size: 12px; }
section { background: #fff; border: 1px solid var(--rule); border-radius: 6px;
  padding: 18px 22px; margin-top: 18px; }
h2 { font-size: 22px; margin: 0 0 4px; }
h3 { font-size: 15px; margin: 18px 0 8px; }
.muted, .note { color: var(--muted); }
.note { font-size: 12px; margin: 6px 0 0; }
.demo { background: #FEF3C7; color: #92400E; padding: 10px 14px; border-radius: 6px;
  margin-top: 18px; }
.tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; }
.tile { border: 1px solid var(--rule); border-radius: 6px; padding: 10px 14px;
  background: #F8FAFC; }
.tile b { display: block; font-size: 26px; }
.tile span { color: var(--muted); font-size: 12px; }
.levels { display: flex; margin: 14px 0 4px; font-size: 12px; border-radius: 4px;
  overflow: hidden; }
.levels div { padding: 4px 0; text-align: center; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th { background: var(--head); color: var(--muted); text-align: left; font-weight: 600; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--rule); white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.wrap { white-space: normal; }
tr.group td { font-weight: 700; background: #fff; padding-top: 8px; }
tr.headline td:first-child, tr.headline td.value { font-weight: 700; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 6px; vertical-align: baseline; }
.good { color: #15803D; } .bad { color: #B91C1C; } .same { color: var(--muted); }
.team-head { display: flex; justify-content: space-between; align-items: center;
  border-left: 6px solid; padding-left: 12px; }
.team-head .level { font-weight: 700; padding: 4px 12px; border-radius: 4px; }
.columns { display: grid; grid-template-columns: 2fr 3fr; gap: 22px; align-items: start; }
.columns.even { grid-template-columns: 1fr 1fr; }
ol.steps li { margin-bottom: 6px; }
ol.steps small { color: var(--muted); display: block; }
svg.spark { display: block; }
a { color: inherit; }
@page { size: A4; margin: 12mm; }
@media print {
  body { background: #fff; font-size: 11px; -webkit-print-color-adjust: exact;
    print-color-adjust: exact; }
  main { max-width: none; padding: 0; }
  header.band { padding: 14px 12px; }
  section { border: none; padding: 0; margin-top: 10px; }
  section.team, section.methods { break-before: page; }
  table { font-size: 10px; }
  tr, .tile, .team-head, ol.steps li, .columns.even { break-inside: avoid; }
  .modebar-container { display: none !important; }
}
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _change(change: float | None, better: str) -> str:
    verdict = improved(change, better)
    kind = "same" if verdict is None else "good" if verdict else "bad"
    return f'<td class="num {kind}">{_e(format_change(change))}</td>'


def _table(headers: Sequence[tuple[str, bool]], rows: Iterable[str]) -> str:
    """`headers`: (title, numeric); `rows`: ready `<tr>` elements."""
    head = "".join(f'<th class="{"num" if numeric else ""}">{_e(t)}</th>' for t, numeric in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _tinted(text: str, tint: str, numeric: bool = False) -> str:
    return f'<td class="{"num" if numeric else ""}" style="background:{tint}">{_e(text)}</td>'


def _level_cell(line: PillarLine) -> str:
    text = format_level_change(line.level, line.previous_level)
    return _tinted(text, LEVEL_TINT[line.level])


def _figure_html(figure: go.Figure, element_id: str) -> str:
    html: str = figure.to_html(
        full_html=False, include_plotlyjs=False, div_id=element_id, config=PLOTLY_CONFIG
    )
    return html


def _shade(figure: go.Figure, report: Report) -> None:
    """The report's period, on every subplot."""
    period = report.periods.current
    figure.add_vrect(
        x0=period.since.isoformat(),
        x1=period.until.isoformat(),
        fillcolor=PERIOD_SHADE,
        line_width=0,
        layer="below",
        row="all",
        col="all",
    )


def _layout(figure: go.Figure, height: int, legend: bool = True) -> go.Figure:
    figure.update_layout(
        height=height,
        margin={"l": 48, "r": 12, "t": 40, "b": 28},
        template="plotly_white",
        font={"family": "DejaVu Sans, Helvetica, Arial, sans-serif", "size": 11},
        showlegend=legend,
        legend={"orientation": "h", "y": 1.12, "x": 0},
        hovermode="x unified",
    )
    return figure


def _organisation_chart(report: Report) -> str:
    traces = []
    for section in report.teams:
        history = section.score_history
        overall = history[history["pillar"] == "overall"]
        if overall.empty:
            continue
        traces.append(
            go.Scatter(
                x=overall["day"].dt.strftime("%Y-%m-%d").tolist(),
                y=overall["score"].tolist(),
                name=_e(section.team),
                mode="lines",
                line={
                    "color": section.colour,
                    "width": 2 if len(report.teams) <= LEGEND_TEAMS else 1.2,
                },
                hovertemplate=f"{_e(section.team)}: %{{y:.1f}} %<extra></extra>",
            )
        )
    if not traces:
        return '<p class="muted">No maturity history yet: the daily snapshot stores it.</p>'
    figure = go.Figure(traces)
    _shade(figure, report)
    figure.update_yaxes(range=[0, 100], ticksuffix=" %")
    _layout(figure, 340, legend=len(traces) <= LEGEND_TEAMS)
    return _figure_html(figure, "organisation-maturity")


def _team_charts(section: TeamSection, report: Report, index: int) -> tuple[str, str]:
    """The team's maturity over the year, and its headline metrics over the year."""
    history = section.score_history
    if history.empty:
        maturity = '<p class="muted">No maturity history yet.</p>'
    else:
        figure = go.Figure()
        for pillar, (colour, dash) in PILLAR_STYLE.items():
            rows = history[history["pillar"] == pillar]
            figure.add_scatter(
                x=rows["day"].dt.strftime("%Y-%m-%d").tolist(),
                y=rows["score"].tolist(),
                name=pillar,
                mode="lines",
                line={"color": colour, "dash": DASH[dash], "width": 1.4},
            )
        overall = history[history["pillar"] == "overall"]
        figure.add_scatter(
            x=overall["day"].dt.strftime("%Y-%m-%d").tolist(),
            y=overall["score"].tolist(),
            name="Overall",
            mode="lines+markers",
            line={"color": section.colour, "width": 3},
            marker={"size": 4},
        )
        _shade(figure, report)
        figure.update_yaxes(range=[0, 100], ticksuffix=" %")
        maturity = _figure_html(_layout(figure, 260), f"team-{index}-maturity")
    metrics = section.metric_history
    by_id = {line.metric_id: line for line in section.metrics}
    shown = [by_id[m] for m in TREND_METRICS if m in by_id]
    if metrics.empty or not shown:
        return maturity, '<p class="muted">No metric history yet.</p>'
    figure = make_subplots(
        rows=1,
        cols=len(shown),
        subplot_titles=[f"{_e(line.name)}<br><sup>{_e(line.unit)}</sup>" for line in shown],
        horizontal_spacing=0.06,
    )
    for column, line in enumerate(shown, start=1):
        rows = metrics[metrics["metric_id"] == line.metric_id]
        days = rows["day"].dt.strftime("%Y-%m-%d").tolist()
        figure.add_scatter(
            x=days,
            y=rows["value"].tolist(),
            name=_e(line.name),
            mode="lines",
            line={"color": section.colour, "width": 2},
            row=1,
            col=column,
        )
        targets = rows.dropna(subset=["target"])
        if not targets.empty:
            figure.add_scatter(
                x=targets["day"].dt.strftime("%Y-%m-%d").tolist(),
                y=targets["target"].tolist(),
                name=_e(f"{line.name} target"),
                mode="lines",
                line={"color": NEUTRAL, "dash": "dash", "width": 1},
                row=1,
                col=column,
            )
    figure.update_annotations(font_size=11)
    figure.update_yaxes(rangemode="tozero")
    figure.update_xaxes(nticks=4, tickformat="%b %Y", tickangle=0)
    _shade(figure, report)
    trends = _figure_html(_layout(figure, 230, legend=False), f"team-{index}-trends")
    return maturity, trends


def _spark_svg(line: Sparkline | None, colour: str) -> str:
    if line is None:
        return '<span class="muted">no history</span>'
    width, height = 90, 18
    points = " ".join(
        f"{1 + x * (width - 4):.1f},{height - 2 - y * (height - 4):.1f}"
        for x, y in zip(line.x, line.y, strict=True)
    )
    target = ""
    if line.target is not None:
        level = height - 2 - line.target * (height - 4)
        target = (
            f'<line x1="1" x2="{width - 3}" y1="{level:.1f}" y2="{level:.1f}" '
            f'stroke="{NEUTRAL}" stroke-width="0.8" stroke-dasharray="2 2"/>'
        )
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="trend">{target}<polyline points="{points}" fill="none" '
        f'stroke="{colour}" stroke-width="1.4"/></svg>'
    )


def _metric_row(line: MetricLine, spark: str) -> str:
    tier = f" · {line.tier}" if line.tier else ""
    status = (
        f'<td style="background:{STATUS_TINT[line.status]};color:{STATUS_COLOUR[line.status]}">'
        f"{_e(line.status)}</td>"
    )
    return (
        f'<tr class="{"headline" if line.headline else ""}">'
        f"<td>{_e(line.name + tier)}</td>"
        f'<td class="num value">{_e(format_number(line.value))}</td>'
        f'<td class="muted">{_e(line.unit)}</td>'
        f'<td class="num muted">{_e(format_target(line.better, line.target))}</td>'
        f"{status}"
        f'<td class="num muted">{_e(format_number(line.previous))}</td>'
        f"{_change(line.change, line.better)}<td>{spark}</td></tr>"
    )


def _summary(report: Report) -> str:
    met, judged = report.targets_met
    stale = sum(len(section.stale_models) for section in report.teams)
    tiles = "".join(
        f'<div class="tile"><b>{_e(figure)}</b><span>{_e(caption)}</span></div>'
        for figure, caption in (
            (len(report.teams), "teams reported"),
            (f"{met} of {judged}", "targets met"),
            (judged - met, "targets missed"),
            (stale, "stale models"),
        )
    )
    counts = report.level_counts
    total = sum(counts.values()) or 1
    levels = "".join(
        f'<div style="width:{100 * count / total:.2f}%;background:{LEVEL_TINT[level]}">'
        f"L{level}: {count}</div>"
        for level, count in counts.items()
        if count
    )
    rows = []
    for index, section in enumerate(report.teams):
        overall = section.overall
        pillars = {line.pillar: line for line in section.pillars[1:]}
        cells = "".join(
            _tinted(
                f"{format_score(pillars[name].score)} · {format_level(pillars[name].level)}",
                LEVEL_TINT[pillars[name].level],
                numeric=True,
            )
            for name in ("DataOps", "DevOps", "ModelOps")
        )
        rows.append(
            f'<tr><td><span class="swatch" style="background:{section.colour}"></span>'
            f'<a href="#team-{index}">{_e(section.team)}</a></td>{_level_cell(overall)}'
            f'<td class="num"><b>{_e(format_score(overall.score))}</b></td>'
            f"{_change(overall.change, 'higher')}{cells}"
            f'<td class="num">{len(section.breaches)}</td>'
            f'<td class="num">{len(section.stale_models)}</td></tr>'
        )
    table = _table(
        [
            ("Team", False),
            ("Level", False),
            ("Overall", True),
            ("Change", True),
            ("DataOps", True),
            ("DevOps", True),
            ("ModelOps", True),
            ("Targets missed", True),
            ("Stale models", True),
        ],
        rows,
    )
    level_words = "; ".join(f"L{level} {words}" for level, words in LEVELS.items())
    return (
        f'<section class="summary"><h2>Summary</h2><div class="tiles">{tiles}</div>'
        f'<div class="levels">{levels}</div><p class="note">Teams by overall level. '
        f"{_e(level_words)}.</p><h3>Overall maturity over the year</h3>"
        f'{_organisation_chart(report)}<p class="note">Each point is a team\'s overall score '
        "over the 90 days ending that day, from the stored snapshots; the shaded band is this "
        f'report\'s period.</p><h3>Teams at a glance</h3>{table}<p class="note">Level in '
        f"brackets: its change since {_e(report.periods.previous_label)}. Change: overall score "
        "points since then. Pillar cells: score · level.</p></section>"
    )


def _team(section: TeamSection, report: Report, index: int) -> str:
    overall = section.overall
    previous = report.periods.previous_label
    pillar_rows = [
        f"<tr><td><b>{_e(line.pillar)}</b></td>"
        f'<td class="num">{_e(format_score(line.score))}</td>{_change(line.change, "higher")}'
        f'{_level_cell(line)}<td class="num">{_e(format_score(line.coverage))}</td></tr>'
        for line in section.pillars
    ]
    pillars = _table(
        [
            ("Pillar", False),
            ("Score", True),
            ("Change", True),
            ("Level", False),
            ("Coverage", True),
        ],
        pillar_rows,
    )
    maturity_chart, trend_chart = _team_charts(section, report, index)
    spark = sparklines(section, report)
    metric_rows, group = [], ""
    for line in section.metrics:
        if line.group != group:
            group = line.group
            metric_rows.append(f'<tr class="group"><td colspan="8">{_e(group)}</td></tr>')
        metric_rows.append(_metric_row(line, _spark_svg(spark.get(line.metric_id), section.colour)))
    metrics = _table(
        [
            ("Metric", False),
            ("Value", True),
            ("Unit", False),
            ("Target", True),
            ("Status", False),
            (previous, True),
            ("Change", True),
            ("Trend (a year)", False),
        ],
        metric_rows,
    )
    steps = "".join(
        f"<li><b>{_e(step.title)}</b> ({_e(step.pillar)} L{step.level}, {_e(step.status)})"
        f"<small>{_e(step.how_to_fix)}</small></li>"
        for step in section.top_steps
    )
    missed = (
        _table(
            [("Metric", False), ("Value", True), ("Target", True)],
            [
                f'<tr><td>{_e(line.name)}</td><td class="num bad">{_e(format_number(line.value))}'
                f' {_e(line.unit)}</td><td class="num">'
                f"{_e(format_target(line.better, line.target))}</td></tr>"
                for line in section.breaches
            ],
        )
        if section.breaches
        else '<p class="muted">None.</p>'
    )
    stale = (
        _table(
            [("Model", False), ("Serving version", True), ("Age (days)", True)],
            [
                f'<tr><td>{_e(model.model)}</td><td class="num">{_e(model.serving_version)}</td>'
                f'<td class="num bad">{model.age_days:.0f}</td></tr>'
                for model in section.stale_models
            ],
        )
        if section.stale_models
        else '<p class="muted">None.</p>'
    )
    crosswalk = (
        f'<p class="note">Public models: {_e(section.crosswalk)}.</p>' if section.crosswalk else ""
    )
    return (
        f'<section class="team" id="team-{index}">'
        f'<div class="team-head" style="border-color:{section.colour}"><div><h2>{_e(section.team)}'
        f'</h2><div class="muted">Overall score {_e(format_score(overall.score))} '
        f"({_e(format_change(overall.change))} since {_e(previous)}) · evidence coverage "
        f"{_e(format_score(overall.coverage))} · {_e(report.periods.label)}</div></div>"
        f'<div class="level" style="background:{LEVEL_TINT[overall.level]}">Level '
        f"{overall.level} overall</div></div>"
        f'<div class="columns"><div><h3>Maturity</h3>{pillars}<p class="note">Change: score '
        f"points and levels since {_e(previous)}.</p></div><div><h3>Maturity over the year</h3>"
        f"{maturity_chart}</div></div>{crosswalk}"
        f"<h3>Headline metrics over the year</h3>{trend_chart}"
        f'<h3>Metrics against targets</h3>{metrics}<p class="note">Bold: headline metrics. '
        "After a DORA key: its tier. Trend: a year of snapshots, the target dashed.</p>"
        f'<div class="columns even"><div><h3>Next steps to the next level</h3>'
        f'<ol class="steps">{steps or "<li>None: no failing check blocks a next level.</li>"}'
        f"</ol></div><div><h3>Targets missed</h3>{missed}<h3>Stale models</h3>{stale}</div></div>"
        "</section>"
    )


def _when(moment: datetime | None) -> str:
    return NO_VALUE if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def _methods(report: Report) -> str:
    periods = report.periods
    freshness = _table(
        [
            ("Source", False),
            ("Configured", False),
            ("Last sync", False),
            ("Finished", False),
            ("Read up to", False),
            ("Error", False),
        ],
        [
            f"<tr><td><b>{_e(line.source)}</b></td><td>{'yes' if line.configured else 'no'}</td>"
            f"<td>{_e(line.status)}</td><td>{_e(_when(line.finished_at))}</td>"
            f'<td>{_e(_when(line.read_up_to))}</td><td class="wrap">{_e(line.error or NO_VALUE)}'
            "</td></tr>"
            for line in report.freshness
        ],
    )
    definitions = _table(
        [("Metric", False), ("Unit", False), ("Target", False), ("Definition", False)],
        [
            f"<tr><td><b>{_e(d.name)}</b><br><code>{_e(d.metric_id)}</code></td>"
            f"<td>{_e(d.unit)}</td><td>{_e(d.target_text or 'none')}</td>"
            f'<td class="wrap">{_e(d.definition)}</td></tr>'
            for d in report.definitions
        ],
    )
    demo = (
        f'<p class="note">The demo organisation is generated, not synced: its data runs to '
        f"{report.demo_anchor:%d %B %Y}.</p>"
        if report.demo_anchor is not None
        else ""
    )
    return (
        '<section class="methods"><h2>Methods</h2>'
        f"<p>Period: {_e(periods.current_text)}, compared with {_e(periods.previous_text)}. Every "
        "metric is computed as of its period's end by the same engine as the dashboard and "
        "<code>cli.py metrics</code>; rates, medians and percentages compare across periods of "
        "different length, counts such as requests do not. A metric without data is unknown, "
        "never 0.</p>"
        f"<p>Maturity: rubric {_e(report.rubric_version or NO_VALUE)}. A pillar's score is the "
        "weighted share of its checks that pass (waived checks leave the denominator); its level "
        "is the highest level whose checks all pass or are waived; the overall level is the "
        "lowest pillar level; coverage is the weighted share of checks that evidence or an "
        "answer decides. Next steps are the checks that block each pillar's next level.</p>"
        f"<p>Trends: the stored daily snapshots from {report.trend_since:%d %b %Y}, each the "
        "metric or score over the 90 days ending that day.</p>"
        f"<h3>Data freshness per source</h3>{freshness}{demo}"
        f"<h3>Metric definitions</h3>{definitions}</section>"
    )


def render_html(report: Report) -> bytes:
    demo = (
        f'<div class="demo">Demo organisation: every number in this report is generated data '
        f"anchored on {report.demo_anchor:%d %B %Y}. Configure your teams in mlops.toml and sync "
        "to report on your own.</div>"
        if report.demo_anchor is not None
        else ""
    )
    teams = "".join(_team(section, report, index) for index, section in enumerate(report.teams))
    count = len(report.teams)
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(report.title)} · {_e(report.periods.label)}</title>"
        f"<style>{STYLE}</style><script>{get_plotlyjs()}</script></head><body>"
        f'<header class="band"><div><h1>{_e(report.title)}</h1>'
        f"<p>{_e(report.periods.current_text)}</p>"
        f"<p>against {_e(report.periods.previous_text)}</p>"
        f'<p class="small">{count} team{"s" if count != 1 else ""} · generated '
        f"{report.generated_at:%d %B %Y, %H:%M} UTC"
        f"{f' · rubric {_e(report.rubric_version)}' if report.rubric_version else ''}</p>"
        f"</div></header><main>{demo}{_summary(report)}{teams}{_methods(report)}</main>"
        "</body></html>"
    )
    return page.encode("utf-8")
