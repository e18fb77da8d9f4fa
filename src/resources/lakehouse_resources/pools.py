"""Concurrency pools shared by every location.

DuckDB allows one writer process per file, and a reader fails while another process writes:
every step that opens the local warehouse claims a slot in this pool (limit 1 in the local
instance, see `dagster_home/dagster.yaml`), so concurrent runs queue instead of failing on the lock.
"""

WAREHOUSE_POOL = "duckdb_warehouse"
