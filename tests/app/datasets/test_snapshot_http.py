"""From real labels to a snapshot over REST, built by a real worker: the exact pairs, the quality
numbers, review and gold, reproducible hashes, and exports.

Seven prompts, two candidates each ("Answer i.0" / "Answer i.1"), three annotators, overlap 3:
annotators 1 and 2 always prefer i.0 (strength 2); annotator 3 prefers i.1 on prompts 0-2, says
tie on prompt 5 and agrees otherwise. Prompt 6's item is gold (i.0 preferred, strength 3).
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Callable
from typing import Any

import httpx
import pyarrow.parquet as pq

from app.auth.models import GlobalRole
from app.projects.models import ProjectRole
from tests.factories import add_member, add_prompts, auth, make_project, make_user

PROMPTS = 7


def _prefers(user: int, prompt: int) -> str:
    """Which candidate suffix (".0" / ".1") or "tie" this annotator picks for prompt i."""
    if user == 3 and prompt < 3:
        return ".1"
    if user == 3 and prompt == 5:
        return "tie"
    return ".0"


def _label_everything(client: httpx.Client, token: str, user: int, pid: int) -> int:
    n = 0
    while True:
        r = client.post(f"/api/projects/{pid}/next", headers=auth(token))
        if r.status_code == 204:
            return n
        a = r.json()
        texts = [c["text"] for c in a["item"]["candidates"]]
        prompt = int(texts[0].split()[1].split(".")[0])
        want = _prefers(user, prompt)
        if want == "tie":
            answer = {"choice": "tie"}
        else:
            answer = {"choice": "a" if texts[0].endswith(want) else "b", "strength": 2}
        r = client.post(
            f"/api/assignments/{a['id']}/label", json={"answer": answer, "time_spent_ms": 4000}, headers=auth(token)
        )
        assert r.status_code == 201, r.text
        n += 1


def _wait_snapshot(client: httpx.Client, h: dict[str, str], sid: int, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        snap = client.get(f"/api/snapshots/{sid}", headers=h).json()
        if snap["status"] != "building":
            return snap
        assert time.monotonic() < deadline, snap
        time.sleep(0.2)


def _items_by_prompt(client: httpx.Client, h: dict[str, str], pid: int) -> dict[int, dict[str, Any]]:
    items = client.get(f"/api/projects/{pid}/items", headers=h).json()["items"]
    out = {}
    for it in items:
        review = client.get(f"/api/projects/{pid}/review/items/{it['id']}", headers=h).json()
        prompt = int(review["candidates"][0]["text"].split()[1].split(".")[0])
        out[prompt] = {**it, "texts": [c["text"] for c in review["candidates"]]}
    return out


def _jsonl(client: httpx.Client, h: dict[str, str], sid: int, **params: Any) -> list[dict[str, Any]]:
    r = client.get(f"/api/snapshots/{sid}/export", params=params, headers=h)
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.text.splitlines()]


def test_labels_become_the_exact_pairs_quality_numbers_and_reproducible_snapshots(
    app_client: httpx.Client, start_worker: Callable[..., Any]
) -> None:
    client = app_client
    admin_id, admin = make_user(GlobalRole.admin)
    h = auth(admin)
    pid = make_project(task_kind="pairwise", overlap=3, gold_ratio=0.5, created_by=admin_id)
    add_prompts(pid, PROMPTS, 2)
    annotators = [make_user() for _ in range(3)]
    for uid, _ in annotators:
        add_member(pid, uid)
    reviewer_id, reviewer = make_user()
    add_member(pid, reviewer_id, ProjectRole.reviewer)

    items = _items_by_prompt(client, h, pid)
    gold_item = items[6]
    gold_choice = "a" if gold_item["texts"][0].endswith(".0") else "b"
    r = client.put(
        f"/api/projects/{pid}/items/{gold_item['id']}/gold",
        json={"answer": {"choice": gold_choice, "strength": 3}},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["is_gold"], r.text
    bad = client.put(f"/api/projects/{pid}/items/{items[0]['id']}/gold", json={"answer": {"choice": "c"}}, headers=h)
    assert bad.status_code == 422 and bad.json()["field"].startswith("answer.choice")

    for n, (_, token) in enumerate(annotators, start=1):
        # 6 normal items each, plus the gold item (served at the gold ratio while it lasts).
        assert _label_everything(client, token, n, pid) == 7

    # Quality: per item, agreeing pairs out of 3: prompts 0-2 -> 1, 3-4 -> 3, 5 -> 1: (3 + 6 + 1) / 18.
    report = client.get(f"/api/projects/{pid}/quality", headers=auth(reviewer)).json()
    by_name = {m["name"]: m for m in report["metrics"]}
    assert report["items_with_overlap"] == 6 and report["gold_items"] == 1
    assert abs(by_name["percent_agreement"]["value"] - 10 / 18) < 1e-9
    assert by_name["fleiss_kappa"]["value"] is not None and by_name["krippendorff_alpha"]["value"] is not None
    assert sum(report["agreement_histogram"]) == 6 and report["timeline"][0]["labels"] == 21

    # Annotators: share of the others choosing the same, per item. Annotator 1: prompts 0-2 -> 1/2,
    # 3-4 -> 1, 5 -> 1/2: 4/6. Annotator 3: 0, 0, 0, 1, 1, 0: 2/6. Gold (prompt 6): everyone right.
    table = {row["user_id"]: row for row in client.get(f"/api/projects/{pid}/quality/annotators", headers=h).json()}
    a1, a3 = table[annotators[0][0]], table[annotators[2][0]]
    assert abs(a1["consensus_agreement"] - 4 / 6) < 1e-9 and abs(a3["consensus_agreement"] - 2 / 6) < 1e-9
    assert a1["gold_accuracy"] == 1.0 and a1["gold_items"] == 1 and a1["reliability_weight"] > a3["reliability_weight"]
    assert client.get(f"/api/projects/{pid}/quality/annotators", headers=auth(reviewer)).status_code == 403
    assert client.get(f"/api/projects/{pid}/quality", headers=auth(annotators[0][1])).status_code == 403

    # Review: the disagreements are prompts 0, 1, 2 and 5; the reviewer decides prompt 0 for i.1 (strength 1).
    queue = client.get(f"/api/projects/{pid}/quality/items", params={"max_agreement": 0.5}, headers=auth(reviewer))
    assert sorted(i["item_id"] for i in queue.json()["items"]) == sorted(items[p]["id"] for p in (0, 1, 2, 5))
    detail = client.get(f"/api/projects/{pid}/review/items/{items[0]['id']}", headers=auth(reviewer)).json()
    assert len(detail["labels"]) == 3 and abs(detail["agreement"] - 1 / 3) < 1e-9
    flip = "b" if items[0]["texts"][0].endswith(".0") else "a"
    r = client.put(
        f"/api/projects/{pid}/items/{items[0]['id']}/adjudication",
        json={"answer": {"choice": flip, "strength": 1}, "note": "i.1 is right"},
        headers=auth(reviewer),
    )
    assert r.status_code == 200, r.text

    start_worker()
    spec = {"splits": {"train": 0.5, "validation": 0.25, "test": 0.25}, "seed": 7}
    created = client.post(f"/api/projects/{pid}/snapshots", json={"name": "round 1", "spec": spec}, headers=h)
    assert created.status_code == 201, created.text
    snap = _wait_snapshot(client, h, created.json()["id"])
    assert snap["status"] == "ready", snap

    # Majority, ties dropped: prompt 0 adjudicated (i.1 > i.0, margin 1); 1-2: i.0 by 2/3 x 2 = 4/3;
    # 3-4: i.0 unanimous, margin 2; 5: a, a, tie -> i.0 by 2/3 x 2; gold prompt 6 left out.
    rows = _jsonl(client, h, snap["id"], layout="pairs", format="jsonl")
    got = {(r["chosen"], r["rejected"]): (round(r["margin"], 6), r["adjudicated"], r["n_annotators"]) for r in rows}
    expected = {("Answer 0.1", "Answer 0.0"): (1.0, True, 3)}
    expected |= {(f"Answer {i}.0", f"Answer {i}.1"): (round(4 / 3, 6), False, 3) for i in (1, 2, 5)}
    expected |= {(f"Answer {i}.0", f"Answer {i}.1"): (2.0, False, 3) for i in (3, 4)}
    assert got == expected
    assert sum(snap["counts"]["pairs"].values()) == 6 and sum(snap["counts"]["raw"].values()) == 21
    splits: dict[int, set[str]] = {}
    for r in rows:
        splits.setdefault(r["prompt_id"], set()).add(r["split"])
    assert all(len(s) == 1 for s in splits.values())

    # TRL's standard format, per split, with margins; a manifest that tells what it is.
    train = _jsonl(client, h, snap["id"], layout="preference", format="jsonl", split="train", with_margin="true")
    assert all(set(r) == {"prompt", "chosen", "rejected", "margin"} for r in train)
    assert len(train) == snap["counts"]["pairs"]["train"]
    manifest = client.get(f"/api/snapshots/{snap['id']}/manifest", headers=h).json()
    assert manifest["hash"] == snap["content_hash"] and manifest["counts"] == snap["counts"]

    # Same spec, same labels: same hash. A different spec: a different one.
    again = _wait_snapshot(
        client,
        h,
        client.post(f"/api/projects/{pid}/snapshots", json={"name": "again", "spec": spec}, headers=h).json()["id"],
    )
    assert again["content_hash"] == snap["content_hash"]
    ties = _wait_snapshot(
        client,
        h,
        client.post(
            f"/api/projects/{pid}/snapshots", json={"name": "ties", "spec": {**spec, "ties": "keep"}}, headers=h
        ).json()["id"],
    )
    assert ties["content_hash"] != snap["content_hash"]

    # Parquet and a datasets folder (as a tar) come out too.
    pq_bytes = client.get(f"/api/snapshots/{snap['id']}/export", params={"format": "parquet"}, headers=h).content
    assert pq.read_table(io.BytesIO(pq_bytes)).num_rows == 6
    tar_bytes = client.get(f"/api/snapshots/{snap['id']}/export", params={"format": "datasets"}, headers=h).content
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        assert any(name.endswith("dataset_dict.json") for name in tar.getnames())

    # Annotators cannot read snapshots (their members get 403); a bad layout is a clear 422.
    assert client.get(f"/api/snapshots/{snap['id']}", headers=auth(annotators[0][1])).status_code == 403
    bad_layout = client.get(f"/api/snapshots/{snap['id']}/export", params={"layout": "nope"}, headers=h)
    assert bad_layout.status_code == 422 and bad_layout.json()["field"] == "layout"


def test_pausing_an_annotator_keeps_their_labels_out_of_snapshots(
    app_client: httpx.Client, start_worker: Callable[..., Any]
) -> None:
    client = app_client
    admin_id, admin = make_user(GlobalRole.admin)
    h = auth(admin)
    pid = make_project(task_kind="pairwise", overlap=2, created_by=admin_id)
    add_prompts(pid, 3, 2)
    (u1, t1), (u2, t2) = make_user(), make_user()
    for uid in (u1, u2):
        add_member(pid, uid)
    _label_everything(client, t1, 1, pid)
    _label_everything(client, t2, 3, pid)  # prefers i.1 on all three prompts
    r = client.put(f"/api/projects/{pid}/members", json={"user_id": u2, "role": "annotator", "paused": True}, headers=h)
    assert r.status_code == 200, r.text
    start_worker()
    sid = client.post(
        f"/api/projects/{pid}/snapshots", json={"name": "no u2", "spec": {"aggregation": "none"}}, headers=h
    ).json()["id"]
    snap = _wait_snapshot(client, h, sid)
    rows = _jsonl(client, h, sid, layout="pairs")
    assert {r["annotator_id"] for r in rows} == {u1} and len(rows) == 3
    assert sum(snap["counts"]["raw"].values()) == 3
