"""data_ops: readers, writers, transformers, table management and quality for the Databricks platform."""
