"""Fuzzing `mlops.toml` loading: every input is either a `Config` or a `ConfigError` whose
message is one line naming the file (DESIGN §4: "never a traceback")."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config import Config, ConfigError, LoadedConfig, load_config, parse_config
from tests.fuzz.conftest import FUZZ_PROFILE
from tests.fuzz.strategies import config_documents, text, toml_document

pytestmark = pytest.mark.fuzz

SOURCE = "fuzz.toml"


def assert_one_line(message: str, starts: str) -> None:
    assert message.startswith(starts), message
    assert "\n" not in message, message
    assert "\r" not in message, message


def _loads_or_explains(load: Callable[[], Config | LoadedConfig], source: str) -> None:
    error: ConfigError | None = None
    try:
        loaded = load()
    except ConfigError as exc:
        error = exc
    if error is None:
        assert isinstance(loaded, Config | LoadedConfig)
    else:
        assert_one_line(str(error), f"{source}: ")


@settings(settings.get_profile(FUZZ_PROFILE))
@given(text)
def test_any_text_loads_or_gets_a_clear_error(document: str) -> None:
    _loads_or_explains(lambda: parse_config(document, source=SOURCE), SOURCE)


@settings(settings.get_profile(FUZZ_PROFILE))
@given(config_documents)
def test_config_shaped_documents_load_or_get_a_clear_error(document: dict[str, Any]) -> None:
    toml = toml_document(document)
    _loads_or_explains(lambda: parse_config(toml, source=SOURCE), SOURCE)


@settings(settings.get_profile(FUZZ_PROFILE))
@given(st.binary(max_size=300) | config_documents.map(lambda d: toml_document(d).encode()))
def test_any_file_loads_or_gets_a_clear_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "mlops.toml"
    path.write_bytes(data)
    _loads_or_explains(lambda: load_config(path), str(path))
