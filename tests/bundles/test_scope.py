"""Seed 004's deployment scope: changed files -> the resources a deploy must touch."""

from lakehouse_resources.platform.scope import deployment_scope
from lakehouse_resources.platform.specs import load_specs
from testsupport import REPO

SPECS = load_specs(REPO / "databricks")
STREAM_JOB = "template_domain_template_source_staging_low_latency_stream_join_simple"
ERP = "finance_erp_final_core_streaming_full_stack"
STARTER = "template_domain_template_source_staging_basic_continuous"


def test_a_spec_touches_its_own_resource() -> None:
    scope = deployment_scope(SPECS, ["databricks/specs/pipelines/finance/erp/core_streaming_full_stack.yml"])
    assert (scope.everything, scope.jobs, scope.pipelines) == (False, [], [ERP])


def test_deployed_source_touches_the_resources_that_list_it() -> None:
    scope = deployment_scope(
        SPECS,
        ["databricks/src/template_domain/template_source/staging/low_latency_stream_join_simple_job.py"],
    )
    assert (scope.jobs, scope.pipelines) == ([STREAM_JOB], [])


def test_a_module_beside_the_listed_files_touches_its_domain_and_source() -> None:
    scope = deployment_scope(SPECS, ["databricks/src/template_domain/template_source/transforms.py"])
    assert (scope.jobs, scope.pipelines) == ([STREAM_JOB], [STARTER])


def test_generation_inputs_touch_everything() -> None:
    for changed in (
        "databricks/targets/prod.yml",
        "databricks/resources/generate.py",
        "src/resources/lakehouse_resources/platform/naming.py",
        "databricks/specs/jobs/finance/erp/removed.yml",
    ):
        scope = deployment_scope(SPECS, [changed])
        assert scope.everything, changed
        assert STREAM_JOB in scope.jobs
        assert ERP in scope.pipelines


def test_unrelated_files_touch_nothing() -> None:
    scope = deployment_scope(SPECS, ["README.md", "src/ingestion/lakehouse_ingestion/definitions.py", ""])
    assert (scope.everything, scope.jobs, scope.pipelines) == (False, [], [])
