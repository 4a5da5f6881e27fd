"""Project-wide pytest configuration: Hypothesis profiles.

`dev` is quick and random; `ci` is derandomized with no deadline so that CI runs are reproducible.
The `ci` profile is chosen when the environment variable CI is set (as `.ci/run` does).
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))
