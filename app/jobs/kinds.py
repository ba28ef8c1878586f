"""Every kind of job: its Celery task name, queue, parameters and retry policy.

Parameters are validated with Pydantic when the job is created, so a worker never starts a job with
bad input. Later kinds (snapshot, reward, ppo, dpo, evaluation, export) register here the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.types import MAX_ID


class JobKind(StrEnum):
    smoke = "smoke"
    validate_model = "validate_model"
    generation = "generation"
    snapshot = "snapshot"
    reward_model = "reward_model"
    ppo = "ppo"
    dpo = "dpo"
    evaluation = "evaluation"


class SmokeParams(BaseModel):
    """A job that only counts steps: checks that workers of a queue run, report, cancel and recover."""

    model_config = ConfigDict(extra="forbid")
    steps: int = Field(5, ge=1, le=100_000)
    step_seconds: float = Field(0.1, ge=0.0, le=60.0)
    queue: str = Field("cpu", pattern="^(cpu|gpu)$")
    fail_at: int | None = Field(None, ge=1, description="Raise an error at this step (to test failure handling).")


class ValidateModelParams(BaseModel):
    """Check that a registered model's config and tokenizer load (queued by registering a model)."""

    model_config = ConfigDict(extra="forbid")
    model_version_id: int = Field(ge=1, le=MAX_ID)


class PromptSelection(StrEnum):
    all = "all"
    """Every prompt of the project."""
    in_split = "split"
    """Only prompts whose split equals ``split``."""
    missing = "missing"
    """Prompts with fewer than ``k`` candidates from this model version."""


class GenerationParams(BaseModel):
    """Sample K candidate responses per prompt from a model version and build items from them."""

    model_config = ConfigDict(extra="forbid")
    model_version_id: int = Field(ge=1, le=MAX_ID, description="The model version that samples.")
    prompts: PromptSelection = PromptSelection.missing
    split: str | None = Field(None, max_length=32, description="For prompts='split'.")
    k: int = Field(2, ge=1, le=16, description="Candidates per prompt.")
    temperature: float = Field(1.0, ge=0.0, le=5.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_new_tokens: int = Field(64, ge=1, le=4096)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    batch_size: int = Field(16, ge=1, le=512)
    limit: int | None = Field(None, ge=1, le=10_000_000, description="At most this many prompts.")


class SnapshotParams(BaseModel):
    """Builds (or rebuilds) a snapshot created through ``POST /api/projects/{id}/snapshots``."""

    model_config = ConfigDict(extra="forbid")
    snapshot_id: int = Field(ge=1, le=MAX_ID)


class LoraParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lora: bool = Field(False, description="Train LoRA adapters (merged into the saved model) instead of all weights.")
    lora_r: int = Field(8, ge=1, le=512)
    lora_alpha: int = Field(16, ge=1, le=1024)
    lora_dropout: float = Field(0.0, ge=0.0, lt=1.0)


class CheckpointParams(LoraParams):
    checkpoint_steps: int = Field(
        50,
        ge=1,
        le=10_000_000,
        description="Save the training state every this many steps; a job whose worker died resumes from it.",
    )


class RewardModelParams(CheckpointParams):
    """Train a reward model (TRL's RewardTrainer, Bradley-Terry loss) on a snapshot's preference pairs."""

    snapshot_id: int = Field(ge=1, le=MAX_ID, description="A ready snapshot of this job's project.")
    base_model_version_id: int = Field(ge=1, le=MAX_ID, description="The model the reward model starts from.")
    name: str | None = Field(None, max_length=200, description="Name of the registered version.")
    max_length: int = Field(512, ge=16, le=32_768)
    epochs: float = Field(1.0, gt=0, le=100)
    max_steps: int = Field(-1, ge=-1, le=10_000_000, description="-1: run the epochs.")
    learning_rate: float = Field(5e-5, gt=0, le=1)
    batch_size: int = Field(8, ge=1, le=1024)
    gradient_accumulation_steps: int = Field(1, ge=1, le=1024)
    use_margin: bool = Field(True, description="Subtract the label strength (margin) in the loss.")
    center_rewards_coefficient: float | None = Field(None, ge=0, le=10)
    eval_steps: int = Field(50, ge=1, le=1_000_000)
    early_stopping_patience: int | None = Field(None, ge=1, le=1000, description="Evaluations without gain.")
    seed: int = Field(0, ge=0, le=2**31 - 1)


class DpoParams(CheckpointParams):
    """Fine-tune a policy with DPO (TRL's DPOTrainer) on a snapshot's preference pairs."""

    snapshot_id: int = Field(ge=1, le=MAX_ID)
    policy_model_version_id: int = Field(ge=1, le=MAX_ID, description="The policy to improve; also the reference.")
    name: str | None = Field(None, max_length=200)
    beta: float = Field(0.1, gt=0, le=10)
    learning_rate: float = Field(5e-6, gt=0, le=1)
    epochs: float = Field(1.0, gt=0, le=100)
    max_steps: int = Field(-1, ge=-1, le=10_000_000)
    batch_size: int = Field(8, ge=1, le=1024)
    gradient_accumulation_steps: int = Field(1, ge=1, le=1024)
    max_length: int = Field(512, ge=16, le=32_768)
    max_prompt_length: int = Field(256, ge=8, le=32_768, description="Longer prompts keep their last tokens.")
    seed: int = Field(0, ge=0, le=2**31 - 1)

    @model_validator(mode="after")
    def _lengths(self) -> Self:
        if self.max_prompt_length >= self.max_length:
            raise ValueError("max_prompt_length must be smaller than max_length")
        return self


class PpoParams(CheckpointParams):
    """Fine-tune a policy with PPO against a reward model (our own PPO, workers/ml/ppo.py)."""

    policy_model_version_id: int = Field(ge=1, le=MAX_ID)
    reward_model_version_id: int = Field(ge=1, le=MAX_ID)
    snapshot_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Take prompts from this snapshot's train split (default: the project's)."
    )
    name: str | None = Field(None, max_length=200)
    total_episodes: int = Field(256, ge=1, le=100_000_000)
    batch_size: int = Field(16, ge=1, le=4096, description="Rollouts per PPO step.")
    mini_batch_size: int = Field(4, ge=1, le=4096)
    ppo_epochs: int = Field(2, ge=1, le=64)
    learning_rate: float = Field(1e-5, gt=0, le=1)
    response_length: int = Field(32, ge=1, le=4096)
    temperature: float = Field(0.7, gt=0, le=5)
    kl_coef: float = Field(0.05, ge=0, le=10)
    adaptive_kl: bool = False
    target_kl: float = Field(6.0, gt=0, le=1000)
    clip_range: float = Field(0.2, gt=0, le=1)
    clip_range_value: float = Field(0.2, gt=0, le=100)
    vf_coef: float = Field(0.1, ge=0, le=10)
    critic_from_reward_model: bool = Field(
        False,
        description="A separate critic started from the reward model (it must share the policy's vocabulary), as "
        "TRL's PPO had: higher reward, more memory; off: a value head on the policy.",
    )
    max_grad_norm: float | None = Field(
        None, gt=0, le=1e6, description="Clip each update's gradient norm to this; empty: no clipping (as TRL's PPO)."
    )
    gamma: float = Field(1.0, ge=0, le=1)
    lam: float = Field(0.95, ge=0, le=1)
    whiten_rewards: bool = False
    seed: int = Field(0, ge=0, le=2**31 - 1)
    checkpoint_steps: int = Field(
        10,
        ge=1,
        le=10_000_000,
        description="Save the training state every this many PPO steps; a job whose worker died resumes from it.",
    )


