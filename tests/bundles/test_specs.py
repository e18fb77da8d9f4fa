"""Bad specs fail with the file, the field and the rule; two specs producing one name fail naming both."""

import shutil
from pathlib import Path

import pytest
from lakehouse_resources.platform.specs import SpecError, load_specs
from testsupport import REPO

BUNDLE = REPO / "databricks"
JOB = "specs/jobs/finance/erp/x.yml"


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """A copy of the repository's bundle to break."""
    root = tmp_path / "databricks"
    shutil.copytree(BUNDLE, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def write(root: Path, relative: str, text: str) -> None:
    (root / relative).parent.mkdir(parents=True, exist_ok=True)
    (root / relative).write_text(text)


VALID_JOB = """\
layer: {layer}
tasks:
  - key: main
    python_file: src/finance/erp/transforms.py
"""


def problems(root: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_specs(root)
    return caught.value.problems


def test_the_repository_specs_load() -> None:
    specs = load_specs(BUNDLE)
    keys = {spec.key for spec in specs.specs}
    assert {
        "template_domain_template_source_staging_basic_continuous",
        "finance_erp_final_core_streaming_full_stack",
        "template_domain_template_source_staging_low_latency_stream_join_simple",
    } <= keys


def test_a_layer_outside_the_list_names_file_field_and_rule(bundle: Path) -> None:
    write(bundle, JOB, VALID_JOB.format(layer="platinum"))
    assert problems(bundle) == [
        f"{JOB}: layer 'platinum' is not one of raw, base, staging, final, bronze, silver, gold"
    ]


def test_unknown_keys_are_rejected(bundle: Path) -> None:
    write(bundle, JOB, VALID_JOB.format(layer="base") + "retries: 3\n")
    assert problems(bundle) == [f"{JOB}: retries is not a known key"]


def test_nested_fields_are_named_with_their_position(bundle: Path) -> None:
    spec = VALID_JOB.format(layer="base") + (
        "datasets:\n  - name: Postings\n    layer: base\n    expectations:\n"
        "      - {name: ok, condition: 'x > 0', action: explode}\n"
    )
    write(bundle, JOB, spec)
    found = problems(bundle)
    assert (
        f"{JOB}: datasets[0].name 'Postings' is not lower snake case (a-z, 0-9, single underscores)" in found
    )
    assert any(
        p.startswith(f"{JOB}: datasets[0].expectations[0].action: Input should be 'warn', 'drop' or 'fail'")
        for p in found
    )


def test_a_folder_that_is_not_snake_case_is_named(bundle: Path) -> None:
    write(bundle, "specs/jobs/Finance/erp/x.yml", VALID_JOB.format(layer="base"))
    assert problems(bundle) == [
        "specs/jobs/Finance/erp/x.yml: domain (from the path) 'Finance' is not lower snake case (a-z, 0-9, single underscores)"
    ]


def test_code_outside_the_specs_domain_or_missing_is_refused(bundle: Path) -> None:
    write(
        bundle,
        JOB,
        VALID_JOB.format(layer="base").replace("src/finance/erp/transforms.py", "src/finance/erp/nope.py"),
    )
    assert problems(bundle) == [f"{JOB}: tasks[0].python_file 'src/finance/erp/nope.py' does not exist"]
    write(
        bundle,
        JOB,
        VALID_JOB.format(layer="base").replace(
            "finance/erp/transforms.py", "template_domain/template_source/transforms.py"
        ),
    )
    assert problems(bundle) == [
        f"{JOB}: tasks[0].python_file 'src/template_domain/template_source/transforms.py' must be a path under src/finance/erp/"
    ]


def test_two_specs_producing_one_name_fail_naming_both(bundle: Path) -> None:
    # A job whose dataset is named like a table the existing pipeline already declares.
    write(
        bundle,
        JOB,
        VALID_JOB.format(layer="base") + "datasets:\n  - {name: postings, layer: base}\n",
    )
    assert problems(bundle) == [
        "name 'finance_erp_base_postings' is produced by more than one spec:"
        f" {JOB} (dataset base.postings) and specs/pipelines/finance/erp/core_streaming_full_stack.yml (dataset base.postings)"
    ]


def test_two_resources_with_one_key_fail_naming_both(bundle: Path) -> None:
    write(bundle, "specs/jobs/finance/erp/core_streaming_full_stack.yml", VALID_JOB.format(layer="final"))
    assert problems(bundle) == [
        "name 'finance_erp_final_core_streaming_full_stack' is produced by more than one spec:"
        " specs/jobs/finance/erp/core_streaming_full_stack.yml (job) and"
        " specs/pipelines/finance/erp/core_streaming_full_stack.yml (pipeline)"
    ]


def test_a_dependency_on_an_unknown_table_is_named(bundle: Path) -> None:
    write(
        bundle,
        JOB,
        VALID_JOB.format(layer="final")
        + "datasets:\n  - {name: report, layer: final, depends_on: [member.enrollment.silver.addresses]}\n",
    )
    assert problems(bundle) == [
        f"{JOB}: datasets[0].depends_on[0] 'member.enrollment.silver.addresses' is no dataset of any spec"
        " (expected member_enrollment_silver_addresses)"
    ]


def test_dependencies_resolve_across_layers_and_specs() -> None:
    specs = load_specs(BUNDLE)
    deps = {ref.key: [d.key for d in specs.dependencies(ref)] for ref in specs.tables()}
    assert deps["finance_erp_base_postings"] == ["finance_erp_raw_postings"]
    assert deps["finance_erp_final_account_balances"] == ["finance_erp_staging_account_daily"]


OTHER = "specs/jobs/finance/erp/y.yml"


def test_one_pass_reports_schema_rule_and_cross_spec_errors_of_every_file(bundle: Path) -> None:
    # x.yml breaks its schema and names code that does not exist; y.yml declares the table x.yml
    # declares. A schema error no longer hides the file's other errors, nor the clash it takes part in.
    write(
        bundle,
        JOB,
        VALID_JOB.format(layer="final").replace("transforms.py", "nope.py")
        + "retries: 3\ndatasets:\n  - {name: report, layer: final}\n",
    )
    write(bundle, OTHER, VALID_JOB.format(layer="final") + "datasets:\n  - {name: report, layer: final}\n")
    assert problems(bundle) == [
        f"{JOB}: retries is not a known key",
        f"{JOB}: tasks[0].python_file 'src/finance/erp/nope.py' does not exist",
        "name 'finance_erp_final_report' is produced by more than one spec:"
        f" {JOB} (dataset final.report) and {OTHER} (dataset final.report)",
    ]


def test_a_rule_between_fields_is_checked_beside_a_schema_error(bundle: Path) -> None:
    write(
        bundle,
        JOB,
        VALID_JOB.format(layer="platinum") + "continuous: true\nschedule: '0 0 * * * ?'\n",
    )
    assert problems(bundle) == [
        f"{JOB}: layer 'platinum' is not one of raw, base, staging, final, bronze, silver, gold",
        f"{JOB}: schedule: the bundle deploys no schedule, Dagster schedules its work (automation"
        " conditions and sensors, docs/operations.md); remove it",
    ]


def test_a_schedule_is_refused_naming_the_file(bundle: Path) -> None:
    # Dagster is the bundle's one scheduler (docs/operations.md): a Databricks schedule would run twice.
    write(bundle, JOB, VALID_JOB.format(layer="final") + "schedule: '0 0 * * * ?'\n")
    [problem] = problems(bundle)
    assert problem.startswith(f"{JOB}: schedule: the bundle deploys no schedule, Dagster schedules its work")


def test_a_spec_with_a_schema_error_still_declares_its_tables(bundle: Path) -> None:
    # y.yml depends on x.yml's table: x.yml's own error is the only one, not an unknown dependency.
    write(
        bundle, JOB, VALID_JOB.format(layer="final") + "retries: 3\ndatasets:\n  - {name: a, layer: final}\n"
    )
    write(
        bundle,
        OTHER,
        VALID_JOB.format(layer="final") + "datasets:\n  - {name: b, layer: final, depends_on: [final.a]}\n",
    )
    assert problems(bundle) == [f"{JOB}: retries is not a known key"]


def test_a_dependency_cycle_across_two_specs_names_both_files(bundle: Path) -> None:
    write(
        bundle,
        JOB,
        VALID_JOB.format(layer="final") + "datasets:\n  - {name: a, layer: final, depends_on: [final.b]}\n",
    )
    write(
        bundle,
        OTHER,
        VALID_JOB.format(layer="final") + "datasets:\n  - {name: b, layer: final, depends_on: [final.a]}\n",
    )
    assert problems(bundle) == [
        f"{JOB}: datasets[0].depends_on[0] and {OTHER}: datasets[0].depends_on[0]:"
        " dependency cycle: finance_erp_final_a -> finance_erp_final_b -> finance_erp_final_a"
    ]


def test_a_dependency_cycle_within_one_spec_is_refused(bundle: Path) -> None:
    write(
        bundle,
        JOB,
        VALID_JOB.format(layer="final")
        + "datasets:\n"
        + "  - {name: a, layer: final, depends_on: [final.c]}\n"
        + "  - {name: b, layer: final, depends_on: [final.a]}\n"
        + "  - {name: c, layer: final, depends_on: [final.b, base.postings]}\n",
    )
    assert problems(bundle) == [
        f"{JOB}: datasets[0].depends_on[0] and {JOB}: datasets[2].depends_on[0] and"
        f" {JOB}: datasets[1].depends_on[0]: dependency cycle:"
        " finance_erp_final_a -> finance_erp_final_c -> finance_erp_final_b -> finance_erp_final_a"
    ]


def test_a_continuous_job_with_more_than_one_concurrent_run_is_refused(bundle: Path) -> None:
    write(bundle, JOB, VALID_JOB.format(layer="base") + "continuous: true\nmax_concurrent_runs: 2\n")
    assert problems(bundle) == [
        f"{JOB}: max_concurrent_runs 2 with continuous: true: Databricks runs a continuous job"
        " one run at a time (max_concurrent_runs 1)"
    ]
    write(bundle, JOB, VALID_JOB.format(layer="base") + "continuous: true\nmax_concurrent_runs: 1\n")
    assert "finance_erp_base_x" in {spec.key for spec in load_specs(bundle).specs}


def test_a_freshness_that_warns_after_it_fails_is_named(bundle: Path) -> None:
    write(
        bundle,
        JOB,
        VALID_JOB.format(layer="base") + "freshness: {fail_after_minutes: 30, warn_after_minutes: 45}\n",
    )
    [problem] = problems(bundle)
    assert problem.startswith(f"{JOB}: freshness")
    assert "warn_after_minutes (45) must be below fail_after_minutes (30)" in problem
