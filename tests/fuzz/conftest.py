"""Hypothesis settings of the fuzz tests (each module here is marked `fuzz`).

`MLOPS_FUZZ_EXAMPLES` sets the examples per test: 100 by default, so `make test`
runs every fuzz target briefly; the CI's own fuzz step sets 10,000. The profile is
fetched by name in each test's `@settings(...)`, never loaded globally, so the other
hypothesis tests keep their own settings.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

FUZZ_PROFILE = "mlops-fuzz"
DEFAULT_EXAMPLES = 100

settings.register_profile(
    FUZZ_PROFILE,
    max_examples=int(os.environ.get("MLOPS_FUZZ_EXAMPLES") or DEFAULT_EXAMPLES),
    deadline=None,  # a slow example is measured by bench/, not failed here
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
    print_blob=True,
)
