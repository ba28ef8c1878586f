"""Launching training jobs from the browser, and the Models page's lineage, metrics and leaderboard.

A manager opens the launcher from the project header, picks "Train a reward model", sees the form made
from the kind's JSON Schema (snapshot and model selects offering only ready ones), sends a learning rate
the server refuses and reads the refusal at that field, fixes it and lands on the queued job (no worker
runs here). Then the Models page shows seeded versions with their lineage and metrics, and a
leaderboard fitted from an annotator's blind pairwise judgements between two policies."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.datasets.models import Snapshot, SnapshotStatus
from app.db import session_scope
from app.jobs.models import Job
from app.projects.models import ProjectRole
from app.prompts.models import Candidate
from app.registry.models import ModelKind, ModelStatus, ModelVersion
from tests.factories import add_member, add_prompts, auth, make_project, make_user

from .conftest import login, shot


def _version(
    name: str,
    kind: ModelKind,
    status: ModelStatus = ModelStatus.ready,
    *,
    metrics: dict[str, Any] | None = None,
    **lineage: Any,
) -> int:
    with session_scope() as s:
        v = ModelVersion(name=name, kind=kind, status=status, source=name, metrics=metrics or {}, info={}, **lineage)
        s.add(v)
        s.flush()
        return v.id


def _snapshot(project_id: int, name: str, status: SnapshotStatus) -> int:
    with session_scope() as s:
        snap = Snapshot(
            project_id=project_id,
            name=name,
            spec={},
            status=status,
            counts={},
            content_hash="ab" * 32 if status == SnapshotStatus.ready else None,
        )
        s.add(snap)
        s.flush()
        return snap.id


def _launch(server: str, token: str, body: dict[str, Any]) -> int:
    with httpx.Client(base_url=server, headers=auth(token)) as api:
        r = api.post("/api/jobs", json=body)
        assert r.status_code == 201, r.text
        return int(r.json()["id"])


def _judge(server: str, project_id: int, prefer: dict[int, int], versions: list[int]) -> None:
    """An annotator labels every item of the evaluation project: the version in `prefer` (by prompt) wins."""
    uid, token = make_user(username="judge")
    add_member(project_id, uid)
    with session_scope() as s:  # candidate j of each prompt ("Answer i.j") came from versions[j]
        for c in s.scalars(select(Candidate).where(Candidate.project_id == project_id)):
            c.model_version_id = versions[int(c.text.rsplit(".", 1)[1])]
    with httpx.Client(base_url=server, headers=auth(token)) as api:
        while (r := api.post(f"/api/projects/{project_id}/next")).status_code == 200:
            lease = r.json()
            texts = [c["text"] for c in lease["item"]["candidates"]]
            prompt = int(texts[0].split()[1].split(".")[0])
            want = f".{prefer[prompt]}"
            answer = {"choice": "a" if texts[0].endswith(want) else "b", "strength": 2}
            r = api.post(f"/api/assignments/{lease['id']}/label", json={"answer": answer, "time_spent_ms": 4000})
            assert r.status_code == 201, r.text
        assert r.status_code == 204, r.text


def test_manager_launches_a_reward_model_job_and_reads_the_leaderboard(page: Page, server: str) -> None:
    pid = make_project(name="Helpfulness loop", task_kind="pairwise")
    manager_id, manager_token = make_user(username="mia")
    add_member(pid, manager_id, ProjectRole.manager)
    gpt2 = _version("gpt2", ModelKind.base)
    _version("llama-pending", ModelKind.base, ModelStatus.pending)
    ready = _snapshot(pid, "round-1", SnapshotStatus.ready)
    _snapshot(pid, "round-2-wip", SnapshotStatus.building)

    # The launcher, from the project's header.
    login(page, "mia")
    page.goto(f"/projects/{pid}")
    page.get_by_role("link", name="Launch job").click()
    expect(page).to_have_url(re.compile(rf"/projects/{pid}/jobs/new$"))
    kinds = page.get_by_role("group", name="What to run")
    expect(kinds.get_by_role("radio")).to_have_count(5)  # generation, reward model, DPO, PPO, evaluation
    expect(kinds.get_by_role("radio", name="Build a snapshot")).to_have_count(0)  # that is the Snapshots tab's
    shot(page, "30-launch-kinds")

    kinds.get_by_role("radio", name="Train a reward model").check()
    expect(page).to_have_url(re.compile(r"\?kind=reward_model$"))
    form = page.get_by_role("form", name="Launch job: parameters")
    snapshot_select = form.get_by_label("Snapshot", exact=True)
    model_select = form.get_by_label("Base model")
    # Only what is ready: the building snapshot and the pending model are not offered.
    expect(snapshot_select.locator("option")).to_have_text(["Choose…", f"round-1 (#{ready})"])
    expect(model_select.locator("option")).to_have_text(["Choose…", f"gpt2 (base, #{gpt2})"])
    expect(form.get_by_label("Learning rate")).to_have_value("0.00005")
    expect(form.get_by_label("Train LoRA adapters")).to_be_hidden()  # under the collapsed "Advanced"
    shot(page, "31-launch-reward-form")

    snapshot_select.select_option(str(ready))
    model_select.select_option(str(gpt2))
    form.get_by_label("Version name").fill("rm-round-1")
    rate = form.get_by_label("Learning rate")
    rate.fill("0")  # the server wants more than 0: the browser lets it through, the API refuses it
    form.get_by_role("button", name="Launch job").click()
    field = form.locator('[data-param="learning_rate"]')
    expect(field.get_by_text("Input should be greater than 0")).to_be_visible()
    expect(rate).to_have_attribute("aria-invalid", "true")
    expect(rate).to_be_focused()
    expect(page).to_have_url(re.compile(r"/jobs/new\?kind=reward_model$"))  # still here, nothing launched
    shot(page, "32-launch-rejected")

    rate.fill("0.0001")
    expect(field.get_by_text("Input should be greater than 0")).to_have_count(0)
    form.get_by_role("button", name="Launch job").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    job_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_role("heading", name=f"Job #{job_id} · reward_model")).to_be_visible()
    expect(page.get_by_text("queued", exact=True)).to_be_visible()
    shot(page, "33-launched-job")
    with session_scope() as s:
        job = s.get(Job, job_id)
        assert job is not None and job.project_id == pid and job.state == "queued"
        assert job.params["snapshot_id"] == ready and job.params["base_model_version_id"] == gpt2
        assert job.params["learning_rate"] == 0.0001 and job.params["name"] == "rm-round-1"
        assert job.params["early_stopping_patience"] is None and job.params["lora"] is False

    # The Jobs page offers the launcher too, for the projects I manage.
    page.goto("/jobs")
    expect(page.get_by_role("table", name="Jobs").locator(f'a[href="/jobs/{job_id}"]')).to_be_visible()
    expect(page.get_by_label("In project")).to_have_value(str(pid))
    page.get_by_role("button", name="Launch job").click()
    expect(page).to_have_url(re.compile(rf"/projects/{pid}/jobs/new$"))

    # Models: an empty leaderboard says how to fill it.
    page.goto("/models")
    expect(page.get_by_text("No human comparisons between model versions yet.")).to_be_visible()

    # Seed what a loop would have made: a reward model, two PPO policies (one evaluated), and a blind round.
    reward = _version(
        "rm-round-1",
        ModelKind.reward,
        parent_id=gpt2,
        snapshot_id=ready,
        job_id=job_id,
        metrics={"validation_accuracy": 0.72, "test_accuracy": 0.68, f"snapshot_{ready}": {"reward_accuracy": 0.7}},
    )
    ppo_params = {"policy_model_version_id": gpt2, "reward_model_version_id": reward}
    ppo_job = _launch(server, manager_token, {"kind": "ppo", "project_id": pid, "params": ppo_params})
    eval_job = _launch(
        server, manager_token, {"kind": "evaluation", "project_id": pid, "params": {"policy_model_version_id": gpt2}}
    )
    ppo_a = _version("ppo-a", ModelKind.policy, parent_id=gpt2, snapshot_id=ready, job_id=ppo_job)
    ppo_b = _version(
        "ppo-b",
        ModelKind.policy,
        parent_id=ppo_a,
        job_id=ppo_job,
        metrics={
            f"evaluation_job_{eval_job}": {
                "win_rate": 0.625,
                "kl": 0.0421,
                "policy_mean_reward": 1.25,
                "baseline_mean_reward": 0.5,
            }
        },
    )
    round_pid = make_project(name="Human evaluation: ppo-b vs ppo-a", task_kind="pairwise")
    # The evaluation job gives its round the source project's members and roles: Mia manages it too, so
    # its judgements count in her leaderboard (only projects she reviews or manages do).
    add_member(round_pid, manager_id, ProjectRole.manager)
    add_prompts(round_pid, 8, 2)
    _judge(server, round_pid, {i: (1 if i < 6 else 0) for i in range(8)}, [ppo_a, ppo_b])  # ppo-b wins 6 of 8

    page.reload()
    versions = page.get_by_role("table", name="Model versions")
    rm_row = versions.locator(f'tr[data-model-id="{reward}"]')
    expect(rm_row).to_contain_text(re.compile(r"gpt2\s*→.*rm-round-1"))
    expect(rm_row).to_contain_text(re.compile(r"Validation accuracy\s*72\.0%"))
    expect(rm_row).to_contain_text(re.compile(rf"Accuracy on snapshot #{ready}\s*70\.0%"))
    expect(rm_row.get_by_role("link", name=f"round-1 (#{ready})")).to_be_visible()
    expect(rm_row.get_by_role("link", name=f"job #{job_id}")).to_be_visible()
    b_row = versions.locator(f'tr[data-model-id="{ppo_b}"]')
    expect(b_row).to_contain_text(re.compile(r"ppo-a\s*→.*ppo-b"))
    expect(b_row).to_contain_text(re.compile(r"Win rate vs baseline\s*62\.5%"))
    expect(b_row).to_contain_text(re.compile(r"Mean reward\s*1\.25 \(baseline 0\.500\)"))
    expect(b_row.get_by_role("link", name=f"evaluation job #{eval_job}")).to_be_visible()

    board = page.get_by_role("table", name="Leaderboard")
    rows = board.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("ppo-b")
    rating = re.compile(r"^1\d{3} \(\d{3,4}" + "\N{EN DASH}" + r"\d{4}\)$")  # e.g. 1062 (990 to 1120)
    expect(rows.nth(0).locator("td").nth(2)).to_have_text(rating)
    expect(rows.nth(0)).to_contain_text("6 / 2 / 0")
    expect(rows.nth(1)).to_contain_text("ppo-a")
    expect(page.locator(".recharts-errorBar").first).to_be_attached()
    shot(page, "34-models-leaderboard")

    # Only the judgements of one project: Mia's own project has none.
    page.get_by_label("Judgements from").select_option(str(pid))
    expect(page.get_by_text("No human comparisons between model versions yet.")).to_be_visible()
    page.get_by_label("Judgements from").select_option("")
    expect(rows).to_have_count(2)

    # Lineage links lead to the snapshot's project.
    rm_row.get_by_role("link", name=f"round-1 (#{ready})").click()
    expect(page).to_have_url(re.compile(rf"/projects/{pid}/snapshots$"))
    expect(page.get_by_role("link", name="Train a reward model on it")).to_be_visible()
    shot(page, "35-snapshot-train-links")

    # ... and a ready snapshot's "Train a reward model on it" opens the launcher with it chosen.
    page.get_by_role("link", name="Train a reward model on it").click()
    expect(page).to_have_url(re.compile(rf"/projects/{pid}/jobs/new\?kind=reward_model&snapshot_id={ready}$"))
    expect(page.get_by_role("radio", name="Train a reward model")).to_be_checked()
    expect(page.get_by_label("Snapshot", exact=True)).to_have_value(str(ready))

    # PPO: reward models for the reward model, "None" for the optional snapshot, internals under Advanced.
    page.get_by_role("radio", name="Fine-tune with PPO").check()
    form = page.get_by_role("form", name="Launch job: parameters")
    expect(form.get_by_label("Reward model").locator("option")).to_have_text(
        ["Choose…", f"rm-round-1 (reward, #{reward})"]
    )
    expect(form.get_by_label("Snapshot", exact=True).locator("option").first).to_have_text("None")
    form.get_by_text("Advanced").click()
    expect(form.get_by_label("GAE lambda")).to_have_value("0.95")
    expect(form.get_by_label("Whiten rewards")).not_to_be_checked()
    shot(page, "36-launch-ppo-advanced")
