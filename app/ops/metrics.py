"""Prometheus metrics, served at ``GET /metrics``.

- ``prefloop_http_request_duration_seconds`` (histogram): by ``method``, ``route`` (the matched route's
  template, e.g. ``/api/projects/{project_id}/next``, never the raw path, so the series stay few) and
  ``status`` class (``2xx`` ... ``5xx``). Observed by ``app.ops.middleware``.
- ``prefloop_labels_submitted_total`` (counter): labels created. Counted in the middleware as the 201
  answers of ``POST /api/assignments/{assignment_id}/label`` (201 = a new label; a retry that returns the
  stored label is a 200), which keeps the metric out of the annotation code's hot path and its module.
- ``prefloop_queue_open_slots`` and ``prefloop_queue_items_needing_labels`` (gauges): across all projects
  (per project would be too many series), from one indexed query over the pick index's rows.
- ``prefloop_jobs`` (gauge, by ``state``).

The gauges are read from the database when scraped, cached for ``DB_GAUGE_TTL_SECONDS`` so frequent
scrapes (or several Prometheus servers) cost at most one query pair per interval and process. If the
database is down they are left out of the scrape (``/readyz`` says why).

**Several uvicorn workers**: each process has its own registry, so a scrape sees only the process that
answered it. Set ``PROMETHEUS_MULTIPROC_DIR`` to an empty, writable folder (the same for all workers,
emptied before each start) in the environment of the server: ``prometheus_client`` then keeps the
histogram and counter in files there and ``/metrics`` adds up every process's values. The database gauges
are the same whichever process computes them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from app.annotation.models import Item
from app.db import get_engine
from app.jobs.models import Job
from app.jobs.states import JobState

log = logging.getLogger(__name__)

DB_GAUGE_TTL_SECONDS = 10.0
LABEL_ROUTE = "/api/assignments/{assignment_id}/label"
UNMATCHED_ROUTE = "<unmatched>"

REQUEST_SECONDS = Histogram(
    "prefloop_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status class.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
LABELS_SUBMITTED = Counter("prefloop_labels_submitted", "Labels created (201 answers of the label submit).")


# Any token is a valid HTTP method: others share one label value, so clients cannot add series at will.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    method_label = method if method in _METHODS else "other"
    REQUEST_SECONDS.labels(method_label, route, f"{status // 100}xx").observe(seconds)
    if status == 201 and method == "POST" and route == LABEL_ROUTE:
        LABELS_SUBMITTED.inc()


@dataclass(frozen=True, slots=True)
class DatabaseGauges:
    open_slots: int
    items_needing_labels: int
    jobs_by_state: dict[str, int]


_cache_lock = threading.Lock()
_cache: tuple[float, DatabaseGauges] | None = None


def clear_cache() -> None:
    global _cache
    with _cache_lock:
        _cache = None


def read_database_gauges() -> DatabaseGauges:
    with get_engine().connect() as conn:
        # The same predicate as the partial index ix_items_pick, so PostgreSQL reads only open items.
        count, slots = conn.execute(
            select(func.count(), func.coalesce(func.sum(Item.open_slots), 0)).where(Item.open_slots > 0, ~Item.is_gold)
        ).one()
        jobs = {str(state): int(n) for state, n in conn.execute(select(Job.state, func.count()).group_by(Job.state))}
    return DatabaseGauges(open_slots=int(slots), items_needing_labels=int(count), jobs_by_state=jobs)


def cached_database_gauges() -> DatabaseGauges | None:
    global _cache
    with _cache_lock:  # one query per interval, however many scrapes arrive at once
        now = time.monotonic()
        if _cache is not None and now - _cache[0] < DB_GAUGE_TTL_SECONDS:
            return _cache[1]
        try:
            gauges = read_database_gauges()
        except Exception:
            log.warning("metrics: could not read the queue and job gauges", exc_info=True)
            return None
        _cache = (now, gauges)
        return gauges


class DatabaseCollector(Collector):
    """Queue depth and jobs by state, read from the database at scrape time."""

    def describe(self) -> Iterable[Metric]:
        # Declared without touching the database (registering would otherwise call collect()).
        return list(self._families(None))

    def collect(self) -> Iterable[Metric]:
        gauges = cached_database_gauges()
        return list(self._families(gauges)) if gauges is not None else []

    @staticmethod
    def _families(gauges: DatabaseGauges | None) -> Iterator[Metric]:
        slots = GaugeMetricFamily("prefloop_queue_open_slots", "Labels still wanted: open slots over all items.")
        items = GaugeMetricFamily("prefloop_queue_items_needing_labels", "Items with at least one open slot.")
        jobs = GaugeMetricFamily("prefloop_jobs", "Jobs by state.", labels=["state"])
        if gauges is not None:
            slots.add_metric([], gauges.open_slots)
            items.add_metric([], gauges.items_needing_labels)
            for state in JobState:
                jobs.add_metric([state.value], gauges.jobs_by_state.get(state.value, 0))
        yield from (slots, items, jobs)


_DATABASE_COLLECTOR = DatabaseCollector()
REGISTRY.register(_DATABASE_COLLECTOR)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def render() -> tuple[bytes, str]:
    """The exposition text and its content type."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(_DATABASE_COLLECTOR)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
