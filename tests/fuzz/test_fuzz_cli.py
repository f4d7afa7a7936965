"""Fuzzing the command line: `metrics`, `score`, `scan`, `import`, `sync` and `report` with
options drawn from right, nearly right and wrong values.

Whatever the arguments, the exit code is 0, 1 or 2 (DESIGN §5) and no traceback is
printed. Typer's `CliRunner` runs the commands in this process, which is what makes
thousands of runs affordable. Nothing here reaches the network: the config points
every source at a closed loopback port and names a token variable that is not set,
so a sync or a remote scan stops at "no token" before any request; every path the
fuzzer writes is a file name inside a scratch folder (the working directory).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli import app
from data.db import make_engine, upgrade
from tests.fuzz.conftest import FUZZ_PROFILE
from tests.fuzz.strategies import line_text, sample_text

pytestmark = pytest.mark.fuzz

NO_TOKEN = "MLOPS_FUZZ_TOKEN_NOT_SET"


@dataclass(frozen=True)
class Scratch:
    """The working directory of the fuzzed commands and what it holds."""

    folder: Path
    configs: tuple[str, ...]
    """The first is the good one."""
    files: tuple[str, ...]


def _config(folder: Path) -> str:
    return f"""
[store]
url = "sqlite:///{folder / "store.db"}"

[github]
base_url = "http://127.0.0.1:9"
token_env = "{NO_TOKEN}"

[prometheus]
url = "http://127.0.0.1:9"
token_env = "{NO_TOKEN}"

[[teams]]
name = "Search Ranking"
repos = ["acme/ranker"]
endpoints = [{{ name = "ranker-api", selector = '{{job="ranker-api"}}' }}]
meetings = {{ csv = "{folder / "feed.csv"}", title = "(?i)ranking" }}
stakeholders = ["lead@acme.example"]

[[teams]]
name = "Fraud"
repos = ["acme/fraud"]
"""


MEETINGS_CSV = (
    "team,title,start,attendees\n"
    "Search Ranking,Ranking review,2026-01-05T10:00:00Z,lead@acme.example\n"
)
DEPLOYMENTS_CSV = (
    "repo,environment,created_at,status\nacme/ranker,production,2026-01-05T10:00:00Z,success\n"
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Scratch:
    folder = tmp_path_factory.mktemp("fuzz-cli")
    engine = make_engine(f"sqlite:///{folder / 'store.db'}")
    upgrade(engine)
    engine.dispose()
    (folder / "mlops-good.toml").write_text(_config(folder))
    (folder / "mlops-broken.toml").write_text("[github\nbase_url = 1\n")
    (folder / "mlops-wrong.toml").write_text('[github]\nbase_url = 7\n[[teams]]\nname = ""\n')
    (folder / "feed.csv").write_text(MEETINGS_CSV)
    (folder / "meetings.csv").write_text(MEETINGS_CSV)
    (folder / "deployments.csv").write_text(DEPLOYMENTS_CSV)
    (folder / "empty.csv").write_text("")
    (folder / "junk.json").write_bytes(b"\xff\xfe{[")
    (folder / "checkout").mkdir()
    (folder / "checkout" / "README.md").write_text("# a checkout\n")
    return Scratch(
        folder=folder,
        configs=(
            "mlops-good.toml",
            "mlops-broken.toml",
            "mlops-wrong.toml",
            "nope.toml",
            "checkout",
        ),
        files=("meetings.csv", "deployments.csv", "empty.csv", "junk.json", "nope.csv", "checkout"),
    )


@pytest.fixture
def in_scratch(scratch: Scratch, monkeypatch: pytest.MonkeyPatch) -> Scratch:
    """Run in the scratch folder, with no token set and the store pinned there."""
    monkeypatch.chdir(scratch.folder)
    for name in list(os.environ):
        if "TOKEN" in name.upper():
            monkeypatch.delenv(name)
    monkeypatch.delenv("MLOPS_CONFIG", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{scratch.folder / 'store.db'}")
    return scratch


# --- arguments ----------------------------------------------------------------------------

local_name = line_text.filter(
    lambda name: "/" not in name and ".." not in name and "\\" not in name
)
"""Any text that, as a path, names something inside the working directory."""
days = st.one_of(
    st.dates().map(lambda day: day.isoformat()),
    st.sampled_from(["2026-02-30", "2026-1-5", "20260105", "today", ""]),
    line_text,
)
teams = st.sampled_from(["Search Ranking", "Fraud", "Nobody", "search ranking", ""]) | line_text
periods = st.one_of(
    st.sampled_from(["quarter", "last-quarter", "2026Q1", "2026Q5", "last-90d", "last-0d", ""]),
    st.tuples(st.dates(), st.dates()).map(lambda pair: f"{pair[0]}..{pair[1]}"),
    st.integers(-10, 100_000).map(lambda n: f"last-{n}d"),
    sample_text,
)


def _mostly(right: st.SearchStrategy[str], wrong: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Three in four draws from `right`: most runs then get past the first check."""
    return st.one_of(right, right, right, wrong)


def _choice(*right: str) -> st.SearchStrategy[str]:
    return _mostly(st.sampled_from(right), line_text)


