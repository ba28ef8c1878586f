"""End to end: human labels make the policy measurably better.

Everything goes through the HTTP API of a real server (``live_server``: uvicorn on the test database)
and a real Celery worker (``start_worker``). The only shortcuts are the first admin (``make_user``) and
building the tiny base model (no model hub here). Three simulated annotators judge pairs by a hidden
rule: prefer the response with a polite word (please / thank you / thanks), "tie" when both or
neither have one, and 15% of their answers are flipped.

The loop: register the base model -> generate K candidates per prompt -> label (overlap 3) ->
snapshot (majority, ties dropped, split by prompt) -> reward model -> PPO -> evaluation job (reward
accuracy, KL, win rate, and a blind human round that feeds the leaderboard). Then the base and the
PPO policy sample the held-out prompts in a fresh project, and we count rule-following samples.

Run with ``-s`` to see the measured numbers. The default variant is sized for two slow shared CPU
cores (~3 minutes); ``slow`` has more prompts and episodes; ``gpu`` adds a bigger tiny model.
``PREFLOOP_RLHF_SEED=n`` runs another seed.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import torch

from app.auth.models import GlobalRole
from tests.factories import PASSWORD, auth, make_user
from workers.ml.tiny import TinyModelConfig, build_tiny_model

# The hidden rule (the same words as tests/workers/ml/test_tiny.py counts in the corpus: ~16% of answers).
POLITE = re.compile(r"\b(please|thank you|thanks)\b", re.IGNORECASE)

SITUATIONS = [
    "asks when their order will arrive",
    "wants to return a broken kettle",
    "asks how to reset a password",
    "complains that the delivery was late",
    "asks if the shop is open on Sunday",
    "wants a refund for a cancelled trip",
    "asks which size to choose",
    "reports a billing mistake",
    "asks for a recipe recommendation",
    "cannot log in to the app",
    "asks how long the battery lasts",
    "wants to change the delivery address",
    "asks about the warranty",
    "found a scratch on a new table",
    "asks for a discount",
    "wants to cancel a subscription",
    "asks how to water a new plant",
    "asks whether the jacket is waterproof",
    "is unhappy with a haircut",
    "asks for help choosing a gift",
    "asks how to clean a wool sweater",
    "lost the receipt",
    "asks about train times",
    "wants to book a table for six",
    "asks if the cake has nuts",
    "wants to upgrade their phone plan",
    "asks how to pay by card",
    "received the wrong colour",
    "asks when the gym opens",
    "wants to pause a membership",
    "asks for a copy of the invoice",
    "says the app keeps crashing",
    "asks how to track a parcel",
    "wants to swap a seat on a flight",
    "asks about parking near the shop",
    "forgot their account name",
    "asks if pets are allowed",
    "wants to add a gift note",
    "asks how to assemble a shelf",
    "says the soup was cold",
    "asks for a quiet room",
    "wants to know the return policy",
    "asks about a missing button",
    "asks how to reach support by phone",
    "wants a bigger box",
    "asks if the tour runs in the rain",
    "asks how to print a ticket",
    "wants to split a bill",
    "asks whether the bike comes with lights",
    "wants to change a password",
    "asks how fresh the bread is",
    "was charged twice",
    "asks how to store fresh pasta",
    "wants to move a doctor's appointment",
    "asks if the hotel has a pool",
    "says the printer will not connect",
    "asks how to renew a library book",
    "wants to order a birthday cake",
    "asks whether the course is for beginners",
    "says a coupon did not work",
    "asks how to set up the router",
    "wants to know the delivery cost",
    "asks for vegetarian options",
    "says the headphones stopped working",
    "asks how long the paint takes to dry",
    "wants to report a lost card",
    "asks if they can bring a friend",
    "asks how to make the coffee stronger",
    "says the package arrived damaged",
    "asks about opening hours on holidays",
    "wants to learn to cook rice",
    "asks whether the shoes run small",
    "wants an earlier check-in",
    "asks how to recycle old batteries",
    "says the train was cancelled",
    "asks if the museum has a cafe",
    "wants to transfer a ticket",
    "asks how to keep herbs fresh",
    "says the screen is too dark",
    "asks about student prices",
]


TEMPLATES = [
    "Write a short reply to a customer who {}.",
    "Write a short answer to a customer who {}.",
    "Write a kind note to a customer who {}.",
]


def prompt_texts(count: int) -> list[str]:
    """``count`` distinct chat prompts: every situation in the first template, then the next template."""
    texts = [t.format(s) for t in TEMPLATES for s in SITUATIONS]
    assert count <= len(texts), f"only {len(texts)} distinct prompts"
    return texts[:count]


@dataclass(frozen=True)
class LoopConfig:
    """One size of the loop. A rate is the share of sampled responses that contain a polite word."""

    name: str
    tiny: TinyModelConfig
    train_prompts: int
    test_prompts: int  # held out: test-split pairs for the reward model, prompts for the policy measurement
    # K candidates per prompt, cut into K/2 disjoint pairs (grouping "disjoint"): per label this gives the
    # most distinct responses, which is what the reward model needs most.
    k: int = 16
    # Short answers: the polite word is mostly in the first few tokens, and the reward model learns the rule
    # from far fewer pairs when there is less noise text around it (24 tokens: ~0.85 held-out accuracy).
    max_new_tokens: int = 12
    temperature: float = 0.8  # generation, PPO and the measurement all sample at this temperature
    noise: float = 0.15
    reward: dict[str, Any] = field(
        default_factory=lambda: {"epochs": 3, "batch_size": 8, "learning_rate": 2e-3, "max_length": 64}
    )
    ppo: dict[str, Any] = field(
        default_factory=lambda: {
            "total_episodes": 480,
            "batch_size": 16,
            "mini_batch_size": 4,
            "learning_rate": 3e-4,
            "kl_coef": 0.5,
            "response_length": 12,
        }
    )
    measure_k: int = 8  # samples per held-out prompt and model when counting rule-following responses
    base_rate: tuple[float, float] = (0.07, 0.2)  # 12 tokens at temperature 0.8: ~0.12
    min_reward_accuracy: float = 0.9
    min_gain: float = 3.0
    # KL bounds, in nats per response (summed over its at most 12 tokens). Following the rule takes moving a
    # few early tokens ("Thanks for asking!") a long way, but the policy must otherwise stay the base model.
    # - max_kl: the evaluation job's `kl`: Monte-Carlo over one policy sample per held-out prompt, scored on
    #   the sampled token ids at the sampling temperature, so it measures what PPO's KL term measures
    #   (on other prompts, and noisier: one sample each).
    # - max_train_kl: PPO's own `objective/kl` (exact, on the sampled tokens, at the sampling temperature),
    #   the mean of its last 5 steps: ~5-6 nats with kl_coef 0.5; 10 nats is ~0.8 nat per token.
    max_kl: float = 10.0
    max_train_kl: float = 10.0
    seed: int = int(os.environ.get("PREFLOOP_RLHF_SEED", "0"))


# Default: two slow shared CPU cores, ~3 minutes (a third of it building the tiny model).
FAST = LoopConfig(name="fast", tiny=TinyModelConfig(), train_prompts=140, test_prompts=60)
# Every distinct prompt, twice the episodes, twice the samples per held-out prompt.
SLOW = LoopConfig(
    name="slow",
    tiny=TinyModelConfig(),
    train_prompts=180,
    test_prompts=60,
    ppo={**FAST.ppo, "total_episodes": 960},
    measure_k=16,
)
# A bigger tiny model (built on the CPU; the worker trains and samples on CUDA), more episodes.
GPU = LoopConfig(
    name="gpu",
    tiny=TinyModelConfig(
        hidden_size=256, num_layers=4, num_heads=8, intermediate_size=768, train_steps=800, batch_size=16
    ),
    train_prompts=180,
    test_prompts=60,
    ppo={**FAST.ppo, "total_episodes": 1920, "batch_size": 32, "mini_batch_size": 8},
    measure_k=16,
)


# ------------------------------------------------------------------------------------------- HTTP


class Api:
    """One caller of the API: fails the test with the response body on an unexpected status."""

    def __init__(self, base_url: str, token: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=60, headers=auth(token))

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        r = self.client.request(method, path, **kwargs)
        assert r.status_code == expect, f"{method} {path} -> {r.status_code}: {r.text}"
        return r.json() if r.content else None

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, expect: int = 200, **kwargs: Any) -> Any:
        return self.call("POST", path, expect, **kwargs)

    def wait(self, job_id: int, timeout: float = 900) -> dict[str, Any]:
        """Poll a job until it ends; fail with its error and last log lines unless it succeeded."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(f"/api/jobs/{job_id}")
            if job["state"] in ("succeeded", "failed", "cancelled"):
                if job["state"] != "succeeded":
                    logs = [line["message"] for line in self.get(f"/api/jobs/{job_id}/logs")[-5:]]
                    pytest.fail(f"job {job_id} ({job['kind']}) {job['state']}: {job['error']}\n" + "\n".join(logs))
                return dict(job)
            assert time.monotonic() < deadline, f"job {job_id} still {job['state']} after {timeout}s"
            time.sleep(0.5)

    def job(self, kind: str, project_id: int, params: dict[str, Any]) -> dict[str, Any]:
        job = self.post("/api/jobs", 201, json={"kind": kind, "project_id": project_id, "params": params})
        return self.wait(job["id"])


