"""Training jobs: reward model, DPO and PPO. Thin glue around workers.ml.reward / dpo / ppo.

Each job reads its inputs (snapshot splits, registered models), trains into a staging folder with
per-step metrics and progress streamed into the job, commits the folder as the job's ``model``
artifact in one rename and registers it as a new version with its parent and snapshot. A re-run
(after a crash) resumes from the job's last checkpoint (``checkpoint_dir``); the version is registered
once per job.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import select

from app.artifacts import store
from app.datasets.schema import prompt_text
from app.db import session_scope
from app.jobs.kinds import DpoParams, PpoParams, RewardModelParams
from app.prompts.models import Prompt
from app.registry.models import ModelKind
from workers.celery_app import celery_app
from workers.ml import dpo as ml_dpo
from workers.ml import ppo as ml_ppo
from workers.ml import reward as ml_reward
from workers.ml.generate import PromptInput
from workers.ml.runtime import configure_cpu_threads
from workers.tasks.lineage import (
    MODEL_DIR,
    ready_version,
    register_version,
    snapshot_folder,
    snapshot_splits,
)
from workers.tasks.runtime import JobContext, run_job


@celery_app.task(name="prefloop.gpu.reward_model", acks_late=True)
def reward_model(job_id: int) -> None:
    """Train a reward model on a snapshot's pairs and register it."""
    run_job(job_id, "reward_model", run_reward_model)


@celery_app.task(name="prefloop.gpu.dpo", acks_late=True)
def dpo(job_id: int) -> None:
    """Fine-tune a policy with DPO on a snapshot's pairs and register it."""
    run_job(job_id, "dpo", run_dpo)


@celery_app.task(name="prefloop.gpu.ppo", acks_late=True)
def ppo(job_id: int) -> None:
    """Fine-tune a policy with PPO against a reward model and register it."""
    run_job(job_id, "ppo", run_ppo)


def _callbacks(ctx: JobContext) -> dict[str, Any]:
    return {
        "on_metrics": lambda step, values: ctx.metrics(step, values),
        "on_progress": lambda done, total: ctx.progress(done, total),
        "should_stop": lambda: ctx.cancelled,
    }


@contextmanager
def _model_folder(ctx: JobContext) -> Iterator[Path]:
    """A staging folder to train into. It becomes the job's ``model`` artifact in one rename when the
    body finishes and the job was not cancelled; on any error (or cancel) it is removed. Running out of
    space on the artifact disk fails the job with an error that says so (store.ArtifactDiskFull)."""
    staged = store.staging_dir(ctx.job_id, MODEL_DIR)
    try:
        with store.disk_full_reported(staged, f"the {MODEL_DIR} of job {ctx.job_id}"):
            yield staged
            ctx.check_cancel()
            store.commit_dir(ctx.job_id, staged, MODEL_DIR)
    except BaseException as exc:
        shutil.rmtree(staged, ignore_errors=True)
        if isinstance(exc, Exception):  # the job fails and is not run again; an interrupted one may resume
            shutil.rmtree(checkpoint_dir(ctx), ignore_errors=True)
        raise
    shutil.rmtree(checkpoint_dir(ctx), ignore_errors=True)


def checkpoint_dir(ctx: JobContext) -> Path:
    """The job's resumable training checkpoints: the same folder for every attempt (a worker killed mid-run
    leaves them for the next attempt), hidden from the artifacts list, removed when the job ends."""
    return store.job_dir(ctx.job_id) / ".checkpoints"


def _resumable(ctx: JobContext, params: RewardModelParams | DpoParams | PpoParams) -> dict[str, Any]:
    return {"checkpoint_dir": str(checkpoint_dir(ctx)), "checkpoint_steps": params.checkpoint_steps}


def _lora(params: RewardModelParams | DpoParams | PpoParams) -> dict[str, Any]:
    return {
        "lora": params.lora,
        "lora_r": params.lora_r,
        "lora_alpha": params.lora_alpha,
        "lora_dropout": params.lora_dropout,
    }


