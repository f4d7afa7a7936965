"""The report as Markdown for wikis and chat: the summary table, then per team its pillars,
headline metrics with a block-character trend, missed targets, next steps and stale models.

Every metric of every team is in the CSV; this stays short enough to paste.
Free text (team, model and check names, errors) is escaped, so a name cannot
break a table, start a heading or inject HTML into a wiki page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from metrics.rubric import LEVELS
from reports.formatting import (
    NO_VALUE,
    format_change,
    format_level,
    format_level_change,
    format_number,
    format_score,
    format_target,
)
from reports.model import Report, TeamSection
from reports.sparklines import sparklines

_SPECIAL: Final = re.compile(r"([\\`*_\[\]<>|~])")
"""What can start emphasis, code, a link, HTML or a table cell anywhere in a line."""


def _e(text: object) -> str:
    """Plain text, whatever Markdown or HTML it looks like, on one line."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> list[str]:
    """A pipe table; `align` has an `l` or an `r` (numbers) per column."""
    rules = ["---:" if side == "r" else "---" for side in align]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(rules) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _summary(report: Report) -> list[str]:
    met, judged = report.targets_met
    stale = sum(len(section.stale_models) for section in report.teams)
    counts = ", ".join(f"L{level}: {count}" for level, count in report.level_counts.items())
    rows = []
    for section in report.teams:
        overall = section.overall
        pillars = {line.pillar: line for line in section.pillars[1:]}
        rows.append(
            [
                f"**{_e(section.team)}**",
                format_level_change(overall.level, overall.previous_level),
                format_score(overall.score),
                format_change(overall.change),
                *(
                    f"{format_score(pillars[name].score)} · {format_level(pillars[name].level)}"
                    for name in ("DataOps", "DevOps", "ModelOps")
                ),
                str(len(section.breaches)),
                str(len(section.stale_models)),
            ]
        )
    return [
        "## Summary",
        "",
        f"{len(report.teams)} teams · {met} of {judged} targets met · {judged - met} missed · "
        f"{stale} stale models · teams by overall level: {counts}.",
        "",
        *_table(
            [
                "Team",
                "Level",
                "Overall",
                "Change",
                "DataOps",
                "DevOps",
                "ModelOps",
                "Targets missed",
                "Stale models",
            ],
            rows,
            "llrrrrrrr",
        ),
        f"Level in brackets and Change: since {report.periods.previous_label} (score points). "
        "Levels: " + "; ".join(f"L{level} {words}" for level, words in LEVELS.items()) + ".",
        "",
    ]


def _team(section: TeamSection, report: Report) -> list[str]:
    overall = section.overall
    previous = report.periods.previous_label
    lines = [
        f"## {_e(section.team)}",
        "",
        f"**Level {overall.level} overall** · score {format_score(overall.score)} "
        f"({format_change(overall.change)} since {previous}) · evidence coverage "
        f"{format_score(overall.coverage)}",
        "",
        *_table(
            ["Pillar", "Score", "Change", "Level", "Coverage"],
            [
                [
                    line.pillar,
                    format_score(line.score),
                    format_change(line.change),
                    format_level_change(line.level, line.previous_level),
                    format_score(line.coverage),
                ]
                for line in section.pillars
            ],
            "lrrlr",
        ),
    ]
    trends = sparklines(section, report)
    rows = []
    for line in section.headline:
        trend = trends.get(line.metric_id)
        rows.append(
            [
                _e(line.name) + (f" · {line.tier}" if line.tier else ""),
                format_number(line.value),
                _e(line.unit),
                format_target(line.better, line.target),
                f"**{line.status}**" if line.status == "breach" else line.status,
                format_number(line.previous),
                format_change(line.change),
                trend.blocks() if trend is not None else NO_VALUE,
            ]
        )
    lines += ["**Headline metrics**", ""]
    lines += _table(
        ["Metric", "Value", "Unit", "Target", "Status", previous, "Change", "Trend"],
        rows,
        "lrlrlrrl",
    )
    missed = [
        f"{_e(line.name)} {format_number(line.value)} {_e(line.unit)} "
        f"(target {format_target(line.better, line.target)})"
        for line in section.breaches
    ]
    lines += [f"**Targets missed:** {'; '.join(missed) if missed else 'none'}.", ""]
    lines += ["**Next steps to the next level**", ""]
    lines += [
        f"{index}. {_e(step.title)} ({step.pillar} L{step.level}, {step.status}): "
        f"{_e(step.how_to_fix)}"
        for index, step in enumerate(section.top_steps, start=1)
    ] or ["None: no failing check blocks a next level."]
    stale = [
        f"{_e(model.model)} v{_e(model.serving_version)} ({model.age_days:.0f} days)"
        for model in section.stale_models
    ]
    lines += ["", f"**Stale models:** {', '.join(stale) if stale else 'none'}.", ""]
    return lines


def _when(moment: datetime | None) -> str:
    return NO_VALUE if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def _methods(report: Report) -> list[str]:
    lines = [
        "## Methods",
        "",
        f"Period: {report.periods.current_text}, compared with {report.periods.previous_text}. "
        "Metrics come from the same engine as the dashboard and `cli.py metrics`, as of each "
        "period's end; a metric without data is unknown, never 0. Maturity: rubric "
        f"{report.rubric_version or NO_VALUE}; a pillar's level is the highest whose checks all "
        "pass or are waived, the overall level the lowest pillar's. Trends: the last snapshots "
        f"of the year from {report.trend_since:%d %b %Y}, each over the 90 days ending that day.",
        "",
        "**Data freshness per source**",
        "",
        *_table(
            ["Source", "Configured", "Last sync", "Finished", "Read up to", "Error"],
            [
                [
                    line.source,
                    "yes" if line.configured else "no",
                    line.status,
                    _when(line.finished_at),
                    _when(line.read_up_to),
                    _e(line.error) if line.error else NO_VALUE,
                ]
                for line in report.freshness
            ],
            "llllll",
        ),
        "**Metric definitions**",
        "",
    ]
    lines += [
        f"- **{d.name}** (`{d.metric_id}`, {d.unit}, target: {d.target_text or 'none'}): "
        f"{d.definition}"
        for d in report.definitions
    ]
    return [*lines, ""]


def render_markdown(report: Report) -> bytes:
    lines = [
        f"# {report.title}",
        "",
        f"{report.periods.current_text}, against {report.periods.previous_text}. Generated "
        f"{report.generated_at:%Y-%m-%d %H:%M} UTC.",
        "",
    ]
    if report.demo_anchor is not None:
        lines += [
            f"> Demo organisation: every number is generated data anchored on "
            f"{report.demo_anchor:%d %B %Y}.",
            "",
        ]
    lines += _summary(report)
    for section in report.teams:
        lines += _team(section, report)
    lines += _methods(report)
    return ("\n".join(lines).rstrip("\n") + "\n").encode("utf-8")
