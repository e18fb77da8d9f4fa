"""Child process for the concurrency test: one full pipeline run on the shared local instance."""

import sys

from lakehouse_cli.home import local_instance
from lakehouse_cli.pipeline import format_summary, run_pipeline
from lakehouse_resources.settings import get_settings

if __name__ == "__main__":
    settings = get_settings()
    with local_instance(settings) as instance:
        summary = run_pipeline(settings, instance)
    print(format_summary(summary))
    sys.exit(0 if summary.success else 1)
