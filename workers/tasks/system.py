"""Housekeeping tasks: ping, the smoke job, and the reaper."""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

from celery.signals import worker_ready

from app.db import session_scope, utcnow
from app.jobs import service as job_service
from workers.celery_app import celery_app
from workers.tasks.runtime import JobSkipped, job_run


@celery_app.task(name="prefloop.ping")
def ping() -> str:
    """Prove a worker is consuming: returns the worker's host name."""
    return socket.gethostname()


@celery_app.task(name="prefloop.smoke", acks_late=True)
def smoke(job_id: int) -> None:
    """Count steps, reporting progress and a metric, checking for cancellation between steps."""
    try:
        with job_run(job_id, "smoke") as ctx:
            steps = int(ctx.params["steps"])
            fail_at = ctx.params.get("fail_at")
            for step in range(1, steps + 1):
                ctx.check_cancel()
                time.sleep(float(ctx.params["step_seconds"]))
                if fail_at is not None and step == int(fail_at):
                    raise RuntimeError(f"failing at step {step} as asked")
                ctx.progress(step, steps)
                ctx.metrics(step, {"step_value": float(step)})
            ctx.result = {"steps": steps}
    except JobSkipped:
        return


@celery_app.task(name="prefloop.reap")
def reap() -> dict[str, int]:
    """Re-queue or fail jobs whose worker went silent (also run by the API every 30 s)."""
    with session_scope() as s:
        return job_service.reap(s, utcnow())


@worker_ready.connect
def _reap_on_start(**_: Any) -> None:
    """A (re)started worker first gives up the jobs that a dead worker left running."""
    try:
        with session_scope() as s:
            counts = job_service.reap(s, utcnow())
        logging.getLogger(__name__).info("reaper at worker start: %s", counts)
    except Exception:
        logging.getLogger(__name__).exception("reaper at worker start failed")
