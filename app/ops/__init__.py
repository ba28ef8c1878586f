"""Operations: readiness, Prometheus metrics, structured logs with request ids, security headers, CORS.

- ``router``: ``GET /readyz`` (database + broker) and ``GET /metrics``; ``/healthz`` (process up, no I/O)
  stays in ``app.main``.
- ``middleware``: request id, security headers, request metrics and the access log, for every request.
- ``logs``: JSON or text log lines carrying the request id (``PREFLOOP_LOG_FORMAT``).
- ``metrics``: what is measured, and how it works with several uvicorn workers.
- ``setup.install_ops``: wires all of it into the app (called by ``app.main.create_app``).

Graceful shutdown: on SIGTERM uvicorn stops accepting connections, lets in-flight requests finish, then
runs the lifespan's shutdown (the job reaper finishes its current pass and stops). The wait is bounded by
``prefloop serve --grace-seconds`` (uvicorn's ``--timeout-graceful-shutdown``; default 20 s, below the
orchestrator's kill grace period: 30 s in compose.yaml and Kubernetes' default); long downloads still
running then are cut.
"""
