"""The lakehouse's automation and freshness policy, applied to every code location in one call.

Every asset sets its own automation condition where it is defined, with the builders here
(`eager_condition`, `any_deps_updated_condition`, `manual_condition`): the dbt translators, the
ingestion and downstream assets, the notebook component's `automation:` field, the domains' specs.
Each location's builder then returns `apply_lakehouse_policy(defs, location=..., settings=...)`, which

- checks, and never rewrites, the conditions: an asset with an upstream dependency and no condition
  fails the location's load with a `PolicyError` naming it (nothing would ever run it);
- gives every materializable asset a freshness policy: the seed's where it names one and its
  schedule runs, the asset's own where it declares one, the default otherwise;
- gives every asset owners and code references (`lakehouse_resources.specs`);
- adds automation condition sensors (one per kind, on by default) for the assets that have a
  condition, and the location's run-failure sensor.

Assets without upstream dependencies are roots: a schedule, a sensor or an observation starts them
(the ingestion schedules, `lakehouse_ingestion.defs.schedules`; the domains' landing-file sensor,
which reports each landing Volume as an external asset; the continuous stream job's state sensor).
In production continuous work is Databricks' to run: its assets are `manual`, and the stream job's
and each continuous pipeline's sensors observe it (`lakehouse_domains.defs.sensors`).
Materializing the ingestion roots in the UI is what sets the rest of the platform going.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from datetime import timedelta
from functools import reduce

import dagster as dg
from dagster._core.definitions.freshness import TimeWindowFreshnessPolicy

from lakehouse_resources.alerts import (
    Notifier,
    build_run_failure_sensor,
    notifier_from_settings,
)
from lakehouse_resources.asset_keys import RAW_FACT_VIRTUAL
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_resources.specs import map_asset_specs, with_owners_and_code_references

AC = dg.AutomationCondition

EAGER_LABEL = "lakehouse_eager"
ANY_DEPS_UPDATED_LABEL = "lakehouse_any_deps_updated"
MANUAL_LABEL = "manual"

# Seed 002: the dlt load runs every 5 minutes and may land up to 1 minute late, so a load is
# overdue 6 minutes after the previous one (a warning when one tick is missed by a minute).
DLT_INTERVAL = timedelta(minutes=5)
DLT_LAG = timedelta(minutes=1)
SCHEDULED_FRESHNESS: Mapping[dg.AssetKey, dg.FreshnessPolicy] = {
    RAW_FACT_VIRTUAL: dg.FreshnessPolicy.time_window(
        fail_window=DLT_INTERVAL + DLT_LAG, warn_window=DLT_INTERVAL
    ),
}
# Everything else is expected to refresh at least daily; half a day without an update is worth a
# look before it becomes a failure.
DEFAULT_FRESHNESS_FAIL = timedelta(hours=24)
DEFAULT_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=DEFAULT_FRESHNESS_FAIL, warn_window=timedelta(hours=12)
)


def scheduled_freshness(settings: LakehouseSettings) -> Mapping[dg.AssetKey, dg.FreshnessPolicy]:
    """Windows that hold only while the ingestion schedules run (not locally: see `_fits_local`)."""
    return {} if settings.is_local else SCHEDULED_FRESHNESS


def _fits_local(policy: dg.FreshnessPolicy | None) -> bool:
    """Locally the schedules are off until a developer turns them on (`lakehouse_ingestion.defs.
    schedules`), so a window shorter than the default (a notebook's hour) would fail soon after
    `task pipeline` although nothing is late: such windows hold only where the schedules run.
    """
    if not isinstance(policy, TimeWindowFreshnessPolicy):
        return policy is not None
    return policy.fail_window.to_timedelta() >= DEFAULT_FRESHNESS_FAIL


# Automation sensors per kind, so a slow dbt evaluation does not hold up the notebooks or the rest.
SENSOR_KINDS: Mapping[str, tuple[str, ...]] = {
    "dbt": ("dbt", "dbtcloud"),
    "databricks": ("databricks",),
}


def _guards() -> dg.AutomationCondition:
    return (
        ~AC.any_deps_missing()
        & ~AC.any_deps_in_progress()
        & ~AC.in_progress()
        & deps_blocking_checks_passed()
    )


def deps_blocking_checks_passed() -> dg.AutomationCondition:
    """Every dependency's blocking checks (error-severity dbt tests, blocking Python checks) passed.

    Unlike `all_deps_blocking_checks_passed`, a dependency requested on this same tick also
    counts: its checks ride along in its run without being requested themselves, and a blocking
    check that fails there stops the child in that run (dbt build skips it, Dagster skips the
    step). Without this, a dbt project would run one layer per tick instead of in one build.
    """
    return AC.all_deps_match(
        AC.all_checks_match(AC.check_passed() | AC.will_be_requested(), blocking_only=True)
        | AC.will_be_requested()
    ).with_label("all_deps_blocking_checks_passed")


def eager_condition() -> dg.AutomationCondition:
    """Run once after any dependency updates (or once when newly missing), when it is safe to."""
    return (
        AC.in_latest_time_window()
        & (AC.newly_missing() | AC.any_deps_updated()).since_last_handled()
        & _guards()
    ).with_label(EAGER_LABEL)


def any_deps_updated_condition() -> dg.AutomationCondition:
    """Like `eager_condition`, but only a dependency's update triggers it, never a missing asset."""
    return (AC.any_deps_updated().since_last_handled() & _guards()).with_label(ANY_DEPS_UPDATED_LABEL)


def manual_condition() -> dg.AutomationCondition:
    """Never requests: marks an asset whose owner opted out of automation, so the policy leaves it."""
    return (AC.initial_evaluation() & ~AC.initial_evaluation()).with_label(MANUAL_LABEL)


class PolicyError(dg.DagsterInvalidDefinitionError):
    """A location's definitions break the automation policy."""


def missing_conditions(specs: Iterable[dg.AssetSpec]) -> list[dg.AssetKey]:
    """Assets with an upstream dependency but no automation condition: nothing would run them."""
    return sorted((spec.key for spec in specs if spec.deps and spec.automation_condition is None), key=str)


def check_conditions(location: str, specs: Iterable[dg.AssetSpec]) -> None:
    missing = missing_conditions(specs)
    if missing:
        names = ", ".join(key.to_user_string() for key in missing)
        raise PolicyError(
            f"Code location {location}: {len(missing)} asset(s) with upstream dependencies have no"
            f" automation condition: {names}. Set one where the asset is defined, with a builder from"
            " lakehouse_resources.automation (eager_condition, any_deps_updated_condition, or"
            " manual_condition to opt out)."
        )


def policy_freshness(spec: dg.AssetSpec, settings: LakehouseSettings) -> dg.AssetSpec:
    scheduled = scheduled_freshness(settings)
    if spec.key in scheduled:
        return dg.apply_freshness_policy(spec, scheduled[spec.key])
    if settings.is_local and not _fits_local(spec.freshness_policy):
        return dg.apply_freshness_policy(spec, DEFAULT_FRESHNESS)
    return dg.apply_freshness_policy(spec, DEFAULT_FRESHNESS, overwrite_existing=False)


def _specs(defs: dg.Definitions) -> Iterable[dg.AssetSpec]:
    for asset in defs.assets or []:
        if isinstance(asset, dg.AssetsDefinition):
            yield from asset.specs
        elif isinstance(asset, dg.AssetSpec):
            yield asset


def _kind_group(kinds: Iterable[str]) -> str | None:
    kinds = set(kinds)
    return next((group for group, members in SENSOR_KINDS.items() if kinds.intersection(members)), None)


def automation_sensors(
    location: str, specs: Iterable[dg.AssetSpec]
) -> list[dg.AutomationConditionSensorDefinition]:
    """`<location>_<kind>_automation` per kind group present, `<location>_automation` for the rest.

    Only assets with a condition count: a sensor over none would never request anything.
    """
    groups = {_kind_group(spec.kinds) for spec in specs if spec.automation_condition is not None}
    if not groups:
        return []
    sensors = []
    rest = dg.AssetSelection.all()
    for group, members in SENSOR_KINDS.items():
        if group not in groups:
            continue
        selection = reduce(operator.or_, (dg.AssetSelection.kind(kind) for kind in members))
        rest = rest - selection
        sensors.append(_sensor(f"{location}_{group}_automation", selection, f"{group} assets"))
    if None in groups or not sensors:
        sensors.append(_sensor(f"{location}_automation", rest, "other assets"))
    return sensors


def _sensor(name: str, target: dg.AssetSelection, what: str) -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        name,
        target=target,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Evaluates the automation conditions of this location's {what}.",
    )


def apply_lakehouse_policy(
    defs: dg.Definitions,
    *,
    location: str,
    settings: LakehouseSettings,
    notifier: Notifier | None = None,
) -> dg.Definitions:
    """The location's Definitions, its conditions checked, with the policy's freshness and sensors."""
    check_conditions(location, _specs(defs))
    described = with_owners_and_code_references(defs, location)
    mapped = map_asset_specs(described, lambda spec: policy_freshness(spec, settings))
    return dg.Definitions.merge(
        mapped,
        dg.Definitions(
            sensors=[
                *automation_sensors(location, _specs(mapped)),
                build_run_failure_sensor(
                    location, notifier or notifier_from_settings(settings), settings.ui_url
                ),
            ]
        ),
    )