def run_reward_model(ctx: JobContext) -> None:
    params = RewardModelParams.model_validate(ctx.params)
    base = ready_version(params.base_model_version_id)
    configure_cpu_threads()
    with tempfile.TemporaryDirectory(prefix="prefloop-rm-") as tmp, _model_folder(ctx) as staged:
        files = snapshot_splits(params.snapshot_id, ctx.project_id, Path(tmp))
        ctx.log(f"reward model from {base.name!r} on snapshot {params.snapshot_id}")
        cfg = ml_reward.RewardModelConfig(
            base_model=base.location,
            output_dir=str(staged),
            max_length=params.max_length,
            epochs=params.epochs,
            max_steps=params.max_steps,
            learning_rate=params.learning_rate,
            batch_size=params.batch_size,
            gradient_accumulation_steps=params.gradient_accumulation_steps,
            use_margin=params.use_margin,
            center_rewards_coefficient=params.center_rewards_coefficient,
            eval_steps=params.eval_steps,
            early_stopping_patience=params.early_stopping_patience,
            seed=params.seed,
            **_lora(params),
            **_resumable(ctx, params),
        )
        result = ml_reward.train_reward_model(
            cfg,
            str(files["train"]),
            str(files["validation"]) if files["validation"] else None,
            str(files["test"]) if files["test"] else None,
            **_callbacks(ctx),
        )
    metrics = {
        "validation_accuracy": result.validation_accuracy,
        "test_accuracy": result.test_accuracy,
        **result.metrics,
    }
    version_id = register_version(
        ctx.job_id,
        kind=ModelKind.reward,
        name=params.name or f"reward-{ctx.job_id}",
        parent_id=base.id,
        snapshot_id=params.snapshot_id,
        metrics=metrics,
        info={"base_model_version_id": base.id, "steps": result.steps, "config": params.model_dump(mode="json")},
    )
    ctx.result = {
        "model_version_id": version_id,
        "steps": result.steps,
        **{k: v for k, v in metrics.items() if v is not None},
    }


def run_dpo(ctx: JobContext) -> None:
    params = DpoParams.model_validate(ctx.params)
    policy = ready_version(params.policy_model_version_id, kinds=(ModelKind.base, ModelKind.policy))
    configure_cpu_threads()
    with tempfile.TemporaryDirectory(prefix="prefloop-dpo-") as tmp, _model_folder(ctx) as staged:
        files = snapshot_splits(params.snapshot_id, ctx.project_id, Path(tmp))
        cfg = ml_dpo.DpoTrainConfig(
            policy_model=policy.location,
            output_dir=str(staged),
            beta=params.beta,
            learning_rate=params.learning_rate,
            epochs=params.epochs,
            max_steps=params.max_steps,
            batch_size=params.batch_size,
            gradient_accumulation_steps=params.gradient_accumulation_steps,
            max_length=params.max_length,
            max_prompt_length=params.max_prompt_length,
            seed=params.seed,
            **_lora(params),
            **_resumable(ctx, params),
        )
        result = ml_dpo.train_dpo(
            cfg, str(files["train"]), str(files["validation"]) if files["validation"] else None, **_callbacks(ctx)
        )
    version_id = register_version(
        ctx.job_id,
        kind=ModelKind.policy,
        name=params.name or f"dpo-{ctx.job_id}",
        parent_id=policy.id,
        snapshot_id=params.snapshot_id,
        metrics=result.metrics,
        info={**policy.info, "method": "dpo", "steps": result.steps, "config": params.model_dump(mode="json")},
    )
    ctx.result = {"model_version_id": version_id, "steps": result.steps, **result.metrics}


