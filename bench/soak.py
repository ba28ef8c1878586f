"""Soak test: many annotators label for a long while, a generation job adds items meanwhile, nothing is lost.

The benchmark brings up its own stack on a database (a fresh SQLite file by default): it migrates it,
starts the API (uvicorn) and one real Celery worker as subprocesses, builds the project's tiny model
(``workers.ml.tiny``, cached) and registers it through ``POST /api/models`` (a worker validates it),
makes a pairwise project with N annotators and prompts that already have candidates (so labelling
starts at once), imports more prompts without candidates and starts a ``generation`` job on them: the
model's answers become items while the annotators label. The annotators are those of
``bench/annotation_load.py`` (real HTTP, asyncio, one keep-alive connection each); an annotator who
finds nothing to label asks again a few seconds later, since the job may still add items.

At the end the job is cancelled if it is still running, the load stops and the database is checked with
``annotation_load.verify``: every label a client got a 201 for is stored (``lost``), no (item, annotator)
pair is labelled twice (``duplicates``), no item has more labels than its overlap (``over_assigned``);
every 5xx the clients saw is counted (``server_errors``). The exit status is 1 if any of these is not 0
(or the generation job failed). The last line is machine-readable::

    annotators=<n> seconds=<n> labels=<n> lost=<n> duplicates=<n> over_assigned=<n> server_errors=<n>

Run it (the documented run is the default, 200 annotators for 10 minutes; CI runs a short one)::

    .venv/bin/python -m bench.soak                                  # fresh SQLite, SQLite-backed broker
    .venv/bin/python -m bench.soak --seconds 20 --annotators 40     # a quick look
    .venv/bin/python -m bench.soak --database-url postgresql+psycopg://postgres@127.0.0.1/soak
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.annotation_load import (
    Annotator,
    Integrity,
    LoadOutcome,
    LoadPlan,
    _check,
    _seed_via_api,
    bootstrap_admin,
    make_annotators,
    print_table,
    run_load,
    verify,
)

ROOT = Path(__file__).resolve().parent.parent
GENERATION_SPLIT = "soak-generation"
"""The split of the prompts the generation job answers (the imported, already answered ones have none)."""
TERMINAL_JOB_STATES = frozenset({"succeeded", "failed", "cancelled"})


# --------------------------------------------------------------------------------------------------
# The stack: API server and Celery worker as subprocesses


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    """The subprocesses the soak started, with their logs."""

    workdir: Path
    env: dict[str, str]
    url: str = ""
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = self.workdir / f"{name.replace(' ', '-')}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.procs[name], self.logs[name] = proc, log
        return proc

    def log(self, name: str) -> str:
        path = self.logs.get(name)
        return path.read_text(errors="replace") if path is not None and path.exists() else ""

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise SystemExit(f"the {name} exited with {proc.returncode}:\n{self.log(name)[-3000:]}")

    def stop(self) -> dict[str, int | None]:
        """SIGTERM everything (graceful: uvicorn drains, Celery finishes its task), then wait; kill stragglers."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes: dict[str, int | None] = {}
        deadline = time.monotonic() + 30
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
                codes[name] = None  # had to be killed
        return codes


def _stack_env(workdir: Path, database_url: str, broker_url: str) -> dict[str, str]:
    """Other PREFLOOP_ settings in the environment (e.g. PREFLOOP_DB_POOL_SIZE) reach the server and worker."""
    env = {**os.environ}
    env.update(
        PREFLOOP_DATABASE_URL=database_url,
        PREFLOOP_BROKER_URL=broker_url,
        PREFLOOP_DATA_DIR=str(workdir / "data"),
        PREFLOOP_SECRET_KEY=secrets.token_hex(16),
        PYTHONUNBUFFERED="1",
    )
    return env


def migrate(database_url: str) -> None:
    from app.db import make_engine
    from app.migrate import upgrade

    engine = make_engine(database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def start_server(stack: Stack, api_workers: int, port: int) -> None:
    stack.url = f"http://127.0.0.1:{port}"
    stack.spawn(
        "api server",
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(api_workers), "--no-access-log", "--log-level", "warning"],
    )  # fmt: skip


def start_worker(stack: Stack) -> None:
    """One Celery worker as ``prefloop worker`` / ``prefloop up`` run it (both queues, concurrency 1)."""
    from app.cli import _worker_argv

    argv = _worker_argv("cpu,gpu", 1)
    argv[argv.index("-n") + 1] = f"soak-{secrets.token_hex(3)}@%h"
    stack.spawn("celery worker", argv)


