"""Local stand-ins for the Databricks and dbt Cloud HTTP APIs.

They exist only because the real services cannot be reached from a laptop or CI. Each serves the
public contract over HTTP on 127.0.0.1 and really executes the work (a notebook runs, dbt builds).
"""
