"""The Celery application: one queue per kind of machine, routing by task name.

Broker: Redis in production (``PREFLOOP_BROKER_URL=redis://...``); by default a SQLite-backed
broker (kombu's ``sqla+sqlite://`` transport) so ``prefloop up`` runs a real worker with no server.
No result backend: a job's state lives in our database.
"""

from __future__ import annotations

from celery import Celery
from kombu import Exchange, Queue  # type: ignore[attr-defined]

import app.all_models  # noqa: F401 - every table known, so foreign keys resolve in the worker
from app.config import get_settings

QUEUE_CPU = "cpu"
QUEUE_GPU = "gpu"


def make_celery() -> Celery:
    settings = get_settings()
    broker = settings.resolved_broker_url
    if broker.startswith("sqla+sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    tasks = ["system", "models", "generation", "snapshots", "training", "evaluation"]
    app = Celery("prefloop", broker=broker, include=[f"workers.tasks.{name}" for name in tasks])
    app.conf.update(
        task_default_queue=QUEUE_CPU,
        task_queues=[Queue(q, Exchange(q), routing_key=q) for q in (QUEUE_CPU, QUEUE_GPU)],
        task_default_exchange=QUEUE_CPU,
        task_default_routing_key=QUEUE_CPU,
        # Routing by task name: GPU work goes to the gpu queue (filled in as job kinds land).
        task_routes={"prefloop.gpu.*": {"queue": QUEUE_GPU}},
        task_ignore_result=True,
        # One long job at a time per process: never prefetch a second one behind it.
        worker_prefetch_multiplier=1,
        task_acks_late=False,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    return app


celery_app = make_celery()
