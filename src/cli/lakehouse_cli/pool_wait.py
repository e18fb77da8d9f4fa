"""A run waiting for a pool slot sleeps until its next claim check instead of spinning a core.

Dagster 1.13.27's in-process executor asks `InstanceConcurrencyContext` how long to sleep before it
checks a pending claim again, and gets `min([0, *time_left])`: never more than 0, so a run blocked
on `duckdb_warehouse` polls in a busy loop and takes a whole core (of two) from the run it waits for.
The intended value is the time left until the earliest pending check. `tests/cli/test_pool_wait.py`
fails when an upgrade changes the upstream method, so this override goes when Dagster fixes it.
"""

from __future__ import annotations

import time

from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

_UPSTREAM = InstanceConcurrencyContext.interval_to_next_pending_claim_check


def _time_to_next_claim_check(self: InstanceConcurrencyContext) -> float:
    timeouts = self._pending_timeouts.values()
    if not self._pending_claims or not timeouts:
        return 0.0
    return max(0.0, min(timeouts) - time.time())


def sleep_between_claim_checks() -> None:
    """Apply the override (idempotent); for in-process runs of this process only."""
    InstanceConcurrencyContext.interval_to_next_pending_claim_check = _time_to_next_claim_check  # type: ignore[method-assign]
