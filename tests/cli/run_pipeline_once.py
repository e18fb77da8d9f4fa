"""Child process for the concurrency test: one full pipeline run on the shared local instance."""

import sys

import dagster as dg
from lakehouse_cli.home import local_instance
from lakehouse_cli.pipeline import format_summary, run_pipeline
from lakehouse_downstream.defs.analytics.segments import CUSTOMER_SEGMENTS
from lakehouse_resources.asset_keys import ORDERS
from lakehouse_resources.settings import get_settings

if __name__ == "__main__":
    settings = get_settings()
    with local_instance(settings) as instance:
        # The jaffle shop chain writes the warehouse from three tools (Sling, dbt, Python) and
        # needs no stand-in, so two of these can run side by side with nothing else shared.
        jaffle_shop = dg.AssetSelection.assets(CUSTOMER_SEGMENTS).upstream() | dg.AssetSelection.assets(
            ORDERS
        )
        summary = run_pipeline(settings, instance, selection=jaffle_shop)
    print(format_summary(summary))
    sys.exit(0 if summary.success else 1)
