"""The override that makes a run waiting for a pool slot sleep instead of spinning a core."""

import time
from types import SimpleNamespace

from lakehouse_cli.pool_wait import _UPSTREAM, _time_to_next_claim_check


def _waiting(seconds_to_next_check: float) -> SimpleNamespace:
    return SimpleNamespace(
        _pending_claims={"jaffle_shop_dbt"},
        _pending_timeouts={"jaffle_shop_dbt": time.time() + seconds_to_next_check},
    )


def test_upstream_still_never_sleeps_so_the_override_is_still_needed() -> None:
    # When this fails, Dagster computes the wait itself: delete lakehouse_cli/pool_wait.py.
    assert _UPSTREAM(_waiting(5.0)) <= 0  # type: ignore[arg-type]


def test_a_waiting_run_sleeps_until_its_next_claim_check() -> None:
    assert 4.0 < _time_to_next_claim_check(_waiting(5.0)) <= 5.0  # type: ignore[arg-type]
    assert _time_to_next_claim_check(_waiting(-1.0)) == 0.0  # type: ignore[arg-type]
    assert _time_to_next_claim_check(SimpleNamespace(_pending_claims=set(), _pending_timeouts={})) == 0.0  # type: ignore[arg-type]
