"""Hypothesis strategies for the fuzz tests: TOML documents, import files, calendar text.

Random bytes alone rarely get past a parser's first check, so each input is also
built in the shape its parser expects (the config's own keys, an import's own
columns, a VEVENT's own properties) with values that are sometimes right, sometimes
the wrong type, sometimes garbage: that is where validation code has its corners.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import types
import typing
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel

from config import Config

# --- text and scalars -----------------------------------------------------------------------

_no_surrogates = st.characters(exclude_categories=["Cs"])
text = st.text(_no_surrogates, max_size=40)
"""Any Unicode text a file can hold (surrogates cannot be encoded)."""
line_text = st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=40)
"""Text without control characters (one CSV cell, one TOML key)."""

SAMPLES = (
    "",
    " ",
    "GITHUB_TOKEN",
    "1BAD-NAME",
    "http://127.0.0.1:9",
    "https://ghe.example/api/v3",
    "ftp://x",
    "(?i)^prod",
    "(",
    "[z-a]",
    ".*",
    "acme/ranker",
    "acme/",
    "not a repo",
    "lead@acme.example",
    "not-an-email",
    '{job="ranker-api"}',
    "{",
    "sqlite:///fuzz.db",
    "postgresql+psycopg://u@127.0.0.1:9/db",
    "mysql://x",
    "fastapi",
    "5..",
    "ranker-*",
    "Search Ranking",
    "search ranking",
    "champion",
    "2026-01-31",
    "2026-02-30",
    "2026-01-31T10:00:00Z",
    "2026-01-31T10:00:00",
    "NaN",
    "-1",
    "1e309",
)
"""Values the config and the import files use, valid and nearly valid."""
sample_text = st.one_of(st.sampled_from(SAMPLES), text)

moments = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([None, UTC]),
)
scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(min_value=-5, max_value=400),
    st.floats(allow_nan=True, allow_infinity=True),
    sample_text,
    moments,
    st.dates(),
    st.times(),
)


# --- TOML -------------------------------------------------------------------------------------


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_string(key)


def toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, but DEL must be escaped too (and
    JSON's surrogate pairs for characters beyond U+FFFF are not TOML, so none are made)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{" + inner + "}"
    raise TypeError(type(value))


def toml_document(document: dict[str, Any]) -> str:
    """Top-level `key = value` lines; sections are inline tables, which TOML allows."""
    return "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in document.items())


toml_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(line_text, inner, max_size=4),
    max_leaves=8,
)


def _for_annotation(annotation: Any, depth: int) -> st.SearchStrategy[Any]:
    """Values that fit `annotation` (a pydantic field's type), or nearly."""
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _for_annotation(arguments[0], depth)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([_for_annotation(a, depth) for a in arguments if a is not type(None)])
    if origin is typing.Literal:
        return st.sampled_from(arguments) | sample_text
    if origin is list:
        return st.lists(_for_annotation(arguments[0], depth), max_size=3)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_tables(annotation, depth + 1)
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(min_value=-10, max_value=5000) | st.integers()
    if annotation is float:
        return st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10, 1000)
    return sample_text