@st.composite
def invocations(draw: st.DrawFn, configs: tuple[str, ...], files: tuple[str, ...]) -> list[str]:
    """One command line: a command, options drawn for it (sometimes missing, repeated or
    unknown ones), in any order."""
    command = draw(st.sampled_from(["metrics", "score", "scan", "import", "sync", "report"]))
    options: dict[str, st.SearchStrategy[str]] = {
        "--config": _mostly(st.just(configs[0]), st.sampled_from(configs) | local_name),
        "--team": teams,
    }
    positional: list[st.SearchStrategy[str]] = []
    if command in ("metrics", "score"):
        options |= {
            "--since": days,
            "--until": days,
            "--format": _choice("table", "json", *(["csv"] if command == "metrics" else [])),
        }
    elif command == "scan":
        target = st.sampled_from(["checkout", "acme/ranker", "nope-dir", "."]) | local_name
        positional = [target]
        options = {"--config": options["--config"], "--format": _choice("table", "json")}
    elif command == "import":
        kinds = ("meetings", "model-versions", "deployments", "endpoint-stats")
        positional = [_choice(*kinds), _mostly(st.sampled_from(files), local_name)]
    elif command == "sync":
        options |= {"--source": _choice("github", "prometheus", "mlflow", "meetings")}
    else:  # report
        options |= {
            "--format": _choice("pdf", "html", "csv", "xlsx", "md"),
            "--out": _mostly(
                st.sampled_from(["r.pdf", "r.html", "r.md", "no-dir/r.md"]), local_name
            ),
            "--period": periods,
        }
    required = ["--config", *(["--format", "--out"] if command == "report" else [])]
    chosen = [name for name in required if not draw(st.sampled_from([False] * 9 + [True]))]
    chosen += draw(st.lists(st.sampled_from(sorted(options)), max_size=len(options)))
    pairs = [[name, draw(options[name])] for name in chosen]
    if command == "scan" and draw(st.booleans()):
        pairs.append(["--config", "mlops-good.toml"])  # most scans: never the demo's GitHub
    if draw(st.sampled_from([False] * 9 + [True])):
        pairs.append([draw(st.sampled_from(["--bogus", "-x", "--help", "--"]))])
    arguments = [draw(strategy) for strategy in positional]
    if arguments and draw(st.sampled_from([False] * 9 + [True])):
        arguments = arguments[:-1]  # a missing argument
    ordered = draw(st.permutations(pairs))
    return [command, *arguments, *(token for pair in ordered for token in pair)]


def _reaches_github(arguments: list[str]) -> bool:
    """A remote scan without our config would use the demo config's GitHub: not here."""
    if arguments[0] != "scan" or len(arguments) < 2:
        return False
    target = arguments[1]
    remote = re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+", target) and not Path(target).exists()
    configs = [arguments[i + 1] for i, a in enumerate(arguments[:-1]) if a == "--config"]
    return bool(remote) and (not configs or configs[-1] != "mlops-good.toml")


@settings(settings.get_profile(FUZZ_PROFILE))
@given(data=st.data())
def test_commands_exit_0_1_or_2_without_a_traceback(in_scratch: Scratch, data: st.DataObject):
    arguments = data.draw(invocations(in_scratch.configs, in_scratch.files), label="arguments")
    if _reaches_github(arguments):
        arguments = [*arguments, "--config", "mlops-good.toml"]
    result = CliRunner().invoke(app, arguments, catch_exceptions=True)
    shown = f"{arguments!r} -> {result.exit_code}\n{result.output}"
    assert result.exit_code in (0, 1, 2), shown
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        shown + f"\n{result.exception!r}"
    )
    assert "Traceback" not in result.output, shown


# --- what the fuzzing found ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        # the default 90 days before 0001-01-01 do not exist: OverflowError
        (["metrics", "--until", "0001-01-01"], "--until '0001-01-01' is out of range"),
        # one day after the period's end does not exist: OverflowError
        (["score", "--until", "9999-12-31"], "--until '9999-12-31' is out of range"),
        # the quarter before 0001Q1 has no year: ValueError
        (["report", "--format", "md", "--out", "r.md", "--period", "0001Q1"], "calendar"),
        (
            ["report", "--format", "md", "--out", "r.md", "--period", "0001-01-01..0001-01-02"],
            "calendar",
        ),
    ],
)
def test_days_outside_the_calendar_are_bad_input(
    in_scratch: Scratch, arguments: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, [*arguments, "--config", "mlops-good.toml"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert message in result.output


def test_a_period_before_1970_is_computed_not_refused(in_scratch: Scratch) -> None:
    """The metrics read history from 1970 on; a period ending earlier made that history
    end before it began (ValueError). Now it is a period like any other."""
    config = ["--config", "mlops-good.toml"]
    imported = CliRunner().invoke(app, ["import", "meetings", "meetings.csv", *config])
    assert imported.exit_code == 0, imported.output  # the teams are in the store now
    arguments = ["metrics", "--since", "1950-01-01", "--until", "1950-03-31", "--format", "json"]
    result = CliRunner().invoke(app, [*arguments, *config])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert records
    assert {(r["since"], r["until"]) for r in records} == {("1950-01-01", "1950-03-31")}
