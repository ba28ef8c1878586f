"""The snapshot job on a ranking project (ties, several annotators, many prompts), run in-process, then
exported by ``prefloop export`` as a datasets folder that `datasets` loads as it is."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import httpx
import pyarrow.parquet as pq
from typer.testing import CliRunner

from app.artifacts import store
from app.auth.models import GlobalRole
from app.cli import cli
from app.datasets.service import SNAPSHOT_DIR
from tests.factories import add_member, add_prompts, auth, make_project, make_user
from workers.tasks.snapshots import snapshot as snapshot_task

PROMPTS = 20


def _rank(texts: list[str], ids: list[int], tie_last_two: bool) -> list[list[int]]:
    """Best first by the candidate's number ("Answer i.j": lower j is better); optionally tie the last two."""
    order = [cid for _, cid in sorted(zip(texts, ids, strict=True))]
    return [[order[0]], order[1:]] if tie_last_two else [[c] for c in order]


def test_a_ranking_snapshot_has_every_ordered_pair_split_by_prompt_and_loads_in_datasets(
    app_client: httpx.Client, tmp_path: Path
) -> None:
    client = app_client
    admin_id, admin = make_user(GlobalRole.admin)
    h = auth(admin)
    pid = make_project(task_kind="ranking", candidates_per_item=3, overlap=2, created_by=admin_id)
    add_prompts(pid, PROMPTS, 3)
    for n in range(2):
        uid, token = make_user()
        add_member(pid, uid)
        while (r := client.post(f"/api/projects/{pid}/next", headers=auth(token))).status_code == 200:
            a = r.json()
            texts = [c["text"] for c in a["item"]["candidates"]]
            ids = [c["id"] for c in a["item"]["candidates"]]
            order = _rank(texts, ids, tie_last_two=n == 1)
            assert (
                client.post(
                    f"/api/assignments/{a['id']}/label", json={"answer": {"order": order}}, headers=auth(token)
                ).status_code
                == 201
            )

    body = {"name": "ranked", "spec": {"splits": {"train": 0.6, "validation": 0.2, "test": 0.2}}}
    created = client.post(f"/api/projects/{pid}/snapshots", json=body, headers=h).json()
    snapshot_task(created["job_id"])  # the task body, run here instead of on a worker
    snap = client.get(f"/api/snapshots/{created['id']}", headers=h).json()
    assert snap["status"] == "ready", snap

    # Mean ranks per prompt: .0 -> 1, .1 -> (2 + 2.5) / 2 = 2.25, .2 -> (3 + 2.5) / 2 = 2.75:
    # all 3 ordered pairs are strict, margins 1.25, 1.75 and 0.5.
    table = pq.read_table(store.safe_path(created["job_id"], f"{SNAPSHOT_DIR}/pairs.parquet")).to_pylist()
    assert len(table) == PROMPTS * 3
    margins = {(r["chosen"].split(".")[1], r["rejected"].split(".")[1]): r["margin"] for r in table}
    assert margins == {("0", "1"): 1.25, ("0", "2"): 1.75, ("1", "2"): 0.5}
    splits: dict[int, set[str]] = {}
    for r in table:
        splits.setdefault(r["prompt_id"], set()).add(r["split"])
    assert all(len(s) == 1 for s in splits.values())
    assert {next(iter(s)) for s in splits.values()} == {"train", "validation", "test"}

    out = tmp_path / "ds"
    result = CliRunner().invoke(
        cli,
        [
            "export",
            str(created["id"]),
            "--format",
            "datasets",
            "--layout",
            "preference_conversational",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    loaded = datasets.load_from_disk(str(out))
    assert sum(len(loaded[s]) for s in loaded) == PROMPTS * 3
    row = loaded["train"][0]
    assert row["prompt"][0]["role"] == "user" and row["chosen"][0]["role"] == "assistant"

    jsonl = tmp_path / "train.jsonl"
    result = CliRunner().invoke(
        cli, ["export", str(created["id"]), "--split", "train", "--with-margin", "--out", str(jsonl)]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert len(rows) == snap["counts"]["pairs"]["train"] and all("margin" in r for r in rows)
    bad = CliRunner().invoke(cli, ["export", str(created["id"]), "--layout", "nope", "--out", str(jsonl)])
    assert bad.exit_code == 1 and "layout" in bad.output


def test_a_message_for_another_kind_of_job_does_not_run_it(app_client: httpx.Client) -> None:
    """A stale message (e.g. left in the broker while the database reused the id) must not run a job
    of another kind with the wrong task."""
    _, admin = make_user(GlobalRole.admin)
    job = app_client.post("/api/jobs", json={"kind": "smoke", "params": {"steps": 1}}, headers=auth(admin)).json()
    snapshot_task(job["id"])
    after = app_client.get(f"/api/jobs/{job['id']}", headers=auth(admin)).json()
    assert (after["state"], after["attempts"], after["error"]) == ("queued", 0, None)