def wait_until_up(stack: Stack, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    server_up = worker_up = False
    while not (server_up and worker_up):
        stack.check_alive()
        if time.monotonic() > deadline:
            raise SystemExit(f"not up after {timeout:.0f}s: api server {server_up}, celery worker {worker_up}")
        if not server_up:
            with suppress(httpx.HTTPError):
                server_up = httpx.get(f"{stack.url}/healthz", timeout=2).status_code == 200
        worker_up = worker_up or re.search(r"soak-\w+@\S+ ready", stack.log("celery worker")) is not None
        time.sleep(0.2)


@contextmanager
def model_build(model: str, env: dict[str, str]) -> Iterator[subprocess.Popen[str] | None]:
    """Build (or reuse the cached build of) the tiny model in a subprocess while the stack starts."""
    if model:
        yield None
        return
    code = "from workers.ml.tiny import tiny_model_path; print(tiny_model_path())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def model_path(model: str, build: subprocess.Popen[str] | None) -> str:
    if build is None:
        return str(Path(model).resolve()) if Path(model).exists() else model
    out, _ = build.communicate(timeout=600)
    lines = out.strip().splitlines()
    if build.returncode != 0 or not lines:
        raise SystemExit(f"building the tiny model failed ({build.returncode}):\n{out[-3000:]}")
    return lines[-1].strip()


# --------------------------------------------------------------------------------------------------
# Set-up through the API


@dataclass(frozen=True, slots=True)
class Prepared:
    project_id: int
    annotators: list[Annotator]
    model_version_id: int
    items: int
    generation_prompts: int
    seconds: float


async def _register_model(admin: httpx.AsyncClient, source: str, wait_s: float = 300.0) -> int:
    """POST /api/models, then wait for the validation job to make the version ready."""
    version = _check(await admin.post("/api/models", json={"name": "soak tiny model", "source": source}), 201)
    deadline = time.monotonic() + wait_s
    while True:
        got = _check(await admin.get(f"/api/models/{version['id']}"), 200)
        if got["status"] == "ready":
            return int(got["id"])
        if got["status"] != "pending":
            raise SystemExit(f"model version {got['id']} is {got['status']}: {got.get('error')}")
        if time.monotonic() > deadline:
            raise SystemExit(f"model version {got['id']} still pending after {wait_s:.0f}s")
        await asyncio.sleep(0.5)


def _generation_rows(n: int) -> bytes:
    lines = [
        f'{{"id": "gen{i}", "prompt": "Question {i}: tell me something about the weather, please.", '
        f'"split": "{GENERATION_SPLIT}"}}'
        for i in range(n)
    ]
    return ("\n".join(lines) + "\n").encode()


async def prepare(args: argparse.Namespace, url: str, token: str, source: str) -> Prepared:
    t0 = time.perf_counter()
    run = secrets.token_hex(3)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=300) as admin:
        registering = asyncio.create_task(_register_model(admin, source))
        project = _check(
            await admin.post(
                "/api/projects",
                json={
                    "name": f"soak {run}",
                    "task_kind": "pairwise",
                    "overlap": args.overlap,
                    "lease_seconds": args.lease_seconds,
                },
            ),
            201,
        )
        pid = int(project["id"])
        if not await _seed_via_api(admin, project, args.items, args.text_chars):
            raise SystemExit("POST /api/projects/{id}/imports is not there")
        r = await admin.post(
            f"/api/projects/{pid}/imports",
            files={"file": ("generation.jsonl", _generation_rows(args.generation_prompts), "application/x-ndjson")},
        )
        _check(r, 200, 201, 202)
        annotators = await make_annotators(admin, url, pid, args.annotators, f"soak-{run}")
        version_id = await registering
        items = int(_check(await admin.get(f"/api/projects/{pid}/progress"), 200)["items"])
    return Prepared(pid, annotators, version_id, items, args.generation_prompts, time.perf_counter() - t0)


