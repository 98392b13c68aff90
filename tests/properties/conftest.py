"""Hypothesis profiles for the property tests: `ci` (the default: derandomized, so a run is
repeatable, and at least 200 examples) and `fuzz` (random and long: `HYPOTHESIS_PROFILE=fuzz`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

# the in-memory AWS fakes live with the unit tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

settings.register_profile("ci", derandomize=True, max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
