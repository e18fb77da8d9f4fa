"""The platform's naming rules (catalogs, schemas, tables, jobs), importable without dagster."""