def login_token(base_url: str, username: str) -> str:
    """Log in like a browser, then make an API token with the session's CSRF token."""
    with httpx.Client(base_url=base_url, timeout=30) as c:
        r = c.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        r = c.post("/api/auth/tokens", json={"name": "e2e"}, headers={"X-CSRF-Token": r.json()["csrf_token"]})
        assert r.status_code == 201, r.text
        return str(r.json()["token"])


def import_prompts(api: Api, project_id: int, rows: list[dict[str, Any]]) -> None:
    body = "".join(json.dumps(r) + "\n" for r in rows).encode()
    files = {"file": ("prompts.jsonl", body, "application/octet-stream")}
    report = api.post(f"/api/projects/{project_id}/imports", files=files)
    assert report["prompts_created"] == len(rows), report


def candidates_by_model(api: Api, project_id: int) -> dict[int, list[str]]:
    """Every candidate text of the project, by the model version that generated it."""
    out: dict[int, list[str]] = {}
    page = api.get(f"/api/projects/{project_id}/prompts", params={"limit": 1000})
    assert page["next_cursor"] is None, "more than one page of prompts"
    for p in page["items"]:
        for c in api.get(f"/api/projects/{project_id}/prompts/{p['id']}")["candidates"]:
            out.setdefault(c["source"]["model_version_id"], []).append(c["text"])
    return out


