"""Hypothesis profiles for the model-based tests: `ci` (the default) is derandomized, so a run is
reproducible and a failure re-appears on the next run; `fuzz` (`HYPOTHESIS_PROFILE=fuzz`, or
`make fuzz`) searches many more fleets with fresh randomness."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

# The in-memory Lambda (`aws_fakes.py`) lives with the unit tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

settings.register_profile("ci", derandomize=True, max_examples=200, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
