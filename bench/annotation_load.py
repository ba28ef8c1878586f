"""Load-test the annotation queue over real HTTP: N annotators doing next -> label for S seconds.

The benchmark makes everything it needs through the API (a project, N annotator users, a token for
each, their memberships, the items), runs the annotators concurrently, prints a latency table and
then checks the database: no item over-labelled, no (item, annotator) labelled twice, and every 201
the clients received is a stored label. The last line is machine-readable::

    labels_per_s=<x> next_p50_ms=<x> next_p99_ms=<x> submit_p99_ms=<x> errors=<n> over_assigned=<n> duplicate_labels=<n>

Quick start (see bench/README.md)::

    export PREFLOOP_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/bench_x
    .venv/bin/uvicorn app.main:app --port 8000 --workers 2 --no-access-log --log-level warning &
    .venv/bin/python -m bench.annotation_load --url http://127.0.0.1:8000 --bootstrap-db --items 10000

An admin token comes from ``--admin-token`` (make an admin with ``prefloop admin create``, log in and
``POST /api/auth/tokens``) or, with ``--bootstrap-db``, is created directly in the database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import random
import secrets
import sys
import time
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

PASSWORD = "bench-password-123"  # throwaway benchmark users
Mode = Literal["annotate", "healthz"]
OPS = ("next", "submit", "healthz")


# --------------------------------------------------------------------------------------------------
# Results


@dataclass
class WorkerResult:
    """What one load-generating process measured (latencies only for the measured window)."""

    latencies: dict[str, array[float]] = field(default_factory=lambda: {op: array("d") for op in OPS})
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: {op: Counter() for op in OPS})
    """Status codes of every request in the whole run (warm-up included); 0 = transport error."""
    error_samples: list[str] = field(default_factory=list)
    labels: list[tuple[int, int, int]] = field(default_factory=list)
    """(label id, item id, user id) for every 201 received, warm-up included."""
    labels_in_window: int = 0
    finished_annotators: int = 0
    """Annotators that got a 204 (nothing left)."""
    requests_in_window: int = 0
    cpu_seconds: float = 0.0
    pid: int = 0

    def errors(self) -> int:
        bad = 0
        for op, counts in self.statuses.items():
            for code, n in counts.items():
                if code == 204 and op == "next":
                    continue
                if not 200 <= code < 300:
                    bad += n
        return bad

    def merge(self, other: WorkerResult) -> None:
        for op in OPS:
            self.latencies[op].extend(other.latencies[op])
            self.statuses[op].update(other.statuses[op])
        self.error_samples.extend(other.error_samples[: max(0, 20 - len(self.error_samples))])
        self.labels.extend(other.labels)
        self.labels_in_window += other.labels_in_window
        self.finished_annotators += other.finished_annotators
        self.requests_in_window += other.requests_in_window
        self.cpu_seconds += other.cpu_seconds


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (nan when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True, slots=True)
class OpStats:
    count: int
    p50: float
    p90: float
    p99: float
    max: float
    mean: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> OpStats:
        values = sorted(samples)
        if not values:
            return cls(0, math.nan, math.nan, math.nan, math.nan, math.nan)
        return cls(
            len(values),
            percentile(values, 50),
            percentile(values, 90),
            percentile(values, 99),
            values[-1],
            sum(values) / len(values),
        )


# --------------------------------------------------------------------------------------------------
# CPU accounting (Linux /proc, best effort): who burns the machine's cores during the run


def _proc_cpu(client_pids: set[int], database: str) -> dict[int, tuple[str, float]]:
    """CPU seconds so far of every process, by kind.

    The API server is uvicorn and its children; "postgres" is the backends (and autovacuum workers)
    of the benchmark's database - other databases' backends and the shared background processes count
    as "postgres (other)".
    """
    ticks = os.sysconf("SC_CLK_TCK")
    raw: dict[int, tuple[int, str, str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        comm = stat[stat.find("(") + 1 : stat.rfind(")")]
        raw[pid] = (int(fields[1]), comm, cmdline, (int(fields[11]) + int(fields[12])) / ticks)

    def is_server(pid: int) -> bool:
        for _ in range(8):
            if pid not in raw:
                return False
            ppid, _comm, cmdline, _secs = raw[pid]
            if "uvicorn" in cmdline or "gunicorn" in cmdline:
                return True
            pid = ppid
        return False

    out: dict[int, tuple[str, float]] = {}
    for pid, (_ppid, comm, cmdline, seconds) in raw.items():
        if pid in client_pids:
            kind = "load generator"
        elif is_server(pid):
            kind = "api server"
        elif comm.startswith("postgres") or cmdline.startswith("postgres"):
            kind = "postgres" if database and f" {database} " in f"{cmdline} " else "postgres (other)"
        else:
            kind = "other"
        out[pid] = (kind, seconds)
    return out


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies since boot, from /proc/stat."""
    parts = [float(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0.0)
    return sum(parts) - idle, sum(parts)


@dataclass
class CpuWindow:
    client_pids: set[int]
    database: str = ""
    before: dict[int, tuple[str, float]] = field(default_factory=dict)
    machine_before: tuple[float, float] = (0.0, 0.0)
    t0: float = 0.0

    def start(self) -> None:
        if not Path("/proc/stat").exists():
            return
        self.before = _proc_cpu(self.client_pids, self.database)
        self.machine_before = _machine_busy()
        self.t0 = time.perf_counter()

    def stop(self) -> dict[str, float]:
        """Share of one core (100 = one full core) per kind of process, plus the machine's total."""
        if not self.t0:
            return {}
        wall = time.perf_counter() - self.t0
        after = _proc_cpu(self.client_pids, self.database)
        by_kind: dict[str, float] = {}
        for pid, (kind, seconds) in after.items():
            prev = self.before.get(pid)
            by_kind[kind] = by_kind.get(kind, 0.0) + seconds - (prev[1] if prev else 0.0)
        busy, total = _machine_busy()
        ncpu = os.cpu_count() or 1
        shares = {kind: 100 * secs / wall for kind, secs in by_kind.items()}
        dt_total = total - self.machine_before[1]
        shares["machine (all cores)"] = 100 * ncpu * (busy - self.machine_before[0]) / dt_total if dt_total else 0.0
        return shares


# --------------------------------------------------------------------------------------------------
# The simulated annotators (run inside worker processes)


@dataclass(frozen=True, slots=True)
class Annotator:
    user_id: int
    token: str


@dataclass(frozen=True, slots=True)
class LoadPlan:
    url: str
    project_id: int
    kind: str
    mode: Mode
    warmup_s: float
    seconds: float
    timeout_s: float
    use_uvloop: bool
    client: str = "raw"
    wait_when_empty_s: float = 0.0
    """On a 204 (nothing left to label): 0 stops the annotator; > 0 waits this long and asks again (items
    may still be on their way, e.g. from a generation job)."""


def _answer(kind: str, assignment: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    if kind == "pairwise":
        return {"choice": rng.choice(("a", "b", "tie")), "strength": rng.randint(1, 3)}
    if kind == "rating":
        return {"scores": {"overall": rng.randint(1, 5)}}
    ids = [c["id"] for c in assignment["item"]["candidates"]]
    rng.shuffle(ids)
    return {"order": [[c] for c in ids]}


class Recorder:
    def __init__(self, result: WorkerResult, measure_from: float, measure_to: float) -> None:
        self.result = result
        self.measure_from = measure_from
        self.measure_to = measure_to

    def record(self, op: str, started: float, ended: float, status: int, detail: str = "") -> None:
        self.result.statuses[op][status] += 1
        if self.measure_from <= started < self.measure_to:
            self.result.latencies[op].append((ended - started) * 1000)
            self.result.requests_in_window += 1
        bad = not 200 <= status < 300 and not (op == "next" and status == 204)
        if bad and len(self.result.error_samples) < 20:
            self.result.error_samples.append(f"{op} {status} {detail[:300]}")


class TransportError(Exception):
    """The connection failed or timed out (recorded as status 0)."""


class HttpClient:
    """One annotator's keep-alive connection, one request at a time: ``request`` -> (status, body)."""

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class RawHttpClient(HttpClient):
    """A minimal HTTP/1.1 client on asyncio streams.

    httpx costs ~1.3 ms of client CPU per request, which on a 2-core box means the load generator
    eats as much CPU as the server it measures. This speaks just enough HTTP/1.1 for the benchmark
    (Content-Length and chunked bodies, keep-alive, reconnect after a failure) at a fraction of that.
    """

    def __init__(self, url: str, token: str, timeout: float) -> None:
        parts = httpx.URL(url)
        self.host = parts.host
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        if parts.scheme != "http":
            raise SystemExit("--client raw speaks plain http only; use --client httpx for https")
        self.timeout = timeout
        self.head = (
            f"Host: {self.host}:{self.port}\r\nAuthorization: Bearer {token}\r\nUser-Agent: prefloop-bench\r\n"
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self.reader, self.writer

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        try:
            return await asyncio.wait_for(self._request(method, path, body), self.timeout)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
            await self.close()
            raise TransportError(repr(exc)) from exc

    async def _request(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        reader, writer = await self._connect()
        payload = body or b""
        extra = b"Content-Type: application/json\r\n" if body is not None else b""
        writer.write(
            f"{method} {path} HTTP/1.1\r\n".encode()
            + self.head
            + extra
            + f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        chunked = close = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower()
        if chunked:
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            data = b"".join(parts)
        else:
            data = await reader.readexactly(length) if length else b""
        if close:
            await self.close()
        return status, data

    async def close(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class HttpxClient(HttpClient):
    """The same interface over httpx.AsyncClient (heavier on the client's CPU; supports https)."""

    def __init__(self, url: str, token: str, timeout: float) -> None:
        self.client = httpx.AsyncClient(
            base_url=url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"} if body is not None else None
        try:
            r = await self.client.request(method, path, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise TransportError(repr(exc)) from exc
        return r.status_code, r.content

    async def close(self) -> None:
        await self.client.aclose()


def make_client(kind: str, url: str, token: str, timeout: float) -> HttpClient:
    return RawHttpClient(url, token, timeout) if kind == "raw" else HttpxClient(url, token, timeout)


async def _timed(
    client: HttpClient, rec: Recorder, op: str, method: str, path: str, body: bytes | None = None
) -> tuple[int, bytes, float]:
    """One request, recorded; status 0 means a transport error."""
    t0 = time.perf_counter()
    try:
        status, data = await client.request(method, path, body)
    except TransportError as exc:
        t1 = time.perf_counter()
        rec.record(op, t0, t1, 0, str(exc))
        return 0, b"", t1
    t1 = time.perf_counter()
    rec.record(op, t0, t1, status, data.decode(errors="replace") if status >= 300 else "")
    return status, data, t1


async def _annotate(client: HttpClient, plan: LoadPlan, who: Annotator, rec: Recorder, end: float, seed: int) -> None:
    rng = random.Random(seed)
    result = rec.result
    next_path = f"/api/projects/{plan.project_id}/next"
    while time.perf_counter() < end:
        status, data, _ = await _timed(client, rec, "next", "POST", next_path)
        if status == 204:
            if plan.wait_when_empty_s > 0:
                await asyncio.sleep(min(plan.wait_when_empty_s, max(0.0, end - time.perf_counter())))
                continue
            result.finished_annotators += 1
            return
        if status != 200:
            await asyncio.sleep(0.05)
            continue
        assignment = json.loads(data)
        body = json.dumps({"answer": _answer(plan.kind, assignment, rng)}).encode()
        label_path = f"/api/assignments/{assignment['id']}/label"
        for _attempt in range(3):  # a transport failure is retried: the endpoint is idempotent (200)
            status, data, done_at = await _timed(client, rec, "submit", "POST", label_path, body)
            if status != 0:
                break
        if status == 201:
            label = json.loads(data)
            result.labels.append((int(label["id"]), int(label["item_id"]), who.user_id))
            if rec.measure_from <= done_at <= rec.measure_to:
                result.labels_in_window += 1
        elif status != 200:
            await asyncio.sleep(0.05)


async def _healthz(client: HttpClient, rec: Recorder, end: float) -> None:
    while time.perf_counter() < end:
        await _timed(client, rec, "healthz", "GET", "/healthz")


async def _worker_main(
    plan: LoadPlan, annotators: list[Annotator], start_at: Any, ready: Any, go: Any, seed: int
) -> WorkerResult:
    result = WorkerResult(pid=os.getpid())
    clients = [make_client(plan.client, plan.url, a.token, plan.timeout_s) for a in annotators]
    try:
        # Open every keep-alive connection before the clock starts.
        await asyncio.gather(*(c.request("GET", "/healthz") for c in clients))
        ready.put(os.getpid())
        await asyncio.to_thread(go.wait)
        begin = time.perf_counter() + (start_at.value - time.time())
        await asyncio.sleep(max(0.0, begin - time.perf_counter()))
        measure_from = begin + plan.warmup_s
        end = measure_from + plan.seconds
        rec = Recorder(result, measure_from, end)
        cpu0 = time.process_time()
        if plan.mode == "healthz":
            await asyncio.gather(*(_healthz(c, rec, end) for c in clients))
        else:
            await asyncio.gather(
                *(
                    _annotate(c, plan, a, rec, end, seed + i)
                    for i, (c, a) in enumerate(zip(clients, annotators, strict=True))
                )
            )
        result.cpu_seconds = time.process_time() - cpu0
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return result


def _worker_entry(
    plan: LoadPlan, annotators: list[Annotator], start_at: Any, ready: Any, go: Any, results: Any, seed: int
) -> None:
    if plan.use_uvloop:
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            pass
    try:
        result = asyncio.run(_worker_main(plan, annotators, start_at, ready, go, seed))
    except BaseException as exc:
        result = WorkerResult(pid=os.getpid())
        result.error_samples.append(f"worker crashed: {exc!r}")
        result.statuses["next"][-1] += 1
        ready.put(os.getpid())
    results.put(result)


PG_COUNTERS = ("xact_commit", "xact_rollback", "sessions", "blks_hit", "blks_read", "tup_returned", "tup_fetched")


class PgWindow:
    """pg_stat_database counters of the benchmark's database over the measured window (PostgreSQL only)."""

    def __init__(self, database_url: str) -> None:
        self.engine: Any = None
        self.before: dict[str, int] = {}
        if database_url.startswith("postgresql"):
            from sqlalchemy import create_engine

            self.engine = create_engine(database_url, poolclass=None, pool_size=1, max_overflow=0)

    def _read(self) -> dict[str, int]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            row = conn.execute(
                text(f"SELECT {', '.join(PG_COUNTERS)} FROM pg_stat_database WHERE datname = current_database()")
            ).one()
        return {name: int(value or 0) for name, value in zip(PG_COUNTERS, row, strict=True)}

    def start(self) -> None:
        if self.engine is not None:
            self.before = self._read()

    def stop(self) -> dict[str, int]:
        if self.engine is None or not self.before:
            return {}
        time.sleep(1.1)  # backends flush their counters at most once a second
        after = self._read()
        self.engine.dispose()
        return {name: after[name] - self.before[name] for name in PG_COUNTERS}


@dataclass
class LoadOutcome:
    result: WorkerResult
    seconds: float
    cpu: dict[str, float]
    pg: dict[str, int]


def run_load(
    plan: LoadPlan,
    annotators: list[Annotator],
    processes: int,
    seed: int,
    database_url: str = "",
    long_transaction: bool = False,
) -> LoadOutcome:
    """Run the annotators in ``processes`` worker processes and merge what they measured.

    ``long_transaction`` keeps a transaction (with an xid) open in the database for the whole run, as a
    long import or export would: PostgreSQL can then neither vacuum nor mark dead index entries.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    database = (make_url(database_url).database or "") if database_url else ""
    ctx = mp.get_context("spawn")
    processes = max(1, min(processes, len(annotators)))
    start_at = ctx.Value("d", 0.0)
    ready, results = ctx.Queue(), ctx.Queue()
    go = ctx.Event()
    shares = [annotators[i::processes] for i in range(processes)]
    procs = [
        ctx.Process(
            target=_worker_entry,
            args=(plan, share, start_at, ready, go, results, seed + 10_000 * i),
            daemon=True,
        )
        for i, share in enumerate(shares)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    cpu = CpuWindow({p.pid for p in procs if p.pid is not None}, database)
    holder: Any = None
    if long_transaction and database_url:
        holder = create_engine(database_url).connect()
        holder.execute(text("SELECT txid_current()"))
    start_at.value = time.time() + 0.2
    go.set()
    pg = PgWindow(database_url)
    time.sleep(max(0.0, start_at.value + plan.warmup_s - time.time()))
    cpu.start()
    pg.start()
    time.sleep(max(0.0, start_at.value + plan.warmup_s + plan.seconds - time.time()))
    cpu_shares = cpu.stop()
    merged = WorkerResult()
    got = [results.get(timeout=plan.timeout_s * 4 + 120) for _ in procs]
    pg_deltas = pg.stop()
    if holder is not None:
        holder.rollback()
        holder.close()
        holder.engine.dispose()
    for p in procs:
        p.join(timeout=30)
    for r in got:
        merged.merge(r)
    return LoadOutcome(merged, plan.seconds, cpu_shares, pg_deltas)


# --------------------------------------------------------------------------------------------------
# Set-up through the API


def bootstrap_admin(database_url: str) -> str:
    """Create an admin user and an API token directly in the database; returns the token."""
    if database_url:
        os.environ["PREFLOOP_DATABASE_URL"] = database_url
    from app import config, db
    from app.auth import service
    from app.auth.models import GlobalRole
    from app.auth.schemas import UserCreate

    config.get_settings.cache_clear()
    db.get_engine.cache_clear()
    with db.session_scope() as session:
        user = service.create_user(
            session,
            UserCreate(username=f"bench-admin-{secrets.token_hex(4)}", password=PASSWORD, role=GlobalRole.admin),
        )
        _, token = service.create_token(session, user.id, "annotation benchmark")
    db.get_engine().dispose()
    return token


def _check(r: httpx.Response, *expected: int) -> Any:
    if r.status_code not in expected:
        raise SystemExit(f"{r.request.method} {r.request.url.path} -> {r.status_code}: {r.text[:500]}")
    return r.json() if r.content else None


async def _make_annotator(admin: httpx.AsyncClient, url: str, username: str, project_id: int) -> Annotator:
    user = _check(await admin.post("/api/users", json={"username": username, "password": PASSWORD}), 201)
    async with httpx.AsyncClient(base_url=url, timeout=60) as browser:
        me = _check(await browser.post("/api/auth/login", json={"username": username, "password": PASSWORD}), 200)
        created = _check(
            await browser.post(
                "/api/auth/tokens", json={"name": "bench"}, headers={"X-CSRF-Token": me["csrf_token"] or ""}
            ),
            201,
        )
    _check(
        await admin.put(f"/api/projects/{project_id}/members", json={"user_id": user["id"], "role": "annotator"}),
        200,
    )
    return Annotator(int(user["id"]), str(created["token"]))


async def make_annotators(admin: httpx.AsyncClient, url: str, project_id: int, n: int, prefix: str) -> list[Annotator]:
    """``n`` new annotator users (``<prefix>-0000`` ...) of the project, each with an API token."""
    gate = asyncio.Semaphore(4)  # password hashing (argon2) makes user creation and login slow-ish

    async def one(i: int) -> Annotator:
        async with gate:
            return await _make_annotator(admin, url, f"{prefix}-{i:04d}", project_id)

    return list(await asyncio.gather(*(one(i) for i in range(n))))


def _import_rows(n: int, per_prompt: int, text_chars: int) -> bytes:
    from bench.seed_items import candidate_text, prompt_text

    lines = [
        json.dumps(
            {
                "id": f"p{i}",
                "prompt": prompt_text(i, text_chars // 2),
                "candidates": [candidate_text(i, j, text_chars) for j in range(per_prompt)],
            }
        )
        for i in range(n)
    ]
    return ("\n".join(lines) + "\n").encode()


async def _seed_via_api(admin: httpx.AsyncClient, project: dict[str, Any], n: int, text_chars: int) -> bool:
    """Upload a JSONL import and wait until its items exist; False when the endpoint is missing."""
    pid = project["id"]
    data = _import_rows(n, int(project["candidates_per_item"]), text_chars)
    r = await admin.post(
        f"/api/projects/{pid}/imports",
        files={"file": ("bench.jsonl", data, "application/x-ndjson")},
        timeout=3600,
    )
    if r.status_code in (404, 405):
        return False
    _check(r, 200, 201, 202)
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:  # an import may finish in the background
        progress = _check(await admin.get(f"/api/projects/{pid}/progress"), 200)
        if int(progress["items"]) >= n:
            return True
        await asyncio.sleep(1)
    raise SystemExit(f"import did not produce {n} items within an hour")


def _seed_direct(database_url: str, project_id: int, n: int, text_chars: int) -> None:
    if __package__ in (None, ""):
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from sqlalchemy import create_engine

    from bench.seed_items import seed_project

    engine = create_engine(database_url)
    try:
        print(seed_project(engine, project_id, n, text_chars=text_chars).line(), file=sys.stderr)
    finally:
        engine.dispose()


@dataclass(frozen=True, slots=True)
class Setup:
    project_id: int
    annotators: list[Annotator]
    seeded_via: str
    seconds: float
    items: int


async def set_up(args: argparse.Namespace, admin_token: str, database_url: str) -> Setup:
    t0 = time.perf_counter()
    run = secrets.token_hex(3)
    async with httpx.AsyncClient(
        base_url=args.url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=120
    ) as admin:
        me = _check(await admin.get("/api/auth/me"), 200)
        if me["role"] != "admin":
            raise SystemExit(f"--admin-token belongs to {me['username']!r}, who is not an admin")
        if args.project_id:
            project = _check(await admin.get(f"/api/projects/{args.project_id}"), 200)
            if project["task_kind"] != args.kind:
                raise SystemExit(f"project {args.project_id} is a {project['task_kind']} project, not {args.kind}")
        else:
            project = _check(
                await admin.post(
                    "/api/projects",
                    json={
                        "name": f"bench {run} {args.kind} {args.items} items",
                        "task_kind": args.kind,
                        "overlap": args.overlap,
                        "lease_seconds": args.lease_seconds,
                    },
                ),
                201,
            )
        pid = int(project["id"])
        annotators = await make_annotators(admin, args.url, pid, args.annotators, f"bench-{run}")
        seeded_via = "existing project" if args.project_id else ""
        if (
            not seeded_via
            and args.seed in ("api", "auto")
            and not (args.seed == "auto" and args.items > args.api_import_max)
        ):
            if await _seed_via_api(admin, project, args.items, args.text_chars):
                seeded_via = "api"
            elif args.seed == "api":
                raise SystemExit("POST /api/projects/{id}/imports is not there (404/405); use --seed direct")
        if not seeded_via:
            if not database_url:
                raise SystemExit("--seed direct needs --database-url or PREFLOOP_DATABASE_URL")
            await asyncio.to_thread(_seed_direct, database_url, pid, args.items, args.text_chars)
            seeded_via = "direct"
        progress = _check(await admin.get(f"/api/projects/{pid}/progress"), 200)
        if int(progress["items"]) != args.items:
            print(f"warning: project has {progress['items']} items, expected {args.items}", file=sys.stderr)
    return Setup(pid, annotators, seeded_via, time.perf_counter() - t0, int(progress["items"]))


def prepare_database(database_url: str, mode: str) -> str:
    """VACUUM ANALYZE the queue tables (PostgreSQL); returns a note on autovacuum for the report."""
    if not database_url.startswith("postgresql"):
        return ""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            autovacuum = conn.execute(text("SHOW autovacuum")).scalar_one()
            if mode != "none":
                options = "ANALYZE, INDEX_CLEANUP ON" if mode == "index-cleanup" else "ANALYZE"
                conn.execute(text(f"VACUUM ({options}) items, assignments, labels, api_tokens"))
    finally:
        engine.dispose()
    note = f"autovacuum={autovacuum}, pre-run vacuum={mode}"
    if autovacuum != "on":
        note += " (autovacuum is off on this server: dead rows pile up between runs unless vacuumed)"
    return note


# --------------------------------------------------------------------------------------------------
# Verification in the database


@dataclass(frozen=True, slots=True)
class Integrity:
    over_assigned: int
    """Items with more labels than their overlap."""
    duplicate_labels: int
    """(item, user) pairs with more than one label."""
    acked_missing: int
    """201s received whose label is not stored (or is stored for another item or user)."""
    unacknowledged: int
    """Stored labels no client saw a 201 for (e.g. a response lost to a timeout)."""
    over_leased: int
    """Items with more live leases + labels than their overlap."""
    counter_drift: int
    """Items whose labels_done or open_slots disagree with the labels and live leases."""
    labels_stored: int


def verify(database_url: str, project_id: int, acked: list[tuple[int, int, int]], user_ids: set[int]) -> Integrity:
    """Check the project's labels; ``user_ids`` are this run's annotators (a reused project has older labels)."""
    from datetime import UTC, datetime

    from sqlalchemy import bindparam, create_engine, text

    from app.db import UTCDateTime

    engine = create_engine(database_url)
    p = {"p": project_id}
    try:
        with engine.connect() as conn:
            over = conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT item_id, count(*) AS n FROM labels WHERE project_id = :p "
                    "AND NOT is_gold GROUP BY item_id) l JOIN items i ON i.id = l.item_id WHERE l.n > i.overlap"
                ),
                p,
            ).scalar_one()
            dup = conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT 1 FROM labels WHERE project_id = :p "
                    "GROUP BY item_id, user_id HAVING count(*) > 1) d"
                ),
                p,
            ).scalar_one()
            # SQLite has no now(): compare with the client's clock, bound the way the app stores times.
            live = text(
                "SELECT count(*) FROM (SELECT item_id, count(*) AS n FROM assignments WHERE project_id = :p "
                "AND NOT is_gold AND (state = 'submitted' OR (state = 'leased' AND expires_at > "
                + ("now()" if conn.dialect.name == "postgresql" else ":now")
                + ")) GROUP BY item_id) a JOIN items i ON i.id = a.item_id WHERE a.n > i.overlap"
            )
            if conn.dialect.name != "postgresql":
                live = live.bindparams(bindparam("now", datetime.now(UTC), type_=UTCDateTime()))
            over_leased = conn.execute(live, p).scalar_one()
            drift = conn.execute(
                text(
                    "SELECT count(*) FROM items i "
                    "LEFT JOIN (SELECT item_id, count(*) AS n FROM labels WHERE project_id = :p GROUP BY item_id) l "
                    "  ON l.item_id = i.id "
                    "LEFT JOIN (SELECT item_id, count(*) AS n FROM assignments WHERE project_id = :p "
                    "  AND state = 'leased' GROUP BY item_id) a ON a.item_id = i.id "
                    "WHERE i.project_id = :p AND NOT i.is_gold AND (i.labels_done <> coalesce(l.n, 0) "
                    "  OR i.open_slots <> i.overlap - i.labels_done - coalesce(a.n, 0))"
                ),
                p,
            ).scalar_one()
            stored = {
                int(r[0]): (int(r[1]), int(r[2]))
                for r in conn.execute(text("SELECT id, item_id, user_id FROM labels WHERE project_id = :p"), p)
            }
    finally:
        engine.dispose()
    acked_ids = {a[0] for a in acked}
    missing = sum(1 for lid, item, user in acked if stored.get(lid) != (item, user))
    missing += len(acked) - len(acked_ids)  # the same label id acknowledged twice as "created"
    return Integrity(
        over_assigned=int(over),
        duplicate_labels=int(dup),
        acked_missing=missing,
        unacknowledged=sum(1 for lid, (_, user) in stored.items() if user in user_ids and lid not in acked_ids),
        over_leased=int(over_leased),
        counter_drift=int(drift),
        labels_stored=len(stored),
    )


# --------------------------------------------------------------------------------------------------
# Report


def _fmt(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.1f}"


def print_table(title: str, result: WorkerResult, seconds: float, ops: Sequence[str]) -> dict[str, OpStats]:
    stats = {op: OpStats.of(result.latencies[op]) for op in ops}
    print(f"\n{title}")
    print(f"  {'op':<8} {'count':>8} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'mean ms':>8} {'errors':>7}  statuses (whole run)")  # fmt: skip
    for op in ops:
        s = stats[op]
        codes = result.statuses[op]
        errs = sum(n for c, n in codes.items() if not 200 <= c < 300 and not (op == "next" and c == 204))
        shown = " ".join(f"{c if c else 'conn-err'}:{n}" for c, n in sorted(codes.items()))
        print(
            f"  {op:<8} {s.count:>8} {s.count / seconds:>8.1f} {_fmt(s.p50):>8} {_fmt(s.p90):>8} {_fmt(s.p99):>8} "
            f"{_fmt(s.max):>8} {_fmt(s.mean):>8} {errs:>7}  {shown}"
        )
    return stats


def _print_cpu(shares: dict[str, float], result: WorkerResult, seconds: float) -> None:
    if not shares:
        return
    ncpu = os.cpu_count() or 1
    parts = ", ".join(f"{k} {v:.0f}%" for k, v in sorted(shares.items(), key=lambda kv: -kv[1]))
    print(f"  cpu (100% = one core, {ncpu} cores): {parts}")
    if result.requests_in_window:
        per_req = 1000 * result.cpu_seconds / result.requests_in_window
        cap = result.requests_in_window / result.cpu_seconds if result.cpu_seconds else math.inf
        print(
            f"  load generator: {per_req:.2f} ms CPU per request -> ~{cap:,.0f} req/s per core it can push "
            f"(pushed {result.requests_in_window / seconds:,.0f} req/s)"
        )


# --------------------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="See bench/README.md for the full procedure.",
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="A running Prefloop server.")
    parser.add_argument(
        "--admin-token",
        default=os.environ.get("PREFLOOP_ADMIN_TOKEN", ""),
        help="An admin's API token (`prefloop admin create`, log in, POST /api/auth/tokens). "
        "Env: PREFLOOP_ADMIN_TOKEN.",
    )
    parser.add_argument(
        "--bootstrap-db",
        action="store_true",
        help="Create a throwaway admin and token directly in the database (needs the database URL).",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("PREFLOOP_DATABASE_URL", ""),
        help="The server's database, for --bootstrap-db, --seed direct and the final checks. "
        "Env: PREFLOOP_DATABASE_URL.",
    )
    parser.add_argument("--annotators", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0, help="Measured window.")
    parser.add_argument("--warmup", type=float, default=2.0, help="Load before the measured window (not counted).")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--overlap", type=int, default=3)
    parser.add_argument(
        "--project-id",
        type=int,
        default=0,
        help="Reuse this project and its items (e.g. a 1M-item one seeded before) instead of making one; "
        "fresh annotators are still created.",
    )
    parser.add_argument("--kind", choices=["pairwise", "rating", "ranking"], default="pairwise")
    parser.add_argument("--lease-seconds", type=int, default=900)
    parser.add_argument(
        "--seed",
        choices=["auto", "api", "direct"],
        default="auto",
        help="How items get in: the import endpoint (api), straight into PostgreSQL with COPY (direct; "
        "bench/seed_items.py), or auto: api up to --api-import-max items when the endpoint exists, else direct.",
    )
    parser.add_argument("--api-import-max", type=int, default=100_000)
    parser.add_argument("--text-chars", type=int, default=200, help="Length of each candidate's text.")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="Load-generating processes; the annotators are split between them.",
    )
    parser.add_argument("--calibrate", type=float, default=5.0, help="Seconds of GET /healthz first (0: skip).")
    parser.add_argument(
        "--long-transaction",
        action="store_true",
        help="Hold a transaction open in the database during the run (as a long import or pg_dump would).",
    )
    parser.add_argument(
        "--vacuum",
        choices=["auto", "index-cleanup", "none"],
        default="auto",
        help="Before the run: VACUUM ANALYZE the queue tables as autovacuum would (auto), also forcing index "
        "cleanup (index-cleanup), or leave them (none). Matters where autovacuum is off or behind.",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="Per-request timeout, seconds.")
    parser.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="HTTP client of the simulated annotators: a lean HTTP/1.1 client on asyncio (raw, default) or httpx.",
    )
    parser.add_argument("--no-uvloop", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="Also write the results here.")
    parser.add_argument("--random-seed", type=int, default=12345)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if __package__ in (None, ""):  # run as a script: make `bench` importable for the worker processes
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    database_url: str = args.database_url
    if not database_url:
        raise SystemExit("the final checks read the database: give --database-url or set PREFLOOP_DATABASE_URL")
    token: str = args.admin_token
    if args.bootstrap_db and not token:
        token = bootstrap_admin(database_url)
    if not token:
        raise SystemExit("give --admin-token (or PREFLOOP_ADMIN_TOKEN), or --bootstrap-db")

    setup = asyncio.run(set_up(args, token, database_url))
    print(
        f"set-up: project {setup.project_id}, {len(setup.annotators)} annotators, {setup.items} {args.kind} items "
        f"(overlap {args.overlap}) seeded via {setup.seeded_via} in {setup.seconds:.1f}s",
        file=sys.stderr,
    )
    common = {
        "url": args.url,
        "project_id": setup.project_id,
        "kind": args.kind,
        "timeout_s": args.timeout,
        "use_uvloop": not args.no_uvloop,
        "client": args.client,
    }
    report: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items() if k != "admin_token"}}

    if args.calibrate > 0:
        plan = LoadPlan(mode="healthz", warmup_s=0.5, seconds=args.calibrate, **common)
        outcome = run_load(plan, setup.annotators, args.processes, args.random_seed, database_url)
        cal, secs, cpu = outcome.result, outcome.seconds, outcome.cpu
        cal_stats = print_table(
            f"Load-generator calibration: {len(setup.annotators)} clients x GET /healthz, "
            f"{args.processes} process(es), {secs:.0f}s",
            cal,
            secs,
            ["healthz"],
        )
        _print_cpu(cpu, cal, secs)
        report["calibration"] = {
            "req_per_s": cal_stats["healthz"].count / secs,
            "p50_ms": cal_stats["healthz"].p50,
            "p99_ms": cal_stats["healthz"].p99,
            "errors": cal.errors(),
            "cpu": cpu,
            "client_cpu_ms_per_request": 1000 * cal.cpu_seconds / max(1, cal.requests_in_window),
        }

    vacuum_note = prepare_database(database_url, args.vacuum)
    if vacuum_note:
        print(f"\n{vacuum_note}")
    report["database"] = vacuum_note
    plan = LoadPlan(mode="annotate", warmup_s=args.warmup, seconds=args.seconds, **common)
    outcome = run_load(plan, setup.annotators, args.processes, args.random_seed, database_url, args.long_transaction)
    res, secs, cpu = outcome.result, outcome.seconds, outcome.cpu
    stats = print_table(
        f"Annotation: {len(setup.annotators)} annotators x (next -> label), {args.processes} process(es), "
        f"{secs:.0f}s measured after {args.warmup:.0f}s warm-up"
        + (", a long transaction held open" if args.long_transaction else ""),
        res,
        secs,
        ["next", "submit"],
    )
    labels_per_s = res.labels_in_window / secs
    print(
        f"  labels: {res.labels_in_window} in the window = {labels_per_s:.1f} labels/s; "
        f"{len(res.labels)} in the whole run; annotators that ran out of items (204): {res.finished_annotators}"
    )
    _print_cpu(cpu, res, secs)
    if res.labels_in_window and cpu:
        per_label = {k: 10 * v * secs / res.labels_in_window for k, v in cpu.items() if k != "machine (all cores)"}
        print(
            "  cpu per label (ms, next + submit): "
            + ", ".join(f"{k} {v:.1f}" for k, v in sorted(per_label.items(), key=lambda kv: -kv[1]))
        )
    if outcome.pg and res.labels_in_window:
        pg, n = outcome.pg, res.labels_in_window
        print(
            f"  postgres per label: {pg['xact_commit'] / n:.1f} commits, {pg['xact_rollback'] / n:.1f} rollbacks, "
            f"{pg['blks_hit'] / n:,.0f} buffer hits, {pg['blks_read'] / n:.1f} reads, "
            f"{pg['tup_returned'] / n:,.0f} tuples scanned; new connections: {pg['sessions'] / secs:.1f}/s"
        )
    for sample in res.error_samples[:10]:
        print(f"  error: {sample}")

    integrity = verify(database_url, setup.project_id, res.labels, {a.user_id for a in setup.annotators})
    print(
        f"\nIntegrity (database): labels in the project {integrity.labels_stored}, over-assigned items "
        f"{integrity.over_assigned}, duplicate (item, user) labels {integrity.duplicate_labels}, "
        f"201s without a stored label {integrity.acked_missing}, stored labels without a 201 "
        f"{integrity.unacknowledged}, items with leases+labels > overlap {integrity.over_leased}, "
        f"items whose counters drifted {integrity.counter_drift}"
    )
    errors = res.errors()
    report.update(
        {
            "project_id": setup.project_id,
            "seeded_via": setup.seeded_via,
            "labels_per_s": labels_per_s,
            "ops": {op: vars_of(stats[op]) for op in ("next", "submit")},
            "statuses": {op: dict(res.statuses[op]) for op in ("next", "submit")},
            "errors": errors,
            "error_samples": res.error_samples,
            "cpu": cpu,
            "postgres_window": outcome.pg,
            "client_cpu_ms_per_request": 1000 * res.cpu_seconds / max(1, res.requests_in_window),
            "integrity": vars_of(integrity),
        }
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    print(
        f"labels_per_s={labels_per_s:.1f} next_p50_ms={stats['next'].p50:.2f} next_p99_ms={stats['next'].p99:.2f} "
        f"submit_p99_ms={stats['submit'].p99:.2f} errors={errors} over_assigned={integrity.over_assigned} "
        f"duplicate_labels={integrity.duplicate_labels}",
        flush=True,
    )
    bad = errors or integrity.over_assigned or integrity.duplicate_labels or integrity.acked_missing
    return 1 if bad else 0


def vars_of(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


if __name__ == "__main__":
    raise SystemExit(main())
