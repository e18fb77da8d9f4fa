"""Code location `domains`: the Databricks platform (medallion domains, spec-generated jobs and pipelines)."""