def model_tables(model: type[BaseModel], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """A table in `model`'s shape: some of its keys, each with a fitting value or, now and
    then, a value of another type, plus sometimes a key it does not know."""
    if depth > 3:
        return st.dictionaries(line_text, scalars, max_size=2)
    fields = {}
    for name, info in model.model_fields.items():
        fitting = _for_annotation(info.annotation, depth)
        fields[name] = st.one_of(fitting, fitting, fitting, toml_values)  # mostly fitting
    known = st.fixed_dictionaries({}, optional=fields)
    unknown = st.dictionaries(
        st.sampled_from(["tokn_env", "url ", "teams", "x"]) | line_text, scalars, max_size=1
    )
    return st.builds(lambda a, b: {**b, **a}, known, unknown | st.just({}))


config_documents = model_tables(Config)
"""Whole `mlops.toml` documents in the config's shape."""


def rarely(one_in: int) -> st.SearchStrategy[bool]:
    """True once in `one_in` draws. Hypothesis favours small integers (0 above all), so
    `integers(0, n) == 0` would fire far more often than one in n; here the simple
    choice, and the one shrinking goes to, is False."""
    return st.sampled_from([False] * (one_in - 1) + [True])


# --- import files -------------------------------------------------------------------------------

EMAILS = ("lead@acme.example", "vp@acme.example", "LEAD@ACME.EXAMPLE", "x@", "")


def instants(now: datetime) -> st.SearchStrategy[str]:
    """Times as files write them: ISO with or without a zone, bare dates, garbage."""
    near = st.datetimes(
        min_value=(now - timedelta(days=800)).replace(tzinfo=None),
        max_value=(now + timedelta(days=30)).replace(tzinfo=None),
    )
    return st.one_of(
        near.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
        near.map(lambda d: d.replace(tzinfo=UTC).isoformat()),
        near.map(lambda d: d.isoformat()),
        near.map(lambda d: d.date().isoformat()),
        moments.map(lambda d: d.isoformat()),
        sample_text,
    )


def _column_values(now: datetime, names: tuple[str, ...]) -> dict[str, st.SearchStrategy[str]]:
    """What each import column holds when it is right, by column name."""
    times = instants(now)
    numbers = st.one_of(
        st.integers(0, 10**6).map(str),
        st.floats(0, 10**5, allow_nan=False).map(lambda x: f"{x:.3f}"),
    )
    days = st.dates(
        min_value=(now - timedelta(days=400)).date(), max_value=(now + timedelta(days=3)).date()
    ).map(date.isoformat)
    return {
        "team": st.sampled_from(names[:2]),
        "title": st.sampled_from(["Ranking review", "Fraud sync", "1:1", "Quarterly review"]),
        "start": times,
        "end": times,
        "attendees": st.lists(st.sampled_from(EMAILS), max_size=3).map(";".join),
        "absent": st.lists(st.sampled_from(EMAILS), max_size=2).map(";".join),
        "uid": st.sampled_from(["m-1", "m-2", "m-3"]),
        "model": st.sampled_from(["ranker-v2", "fraud-gbm"]),
        "version": st.integers(-1, 12).map(str),
        "created_at": times,
        "run_id": st.sampled_from(["", "abc123", "run 7"]),
        "run_start": times,
        "run_end": times,
        "deployed_at": times,
        "aliases": st.lists(st.sampled_from(["champion", "prod", "x y"]), max_size=2).map(",".join),
        "repo": st.sampled_from(["acme/ranker", "acme/fraud", "acme/other"]),
        "environment": st.sampled_from(["production", "Production", "staging"]),
        "status": st.sampled_from(["success", "failure", "error", "in_progress", "FAILURE", "ok"]),
        "status_at": times,
        "sha": st.sampled_from(["", "deadbeef"]),
        "ref": st.sampled_from(["", "main"]),
        "id": st.integers(-1, 2**64).map(str),
        "endpoint": st.sampled_from(["ranker-api", "new-api"]),
        "day": days,
        "requests": numbers,
        "failures": numbers,
        "availability_pct": numbers,
        "p50_ms": numbers,
        "p95_ms": numbers,
        "p99_ms": numbers,
    }


def _sometimes_wrong(right: st.SearchStrategy[str], wrong: bool) -> st.SearchStrategy[str]:
    """The right kind of value; in a file with wrong cells, now and then a blank or
    anything at all instead."""
    if not wrong:
        return right
    return st.one_of(right, right, right, st.just(""), text)


@st.composite
def tabular_files(
    draw: st.DrawFn,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    now: datetime,
    names: tuple[str, ...],
) -> tuple[str, bytes]:
    """A CSV or JSON file of one import kind: its required columns and some optional
    ones (now and then one missing, repeated or unknown), rows of values that are
    mostly right for their column, sometimes ragged."""
    header = [*required, *draw(st.lists(st.sampled_from(optional), unique=True))]
    header = draw(st.permutations(header))
    if draw(rarely(10)):
        mangle = draw(st.sampled_from(["drop", "repeat", "unknown"]))
        if mangle == "drop":
            header = header[1:]
        elif mangle == "repeat":
            header = [*header, header[0]]
        else:
            header = [*header, draw(line_text)]
    header = list(header)
    values = _column_values(now, names)
    wrong = draw(st.booleans())
    columns = [_sometimes_wrong(values.get(column, text), wrong) for column in header]
    rows = []
    for _ in range(draw(st.integers(0, 5))):
        row = [draw(column) for column in columns]
        if draw(rarely(20)):
            row = row[:-1] if draw(st.booleans()) else [*row, "extra"]
        rows.append(row)
    if draw(st.booleans()):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        return "fuzz.csv", buffer.getvalue().encode()
    json_value = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), toml_values)
    items: list[Any] = []
    for row in rows:
        item: dict[str, Any] = {}
        for column, value in zip(header, row, strict=False):
            odd = draw(rarely(10))
            item[column] = draw(json_value) if odd else value
        items.append(item)
    if draw(rarely(20)):
        items.append(draw(toml_values))  # a row that is not an object
    document: Any = draw(toml_values) if draw(rarely(20)) else items
    return "fuzz.json", json.dumps(document, default=str).encode()