class EvaluationParams(BaseModel):
    """Evaluate a reward model on a snapshot's test split and/or a policy against its parent."""

    model_config = ConfigDict(extra="forbid")
    reward_model_version_id: int | None = Field(None, ge=1, le=MAX_ID)
    snapshot_id: int | None = Field(None, ge=1, le=MAX_ID, description="Reward accuracy on its test split.")
    policy_model_version_id: int | None = Field(None, ge=1, le=MAX_ID)
    baseline_model_version_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Compare the policy with this version (default: its parent)."
    )
    prompt_split: str | None = Field(
        "test", max_length=32, description="Held-out prompts: the project's prompts of this split."
    )
    max_prompts: int = Field(64, ge=1, le=100_000)
    max_new_tokens: int = Field(32, ge=1, le=4096)
    temperature: float = Field(0.7, ge=0, le=5)
    human_eval: bool = Field(
        False, description="Also make a pairwise project of new-vs-baseline responses for annotators to judge blind."
    )
    human_overlap: int = Field(1, ge=1, le=50)
    seed: int = Field(0, ge=0, le=2**31 - 1)


@dataclass(frozen=True)
class KindSpec:
    task_name: str
    queue: str
    params: type[BaseModel]
    idempotent: bool
    """Safe to run again after a crash (re-queued by the reaper); otherwise a lost worker fails the job."""
    needs_project: bool
    max_attempts: int = 3


SPECS: dict[JobKind, KindSpec] = {
    JobKind.smoke: KindSpec("prefloop.smoke", "cpu", SmokeParams, True, False),
    JobKind.validate_model: KindSpec("prefloop.validate_model", "cpu", ValidateModelParams, True, False),
    JobKind.generation: KindSpec("prefloop.gpu.generation", "gpu", GenerationParams, True, True),
    JobKind.snapshot: KindSpec("prefloop.snapshot", "cpu", SnapshotParams, True, True),
    JobKind.reward_model: KindSpec("prefloop.gpu.reward_model", "gpu", RewardModelParams, True, True),
    JobKind.dpo: KindSpec("prefloop.gpu.dpo", "gpu", DpoParams, True, True),
    JobKind.ppo: KindSpec("prefloop.gpu.ppo", "gpu", PpoParams, True, True),
    JobKind.evaluation: KindSpec("prefloop.gpu.evaluation", "gpu", EvaluationParams, True, True),
}
