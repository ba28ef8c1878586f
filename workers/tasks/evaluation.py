"""The evaluation job: reward-model accuracy on held-out human pairs, a policy against its parent on
held-out prompts (mean reward, win rate by the reward model, KL, length), and a blind human round.

The human round is a new pairwise project whose items each hold one response of the policy and one
of the baseline, in a seeded random display order, with the source project's annotators as members:
annotators judge new vs old without knowing which is which, and their labels feed the leaderboard.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import select

from app.annotation.items import build_items
from app.datasets.schema import prompt_text
from app.db import session_scope
from app.jobs.kinds import EvaluationParams
from app.jobs.models import Job
from app.projects import service as project_service
from app.projects.models import Project, ProjectMember, ProjectRole
from app.projects.schemas import MemberUpsert, ProjectCreate
from app.prompts.models import Candidate, Prompt
from app.registry.models import ModelKind, ModelVersion
from workers.celery_app import celery_app
from workers.ml import reward as ml_reward
from workers.ml.evaluate import encode_response, same_vocabulary, sequence_logprobs, win_rate
from workers.ml.generate import GenerationParams, LoadedModel, PromptInput, generate_candidates, load_model
from workers.ml.runtime import configure_cpu_threads
from workers.tasks.lineage import VersionRef, ready_version, snapshot_folder
from workers.tasks.runtime import JobContext, run_job

HUMAN_GUIDELINES = """Two models answered the same prompt. Pick the better response (or a tie) and how
strongly you prefer it. The order is random; judge the answers, not their position."""


@celery_app.task(name="prefloop.gpu.evaluation", acks_late=True)
def evaluation(job_id: int) -> None:
    """Evaluate a reward model and/or a policy; optionally open a human evaluation round."""
    run_job(job_id, "evaluation", run_evaluation)


def run_evaluation(ctx: JobContext) -> None:
    params = EvaluationParams.model_validate(ctx.params)
    if params.reward_model_version_id is None and params.policy_model_version_id is None:
        raise ValueError("give a reward_model_version_id, a policy_model_version_id, or both")
    configure_cpu_threads()
    reward = (
        ready_version(params.reward_model_version_id, kinds=(ModelKind.reward,))
        if params.reward_model_version_id
        else None
    )
    scorer = ml_reward.RewardScorer(reward.location) if reward else None
    result: dict[str, Any] = {}
    if scorer is not None and reward is not None and params.snapshot_id is not None:
        result |= reward_accuracy(ctx, scorer, params.snapshot_id)
        _merge_metrics(reward.id, {f"snapshot_{params.snapshot_id}": result})
    if params.policy_model_version_id is not None:
        policy_result = compare_policies(ctx, params, scorer)
        result |= policy_result
        _merge_metrics(params.policy_model_version_id, {f"evaluation_job_{ctx.job_id}": policy_result})
    ctx.result = result


def reward_accuracy(ctx: JobContext, scorer: ml_reward.RewardScorer, snapshot_id: int) -> dict[str, Any]:
    """Share of the snapshot's held-out pairs (test split; validation, then train, if it is empty) ranked right."""
    table = pq.read_table(
        snapshot_folder(snapshot_id, ctx.project_id) / "pairs.parquet",
        columns=["split", "prompt", "chosen", "rejected", "tie"],
    ).to_pylist()
    for split in ("test", "validation", "train"):
        rows = [r for r in table if r["split"] == split and not r["tie"]]
        if rows:
            break
    if not rows:
        raise ValueError(f"snapshot {snapshot_id} has no pairs to evaluate on")
    prompts = [r["prompt"] for r in rows]
    chosen = scorer.score(prompts, [r["chosen"] for r in rows])
    rejected = scorer.score(prompts, [r["rejected"] for r in rows])
    right = sum(c > r for c, r in zip(chosen, rejected, strict=True))
    ctx.log(f"reward model: {right}/{len(rows)} {split} pairs ranked right")
    return {
        "reward_accuracy": right / len(rows),
        "reward_margin": statistics.fmean(c - r for c, r in zip(chosen, rejected, strict=True)),
        "reward_eval_split": split,
        "reward_eval_pairs": len(rows),
    }


