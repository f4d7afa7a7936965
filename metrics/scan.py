"""Repository scan: every `repo` check of the rubric on one repository (`cli.py scan`).

Results have the DESIGN §5 shape `{id, title, status, provenance, practices, evidence}`;
provenance is always `automated` here (attestations and waivers apply per team, in
scoring). The same function serves a local checkout (`scan_local`) and, through a
`RepoSnapshot` built from the git tree and contents APIs, a GitHub repository.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rich.markup import escape
from rich.table import Table

from metrics.repo_detectors import RepoSnapshot, Status, detect
from metrics.rubric import Pillar, Rubric, load_rubric

Provenance = Literal["automated", "attested", "stale"]
STATUS_COLOURS: dict[str, str] = {"pass": "green", "fail": "red", "unknown": "yellow"}


class ScanError(ValueError):
    """A scan target that cannot be scanned (missing, not a directory)."""


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    status: Status
    practices: tuple[str, ...]
    evidence: str
    pillar: Pillar
    level: int
    provenance: Provenance = "automated"

    def as_record(self) -> dict[str, Any]:
        """The documented `scan --format json` element (DESIGN §5)."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "provenance": self.provenance,
            "practices": list(self.practices),
            "evidence": self.evidence,
        }


def scan_repository(snapshot: RepoSnapshot, rubric: Rubric | None = None) -> list[CheckResult]:
    """Run every repository check of the rubric, in rubric order."""
    rubric = rubric or load_rubric()
    results = []
    for check in rubric.repo_checks():
        outcome = detect(check.detector, snapshot)
        results.append(
            CheckResult(
                id=check.id,
                title=check.title,
                status=outcome.status,
                practices=check.practices,
                evidence=outcome.evidence,
                pillar=check.pillar,
                level=check.level,
            )
        )
    return results


def scan_local(path: str | os.PathLike[str], rubric: Rubric | None = None) -> list[CheckResult]:
    """Scan a local checkout (see `RepoSnapshot.from_directory` for what is skipped)."""
    if not os.path.exists(path):
        raise ScanError(f"{os.fspath(path)} does not exist")
    if not os.path.isdir(path):
        raise ScanError(f"{os.fspath(path)} is not a directory")
    return scan_repository(RepoSnapshot.from_directory(path), rubric)


def summarise(results: Iterable[CheckResult]) -> dict[Status, int]:
    """How many checks passed, failed and could not be decided."""
    counts = Counter(result.status for result in results)
    return {status: counts.get(status, 0) for status in ("pass", "fail", "unknown")}


def to_json(results: Sequence[CheckResult]) -> str:
    return json.dumps([result.as_record() for result in results], indent=2, ensure_ascii=False)


def render_table(results: Sequence[CheckResult], title: str = "") -> Table:
    """A rich table for the terminal: by pillar and level, evidence beside each check."""
    counts = summarise(results)
    caption = ", ".join(f"{count} {status}" for status, count in counts.items())
    table = Table(
        title=title or None, title_justify="left", caption=caption, caption_justify="left"
    )
    table.add_column("check", no_wrap=True)
    table.add_column("L", justify="right")
    table.add_column("status", no_wrap=True)
    table.add_column("evidence", overflow="fold")
    for result in sorted(results, key=lambda result: (result.pillar, result.level)):
        colour = STATUS_COLOURS[result.status]
        table.add_row(
            result.id, str(result.level), f"[{colour}]{result.status}[/]", escape(result.evidence)
        )
    return table
