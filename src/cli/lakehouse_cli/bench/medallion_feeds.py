"""Deterministic source feeds for the member and claims domains, at any scale.

The member feed arrives as JSON lines, the claims feed as CSV with a header per file, both in
files of at most `FILE_ROWS` lines under a landing folder (a Volume on a workspace). Beside the
good rows, each feed carries a known handful of rows that break each rule: malformed lines, a wrong
type, an added and a missing column, and rows violating each warn and drop expectation; with
`break_fail_rules` also one row per fail expectation. `Feeds.expected_failures` says how many rows
each expectation must report, so tests compare counts, not guesses.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

FILE_ROWS = 100_000
DEFAULT_ROWS = 2_000
# (domain, source, feed): a feed lands in `<landing root of domain and source>/<feed>/`.
MEMBER_FEED = ("member", "enrollment", "members")
CLAIMS_FEED = ("claims", "adjudication", "claim_lines")
PLANS = ("PLN-BRONZE", "PLN-SILVER", "PLN-GOLD", "PLN-PLATINUM")
CLAIM_COLUMNS = (
    "claim_id", "line_number", "member_id", "claim_type", "service_date", "provider_npi",
    "diagnosis_code", "procedure_code", "ndc_code", "days_supply", "billed_amount", "paid_amount",
    "status", "received_at",
)  # fmt: skip
_FIRST = ("Ana", "Ben", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lia")
_LAST = ("Ng", "Okafor", "Patel", "Quinn", "Rossi", "Silva", "Tanaka", "Usman", "Vogel", "Weiss")
_STATES = ("NY", "NJ", "CA", "TX", "FL", "WA", "IL", "OH")
_DIAGNOSES = ("E11.9", "I10", "J06.9", "M54.5", "Z00.00", "F41.1")
_PROCEDURES = ("99213", "99214", "80053", "36415", "93000", "71046")


@dataclass
class Feeds:
    """What was written: source rows per feed and the failures each expectation must count."""

    member_rows: int = 0
    claim_rows: int = 0
    files: list[Path] = field(default_factory=list)
    expected_failures: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def source_rows(self) -> int:
        return self.member_rows + self.claim_rows


def _months(start: date, end: date) -> int:
    return max((end.year - start.year) * 12 + end.month - start.month, 0) + 1


def _member(rng: random.Random, number: int, **overrides: object) -> dict[str, object]:
    relationship = rng.choices(("subscriber", "spouse", "child"), (6, 2, 2))[0]
    born = date(2001, 1, 1) if relationship == "child" else date(1940, 1, 1)
    start = date(2024, rng.randint(1, 12), 1) if rng.random() < 0.5 else date(2025, rng.randint(1, 6), 1)
    months = rng.randint(3, 12)
    end_month = start.month - 1 + months
    end = date(start.year + end_month // 12, end_month % 12 + 1, 1) - timedelta(days=1)
    record: dict[str, object] = {
        "member_id": f"M{number:07d}",
        "first_name": rng.choice(_FIRST),
        "last_name": rng.choice(_LAST),
        "birth_date": (born + timedelta(days=rng.randint(0, 8000))).isoformat(),
        "gender": rng.choice("FMU"),
        "state": rng.choice(_STATES),
        "zip": f"{rng.randint(501, 99950):05d}",
        "relationship": relationship,
        "plan_id": rng.choice(PLANS),
        "coverage_start": start.isoformat(),
        "coverage_end": end.isoformat(),
        "premium": round(rng.uniform(100, 900), 2),
        "updated_at": f"{start.isoformat()}T08:00:00",
    }
    record.update(overrides)
    return record


def _claim(rng: random.Random, number: int, member_count: int, **overrides: object) -> dict[str, object]:
    claim_type = rng.choices(("medical", "pharmacy", "professional"), (4, 35 / 10, 25 / 10))[0]
    billed = round(rng.uniform(20, 5000), 2)
    row: dict[str, object] = {
        "claim_id": f"C{number:09d}",
        "line_number": 1,
        "member_id": f"M{rng.randint(1, member_count):07d}",
        "claim_type": claim_type,
        "service_date": (date(2024, 1, 1) + timedelta(days=rng.randint(0, 700))).isoformat(),
        "provider_npi": f"{rng.randint(1_000_000_000, 1_999_999_999)}",
        "diagnosis_code": rng.choice(_DIAGNOSES) if claim_type != "pharmacy" else "",
        "procedure_code": rng.choice(_PROCEDURES) if claim_type != "pharmacy" else "",
        "ndc_code": f"{rng.randint(0, 99_999_999_999):011d}" if claim_type == "pharmacy" else "",
        "days_supply": rng.choice((7, 14, 30, 60, 90)) if claim_type == "pharmacy" else "",
        "billed_amount": billed,
        "paid_amount": round(billed * rng.uniform(0.3, 1.0), 2),
        "status": rng.choices(("paid", "denied", "pending"), (8, 1, 1))[0],
        "received_at": "2026-01-05T09:00:00",
    }
    row.update(overrides)
    return row


def _write_parts(folder: Path, lines: list[str], suffix: str, header: str | None, feeds: Feeds) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in [*folder.glob("*.jsonl"), *folder.glob("*.csv")]:
        old.unlink()
    for part, start in enumerate(range(0, max(len(lines), 1), FILE_ROWS)):
        path = folder / f"part-{part:05d}{suffix}"
        chunk = lines[start : start + FILE_ROWS]
        path.write_text("".join(f"{line}\n" for line in ([header] if header else []) + chunk))
        feeds.files.append(path)


def _csv(row: dict[str, object], columns: tuple[str, ...] = CLAIM_COLUMNS) -> str:
    return ",".join(str(row.get(column, "")) for column in columns)


def _member_lines(rng: random.Random, members: int, break_fail_rules: bool, feeds: Feeds) -> list[str]:
    lines, expected = [], feeds.expected_failures
    for number in range(1, members + 1):
        record = _member(rng, number)
        lines.append(json.dumps(record))
        if number % 50 == 0:  # a later correction of the same enrollment: silver keeps only it
            lines.append(
                json.dumps({**record, "state": "NY", "updated_at": f"{record['coverage_start']}T20:00:00"})
            )
    bad_number = members + 1

    def bad(**overrides: object) -> dict[str, object]:
        nonlocal bad_number
        bad_number += 1
        return _member(rng, bad_number, **overrides)

    lines += ['{"member_id": "M9000001", "first_name": ', "not json at all"]
    expected["bronze_members", "well_formed"] += 3
    lines.append(json.dumps(bad(premium="abc")))
    drift_added = bad()
    drift_added["middle_name"] = "Q"
    drift_missing = bad()
    del drift_missing["zip"]
    lines += [json.dumps(drift_added), json.dumps(drift_missing)]
    expected["bronze_members", "no_schema_drift"] += 2
    lines += [json.dumps(bad(birth_date="2099-01-01")) for _ in range(2)]
    expected["silver_demographics", "birth_date_in_past"] += 2
    lines += [json.dumps(bad(gender="X")) for _ in range(3)]
    expected["silver_demographics", "known_gender"] += 3
    for _ in range(2):
        lines.append(json.dumps(bad(coverage_start="2024-06-01", coverage_end="2024-03-31")))
    expected["silver_enrollment", "coverage_dates_ordered"] += 2
    expected["silver_eligibility", "coverage_dates_ordered"] += 2  # one month row each
    lines += [json.dumps(bad(premium=-25.0)) for _ in range(2)]
    expected["silver_enrollment", "premium_not_negative"] += 2
    for _ in range(2):
        old_child = bad(relationship="child", birth_date="1990-05-05")
        lines.append(json.dumps(old_child))
        months = _months(
            date.fromisoformat(str(old_child["coverage_start"])),
            date.fromisoformat(str(old_child["coverage_end"])),
        )
        expected["silver_eligibility", "dependent_under_26"] += months
    if break_fail_rules:
        lines.append(json.dumps(bad(member_id="BAD-1")))
        expected["silver_demographics", "member_id_format"] += 1
        lines.append(json.dumps(bad(plan_id=None)))
        expected["silver_enrollment", "plan_id_present"] += 1
    feeds.member_rows = len(lines)
    return lines


def _claim_lines(
    rng: random.Random, claims: int, members: int, break_fail_rules: bool, feeds: Feeds
) -> list[str]:
    lines, expected = [], feeds.expected_failures
    for number in range(1, claims + 1):
        row = _claim(rng, number, members)
        lines.append(_csv(row))
        if number % 40 == 0:  # re-sent with the final paid amount: silver keeps the later one
            lines.append(_csv({**row, "received_at": "2026-01-06T09:00:00"}))
    bad_number = claims + 1

    def bad(claim_type: str, **overrides: object) -> str:
        nonlocal bad_number
        bad_number += 1
        row = _claim(rng, bad_number, members)
        while row["claim_type"] != claim_type:
            row = _claim(rng, bad_number, members)
        return _csv({**row, **overrides})

    lines += ["C999999999,1,M0000001,medical", "C999999998,1,M0000001,medical,2024-01-01,1,2,3,,,,,,,,"]
    lines.append(bad("medical", paid_amount="n/a"))
    expected["bronze_claim_lines", "well_formed"] += 3
    lines += [bad("medical", billed_amount=100.0, paid_amount=150.0) for _ in range(2)]
    expected["silver_medical", "paid_not_above_billed"] += 2
    lines += [bad("medical", diagnosis_code="") for _ in range(3)]
    expected["silver_medical", "diagnosis_present"] += 3
    lines += [bad("pharmacy", ndc_code="12-34") for _ in range(2)]
    expected["silver_pharmacy", "valid_ndc"] += 2
    lines += [bad("pharmacy", days_supply=120) for _ in range(2)]
    expected["silver_pharmacy", "days_supply_in_range"] += 2
    lines += [bad("professional", provider_npi="12345") for _ in range(2)]
    expected["silver_professional", "valid_npi"] += 2
    lines += [bad("professional", procedure_code="") for _ in range(2)]
    expected["silver_professional", "procedure_present"] += 2
    if break_fail_rules:
        for claim_type in ("medical", "pharmacy", "professional"):
            lines.append(bad(claim_type, claim_id=""))
            expected[f"silver_{claim_type}", "claim_id_present"] += 1
    feeds.claim_rows = len(lines)
    return lines


def _drift_file(rng: random.Random, members: int, start: int, folder: Path, feeds: Feeds) -> None:
    """A file whose sender added a column: its rows load, and the addition is reported."""
    columns = (*CLAIM_COLUMNS, "modifier_code")
    rows = [_csv({**_claim(rng, start + i, members), "modifier_code": "25"}, columns) for i in range(3)]
    path = folder / "part-drift.csv"
    path.write_text(",".join(columns) + "\n" + "".join(f"{row}\n" for row in rows))
    feeds.files.append(path)
    feeds.claim_rows += len(rows)
    feeds.expected_failures["bronze_claim_lines", "no_schema_drift"] += len(rows)


def feed_folder(root: Path, feed: tuple[str, str, str], landing: str = "landing") -> Path:
    """`<root>/<domain>/<source>/landing/<feed>` (a Volumes root), or without `landing` (fixtures)."""
    domain, source, name = feed
    return root / domain / source / landing / name if landing else root / domain / source / name


def generate(
    root: Path,
    rows: int = DEFAULT_ROWS,
    seed: int = 3,
    break_fail_rules: bool = False,
    landing: str = "landing",
) -> Feeds:
    """Write both feeds under `root` (see `feed_folder`), replacing their old files.

    `rows` is the number of source rows over both feeds, about one member row to five claim lines.
    """
    rng = random.Random(seed)
    feeds = Feeds()
    members = max(rows // 6, 10)
    claims = max(rows - members - members // 50 - rows // 200, 10)
    member_folder = feed_folder(root, MEMBER_FEED, landing)
    _write_parts(member_folder, _member_lines(rng, members, break_fail_rules, feeds), ".jsonl", None, feeds)
    claim_folder = feed_folder(root, CLAIMS_FEED, landing)
    claim_lines = _claim_lines(rng, claims, members, break_fail_rules, feeds)
    _write_parts(claim_folder, claim_lines, ".csv", ",".join(CLAIM_COLUMNS), feeds)
    _drift_file(rng, members, claims + 1_000, claim_folder, feeds)
    return feeds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m lakehouse_cli.bench.medallion_feeds", description=__doc__
    )
    parser.add_argument("root", type=Path, help="a Volumes root (<root>/<domain>/<source>/landing/<feed>)")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="source rows over both feeds")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--break-fail-rules", action="store_true", help="add one row per fail expectation")
    parser.add_argument(
        "--fixtures", action="store_true", help="<root>/<domain>/<source>/<feed>, no landing/"
    )
    args = parser.parse_args(argv)
    feeds = generate(
        args.root, args.rows, args.seed, args.break_fail_rules, landing="" if args.fixtures else "landing"
    )
    print(
        f"{feeds.member_rows} member rows, {feeds.claim_rows} claim lines in {len(feeds.files)} files under {args.root}"
    )


if __name__ == "__main__":
    main()
