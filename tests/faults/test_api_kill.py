"""kill -9 of the API server under annotation load, then a restart on the same database.

32 annotators loop next → label over real HTTP. When a request dies with the server (connection reset,
refused while it is down), the client sends the SAME request again until the restarted server answers,
as a browser or script with retries would. Afterwards every 2xx submit is one stored label, a retried
submit did not store a second label, no item is over-labelled, the item counters agree with the rows
(transactions cut by the kill left nothing half-applied), and no request was answered with a 5xx.

Runs against SQLite by default and PostgreSQL when PREFLOOP_TEST_DATABASE_URL is set (CI runs both).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select

from app.annotation.models import Assignment, Item, Label
from app.annotation.states import AssignmentState
from app.db import session_scope
from tests.factories import add_member, add_prompts, auth, make_project, make_user
from tests.faults.conftest import RestartableServer

ANNOTATORS = 32
OVERLAP = 2
PROMPTS = 150  # 3 candidates -> 3 pairs per prompt: 450 items, far more than a few seconds of load uses
LABELS_BEFORE_KILL = 40
LABELS_AFTER_RESTART = 40
RETRY_FOR_SECONDS = 180.0


@dataclass
class Submit:
    assignment_id: int
    item_id: int
    label_id: int
    status: int
    choice: str
    transport_errors: int
    """How many times this very submit died with the connection and was sent again."""


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    submits: list[Submit] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    errors: list[str] = field(default_factory=list)

    def answered(self, status: int) -> None:
        with self.lock:
            self.statuses[status] += 1

    def transport_error(self) -> None:
        with self.lock:
            self.transport_errors += 1

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)

    def submitted(self, submit: Submit) -> None:
        with self.lock:
            self.submits.append(submit)

    def count(self) -> int:
        with self.lock:
            return len(self.submits)


def _until_answered(
    client: httpx.Client, url: str, body: dict[str, Any] | None, tally: Tally
) -> tuple[httpx.Response | None, int]:
    """POST until the server answers at all; the same url and body every time. (response, retries)."""
    retries = 0
    deadline = time.monotonic() + RETRY_FOR_SECONDS
    while True:
        try:
            r = client.post(url, json=body) if body is not None else client.post(url)
        except httpx.TransportError as exc:
            tally.transport_error()
            retries += 1
            if time.monotonic() > deadline:
                tally.error(f"{url}: no answer for {RETRY_FOR_SECONDS} s: {exc!r}")
                return None, retries
            time.sleep(0.05)
            continue
        tally.answered(r.status_code)
        return r, retries


def _annotate(base: str, project_id: int, token: str, stop: threading.Event, tally: Tally) -> None:
    rng = random.Random(token)
    with httpx.Client(base_url=base, headers=auth(token), timeout=60) as client:
        while not stop.is_set():
            r, _ = _until_answered(client, f"/api/projects/{project_id}/next", None, tally)
            if r is None:
                return
            if r.status_code == 204:
                return
            if r.status_code != 200:
                tally.error(f"next: {r.status_code} {r.text}")
                return
            assignment = r.json()
            choice = rng.choice(["a", "b", "tie"])
            body = {"answer": {"choice": choice, "strength": 2}}
            # Once leased, the item is always submitted (never abandoned at stop): every stored label
            # must come back to some client as a 2xx.
            r, retries = _until_answered(client, f"/api/assignments/{assignment['id']}/label", body, tally)
            if r is None:
                return
            if r.status_code not in (200, 201):
                tally.error(f"label {assignment['id']} (after {retries} retries): {r.status_code} {r.text}")
                return
            label = r.json()
            tally.submitted(
                Submit(assignment["id"], assignment["item"]["id"], label["id"], r.status_code, choice, retries)
            )


def _wait_for(condition: Callable[[], bool], threads: list[threading.Thread], what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if not any(t.is_alive() for t in threads):
            raise AssertionError(f"every annotator stopped before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_kill_9_of_the_api_under_load_loses_and_duplicates_no_label(restartable_server: RestartableServer) -> None:
    server = restartable_server
    project_id = make_project(task_kind="pairwise", overlap=OVERLAP)
    add_prompts(project_id, n_prompts=PROMPTS, candidates_per_prompt=3)
    tokens = []
    for _ in range(ANNOTATORS):
        uid, token = make_user()
        add_member(project_id, uid)
        tokens.append(token)

    tally = Tally()
    stop = threading.Event()
    threads = [
        threading.Thread(target=_annotate, args=(server.base, project_id, t, stop, tally), daemon=True) for t in tokens
    ]
    for t in threads:
        t.start()
    try:
        _wait_for(lambda: tally.count() >= LABELS_BEFORE_KILL, threads, "labels before the kill")
        server.kill9()
        server.start()
        restarted_at = tally.count()
        _wait_for(lambda: tally.count() >= restarted_at + LABELS_AFTER_RESTART, threads, "labels after the restart")
    finally:
        stop.set()
        for t in threads:
            t.join(RETRY_FOR_SECONDS + 60)
    assert not any(t.is_alive() for t in threads), "an annotator is stuck"
    print(  # shown with -s: what the kill did
        f"labels {len(tally.submits)}, transport errors {tally.transport_errors}, "
        f"retried submits {sum(s.transport_errors > 0 for s in tally.submits)}, "
        f"answered 200 (already stored) {sum(s.status == 200 for s in tally.submits)}, statuses {dict(tally.statuses)}"
    )

    assert tally.errors == [], tally.errors[:5]
    assert [code for code in tally.statuses if code >= 500] == [], tally.statuses
    assert server.starts == 2
    # The kill really cut requests, and some of them were submits that had to be sent again.
    assert tally.transport_errors > 0
    retried = [s for s in tally.submits if s.transport_errors > 0]
    assert retried, "no submit was interrupted by the kill"
    # A 200 is "already stored": only ever the answer to a submit sent again after a lost response.
    assert all(s.transport_errors > 0 for s in tally.submits if s.status == 200)

    with session_scope(write=False) as s:
        labels = s.execute(
            select(Label.id, Label.assignment_id, Label.item_id, Label.user_id, Label.answer).where(
                Label.project_id == project_id
            )
        ).all()
        items = s.execute(
            select(Item.id, Item.overlap, Item.labels_done, Item.open_slots).where(Item.project_id == project_id)
        ).all()
        holding = Counter(
            s.scalars(
                select(Assignment.item_id).where(
                    Assignment.project_id == project_id,
                    Assignment.state.in_([AssignmentState.leased, AssignmentState.submitted]),
                )
            )
        )

    by_id = {row.id: row for row in labels}
    # Every 2xx submit is a stored label, with its assignment, item and answer; each exactly once.
    assert len({sub.label_id for sub in tally.submits}) == len(tally.submits)
    assert len({sub.assignment_id for sub in tally.submits}) == len(tally.submits)
    for sub in tally.submits:
        row = by_id.get(sub.label_id)
        assert row is not None, f"label {sub.label_id} answered {sub.status} but is not stored"
        assert (row.assignment_id, row.item_id, row.answer["choice"]) == (sub.assignment_id, sub.item_id, sub.choice)
    # ...and no label exists that no client was told about (a committed submit whose answer was lost
    # was sent again and answered 200 with that very label).
    assert set(by_id) == {sub.label_id for sub in tally.submits}
    # One label per assignment and per (item, annotator): retries never stored a second one.
    assert max(Counter(row.assignment_id for row in labels).values()) == 1
    assert max(Counter((row.item_id, row.user_id) for row in labels).values()) == 1
    # No item over-labelled; its counters agree with the rows (nothing half-applied by the kill).
    per_item = Counter(row.item_id for row in labels)
    for item in items:
        assert per_item[item.id] <= item.overlap == OVERLAP, item
        assert item.labels_done == per_item[item.id], item
        assert item.open_slots + holding[item.id] == item.overlap, item
