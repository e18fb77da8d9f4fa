"""The feed generator: deterministic, and the committed sample feeds are its default output."""

from __future__ import annotations

from pathlib import Path

from lakehouse_cli.bench.medallion_feeds import generate
from testsupport import REPO

FIXTURES = REPO / "databricks" / "fixtures"


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_and_the_fixtures_are_the_default_output(tmp_path: Path) -> None:
    feeds = generate(tmp_path / "a", landing="")
    generate(tmp_path / "b", landing="")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    committed = {
        name: data for name, data in _files(FIXTURES).items() if name.startswith(("member/", "claims/"))
    }
    assert committed == _files(tmp_path / "a"), (
        "regenerate: python -m lakehouse_cli.bench.medallion_feeds databricks/fixtures --fixtures"
    )
    assert feeds.source_rows == sum(data.count(b"\n") for data in committed.values()) - 2  # two CSV headers


def test_scale_and_file_size_bound(tmp_path: Path) -> None:
    feeds = generate(tmp_path, rows=250_000)
    assert 240_000 < feeds.source_rows < 260_000
    claim_parts = sorted(
        (tmp_path / "claims" / "adjudication" / "landing" / "claim_lines").glob("part-0*.csv")
    )
    assert len(claim_parts) == 3  # 100k lines a file at most
    assert all(part.read_text().splitlines()[0].startswith("claim_id,line_number,") for part in claim_parts)