def ppo_prompts(project_id: int | None, snapshot_id: int | None) -> list[tuple[PromptInput, str]]:
    """(prompt for the policy, the prompt as the reward model was trained on it): the snapshot's
    train-split prompts, or every prompt of the project."""
    if snapshot_id is not None:
        table = pq.read_table(
            snapshot_folder(snapshot_id, project_id) / "pairs.parquet",
            columns=["split", "prompt_id", "prompt", "prompt_messages"],
            filters=[("split", "==", "train")],
        )
        seen: dict[int, tuple[list[dict[str, str]], str]] = {}
        columns = (table[c].to_pylist() for c in ("prompt_id", "prompt_messages", "prompt"))
        for pid, messages, text in zip(*columns, strict=True):
            seen.setdefault(pid, (json.loads(messages), text))
        return [(PromptInput(key=str(pid), messages=m), text) for pid, (m, text) in sorted(seen.items())]
    with session_scope(write=False) as s:
        rows = s.execute(
            select(Prompt.id, Prompt.text, Prompt.messages).where(Prompt.project_id == project_id).order_by(Prompt.id)
        ).all()
    out = []
    for pid, text, messages in rows:
        msgs = messages or [{"role": "user", "content": text or ""}]
        out.append((PromptInput(key=str(pid), messages=msgs), prompt_text(text, msgs)))
    return out


def reward_in_training_format(scorer: ml_ppo.RewardFn, prompts: list[tuple[PromptInput, str]]) -> ml_ppo.RewardFn:
    """PPO hands the reward function its own rendering of each prompt; map it back to the text the
    reward model was trained on (a plain prompt's text, not a chat turn)."""
    mapping = {ml_ppo.reward_prompt_text(p): text for p, text in prompts}
    return lambda texts, responses: scorer([mapping.get(t, t) for t in texts], responses)


def run_ppo(ctx: JobContext) -> None:
    params = PpoParams.model_validate(ctx.params)
    policy = ready_version(params.policy_model_version_id, kinds=(ModelKind.base, ModelKind.policy))
    reward = ready_version(params.reward_model_version_id, kinds=(ModelKind.reward,))
    pairs = ppo_prompts(ctx.project_id, params.snapshot_id)
    if not pairs:
        raise ValueError("no prompts to train on")
    if not policy.info.get("has_chat_template", True):
        # A policy without a chat template reads the prompt as plain text, as in generation.
        pairs = [(PromptInput(key=p.key, text=text), text) for p, text in pairs]
    prompts = [p for p, _ in pairs]
    configure_cpu_threads()
    scorer = ml_reward.RewardScorer(reward.location)
    with _model_folder(ctx) as staged:
        cfg = ml_ppo.PpoConfig(
            policy_model=policy.location,
            output_dir=str(staged),
            learning_rate=params.learning_rate,
            total_episodes=params.total_episodes,
            batch_size=params.batch_size,
            mini_batch_size=params.mini_batch_size,
            ppo_epochs=params.ppo_epochs,
            response_length=params.response_length,
            temperature=params.temperature,
            kl_coef=params.kl_coef,
            adaptive_kl=params.adaptive_kl,
            target_kl=params.target_kl,
            clip_range=params.clip_range,
            clip_range_value=params.clip_range_value,
            vf_coef=params.vf_coef,
            critic_from=reward.location if params.critic_from_reward_model else None,
            max_grad_norm=params.max_grad_norm,
            gamma=params.gamma,
            lam=params.lam,
            whiten_rewards=params.whiten_rewards,
            seed=params.seed,
            **_lora(params),
            **_resumable(ctx, params),
        )
        ctx.log(f"PPO on {len(prompts)} prompts: policy {policy.name!r}, reward model {reward.name!r}")
        result = ml_ppo.train_ppo(
            cfg,
            prompts,
            reward_in_training_format(scorer, pairs),
            on_samples=lambda step, samples: ctx.log(f"step {step} samples: {json.dumps(samples)[:4000]}"),
            **_callbacks(ctx),
        )
    version_id = register_version(
        ctx.job_id,
        kind=ModelKind.policy,
        name=params.name or f"ppo-{ctx.job_id}",
        parent_id=policy.id,
        snapshot_id=params.snapshot_id,
        metrics=result.final_metrics,
        info={
            **policy.info,
            "method": "ppo",
            "reward_model_version_id": reward.id,
            "steps": result.steps,
            "episodes": result.episodes,
            "config": params.model_dump(mode="json"),
        },
    )
    ctx.result = {"model_version_id": version_id, "steps": result.steps, "episodes": result.episodes}
