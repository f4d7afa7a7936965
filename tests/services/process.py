"""Stopping a service the tests started."""

from __future__ import annotations

import subprocess


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask the service to stop, and kill it when it does not within 20 s, so that a
    hung server never outlives the tests that started it."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)
