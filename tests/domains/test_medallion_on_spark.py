"""Member and claims from the landing Volume to gold through Dagster, the stand-in and the local Spark:
rows per table, expectation checks with the library's counts, gold readable with the right answers."""

from collections.abc import Iterator

import dagster as dg
import pytest
from lakehouse_cli.bundle import deploy_bundle, upload_sample_feeds
from lakehouse_domains.defs.build import build_domains_defs
from lakehouse_resources.databricks import databricks_client_from_settings
from lakehouse_resources.platform.targets import load_bundle
from lakehouse_resources.settings import LakehouseSettings
from lakehouse_standins.databricks import DatabricksStandin
from lakehouse_standins.local import databricks_standin

MEDALLION_GROUPS = ("member", "claims")


@pytest.fixture
def standin(local_settings: LakehouseSettings, spark_remote: str) -> Iterator[DatabricksStandin]:
    with databricks_standin(local_settings, local_settings.databricks_standin_port, spark_remote) as standin:
        yield standin


def deploy_to_standin(settings: LakehouseSettings) -> None:
    """What `task pipeline` does first: deploy to the stand-in and land the sample feeds."""
    root = settings.root / "databricks"
    client = databricks_client_from_settings(settings).workspace_client()
    deploy_bundle(client, root, "local", cli=None, token=None)
    upload_sample_feeds(client, root, load_bundle(root).target("local"))


def test_member_and_claims_materialize_to_gold_with_counted_checks(
    local_settings: LakehouseSettings, standin: DatabricksStandin, spark
) -> None:
    del standin  # running for the test's duration is all it does here
    deploy_to_standin(local_settings)
    defs = build_domains_defs(local_settings)
    graph = defs.resolve_asset_graph()
    keys = [key for key in graph.materializable_asset_keys if key.path[0] in MEDALLION_GROUPS]
    assets = {id(a): a for a in (defs.resolve_assets_def(key) for key in keys)}
    result = dg.materialize(list(assets.values()), selection=keys)
    assert result.success
    rows = {
        "_".join(event.asset_key.path): event.materialization.metadata["dagster/row_count"].value
        for event in result.get_asset_materialization_events()
        if event.asset_key and "dagster/row_count" in event.materialization.metadata
    }
    # Bronze keeps every line of the committed sample feeds, malformed ones included (headers aside).
    assert rows["member_enrollment_bronze_members"] == 355
    assert rows["claims_adjudication_bronze_claim_lines"] == 1711
    assert int(rows["claims_adjudication_gold_paid_by_member"] or 0) > 0  # type: ignore[arg-type]
    checks = {
        ("_".join(evaluation.asset_key.path), evaluation.check_name): evaluation
        for evaluation in result.get_asset_check_evaluations()
    }
    dropped = checks["member_enrollment_silver_demographics", "birth_date_in_past"]
    assert dropped.passed  # 2 of ~340 members: within its 1% tolerance
    assert dropped.metadata["failed_records"].value == 2
    # each check shows its own rule's figures; the rows the table dropped are the table's
    assert "dropped_records" not in dropped.metadata
    gender = checks["member_enrollment_silver_demographics", "known_gender"]
    assert not gender.passed  # a warn rule: reported, not blocking
    assert gender.severity == dg.AssetCheckSeverity.WARN
    malformed = checks["claims_adjudication_bronze_claim_lines", "well_formed"]
    assert malformed.metadata["failed_records"].value == 3
    eligible = spark.sql(
        "SELECT sum(eligible_members) AS n FROM spark_catalog.member_enrollment.gold_eligible_members"
    ).collect()[0]
    assert eligible.n > 0
