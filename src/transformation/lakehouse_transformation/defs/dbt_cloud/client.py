"""dagster-dbt's dbt Cloud client, with rate limits waited out and errors called what they are.

The stock client (0.29.27) retries every failed request 3 times at 0.25 s, ignores `Retry-After`,
and ends with "Max retries exceeded": a short burst of 429s while polling kills a healthy run, and a
deleted job (404) reads like an outage. Here:
- 429 and 503 are waited out, honouring `Retry-After`, for up to `rate_limit_wait_seconds`;
- other 5xx and connection errors are retried `request_max_retries` times, as before;
- any other 4xx fails at once, and every failure is a `DbtCloudApiError` naming the status, the
  request and dbt Cloud's own message.
`_make_request` is the one private method replaced; `test_dbt_cloud.py` pins its signature.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Set
from email.utils import parsedate_to_datetime
from typing import Any

import dagster as dg
import requests
from dagster_dbt.cloud_v2.client import DbtCloudWorkspaceClient
from pydantic import Field
from requests.exceptions import RequestException

RATE_LIMITED = frozenset({429, 503})
_MAX_BACKOFF_SECONDS = 30.0


class DbtCloudApiError(dg.Failure):
    """A dbt Cloud API request failed; `status` is the HTTP status (None when nothing answered)."""

    def __init__(self, description: str, status: int | None = None) -> None:
        super().__init__(description=description)
        self.status = status


def retry_after_seconds(response: requests.Response) -> float | None:
    """`Retry-After` as seconds: either a number or an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _message(response: requests.Response) -> str:
    """dbt Cloud's own explanation from its envelope, else the start of the body."""
    try:
        status = response.json().get("status") or {}
        return str(status.get("user_message") or status.get("developer_message") or "")
    except (ValueError, AttributeError):
        return response.text[:300]


class LakehouseDbtCloudClient(DbtCloudWorkspaceClient):
    rate_limit_wait_seconds: float = Field(
        300, description="How long 429/503 answers are waited out (honouring Retry-After) before failing."
    )

    def _make_request(
        self,
        method: str,
        endpoint: str | None,
        base_url: str,
        data: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        session_attr: str = "_get_session",
        tolerated_error_statuses: Set[int] = frozenset(),
    ) -> requests.Response:
        url = f"{base_url}/{endpoint}" if endpoint else base_url
        what = f"{method} {url}"
        give_up = time.monotonic() + self.rate_limit_wait_seconds
        failures, backoff = 0, max(self.request_retry_delay, 0.5)
        while True:
            try:
                session: requests.Session = getattr(self, session_attr)()
                response = session.request(
                    method=method, url=url, json=data, params=params, timeout=self.request_timeout
                )
            except RequestException as exc:
                failures += 1
                if failures > self.request_max_retries:
                    raise DbtCloudApiError(
                        f"dbt Cloud at {self.access_url} did not answer {what}: {exc}"
                    ) from exc
                time.sleep(self.request_retry_delay)
                continue
            status = response.status_code
            if response.ok or status in tolerated_error_statuses:
                return response
            if status in RATE_LIMITED:
                wait = retry_after_seconds(response)
                wait = backoff if wait is None else wait
                if time.monotonic() + wait > give_up:
                    raise DbtCloudApiError(
                        f"dbt Cloud kept answering {status} to {what} for {self.rate_limit_wait_seconds:g} s:"
                        f" {_message(response)}",
                        status,
                    )
                self._log.info(f"dbt Cloud answered {status} to {what}; waiting {wait:g} s as it asks")
                time.sleep(wait)
                backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)
                continue
            if status >= 500 and failures < self.request_max_retries:
                failures += 1
                self._log.warning(f"dbt Cloud answered {status} to {what}; retrying")
                time.sleep(self.request_retry_delay)
                continue
            raise DbtCloudApiError(f"dbt Cloud answered {status} to {what}: {_message(response)}", status)
