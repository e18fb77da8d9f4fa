"""The lakehouse's automation and freshness policy, applied to every code location in one call.

Each location's builder returns `apply_lakehouse_policy(defs, location=..., settings=...)`, which

- gives every asset downstream of ingestion (any asset with an upstream dependency) a condition
  that runs it after its dependencies update, never while it or a dependency is in progress, and
  never while a blocking (error-severity) check on a dependency is failing;
- gives every materializable asset a freshness policy: the seed's where it names one and its
  schedule runs, the asset's own where it declares one, the default otherwise;
- gives every asset owners and code references (`lakehouse_resources.specs`);
- adds automation condition sensors (one per kind, on by default) for the assets that have a
  condition, and the location's run-failure sensor.

Assets without upstream dependencies are the ingestion roots; schedules or a user run them
(`lakehouse_ingestion.defs.schedules`), so they carry no condition and their location gets no
automation sensor: materializing them in the UI is what sets the rest of the platform going.
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
_POLICY_LABELS = frozenset({EAGER_LABEL, ANY_DEPS_UPDATED_LABEL, MANUAL_LABEL})

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


def policy_condition(spec: dg.AssetSpec) -> dg.AutomationCondition | None:
    """The condition an asset gets under the policy, from its dependencies and its own choice."""
    if not spec.deps:
        return None
    own = spec.automation_condition
    if own is None:
        return eager_condition()
    label = own.get_label()
    if label in _POLICY_LABELS:
        return own
    # Conditions built elsewhere (a dbt translator's `any_deps_updated`) keep their trigger and
    # gain the policy's guards; anything else becomes the default.
    if label == "any_deps_updated":
        return any_deps_updated_condition()
    return eager_condition()


def policy_freshness(spec: dg.AssetSpec, settings: LakehouseSettings) -> dg.AssetSpec:
    scheduled = scheduled_freshness(settings)
    if spec.key in scheduled:
        return dg.apply_freshness_policy(spec, scheduled[spec.key])
    if settings.is_local and not _fits_local(spec.freshness_policy):
        return dg.apply_freshness_policy(spec, DEFAULT_FRESHNESS)
    return dg.apply_freshness_policy(spec, DEFAULT_FRESHNESS, overwrite_existing=False)


def apply_policy_to_spec(spec: dg.AssetSpec, settings: LakehouseSettings) -> dg.AssetSpec:
    with_condition = spec.replace_attributes(automation_condition=policy_condition(spec))
    return policy_freshness(with_condition, settings)


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
    """The location's Definitions with the policy's conditions, freshness and sensors."""
    described = with_owners_and_code_references(defs, location)
    mapped = map_asset_specs(described, lambda spec: apply_policy_to_spec(spec, settings))
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
