"""Pipelines that survive a restart: `Pipelines` (pipelines.py) with every change kept in the store.

A pipeline's spec and updates are one record, written when it is created, edited or an update
changes state; its events are records of their own, written once each. An update that had not
ended when its stand-in stopped comes back FAILED with an ERROR event saying so; a stand-in that
stops cleanly says so before it cancels its updates. As with runs (`history.RETENTION_DAYS`), an
ended update started longer ago than a workspace keeps a run is forgotten with its events when the
stand-in starts, so the store does not grow with every update for ever.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from lakehouse_standins.databricks.history import RETENTION_DAYS
from lakehouse_standins.databricks.pipelines import (
    UPDATE_STATES_ENDED,
    PipelineRecord,
    Pipelines,
    Update,
)
from lakehouse_standins.databricks.spark_runtime import SparkServer
from lakehouse_standins.databricks.store import Store
from lakehouse_standins.databricks.tasks import TaskLauncher

STOPPED = (
    "The Databricks stand-in stopped while this update was {state}: the update did not finish"
    " (spark-pipelines stops with its stand-in). Start it again."
)
STOPPING = "The Databricks stand-in is stopping: the update is cancelled."


class PersistentPipelines(Pipelines):
    def __init__(self, launcher: TaskLauncher, spark: SparkServer, state_dir: Path, store: Store) -> None:
        super().__init__(launcher, spark, state_dir)
        self.store = store
        self._event_ids = store.ids("pipeline_event", 1)
        self._saved_events: dict[str, int] = {}
        self._save_lock = threading.RLock()
        events: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for event in store.load("pipeline_event"):
            events[event["origin"]["pipeline_id"]].append(event)
        for body in store.load("pipeline"):
            record = PipelineRecord(
                body["pipeline_id"],
                body["spec"],
                body["created"],
                body["last_modified"],
                [Update(**update) for update in body["updates"]],
                events[body["pipeline_id"]],
            )
            self.pipelines[record.pipeline_id] = record
            self._saved_events[record.pipeline_id] = len(record.events)
            self._forget_expired(record)
            for update in record.updates:
                if update.state not in UPDATE_STATES_ENDED:
                    message = STOPPED.format(state=update.state)
                    self._event(record, update, "update_progress", message, level="ERROR")
                    self._set_state(record, update, "FAILED")

    def _forget_expired(self, record: PipelineRecord) -> None:
        """Drop the ended updates started more than RETENTION_DAYS ago, and their events."""
        cutoff = int((time.time() - RETENTION_DAYS * 86_400) * 1000)
        expired = {
            u.update_id for u in record.updates if u.state in UPDATE_STATES_ENDED and u.creation_time < cutoff
        }
        if not expired:
            return
        record.updates[:] = [u for u in record.updates if u.update_id not in expired]
        kept = []
        for event in record.events:
            if event["origin"].get("update_id") in expired:
                self.store.remove("pipeline_event", event["id"])
            else:
                kept.append(event)
        record.events[:] = kept
        self._saved_events[record.pipeline_id] = len(kept)
        self._save(record)

    def _save(self, record: PipelineRecord) -> None:
        with self._save_lock:
            if record.pipeline_id not in self.pipelines:
                return  # deleted while an update still ran
            body = {
                "pipeline_id": record.pipeline_id,
                "spec": record.spec,
                "created": record.created,
                "last_modified": record.last_modified,
                "updates": [update.as_json() for update in record.updates],
            }
            self.store.put("pipeline", record.pipeline_id, body)
            saved = self._saved_events.get(record.pipeline_id, 0)
            for event in record.events[saved:]:
                self.store.put("pipeline_event", event["id"], event, parent=record.pipeline_id)
            self._saved_events[record.pipeline_id] = len(record.events)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        created = super().create(body)
        if created["pipeline_id"] in self.pipelines:  # not a dry run
            self._save(self.pipelines[created["pipeline_id"]])
        return created

    def edit(self, pipeline_id: str, body: dict[str, Any]) -> None:
        super().edit(pipeline_id, body)
        self._save(self.get(pipeline_id))

    def delete(self, pipeline_id: str) -> None:
        super().delete(pipeline_id)
        with self._save_lock:
            self.store.remove("pipeline", pipeline_id)
            self.store.remove_children("pipeline_event", pipeline_id)
            self._saved_events.pop(pipeline_id, None)

    def start_update(self, pipeline_id: str, body: dict[str, Any]) -> Update:
        update = super().start_update(pipeline_id, body)
        self._save(self.get(pipeline_id))
        return update

    def _set_state(self, record: PipelineRecord, update: Update, state: str) -> None:
        super()._set_state(record, update, state)
        self._save(record)

    def _event(
        self, record: PipelineRecord, update: Update, event_type: str, message: str, **kw: Any
    ) -> None:
        super()._event(record, update, event_type, message, **kw)
        self._save(record)

    def cancel_all(self, timeout: float = 15.0) -> None:
        for record in list(self.pipelines.values()):
            if active := record.active:
                self._event(record, active, "update_progress", STOPPING, level="WARN")
        super().cancel_all(timeout)
