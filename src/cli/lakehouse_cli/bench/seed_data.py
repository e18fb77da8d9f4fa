"""Deterministic generators for the jaffle shop and kaizen-wars CSVs.

`data/` holds the small committed files; benchmarks call the same code at 1M+ rows outside
the tracked tree. Same seed, same bytes.
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path

FIRST_NAMES = [
    "Michael",
    "Shawn",
    "Kathleen",
    "Jimmy",
    "Katherine",
    "Sarah",
    "Martin",
    "Frank",
    "Jennifer",
    "Henry",
    "Fred",
    "Amy",
    "Kathleen",
    "Steve",
    "Teresa",
    "Amanda",
    "Kimberly",
    "Johnny",
    "Virginia",
    "Anna",
    "Willie",
    "Sean",
    "Mildred",
    "David",
    "Victor",
    "Aaron",
    "Marie",
    "Dennis",
    "Elizabeth",
    "Rose",
    "Phillip",
    "Diana",
    "Harry",
    "Robin",
    "Lillian",
    "Ruth",
    "Gloria",
    "Adam",
    "Scott",
    "Norma",
]
LAST_INITIALS = "ABCDEFGHIJKLMNOPQRSTUVWYZ"
ORDER_STATUSES = ["placed", "shipped", "completed", "completed", "completed", "return_pending", "returned"]
PAYMENT_METHODS = ["credit_card", "credit_card", "credit_card", "coupon", "bank_transfer", "gift_card"]
PLATFORMS = ["ios", "android", "pc", "console"]
COUNTRIES = ["GR", "DE", "US", "JP", "BR", "FR", "KR", "IN", "GB", "CA"]
VIRTUAL_ITEMS = [
    ("gem_pack_small", 100),
    ("gem_pack_large", 1200),
    ("season_pass", 950),
    ("skin_ronin", 600),
    ("skin_shogun", 1500),
    ("energy_refill", 50),
    ("loot_box", 250),
]


def write_jaffle_shop(
    out_dir: Path, customers: int = 100, orders: int = 99, seed: int = 42
) -> dict[str, int]:
    """Write raw_customers/raw_orders/raw_payments.csv; payments come out ~1.14 per order."""
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = date(2018, 1, 1)
    counts: dict[str, int] = {}
    with (out_dir / "raw_customers.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "first_name", "last_name"])
        for customer_id in range(1, customers + 1):
            writer.writerow([customer_id, rng.choice(FIRST_NAMES), rng.choice(LAST_INITIALS) + "."])
    counts["raw_customers"] = customers
    payment_id = 0
    with (
        (out_dir / "raw_orders.csv").open("w", newline="") as orders_fh,
        (out_dir / "raw_payments.csv").open("w", newline="") as payments_fh,
    ):
        order_writer, payment_writer = csv.writer(orders_fh), csv.writer(payments_fh)
        order_writer.writerow(["id", "user_id", "order_date", "status"])
        payment_writer.writerow(["id", "order_id", "payment_method", "amount"])
        for order_id in range(1, orders + 1):
            order_day = start + timedelta(days=(order_id - 1) * 98 // orders)
            order_writer.writerow(
                [order_id, rng.randint(1, customers), order_day.isoformat(), rng.choice(ORDER_STATUSES)]
            )
            for _ in range(1 if rng.random() < 0.86 else 2):
                payment_id += 1
                method = rng.choice(PAYMENT_METHODS)
                amount = rng.randint(0, 30) * 100 if method != "coupon" else rng.randint(1, 25) * 100
                payment_writer.writerow([payment_id, order_id, method, amount])
    counts["raw_orders"] = orders
    counts["raw_payments"] = payment_id
    return counts


def write_fact_virtual(path: Path, rows: int = 3000, players: int = 400, seed: int = 7) -> int:
    """Kaizen Wars in-game virtual purchases (seed 002's fact_virtual)."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    start = datetime(2026, 9, 1)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["event_id", "player_id", "event_ts", "item_id", "quantity", "price_gems", "platform", "country"]
        )
        for event_id in range(1, rows + 1):
            item, price = rng.choice(VIRTUAL_ITEMS)
            moment = start + timedelta(seconds=event_id * 900 + rng.randint(0, 899))
            writer.writerow(
                [
                    event_id,
                    f"p{rng.randint(1, players):05d}",
                    moment.isoformat(sep=" "),
                    item,
                    rng.choice([1, 1, 1, 2, 3]),
                    price,
                    rng.choice(PLATFORMS),
                    rng.choice(COUNTRIES),
                ]
            )
    return rows


if __name__ == "__main__":  # regenerate the committed seed files: python -m lakehouse_cli.bench.seed_data
    from lakehouse_resources.paths import repo_root

    data = repo_root() / "data"
    print(write_jaffle_shop(data), write_fact_virtual(data / "raw_fact_virtual.csv"))
