"""The bundle's own code (databricks/src) is importable in these tests, as root_path makes it on
Databricks; a job's folder too, since a Python task imports the modules beside it."""

import sys

from testsupport import REPO

BUNDLE = REPO / "databricks"
for folder in (BUNDLE / "src", BUNDLE / "src/template_domain/template_source/staging"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
