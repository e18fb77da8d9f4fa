"""The Databricks platform's naming policy, bundle targets and resource specs: pure, no Dagster.

Used by the bundle generator (`databricks/resources`), by the `domains` code location, by the
notebook component and by the Spark code's local name resolution, so they can never disagree.
"""
