"""The bundle's own code (databricks/src) is importable in these tests, as root_path makes it on Databricks."""

import sys

from testsupport import REPO

BUNDLE = REPO / "databricks"
if str(BUNDLE / "src") not in sys.path:
    sys.path.insert(0, str(BUNDLE / "src"))
