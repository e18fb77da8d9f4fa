"""The bundle's Python-defined resources: every spec under specs/ becomes a job or a pipeline.

`databricks.yml` loads `resources:load_resources`; the Databricks CLI calls it on validate and
deploy with the selected target, and `lakehouse bundle build` calls it the same way.
"""

from __future__ import annotations

from pathlib import Path

from databricks.bundles.core import Bundle, Resources

from resources.generate import generate

BUNDLE_ROOT = Path(__file__).resolve().parent.parent


def load_resources(bundle: Bundle) -> Resources:
    return generate(BUNDLE_ROOT, bundle.target, bundle.variables)
