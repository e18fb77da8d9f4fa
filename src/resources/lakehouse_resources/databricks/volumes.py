"""Pipes context and messages on Unity Catalog Volumes, with fast polling and cleanup that never masks.

dagster-databricks' Volumes injector and reader are the base; what changes:
- the reader polls every `interval` seconds (the stock loop sleeps 1 s per chunk and waits 10 s after
  the run for stragglers) and drains every chunk already written in one go;
- `abandon()` tells the reader the task ended abnormally, so it stops without the grace wait;
- temporary folders are named after the Dagster run and removed even when the Files API misbehaves:
  a failed cleanup is logged, never raised over the error that ended the step.
"""

from __future__ import annotations

import io
import json
import secrets
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

import dagster as dg
from dagster._core.errors import DagsterPipesExecutionError
from dagster_databricks.pipes import (
    PipesUnityCatalogVolumesContextInjector,
    PipesUnityCatalogVolumesMessageReader,
)
from dagster_pipes import (
    PIPES_PROTOCOL_VERSION_FIELD,
    PipesBlobStoreMessageWriter,
    PipesContextData,
    PipesParams,
)
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from databricks.sdk.errors.base import DatabricksError
from databricks.sdk.service.files import FilesAPI

from lakehouse_resources.databricks.run_follower import standin_gone

if TYPE_CHECKING:
    from dagster._core.pipes.context import PipesMessageHandler

_log = dg.get_dagster_logger()


def delete_tree(files: FilesAPI, path: str) -> None:
    """Remove `path` and everything under it; a folder already gone counts as removed."""
    try:
        entries = list(files.list_directory_contents(path))
    except NotFound:
        return
    for entry in entries:
        child = f"{path.rstrip('/')}/{entry.name}"
        try:
            if entry.is_directory:
                delete_tree(files, child)
            else:
                files.delete(child)
        except NotFound:
            pass
    with suppress(NotFound):
        files.delete_directory(path)


@contextmanager
def volume_tempdir(client: WorkspaceClient, volume_path: str, label: str) -> Iterator[str]:
    files = client.files
    path = f"{volume_path.rstrip('/')}/tmp/dagster-{label}-{secrets.token_hex(6)}"
    try:
        files.create_directory(path)
    except DatabricksError as exc:
        raise DagsterPipesExecutionError(
            f"Cannot create the Pipes folder {path} (is {volume_path} an existing Unity Catalog"
            f" Volume the workspace user may write?): {type(exc).__name__}: {exc}"
        ) from exc
    try:
        yield path
    finally:
        try:
            if not standin_gone(client):  # else each call would spend a retry budget on a closed port
                delete_tree(files, path)
        except Exception as exc:
            # Cleanup runs while the step may be failing already: log, never hide the real error.
            _log.warning(f"Could not remove the temporary Volume folder {path}: {exc}")


class VolumesContextInjector(PipesUnityCatalogVolumesContextInjector):
    def __init__(self, *, client: WorkspaceClient, volume_path: str, label: str) -> None:
        super().__init__(client=client, volume_path=volume_path)
        self.client = client
        self.label = label

    @contextmanager
    def inject_context(self, context: PipesContextData) -> Iterator[PipesParams]:
        with volume_tempdir(self.client, self.volume_path, f"{self.label}-context") as folder:
            path = f"{folder}/context.json"
            self.files_client.upload(path, io.BytesIO(json.dumps(context).encode()), overwrite=True)
            yield {"path": path}


class VolumesMessageReader(PipesUnityCatalogVolumesMessageReader):
    def __init__(
        self,
        *,
        client: WorkspaceClient,
        volume_path: str,
        label: str,
        interval: float,
        grace_seconds: float,
        include_stdio_in_messages: bool = False,
    ) -> None:
        super().__init__(
            interval=interval,
            client=client,
            volume_path=volume_path,
            include_stdio_in_messages=include_stdio_in_messages,
        )
        self.client = client
        self.label = label
        self.grace_seconds = grace_seconds
        self._abandoned = threading.Event()

    def abandon(self) -> None:
        self._abandoned.set()

    @contextmanager
    def get_params(self) -> Iterator[PipesParams]:
        with volume_tempdir(self.client, self.volume_path, f"{self.label}-messages") as folder:
            yield {
                "path": folder,
                PipesBlobStoreMessageWriter.INCLUDE_STDIO_IN_MESSAGES_KEY: self.include_stdio_in_messages,
            }

    @contextmanager
    def read_messages(self, handler: PipesMessageHandler) -> Iterator[PipesParams]:
        with self.get_params() as params:
            session_closed = threading.Event()
            thread = threading.Thread(
                target=self._poll,
                args=(handler, params, session_closed),
                name="pipes-volumes-reader",
                daemon=True,
            )
            thread.start()
            try:
                yield params
            finally:
                session_closed.set()
                thread.join(self.grace_seconds + 30)

    def _poll(
        self, handler: PipesMessageHandler, params: PipesParams, session_closed: threading.Event
    ) -> None:
        closed_at: float | None = None
        try:
            while not handler.received_closed_message:
                chunk = self.download_messages_chunk(self.counter, params)
                if chunk:
                    self.counter += 1
                    self._handle(handler, chunk)
                    continue
                if not session_closed.is_set():
                    # Wakes at once when the run ends, so the interval never delays the last chunk.
                    session_closed.wait(self.interval)
                    continue
                closed_at = closed_at or time.monotonic()
                if self._abandoned.is_set() or time.monotonic() - closed_at > self.grace_seconds:
                    return
                time.sleep(min(self.interval, 0.1))
        except Exception:
            handler.report_pipes_framework_exception(f"{type(self).__name__} messages thread", sys.exc_info())

    @staticmethod
    def _handle(handler: PipesMessageHandler, chunk: str) -> None:
        for line in chunk.splitlines():
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(message, dict) and PIPES_PROTOCOL_VERSION_FIELD in message:
                handler.handle_message(message)  # type: ignore[arg-type]
