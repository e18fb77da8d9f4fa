"""The warehouse bridge when several stand-ins share one Spark server, as the tests' stand-ins do."""

import threading
import uuid

from lakehouse_standins.databricks.bridge import WarehouseBridge
from lakehouse_standins.databricks.sample import write_sample_warehouse


def test_two_bridges_register_the_same_tables_at_once(spark_remote, tmp_path) -> None:
    # Both see no table and both create it: without one catalog lock, one of them fails with
    # TABLE_OR_VIEW_ALREADY_EXISTS and its run ends as a stand-in error.
    catalog = f"race_{uuid.uuid4().hex[:8]}"
    bridges = [
        WarehouseBridge(
            write_sample_warehouse(tmp_path / f"w{i}.duckdb"), tmp_path / f"bridge{i}", catalog=catalog
        )
        for i in range(2)
    ]
    start = threading.Barrier(2)
    results: dict[int, object] = {}

    def register(index: int) -> None:
        start.wait()
        try:
            results[index] = bridges[index].to_spark(spark_remote)
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=register, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)

    assert all(isinstance(result, list) and result for result in results.values()), results
    assert results[0] == results[1]
    registered = results[0]
    assert isinstance(registered, list)
    assert f"spark_catalog.{catalog}_marts.customers" in registered
