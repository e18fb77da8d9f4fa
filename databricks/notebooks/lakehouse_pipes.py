"""What the notebooks and Python jobs here share: Pipes over Unity Catalog Volumes with a prompt
message writer.

Databricks puts a notebook's (and a Python file's) own folder on `sys.path`, so workspace files
next to them import like any module; the local stand-in does the same.
"""

import io
import json
import threading
from contextlib import contextmanager

from dagster_pipes import (
    PipesBufferedFilesystemMessageWriterChannel,
    PipesParamsLoader,
    PipesUnityCatalogVolumesContextLoader,
    PipesUnityCatalogVolumesMessageWriter,
    open_dagster_pipes,
)


def open_volumes_pipes(params_loader: PipesParamsLoader):
    """Pipes as the lakehouse Databricks client launches it: context and messages on the Volume;
    the bootstrap from `params_loader` (a notebook's widgets, a Python task's arguments)."""
    return open_dagster_pipes(
        context_loader=PipesUnityCatalogVolumesContextLoader(),
        # The interval bounds how stale Dagster's view is while the task runs; the last chunk is
        # written when the session closes whatever the interval.
        message_writer=PromptVolumesMessageWriter(interval=1),
        params_loader=params_loader,
    )


class PromptVolumesMessageWriter(PipesUnityCatalogVolumesMessageWriter):
    """The Volumes message writer, minus ~2 s per run.

    The stock channel's loop sleeps a full second between checks and once more after its last
    upload, so closing Pipes takes 1-2 s; this channel waits on an event and closes in one write.
    """

    def make_channel(self, params):
        return _PromptChannel(params["path"], self.interval)


class _PromptChannel(PipesBufferedFilesystemMessageWriterChannel):
    def __init__(self, path, interval):
        super().__init__(path, interval=interval)
        self.every, self.index = interval, 1

    @contextmanager
    def buffered_upload_loop(self):
        closed = threading.Event()

        def loop():
            while not closed.wait(self.every):
                self.upload_pending()
            self.upload_pending()

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            yield
        finally:
            closed.set()
            thread.join(60)

    def upload_pending(self):
        messages = self.flush_messages()
        if messages:
            self.upload_messages_chunk(io.StringIO("\n".join(json.dumps(m) for m in messages)), self.index)
            self.index += 1
