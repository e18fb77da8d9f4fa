"""A few rows of the two warehouse tables the notebooks read, for tests and demos of the stand-in."""

from __future__ import annotations

from pathlib import Path

import duckdb


def write_sample_warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create schema if not exists raw")
        con.execute(
            """
            create or replace table marts.customers as select * from (values
                (1, 'Michael', 'P.', date '2018-01-01', date '2018-02-10', 2, 33.0),
                (2, 'Shawn', 'M.', date '2018-01-11', date '2018-01-11', 1, 23.0),
                (3, 'Kathleen', 'P.', date '2018-01-02', date '2018-03-11', 3, 65.0)
            ) t(customer_id, first_name, last_name, first_order, most_recent_order,
                number_of_orders, customer_lifetime_value)
            """
        )
        con.execute(
            """
            create or replace table raw.fact_virtual as select * from (values
                (1, 10, timestamp '2024-01-01 10:00', 'sword', 2, 50.0, 'ios', 'DE'),
                (2, 11, timestamp '2024-01-01 11:00', 'shield', 1, 30.0, 'android', 'FR'),
                (3, 10, timestamp '2024-01-02 09:00', 'potion', 5, 2.0, 'ios', 'DE')
            ) t(event_id, player_id, event_ts, item_id, quantity, price_gems, platform, country)
            """
        )
    return path
