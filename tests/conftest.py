"""Hypothesis profiles: `ci` (loaded when CI is set) is deterministic: derandomized, no example database, no deadline;
`dev` (the default elsewhere) draws fresh examples each run. HYPOTHESIS_PROFILE picks one explicitly."""

import os

from hypothesis import HealthCheck, settings

# Registered here rather than relying on Hypothesis' built-in `ci` profile, so that a CI run is derandomized
# whatever the installed Hypothesis version does when CI is set.
settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