def _held_out_prompts(project_id: int | None, params: EvaluationParams) -> list[Prompt]:
    with session_scope(write=False) as s:
        stmt = select(Prompt).where(Prompt.project_id == project_id).order_by(Prompt.id).limit(params.max_prompts)
        prompts = list(s.scalars(stmt.where(Prompt.split == params.prompt_split))) if params.prompt_split else []
        if not prompts:
            prompts = list(s.scalars(stmt))
        s.expunge_all()
    if not prompts:
        raise ValueError("the project has no prompts to evaluate on")
    return prompts


def _inputs(prompts: list[Prompt], version: VersionRef) -> list[PromptInput]:
    chat = bool(version.info.get("has_chat_template"))
    out = []
    for p in prompts:
        if p.messages:
            out.append(PromptInput(key=str(p.id), messages=p.messages))
        elif chat:
            out.append(PromptInput(key=str(p.id), messages=[{"role": "user", "content": p.text or ""}]))
        else:
            out.append(PromptInput(key=str(p.id), text=p.text or ""))
    return out


@dataclass
class Samples:
    """One sampled response per prompt, in prompt order: its text and the token ids the model produced."""

    texts: list[str]
    token_ids: list[list[int]]


def _sample(loaded: LoadedModel, inputs: list[PromptInput], params: EvaluationParams) -> Samples:
    gen = GenerationParams(k=1, temperature=params.temperature, max_new_tokens=params.max_new_tokens, seed=params.seed)
    by_key: dict[str, tuple[str, list[int]]] = {}
    for batch in generate_candidates(loaded, inputs, gen):
        for r in batch.results:
            by_key[r.key] = (r.texts[0], r.token_ids[0])
    return Samples([by_key[i.key][0] for i in inputs], [by_key[i.key][1] for i in inputs])


def policy_kl(
    new_model: LoadedModel,
    new_inputs: list[PromptInput],
    old_model: LoadedModel,
    old_inputs: list[PromptInput],
    samples: Samples,
    temperature: float,
) -> dict[str, Any]:
    """KL(policy || baseline) in nats per response, on the policy's samples (see workers.ml.evaluate).

    Greedy sampling (temperature 0) draws from no distribution, so there is no KL to estimate. A baseline
    with another vocabulary scores the re-tokenised text, which only approximates it (said in the result).
    """
    if temperature == 0:
        return {"kl": None, "kl_note": "not estimated: greedy sampling (temperature 0) has no distribution"}
    new_lp = sequence_logprobs(new_model, new_inputs, samples.token_ids, temperature=temperature)
    exact = same_vocabulary(new_model, old_model)
    old_ids = samples.token_ids if exact else [encode_response(old_model, t) for t in samples.texts]
    old_lp = sequence_logprobs(old_model, old_inputs, old_ids, temperature=temperature)
    out: dict[str, Any] = {"kl": statistics.fmean(a - b for a, b in zip(new_lp, old_lp, strict=True))}
    if not exact:
        out["kl_note"] = "approximate: the baseline has another vocabulary, so it scored the re-tokenised text"
    return out


