"""The generation job: sample K candidates per prompt from a model version and build items from them.

Thin glue: select prompts from the database, call workers.ml.generate, store each batch (candidates
and items) in its own transaction. Resumable: a re-run of the same job (after a crash, re-queued by the
reaper) skips the prompts this job already answered, because each batch commits atomically.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.annotation.items import build_items
from app.db import session_scope
from app.jobs.kinds import GenerationParams, PromptSelection
from app.projects.models import Project
from app.prompts.models import Candidate, Prompt
from app.registry.models import ModelStatus, ModelVersion
from workers.celery_app import celery_app
from workers.ml import generate as ml
from workers.ml.runtime import configure_cpu_threads
from workers.tasks.lineage import model_location
from workers.tasks.runtime import JobContext, run_job


@celery_app.task(name="prefloop.gpu.generation", acks_late=True)
def generation(job_id: int) -> None:
    """Generate candidates for a project's prompts with a registered model."""
    run_job(job_id, "generation", run_generation)


def select_prompts(session: Session, project_id: int, params: GenerationParams, job_id: int) -> list[Prompt]:
    stmt = select(Prompt).where(Prompt.project_id == project_id)
    if params.prompts == PromptSelection.in_split:
        stmt = stmt.where(Prompt.split == params.split)
    elif params.prompts == PromptSelection.missing:
        have = (
            select(Candidate.prompt_id)
            .where(Candidate.project_id == project_id, Candidate.model_version_id == params.model_version_id)
            .group_by(Candidate.prompt_id)
            .having(func.count() >= params.k)
        )
        stmt = stmt.where(Prompt.id.not_in(have))
    # Resume: prompts this job already answered (each batch committed whole) are done.
    answered = select(Candidate.prompt_id).where(Candidate.job_id == job_id).distinct()
    stmt = stmt.where(Prompt.id.not_in(answered)).order_by(Prompt.id)
    if params.limit is not None:
        stmt = stmt.limit(params.limit)
    return list(session.scalars(stmt))


def prompt_key(prompt: Prompt) -> str:
    """The sampling key: the external id when there is one, so the same imported prompts with the same
    seed give the same samples in any project (the batch seed derives from it)."""
    return prompt.external_id if prompt.external_id is not None else f"#{prompt.id}"


def _inputs(prompts: list[Prompt], chat: bool) -> list[ml.PromptInput]:
    """Chat prompts use the model's chat template; plain ones too when the model has one (as a user turn),
    since an instruction model answers a bare continuation poorly."""
    out = []
    for p in prompts:
        if p.messages:
            out.append(ml.PromptInput(key=prompt_key(p), messages=p.messages))
        elif chat:
            out.append(ml.PromptInput(key=prompt_key(p), messages=[{"role": "user", "content": p.text or ""}]))
        else:
            out.append(ml.PromptInput(key=prompt_key(p), text=p.text or ""))
    return out


def run_generation(ctx: JobContext) -> None:
    params = GenerationParams.model_validate(ctx.params)
    if ctx.project_id is None:
        raise ValueError("a generation job needs a project")
    with session_scope(write=False) as s:
        version = s.get(ModelVersion, params.model_version_id)
        if version is None:
            raise LookupError(f"model version {params.model_version_id} does not exist")
        if version.status != ModelStatus.ready:
            raise ValueError(f"model version {version.id} is {version.status}, not ready")
        location = model_location(version)
        chat = bool(version.info.get("has_chat_template"))
        prompts = select_prompts(s, ctx.project_id, params, ctx.job_id)
        ids_by_key = {prompt_key(p): p.id for p in prompts}
        already = (
            s.scalar(select(func.count(func.distinct(Candidate.prompt_id))).where(Candidate.job_id == ctx.job_id)) or 0
        )
    total = already + len(prompts)
    ctx.log(f"{len(prompts)} prompts to answer with {params.k} samples each from {version.name!r} ({location})")
    ctx.progress(already, total)
    sampling: dict[str, float | int] = {
        "temperature": params.temperature,
        "top_p": params.top_p,
        "max_new_tokens": params.max_new_tokens,
        "seed": params.seed,
    }
    ml_params = ml.GenerationParams(
        k=params.k,
        batch_size=params.batch_size,
        temperature=params.temperature,
        top_p=params.top_p,
        max_new_tokens=params.max_new_tokens,
        seed=params.seed,
    )
    source = {"kind": "model", "model_version_id": version.id, "job_id": ctx.job_id, "params": sampling}
    done, tokens, started = already, 0, time.monotonic()
    configure_cpu_threads()  # one thread per idle core: oversubscribed OpenMP threads are several times slower
    loaded = ml.load_model(location if not Path(location).exists() else Path(location))
    ctx.log(f"model loaded on {loaded.device}")
    for batch in ml.generate_candidates(loaded, _inputs(prompts, chat), ml_params, should_stop=lambda: ctx.cancelled):
        _store_batch(ctx.project_id, batch, ids_by_key, version.id, ctx.job_id, source)
        done += len(batch.results)
        tokens += batch.generated_tokens
        rate = tokens / max(time.monotonic() - started, 1e-9)
        ctx.progress(done, total, note=f"{rate:.0f} tokens/s")
        ctx.metrics(done, {"tokens_per_s": batch.tokens_per_second, "generated_tokens": float(tokens)})
        ctx.check_cancel()
    ctx.check_cancel()
    ctx.result = {
        "prompts": done,
        "candidates": (done - already) * params.k,
        "generated_tokens": tokens,
        "tokens_per_s": round(tokens / max(time.monotonic() - started, 1e-9), 2),
        "device": str(loaded.device),
    }


def _store_batch(
    project_id: int,
    batch: ml.BatchResult,
    ids_by_key: dict[str, int],
    version_id: int,
    job_id: int,
    source: dict[str, object],
) -> None:
    """One transaction per batch: its candidates and the items they allow, or nothing."""
    with session_scope() as s:
        project = s.get(Project, project_id)
        if project is None:
            raise LookupError(f"project {project_id} no longer exists")
        prompt_ids = []
        for result in batch.results:
            prompt_id = ids_by_key[result.key]
            prompt_ids.append(prompt_id)
            for i, (text, n_tokens, finished) in enumerate(
                zip(result.texts, result.num_tokens, result.finished, strict=True)
            ):
                s.add(
                    Candidate(
                        project_id=project_id,
                        prompt_id=prompt_id,
                        text=text,
                        source=source,
                        model_version_id=version_id,
                        job_id=job_id,
                        meta={"sample": i, "tokens": n_tokens, "finished": finished},
                    )
                )
        s.flush()
        build_items(s, project, prompt_ids)
