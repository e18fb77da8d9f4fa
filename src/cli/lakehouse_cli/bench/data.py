"""Deterministic benchmark inputs, written outside the tracked tree and reused between runs."""

from __future__ import annotations

import json
from pathlib import Path

from lakehouse_cli.bench.seed_data import write_jaffle_shop

# The generator draws 1.14 payments per order on average (86% one, 14% two).
PAYMENTS_PER_ORDER = 1.14
SEED = 42


def scale_label(rows: int) -> str:
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if rows >= size and rows % size == 0:
            return f"{rows // size}{unit}"
    return str(rows)


def jaffle_shop_at(bench_dir: Path, rows: int) -> tuple[Path, dict[str, int]]:
    """The jaffle shop CSVs with about `rows` payments; generated once per scale."""
    out = bench_dir / "data" / scale_label(rows)
    marker = out / "counts.json"
    if marker.exists():
        return out, json.loads(marker.read_text())
    orders = max(1, round(rows / PAYMENTS_PER_ORDER))
    counts = write_jaffle_shop(out, customers=max(100, orders // 10), orders=orders, seed=SEED)
    marker.write_text(json.dumps(counts))
    return out, counts