# --- iCalendar ------------------------------------------------------------------------------------


def _ics_properties(now: datetime) -> dict[str, st.SearchStrategy[str]]:
    """Each VEVENT property meetings read, with parameters and values, mostly right."""
    near = st.datetimes(
        min_value=(now - timedelta(days=900)).replace(tzinfo=None),
        max_value=(now + timedelta(days=400)).replace(tzinfo=None),
    )
    when = st.one_of(
        near.map(lambda d: d.strftime(":%Y%m%dT%H%M%SZ")),
        near.map(lambda d: d.strftime(";TZID=Europe/Berlin:%Y%m%dT%H%M%S")),
        near.map(lambda d: d.strftime(";TZID=Mars/Olympus:%Y%m%dT%H%M%S")),
        near.map(lambda d: d.strftime(";VALUE=DATE:%Y%m%d")),
        near.map(lambda d: d.strftime(":%Y%m%dT%H%M%S")),
        st.lists(near, min_size=2, max_size=3).map(
            lambda ds: ":" + ",".join(d.strftime("%Y%m%dT%H%M%SZ") for d in ds)
        ),
    )
    rule = st.sampled_from(
        [
            "FREQ=WEEKLY;BYDAY=MO",
            "FREQ=DAILY;COUNT=5",
            "FREQ=MONTHLY;BYMONTHDAY=31",
            "FREQ=YEARLY;UNTIL=20250101T000000Z",
            "FREQ=HOURLY;INTERVAL=6",
            "FREQ=WEEKLY;UNTIL=20990101",
            "FREQ=WEEKLY;INTERVAL=0",
            "FREQ=NONE",
            "COUNT=3",
        ]
    ).map(lambda r: ":" + r)
    person = st.sampled_from(
        [
            ";PARTSTAT=ACCEPTED:mailto:lead@acme.example",
            ";PARTSTAT=DECLINED:mailto:vp@acme.example",
            ";CUTYPE=ROOM;PARTSTAT=ACCEPTED:mailto:room@acme.example",
            ";EMAIL=vp@acme.example:urn:uuid:1",
            ":mailto:",
            ":mailto:not-an-email",
        ]
    )
    return {
        "DTSTART": when,
        "DTEND": when,
        "RECURRENCE-ID": when,
        "EXDATE": when,
        "RDATE": when,
        "DURATION": st.sampled_from([":PT1H", ":PT30M", ":-P1D", ":P1W", ":PT"]),
        "RRULE": rule,
        "SUMMARY": st.sampled_from([":Ranking review", ":Fraud sync", ":Lunch", ":"]),
        "UID": st.sampled_from([":a@acme", ":b@acme", ":c@acme"]),
        "STATUS": st.sampled_from([":CONFIRMED", ":CANCELLED", ":TENTATIVE"]),
        "ORGANIZER": person,
        "ATTENDEE": person,
    }


@st.composite
def calendars(draw: st.DrawFn, now: datetime) -> bytes:
    """A VCALENDAR whose VEVENTs mostly have a start, a title and a UID, plus other
    properties meetings read; values mostly right, sometimes anything; now and then a
    stray line or a missing END."""
    properties = _ics_properties(now)
    anything = text.map(lambda value: ":" + value.replace("\r", "").replace("\n", ""))
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//fuzz//EN"]
    if draw(st.booleans()):
        zone = draw(st.sampled_from(["Europe/Berlin", "Nowhere/Land", ""]))
        lines.append(f"X-WR-TIMEZONE:{zone}")
    for _ in range(draw(st.integers(0, 4))):
        lines.append("BEGIN:VEVENT")
        names = [name for name in ("DTSTART", "SUMMARY", "UID") if not draw(rarely(10))]
        names += draw(st.lists(st.sampled_from(sorted(properties)), max_size=5))
        for name in names:
            odd = draw(rarely(15))
            lines.append(name + draw(anything if odd else properties[name]))
        if draw(rarely(30)):
            lines.append(draw(line_text))  # a stray line
        if not draw(rarely(30)):
            lines.append("END:VEVENT")
    if not draw(rarely(30)):
        lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")
