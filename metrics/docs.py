"""Generates docs/metrics.md from the catalog, so the published definitions are the code's.

python -m metrics.docs          # rewrite docs/metrics.md
python -m metrics.docs --check  # exit 1 when it is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

from metrics.catalog import MetricSpec, catalog
from metrics.dora import TIERS, dora_metric_ids, tier_table, tier_words

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"
GROUP_TITLES = {
    "ModelOps": "ModelOps (model registry)",
    "Endpoints": "Endpoints (Prometheus)",
    "DevOps": "DevOps: DORA and CI (GitHub)",
    "Stakeholders": "Stakeholders (meetings)",
}


def _section(spec: MetricSpec) -> list[str]:
    target = spec.target_text or "none (shown for information)"
    return [
        f"### `{spec.id}` — {spec.name}",
        "",
        spec.definition.replace("\n", " "),
        "",
        f"- Formula: {spec.formula}",
        f"- Unit: {spec.unit}; better: {spec.better}; source: {spec.source}",
        f"- Target: {target}",
        f"- Unknown when {spec.unknown_when}.",
        "",
    ]


def _dora_table() -> list[str]:
    table = tier_table()
    lines = [
        "## DORA tiers",
        "",
        f"Tiers follow the {table['source']} (<{table['source_url']}>). The report gives",
        "each cluster's typical value; its clusters overlap and change failure rate is",
        "not monotonic across them (elite 5 %, high 20 %, medium 10 %, low 40 %), so",
        "the bounds below turn the clusters into monotonic steps. They live in",
        "`metrics/dora_tiers.toml` and can be changed without a release.",
        "",
        "| metric | " + " | ".join(TIERS) + " |",
        "|---|" + "---|" * len(TIERS),
    ]
    for metric_id in dora_metric_ids():
        words = [tier_words(metric_id, name) for name in TIERS]
        lines.append(f"| `{metric_id}` | " + " | ".join(words) + " |")
    return [*lines, ""]


def render() -> str:
    specs = catalog()
    lines = [
        "# Metrics",
        "",
        "Generated from the metric catalog (`metrics/`) by `python -m metrics.docs`;",
        "a test fails when this file is stale. All times are UTC. A period is whole",
        "days `[since 00:00, until+1 00:00)`, 90 days ending today by default, and",
        "every metric is computed as of the period end: nothing after it counts.",
        "A metric with no data is `unknown`, never 0. Status is `ok` when the value",
        "meets its target (or it has none), `breach` when not, `unknown` without data.",
        "Targets come from `[targets]` in `mlops.toml`, overridden per team.",
        "",
    ]
    for group, title in GROUP_TITLES.items():
        lines += [f"## {title}", ""]
        for spec in specs.values():
            if spec.group == group:
                lines += _section(spec)
    lines += _dora_table()
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else ""
        if current != text:
            print(f"{DOC_PATH} is stale: run `python -m metrics.docs`", file=sys.stderr)
            return 1
        return 0
    DOC_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