def start_generation(url: str, token: str, args: argparse.Namespace, prepared: Prepared) -> int:
    params = {
        "model_version_id": prepared.model_version_id,
        "prompts": "split",
        "split": GENERATION_SPLIT,
        "k": args.generation_k,
        "max_new_tokens": args.max_new_tokens,
        "temperature": 1.0,
        "top_p": 0.95,
        "batch_size": args.generation_batch_size,
    }
    body = {"kind": "generation", "project_id": prepared.project_id, "params": params}
    r = httpx.post(f"{url}/api/jobs", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    return int(_check(r, 201)["id"])


class JobWatch(threading.Thread):
    """Polls the generation job during the run: when it started running, how far it got, the statuses."""

    def __init__(self, url: str, token: str, job_id: int, every: float = 2.0) -> None:
        super().__init__(name="job-watch", daemon=True)
        self.client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        self.job_id = job_id
        self.every = every
        self.stopping = threading.Event()
        self.t0 = time.monotonic()
        self.statuses: Counter[int] = Counter()
        self.job: dict[str, Any] = {}
        self.running_after: float | None = None
        self.finished_after: float | None = None

    def poll(self) -> dict[str, Any]:
        try:
            r = self.client.get(f"/api/jobs/{self.job_id}")
        except httpx.HTTPError:
            self.statuses[0] += 1
            return self.job
        self.statuses[r.status_code] += 1
        if r.status_code == 200:
            self.job = r.json()
            elapsed = time.monotonic() - self.t0
            if self.running_after is None and self.job["state"] != "queued":
                self.running_after = elapsed
            if self.finished_after is None and self.job["state"] in TERMINAL_JOB_STATES:
                self.finished_after = elapsed
        return self.job

    def wait_running(self, timeout: float = 120.0) -> None:
        """Until a worker has started the job (so that it runs beside the annotators from the start)."""
        deadline = time.monotonic() + timeout
        while self.running_after is None and time.monotonic() < deadline:
            self.poll()
            time.sleep(0.2)

    def run(self) -> None:
        while not self.stopping.wait(self.every):
            self.poll()

    def finish(self, timeout: float = 180.0) -> dict[str, Any]:
        """Stop polling; cancel the job if it is still going and wait for a terminal state."""
        self.stopping.set()
        self.join(10)
        job = self.poll()
        if job.get("state") not in TERMINAL_JOB_STATES:
            try:
                r = self.client.post(f"/api/jobs/{self.job_id}/cancel")
                self.statuses[r.status_code] += 1
            except httpx.HTTPError:
                self.statuses[0] += 1
        deadline = time.monotonic() + timeout
        while self.poll().get("state") not in TERMINAL_JOB_STATES and time.monotonic() < deadline:
            time.sleep(0.5)
        self.client.close()
        return self.job


# --------------------------------------------------------------------------------------------------
# After the run


@dataclass(frozen=True, slots=True)
class Growth:
    generated_items: int
    """Items of the generation job's prompts (there were none when the load started)."""
    labels_on_generated: int
    generated_candidates: int


def growth(database_url: str, project_id: int) -> Growth:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    p = {"p": project_id, "s": GENERATION_SPLIT}
    gen = "SELECT id FROM prompts WHERE project_id = :p AND split = :s"
    try:
        with engine.connect() as conn:
            items = conn.execute(text(f"SELECT count(*) FROM items WHERE prompt_id IN ({gen})"), p).scalar_one()
            labels = conn.execute(
                text(f"SELECT count(*) FROM labels l JOIN items i ON i.id = l.item_id WHERE i.prompt_id IN ({gen})"),
                p,
            ).scalar_one()
            candidates = conn.execute(
                text(f"SELECT count(*) FROM candidates WHERE prompt_id IN ({gen})"), p
            ).scalar_one()
    finally:
        engine.dispose()
    return Growth(int(items), int(labels), int(candidates))


def server_log_problems(log: str) -> list[str]:
    """Tracebacks and error lines in the API server's log."""
    lines = log.splitlines()
    return [ln for ln in lines if "Traceback" in ln or " ERROR " in ln or ln.startswith("ERROR")]


def count_codes(statuses: dict[str, Counter[int]], *extra: Counter[int]) -> Counter[int]:
    total: Counter[int] = Counter()
    for counts in (*statuses.values(), *extra):
        total.update(counts)
    return total


def summarize(
    args: argparse.Namespace,
    stack: Stack,
    prepared: Prepared,
    outcome: LoadOutcome,
    integrity: Integrity,
    job: dict[str, Any],
    watch: JobWatch,
    grown: Growth,
) -> tuple[int, str]:
    """Print the table; returns the exit status and the last line (printed once the stack is down)."""
    res = outcome.result
    print_table(
        f"Soak: {len(prepared.annotators)} annotators x (next -> label) for {outcome.seconds:.0f}s, "
        f"{args.backend}, {args.api_workers} API worker(s), a generation job running",
        res,
        outcome.seconds,
        ["next", "submit"],
    )
    codes = count_codes(res.statuses, watch.statuses)
    server_errors = sum(n for code, n in codes.items() if code >= 500)
    conn_errors = codes.get(0, 0)
    other = {code: n for code, n in codes.items() if 300 <= code < 500 and code != 204}
    acked = len(res.labels)
    cpu = ", ".join(f"{k} {v:.0f}%" for k, v in sorted(outcome.cpu.items(), key=lambda kv: -kv[1])) or "-"
    state = job.get("state", "?")
    gen_note = (
        f"job {job.get('id')} {state}, {job.get('progress_done', 0)}/{job.get('progress_total') or '?'} prompts"
        + (f" ({job.get('progress_note')})" if job.get("progress_note") else "")
        + (
            f", started {watch.running_after:.1f}s after it was queued"
            if watch.running_after is not None
            else ", never started by a worker"
        )
        + (f", ended {watch.finished_after:.0f}s after" if watch.finished_after is not None else "")
    )
    rows = [
        ("labels acknowledged (201)", f"{acked} ({acked / outcome.seconds:.1f}/s)"),
        ("labels stored", f"{integrity.labels_stored}"),
        ("items imported / generated", f"{prepared.items} / {grown.generated_items} "
         f"({grown.generated_candidates} candidates, {grown.labels_on_generated} labels on them)"),
        ("generation", gen_note),
        ("lost (201, not stored)", f"{integrity.acked_missing}"),
        ("duplicates (item, annotator)", f"{integrity.duplicate_labels}"),
        ("over-assigned items", f"{integrity.over_assigned}"),
        ("stored without a 201", f"{integrity.unacknowledged}"),
        ("leases + labels > overlap", f"{integrity.over_leased}"),
        ("counters drifted", f"{integrity.counter_drift}"),
        ("5xx", f"{server_errors}"),
        ("connection errors / timeouts", f"{conn_errors}"),
        ("other non-2xx", " ".join(f"{c}:{n}" for c, n in sorted(other.items())) or "0"),
        ("cpu (100% = one core)", cpu),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    print()
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    for sample in res.error_samples[:10]:
        print(f"  error: {sample}")
    if job.get("error"):
        print(f"  generation job error: {job['error'][:1000]}")
    problems = server_log_problems(stack.log("api server"))
    if problems or server_errors:
        print(f"  api server log ({stack.logs['api server']}): {len(problems)} error lines; the first ones:")
        for line in problems[:10]:
            print(f"    {line[:300]}")
    if integrity.over_leased or integrity.counter_drift or conn_errors:
        print("  warning: see the rows above (not counted in the exit status)")
    dead = {name: proc.returncode for name, proc in stack.procs.items() if proc.poll() is not None}
    if dead:
        print(f"  the {', '.join(dead)} exited during the run: {dead}")
    line = (
        f"annotators={len(prepared.annotators)} seconds={round(outcome.seconds)} labels={acked} "
        f"lost={integrity.acked_missing} duplicates={integrity.duplicate_labels} "
        f"over_assigned={integrity.over_assigned} server_errors={server_errors}"
    )
    bad = integrity.acked_missing or integrity.duplicate_labels or integrity.over_assigned or server_errors
    return (1 if bad or dead or state == "failed" else 0), line


# --------------------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None, epilog="See bench/README.md."
    )
    parser.add_argument("--seconds", type=float, default=600.0, help="How long the annotators label (default 600).")
    parser.add_argument("--annotators", type=int, default=200)
    parser.add_argument(
        "--database-url",
        default="",
        help="Database to run on; it is migrated (default: a fresh SQLite file in the work directory).",
    )
    parser.add_argument(
        "--broker-url",
        default="",
        help="Celery broker (default: a SQLite-backed one in the work directory). A Redis database of its own: "
        "the soak's worker consumes the usual queues.",
    )
    parser.add_argument(
        "--api-workers", type=int, default=0, help="uvicorn workers (default: 2 on PostgreSQL, 1 on SQLite)."
    )
    parser.add_argument("--port", type=int, default=0, help="API port (default: a free one).")
    parser.add_argument(
        "--items",
        type=int,
        default=0,
        help="Prompts imported with two candidates each (one item each) before the run; default: about what "
        "the first third of the run labels, after which the annotators label what the job generates too.",
    )
    parser.add_argument("--overlap", type=int, default=3)
    parser.add_argument("--lease-seconds", type=int, default=900)
    parser.add_argument("--text-chars", type=int, default=200, help="Length of each imported candidate.")
    parser.add_argument(
        "--generation-prompts",
        type=int,
        default=0,
        help="Prompts without candidates for the generation job (default: more than it can answer in the run; "
        "it is cancelled at the end).",
    )
    parser.add_argument(
        "--generation-k",
        type=int,
        default=4,
        help="Candidates the job samples per prompt (4: six pairwise items per prompt).",
    )
    parser.add_argument(
        "--idle-wait",
        type=float,
        default=2.0,
        help="Seconds an annotator who found nothing to label (204) waits before asking again; below uvicorn's "
        "5 s keep-alive timeout, which would close the idle connection (the simple client does not retry).",
    )
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--generation-batch-size", type=int, default=8)
    parser.add_argument("--model", default="", help="Model directory or hub id (default: the cached tiny model).")
    parser.add_argument("--processes", type=int, default=1, help="Load-generating processes.")
    parser.add_argument("--timeout", type=float, default=30.0, help="Per-request timeout, seconds.")
    parser.add_argument("--workdir", type=Path, default=None, help="Logs, SQLite files (default: a new temp dir).")
    parser.add_argument("--keep", action="store_true", help="Keep the work directory (it is kept on failure).")
    parser.add_argument("--random-seed", type=int, default=12345)
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.annotators < 1:
        parser.error("--seconds and --annotators must be positive")
    if not 0 < args.idle_wait < 4:
        parser.error("--idle-wait must be above 0 and below 4 s (uvicorn closes connections idle for 5 s)")
    args.items = args.items or max(100, math.ceil(args.seconds * 30 / 3 / args.overlap))
    args.generation_prompts = args.generation_prompts or max(200, math.ceil(args.seconds * 20))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir: Path = args.workdir or Path(tempfile.mkdtemp(prefix="prefloop-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    database_url: str = args.database_url or f"sqlite:///{workdir / 'soak.db'}"
    broker_url: str = args.broker_url or f"sqla+sqlite:///{workdir / 'broker.db'}"
    args.backend = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    args.api_workers = args.api_workers or (2 if args.backend == "PostgreSQL" else 1)
    env = _stack_env(workdir, database_url, broker_url)
    os.environ.update({k: v for k, v in env.items() if k.startswith("PREFLOOP_")})
    from app import config, db

    config.get_settings.cache_clear()
    db.get_engine.cache_clear()

    stack = Stack(workdir, env)
    status, line = 1, ""
    t0 = time.perf_counter()
    try:
        with model_build(args.model, env) as build:
            migrate(database_url)
            start_server(stack, args.api_workers, args.port or _free_port())
            start_worker(stack)
            token = bootstrap_admin(database_url)
            source = model_path(args.model, build)
        wait_until_up(stack)
        print(
            f"stack up in {time.perf_counter() - t0:.1f}s: {stack.url} on {database_url} ({workdir})", file=sys.stderr
        )
        prepared = asyncio.run(prepare(args, stack.url, token, source))
        print(
            f"set-up: project {prepared.project_id}, {len(prepared.annotators)} annotators, {prepared.items} items, "
            f"model version {prepared.model_version_id} ready, {prepared.generation_prompts} prompts to generate for, "
            f"in {prepared.seconds:.1f}s",
            file=sys.stderr,
        )
        job_id = start_generation(stack.url, token, args, prepared)
        watch = JobWatch(stack.url, token, job_id)
        watch.wait_running()
        watch.start()
        plan = LoadPlan(
            url=stack.url,
            project_id=prepared.project_id,
            kind="pairwise",
            mode="annotate",
            warmup_s=0.0,
            seconds=args.seconds,
            timeout_s=args.timeout,
            use_uvloop=True,
            wait_when_empty_s=args.idle_wait,
        )
        outcome = run_load(plan, prepared.annotators, args.processes, args.random_seed, database_url)
        job = watch.finish()
        integrity = verify(
            database_url, prepared.project_id, outcome.result.labels, {a.user_id for a in prepared.annotators}
        )
        grown = growth(database_url, prepared.project_id)
        status, line = summarize(args, stack, prepared, outcome, integrity, job, watch, grown)
    finally:
        codes = stack.stop()
        unclean = {name: code for name, code in codes.items() if code not in (0, -signal.SIGTERM)}
        if unclean:
            print(f"  not a clean shutdown (exit codes; None: killed after 30 s): {unclean}", flush=True)
        if status == 0 and not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"  logs and files kept in {workdir}", flush=True)
    print(line, flush=True)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
