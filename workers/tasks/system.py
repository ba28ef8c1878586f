"""Housekeeping tasks."""

from __future__ import annotations

import socket

from workers.celery_app import celery_app


@celery_app.task(name="prefloop.ping")
def ping() -> str:
    """Prove a worker is consuming: returns the worker's host name."""
    return socket.gethostname()