def compare_policies(
    ctx: JobContext, params: EvaluationParams, scorer: ml_reward.RewardScorer | None
) -> dict[str, Any]:
    policy = ready_version(params.policy_model_version_id or 0, kinds=(ModelKind.base, ModelKind.policy))
    baseline_id = params.baseline_model_version_id
    if baseline_id is None:
        with session_scope(write=False) as s:
            baseline_id = s.scalar(select(ModelVersion.parent_id).where(ModelVersion.id == policy.id))
        if baseline_id is None:
            raise ValueError(f"model version {policy.id} has no parent; give baseline_model_version_id")
    baseline = ready_version(baseline_id, kinds=(ModelKind.base, ModelKind.policy))
    prompts = _held_out_prompts(ctx.project_id, params)
    inputs = _inputs(prompts, policy)
    ctx.progress(0, 4, note="sampling the policy")
    new_model = load_model(policy.location)
    new = _sample(new_model, inputs, params)
    ctx.progress(1, 4, note="sampling the baseline")
    old_model = load_model(baseline.location)
    old_inputs = _inputs(prompts, baseline)
    old = _sample(old_model, old_inputs, params)
    new_texts, old_texts = new.texts, old.texts
    ctx.check_cancel()
    ctx.progress(2, 4, note="KL")
    out: dict[str, Any] = {
        "policy_model_version_id": policy.id,
        "baseline_model_version_id": baseline.id,
        "prompts": len(prompts),
        **policy_kl(new_model, inputs, old_model, old_inputs, new, params.temperature),
        "policy_mean_tokens": statistics.fmean(len(t) for t in new.token_ids),
        "baseline_mean_tokens": statistics.fmean(len(t) for t in old.token_ids),
    }
    if scorer is not None:
        ctx.progress(3, 4, note="scoring")
        reward_prompts = [prompt_text(p.text, p.messages) for p in prompts]
        new_scores = scorer.score(reward_prompts, new_texts)
        old_scores = scorer.score(reward_prompts, old_texts)
        out |= {
            "policy_mean_reward": statistics.fmean(new_scores),
            "baseline_mean_reward": statistics.fmean(old_scores),
            "win_rate": win_rate(new_scores, old_scores),
        }
    if params.human_eval:
        out["human_eval_project_id"] = open_human_round(ctx, params, policy, baseline, prompts, new_texts, old_texts)
    ctx.progress(4, 4)
    ctx.log(f"policy {policy.name!r} vs {baseline.name!r}: {out}")
    return out


def open_human_round(
    ctx: JobContext,
    params: EvaluationParams,
    policy: VersionRef,
    baseline: VersionRef,
    prompts: list[Prompt],
    new_texts: list[str],
    old_texts: list[str],
) -> int:
    """A pairwise project with one (policy, baseline) item per prompt, blind, for the source's annotators."""
    with session_scope() as s:
        job = s.get(Job, ctx.job_id)
        created_by = job.created_by if job else None
        data = ProjectCreate(
            name=f"Human evaluation: {policy.name} vs {baseline.name} (job {ctx.job_id})"[:200],
            task_kind="pairwise",
            overlap=params.human_overlap,
            guidelines=HUMAN_GUIDELINES,
            seed=params.seed,
        )
        project = project_service.create_project(s, data, created_by=created_by)
        source = {"kind": "evaluation", "job_id": ctx.job_id}
        new_ids = []
        for prompt, new, old in zip(prompts, new_texts, old_texts, strict=True):
            copy = Prompt(
                project_id=project.id,
                external_id=prompt.external_id or f"prompt-{prompt.id}",
                text=prompt.text,
                messages=prompt.messages,
                meta={"source_prompt_id": prompt.id},
                split=prompt.split,
            )
            s.add(copy)
            s.flush()
            new_ids.append(copy.id)
            for version, text in ((policy, new), (baseline, old)):
                s.add(
                    Candidate(
                        project_id=project.id,
                        prompt_id=copy.id,
                        text=text,
                        source=source,
                        model_version_id=version.id,
                        job_id=ctx.job_id,
                        meta={},
                    )
                )
        s.flush()
        build_items(s, project, new_ids)
        members = s.execute(
            select(ProjectMember.user_id, ProjectMember.role).where(ProjectMember.project_id == ctx.project_id)
        ).all()
        for user_id, role in members:
            project_service.upsert_member(s, project.id, MemberUpsert(user_id=user_id, role=ProjectRole(role)))
        assert isinstance(project, Project)
        return project.id


def _merge_metrics(version_id: int, values: dict[str, Any]) -> None:
    with session_scope() as s:
        version = s.get(ModelVersion, version_id)
        if version is not None:
            version.metrics = {**version.metrics, **values}