def make_snapshot(api: Api, project_id: int, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    snap = api.post(f"/api/projects/{project_id}/snapshots", 201, json={"name": name, "spec": spec})
    api.wait(snap["job_id"])
    snapshot = dict(api.get(f"/api/snapshots/{snap['id']}"))
    assert snapshot["status"] == "ready", snapshot
    assert snapshot["counts"]["pairs"]["train"] > 0 and snapshot["counts"]["pairs"]["test"] > 0, snapshot
    return snapshot


def rule_agreement(api: Api, snapshot_id: int) -> float:
    """Share of the snapshot's held-out pairs whose chosen response is the one the hidden rule prefers."""
    r = api.client.get(f"/api/snapshots/{snapshot_id}/export", params={"split": "test", "layout": "preference"})
    assert r.status_code == 200, r.text
    pairs = [json.loads(line) for line in r.text.splitlines()]
    return round(sum(rule_answer(p["chosen"], p["rejected"]) == "a" for p in pairs) / len(pairs), 3)


def polite_rate(texts: list[str]) -> float:
    return sum(bool(POLITE.search(t)) for t in texts) / len(texts)


# ------------------------------------------------------------------------------------- annotators


def rule_answer(first: str, second: str) -> str:
    """The hidden rule: the response with a polite word wins; both or neither is a tie."""
    a, b = bool(POLITE.search(first)), bool(POLITE.search(second))
    return "tie" if a == b else ("a" if a else "b")


def annotate(base_url: str, token: str, project_id: int, noise: float, seed: int) -> tuple[int, int]:
    """Label everything the queue gives this annotator; returns (labels, answers against the rule).

    Noise: with probability ``noise`` the decision flips: a preference to the other response, a tie to
    a random side. Strength 2 or 3 for a preference.
    """
    rng = random.Random(seed)
    done = wrong = 0
    with Api(base_url, token) as api:
        while True:
            r = api.client.post(f"/api/projects/{project_id}/next")
            if r.status_code == 204:
                return done, wrong
            assert r.status_code == 200, r.text
            assignment = r.json()
            first, second = (c["text"] for c in assignment["item"]["candidates"])
            choice = rule_answer(first, second)
            if rng.random() < noise:
                choice = {"a": "b", "b": "a"}.get(choice) or rng.choice(["a", "b"])
                wrong += 1
            answer: dict[str, Any] = {"choice": choice}
            if choice != "tie":
                answer["strength"] = rng.choice([2, 3])
            api.post(f"/api/assignments/{assignment['id']}/label", 201, json={"answer": answer})
            done += 1


def annotate_all(base_url: str, tokens: list[str], project_id: int, noise: float, seed: int) -> tuple[int, int]:
    """All annotators at once, each with its own seeded noise; (labels, answers against the rule) summed."""
    with ThreadPoolExecutor(len(tokens)) as pool:
        futures = [
            pool.submit(annotate, base_url, token, project_id, noise, seed * 1000 + i) for i, token in enumerate(tokens)
        ]
        results = [f.result() for f in futures]
    return sum(n for n, _ in results), sum(w for _, w in results)


# ------------------------------------------------------------------------------------------- loop


class Laps:
    """Wall-clock seconds per phase."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.monotonic()

    def __call__(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = round(now - self._last, 1)
        self._last = now


def run_loop(base_url: str, start_worker: Callable[..., Any], model_dir: Path, cfg: LoopConfig) -> dict[str, Any]:
    """The whole loop over HTTP; returns what was measured and made (asserting only that each step worked)."""
    lap = Laps()
    start_worker()
    lap("worker start")

    # --- users, project, members, prompts: as an admin would.
    _, admin_token = make_user(GlobalRole.admin)
    admin = Api(base_url, admin_token)
    users = [admin.post("/api/users", 201, json={"username": f"annotator{i}", "password": PASSWORD}) for i in range(3)]
    tokens = [login_token(base_url, u["username"]) for u in users]
    pid = admin.post(
        "/api/projects",
        201,
        json={
            "name": "Polite replies",
            "task_kind": "pairwise",
            "overlap": 3,
            "grouping": "disjoint",
            "max_items_per_prompt": cfg.k // 2,
            "guidelines": "Pick the better reply to the customer.",
            "seed": cfg.seed,
        },
    )["id"]
    for u in users:
        admin.call("PUT", f"/api/projects/{pid}/members", json={"user_id": u["id"], "role": "annotator"})
    rows = [
        {
            "id": f"reply-{i}",
            "messages": [{"role": "user", "content": text}],
            "split": "train" if i < cfg.train_prompts else "test",
        }
        for i, text in enumerate(prompt_texts(cfg.train_prompts + cfg.test_prompts))
    ]
    import_prompts(admin, pid, rows)

    # --- register the base model: pending until a worker job has loaded it.
    registered = admin.post("/api/models", 201, json={"name": f"tiny-{cfg.name}", "source": str(model_dir)})
    admin.wait(registered["validation_job_id"])
    base = admin.get(f"/api/models/{registered['id']}")
    assert (base["kind"], base["status"]) == ("base", "ready"), base
    lap("setup")

    # --- K candidates for every prompt (the held-out ones too: their pairs test the reward model).
    sampling = {"temperature": cfg.temperature, "max_new_tokens": cfg.max_new_tokens}
    admin.job("generation", pid, {"model_version_id": base["id"], "k": cfg.k, **sampling, "seed": cfg.seed})
    generated_rate = polite_rate(candidates_by_model(admin, pid)[base["id"]])
    lap("generation")

    # --- three annotators label every item.
    labels, mistakes = annotate_all(base_url, tokens, pid, cfg.noise, cfg.seed)
    progress = admin.get(f"/api/projects/{pid}/progress")
    assert labels == progress["labels_needed"] == 3 * len(rows) * (cfg.k // 2), (labels, progress)
    assert progress["completion"] == 1.0, progress
    agreement = {m["name"]: m["value"] for m in admin.get(f"/api/projects/{pid}/quality")["metrics"]}
    lap("labelling")

    # --- the training snapshot: majority of the three, ties dropped, split by the imported prompt split.
    snapshot = make_snapshot(admin, pid, "majority", {"aggregation": "majority", "ties": "drop", "seed": cfg.seed})
    # The yardstick for the reward model: the held-out pairs all three annotators agreed on. Majority labels
    # are too noisy for it: with 15% flips ~6% of decisive items get the wrong majority and ~3% of the tie
    # items (both or neither polite) a random one, so even a perfect reward model scores ~0.85-0.9 on them.
    unanimous = make_snapshot(
        admin, pid, "unanimous", {"aggregation": "majority", "ties": "drop", "min_agreement": 1.0, "seed": cfg.seed}
    )
    lap("snapshots")

    # --- reward model.
    rm_job = admin.job(
        "reward_model",
        pid,
        {"snapshot_id": snapshot["id"], "base_model_version_id": base["id"], "seed": cfg.seed, **cfg.reward},
    )
    rm = admin.get(f"/api/models/{rm_job['result']['model_version_id']}")
    lap("reward model")

    # --- PPO against it on the snapshot's train prompts.
    ppo_job = admin.job(
        "ppo",
        pid,
        {
            "policy_model_version_id": base["id"],
            "reward_model_version_id": rm["id"],
            "snapshot_id": snapshot["id"],
            "temperature": cfg.temperature,
            "seed": cfg.seed,
            **cfg.ppo,
        },
    )
    policy = admin.get(f"/api/models/{ppo_job['result']['model_version_id']}")
    ppo_metrics = {m["name"]: m["values"] for m in admin.get(f"/api/jobs/{ppo_job['id']}/metrics")}
    lap("ppo")

    # --- evaluation job: reward accuracy on the unanimous held-out pairs; the policy against its parent on
    # the held-out prompts (mean reward, win rate by the reward model, KL); a blind human round.
    evaluation = admin.job(
        "evaluation",
        pid,
        {
            "reward_model_version_id": rm["id"],
            "snapshot_id": unanimous["id"],
            "policy_model_version_id": policy["id"],
            "prompt_split": "test",
            "max_new_tokens": cfg.max_new_tokens,
            # Its KL is estimated on the policy's samples with untempered log-probabilities: sample at 1.0 too.
            "temperature": 1.0,
            "human_eval": True,
            "human_overlap": 3,
            "seed": cfg.seed,
        },
    )["result"]
    human_labels, _ = annotate_all(base_url, tokens, evaluation["human_eval_project_id"], cfg.noise, cfg.seed + 1)
    board = admin.get("/api/models/leaderboard", params={"project_id": evaluation["human_eval_project_id"]})
    lap("evaluation")

    # --- the measurement: base and policy sample measure_k responses per held-out prompt in a fresh project.
    measure = admin.post(
        "/api/projects",
        201,
        json={"name": "Held-out samples", "task_kind": "pairwise", "max_items_per_prompt": 1, "seed": cfg.seed},
    )["id"]
    held_out = [r for r in rows if r["split"] == "test"]
    import_prompts(admin, measure, held_out)
    for version in (base, policy):
        params = {"model_version_id": version["id"], "k": cfg.measure_k, **sampling, "seed": cfg.seed + 1}
        admin.job("generation", measure, params)
    samples = candidates_by_model(admin, measure)
    assert len(samples[base["id"]]) == len(samples[policy["id"]]) == len(held_out) * cfg.measure_k
    lap("measurement")
    held_out_agreement = {
        "majority": rule_agreement(admin, snapshot["id"]),
        "unanimous": rule_agreement(admin, unanimous["id"]),
    }
    admin.client.close()

    return {
        "base": base,
        "rm": rm,
        "rm_job": rm_job,
        "policy": policy,
        "ppo_job": ppo_job,
        "snapshot": snapshot,
        "unanimous": unanimous,
        "evaluation": evaluation,
        "leaderboard": board,
        "samples": samples,
        "numbers": {
            "config": cfg.name,
            "seed": cfg.seed,
            "labels": labels,
            "annotator_mistakes": round(mistakes / labels, 3),
            "agreement": {k: v if v is None else round(v, 3) for k, v in agreement.items()},
            "pairs": {"majority": snapshot["counts"]["pairs"], "unanimous": unanimous["counts"]["pairs"]},
            "held_out_labels_agreeing_with_rule": held_out_agreement,
            "generated_rate": round(generated_rate, 3),
            "base_rate": round(polite_rate(samples[base["id"]]), 3),
            "policy_rate": round(polite_rate(samples[policy["id"]]), 3),
            "rm_test_accuracy_majority": round(rm_job["result"]["test_accuracy"], 3),
            "rm_accuracy_unanimous": round(evaluation["reward_accuracy"], 3),
            "rm_eval_pairs": evaluation["reward_eval_pairs"],
            "kl": round(evaluation["kl"], 3),
            "win_rate": round(evaluation["win_rate"], 3),
            "mean_reward": {
                "policy": round(evaluation["policy_mean_reward"], 3),
                "base": round(evaluation["baseline_mean_reward"], 3),
            },
            "human_round_labels": human_labels,
            "leaderboard": {e["model_version_id"]: round(e["rating"]) for e in board},
            "ppo_last_5_steps": {
                k: round(sum(ppo_metrics[k][-5:]) / 5, 3) for k in ("objective/scores", "objective/kl")
            },
            "seconds": lap.seconds,
        },
    }


# ------------------------------------------------------------------------------------------ tests


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[TinyModelConfig], Path]]:
    """Builds the base model of a loop config (once per config in this module)."""
    built: dict[str, Path] = {}

    def build(config: TinyModelConfig) -> Path:
        key = json.dumps(asdict(config), sort_keys=True)
        if key not in built:
            start = time.monotonic()
            built[key] = build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", config)
            print(f"\ntiny model built in {time.monotonic() - start:.0f}s")
        return built[key]

    yield build


@pytest.mark.parametrize(
    "cfg",
    [
        pytest.param(FAST, id="fast"),  # passed seeds 0-4 here (deterministic per seed), 2-3 min
        pytest.param(SLOW, id="slow", marks=pytest.mark.slow),
        pytest.param(
            GPU,
            id="gpu",
            marks=[pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")],
        ),
    ],
)
def test_labels_make_the_policy_follow_the_hidden_rule(
    cfg: LoopConfig,
    live_server: str,
    start_worker: Callable[..., Any],
    tiny_models: Callable[[TinyModelConfig], Path],
) -> None:
    start = time.monotonic()
    out = run_loop(live_server, start_worker, tiny_models(cfg.tiny), cfg)
    n = out["numbers"]
    print(f"\nRLHF loop [{cfg.name}] in {time.monotonic() - start:.0f}s: {json.dumps(n)}")
    for text in out["samples"][out["policy"]["id"]][:4]:
        print(f"  policy sample: {text!r}")
    base, rm, policy, ev = out["base"], out["rm"], out["policy"], out["evaluation"]

    # The base policy follows the rule now and then (its corpus has ~16% polite answers).
    assert cfg.base_rate[0] <= n["base_rate"] <= cfg.base_rate[1], n
    # The reward model learnt the rule from the noisy majority labels: it ranks the held-out pairs the
    # annotators agreed on right (majority labels on held-out pairs are printed, not asserted: see above).
    assert ev["reward_eval_split"] == "test" and ev["reward_eval_pairs"] >= 20, ev
    assert n["rm_accuracy_unanimous"] >= cfg.min_reward_accuracy, n
    # PPO made the policy follow the rule far more often, on prompts it never trained on...
    assert n["policy_rate"] >= cfg.min_gain * n["base_rate"], n
    # ...without drifting far from the base model (KL bounds: see LoopConfig.max_kl); the reward model
    # prefers its answers, and so do the annotators in the blind round.
    assert 0 < n["kl"] <= cfg.max_kl and n["ppo_last_5_steps"]["objective/kl"] <= cfg.max_train_kl, n
    assert ev["win_rate"] > 0.5 and ev["policy_mean_reward"] > ev["baseline_mean_reward"], ev
    ratings = {e["model_version_id"]: e["rating"] for e in out["leaderboard"]}
    assert ratings.keys() == {base["id"], policy["id"]} and ratings[policy["id"]] > ratings[base["id"]], ratings

    # Lineage: reward model and policy both come from the base and the snapshot; the policy records its
    # reward model; each was made by its job.
    snapshot_id = out["snapshot"]["id"]
    assert (rm["kind"], rm["parent_id"], rm["snapshot_id"], rm["job_id"]) == (
        "reward",
        base["id"],
        snapshot_id,
        out["rm_job"]["id"],
    )
    assert (policy["kind"], policy["status"], policy["parent_id"], policy["snapshot_id"], policy["job_id"]) == (
        "policy",
        "ready",
        base["id"],
        snapshot_id,
        out["ppo_job"]["id"],
    )
    assert policy["info"]["reward_model_version_id"] == rm["id"] and policy["info"]["method"] == "ppo", policy
