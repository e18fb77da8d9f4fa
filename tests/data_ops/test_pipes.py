"""A job started from the Databricks UI has no Pipes bootstrap: it runs without Dagster."""

from data_ops.pipes import open_pipes, orchestrated, report_commit


def test_a_run_without_the_bootstrap_needs_no_dagster_pipes() -> None:
    argv = ["--gold_table=main.gold.x"]
    assert not orchestrated(argv)
    with open_pipes(argv) as pipes:
        assert pipes is None
        report_commit(pipes, "main.gold.x", None)  # type: ignore[arg-type]  # never read without Pipes


def test_both_forms_of_the_bootstrap_argument_are_recognised() -> None:
    assert orchestrated(["--dagster-pipes-context", "abc"])
    assert orchestrated(["--dagster-pipes-context=abc"])
