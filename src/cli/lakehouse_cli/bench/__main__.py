"""`uv run task bench -- [--scale 1M 10M] [--only ingest incremental defs pipeline pipes peers dev medallion delta bundle loop] [--tiny] [--spark-remote sc://...] [--domains-spark-remote sc://...]`

`--only defs --defs-targets dbt_core --models 1000 5000 10000` measures only the dbt Core loads.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from lakehouse_cli.bench import defs_load
from lakehouse_cli.bench.run import ALL, run_benchmarks


def _rows(text: str) -> int:
    units = {"k": 1_000, "M": 1_000_000}
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lakehouse_cli.bench", description=__doc__)
    parser.add_argument("--scale", nargs="+", default=["1M"], help="payment rows per data set, e.g. 1M 10M")
    parser.add_argument("--only", nargs="+", choices=ALL, default=list(ALL), help="which benchmarks")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds per benchmark")
    parser.add_argument(
        "--models",
        type=int,
        nargs="+",
        default=[1000, 5000, 10000],
        help="models in the generated dbt projects (one defs_dbt_core row each)",
    )
    parser.add_argument(
        "--defs-targets",
        nargs="+",
        choices=defs_load.TARGETS,
        default=list(defs_load.TARGETS),
        help="which Definitions loads the defs benchmark measures",
    )
    parser.add_argument(
        "--tiny", action="store_true", help="tiny data, one round, no warm-up: checks the code, not the speed"
    )
    parser.add_argument("--bench-dir", type=Path, default=None, help="default: <state dir>/bench")
    parser.add_argument(
        "--spark-remote",
        default=None,
        help="sc:// URL of a running Spark Connect server for the Pipes benchmark (default: its own)",
    )
    parser.add_argument(
        "--domains-spark-remote",
        default=None,
        help="sc:// URL of a Spark Connect server whose member_* and claims_* tables the medallion and"
        " inner-loop benchmarks may overwrite (a test session's own; default: a Spark of their own)",
    )
    parser.add_argument(
        "--docs", type=Path, default=None, help="default: docs/benchmarks.md (not with --tiny)"
    )
    args = parser.parse_args(argv)
    options: dict[str, Any] = {
        "scales": [_rows(s) for s in args.scale] if not args.tiny else [2_000],
        "only": args.only,
        "repeat": 1 if args.tiny else args.repeat,
        "models": [20] if args.tiny else args.models,
        "defs_targets": args.defs_targets,
        "bench_dir": args.bench_dir,
        "docs": args.docs,
        "tiny": args.tiny,
        "spark_remote": args.spark_remote,
        "domains_spark_remote": args.domains_spark_remote,
    }
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from lakehouse_standins.databricks.spark_runtime import FORK_SAFE_GRPC_ENV

    os.environ.update(FORK_SAFE_GRPC_ENV)  # the pipes and medallion cases host a stand-in
    run_benchmarks(**options)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
