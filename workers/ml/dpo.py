"""Direct preference optimisation (DPO, TRL's DPOTrainer): the policy learns from preference pairs directly.

The lighter alternative to reward model + PPO. :func:`train_dpo` reads TRL preference JSONL files
(``prompt``, ``chosen``, ``rejected``; a ``margin`` column is ignored), trains the policy against a frozen
reference, the initial policy itself (a copy TRL loads from the same checkpoint or, with LoRA, the base
model with the adapters switched off), and saves the final policy as a plain causal LM (LoRA merged) with
its tokenizer and ``train_config.json`` (the resolved config, files and library versions).

Input (trl 1.16, ``DPOTrainer._prepare_dataset``)
    Plain text: each completion gets the tokenizer's EOS unless it ends with one; the prompt is tokenised
    alone and ``prompt + completion`` together (special tokens included, e.g. a BOS), and the completion is
    what follows their common prefix. Conversational data goes through the chat template, the prompt with
    a generation prompt. Only completion tokens count in the log-probabilities.

Lengths
    TRL 1.16 has no prompt limit of its own and drops pairs whose prompt alone reaches ``max_length``; here,
    after TRL's tokenisation, a prompt longer than ``max_prompt_length`` keeps its last tokens (and its
    first one when that is the BOS), then each completion is cut to what ``max_length`` leaves: no pair is
    dropped, and the end of the prompt, nearest the answer, survives (see :func:`clip_pair`).

    python -m workers.ml.dpo --policy_model ./tiny --output_dir ./dpo --train_file train.jsonl --max_steps 100
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
from datasets import Dataset, disable_progress_bars  # type: ignore[import-untyped]  # no type hints
from transformers import AutoModelForCausalLM, HfArgumentParser, PreTrainedModel, set_seed
from transformers.hf_argparser import DataClassType
from transformers.utils import logging as hf_logging
from trl.trainer.dpo_config import DPOConfig
from trl.trainer.dpo_trainer import DPOTrainer

from workers.ml.checkpoints import checkpoint_args, train_resuming
from workers.ml.reward import (
    SCRATCH_DIR,
    TRAIN_CONFIG_FILE,
    LoopCallback,
    MetricsFn,
    ProgressFn,
    StopFn,
    check_common,
    load_preference_file,
    load_tokenizer,
    lora_config,
    merged,
    model_source,
    never_stop,
    no_metrics,
    no_progress,
    precision_args,
    print_metrics,
    quiet_args,
    resolve_device,
    silence,
    versions,
    write_json,
)
from workers.ml.runtime import configure_cpu_threads


@dataclass
class DpoTrainConfig:
    """How to train a policy with DPO. Saved, resolved, as ``train_config.json`` next to the policy."""

    policy_model: str = field(metadata={"help": "Hub id or local directory of the causal LM to start from."})
    output_dir: str = field(metadata={"help": "Directory to save the trained policy, tokenizer and config in."})
    beta: float = field(
        default=0.1, metadata={"help": "Strength of the pull towards the reference policy (higher = stay closer)."}
    )
    loss_type: str = field(
        default="sigmoid", metadata={"help": "TRL loss: sigmoid (DPO), ipo, hinge, robust, ... (see DPOConfig)."}
    )
    learning_rate: float = field(default=5e-6, metadata={"help": "Peak AdamW learning rate (linear decay to 0)."})
    epochs: float = field(default=1.0, metadata={"help": "Passes over the training file (ignored when max_steps > 0)."})
    max_steps: int = field(default=-1, metadata={"help": "Optimizer steps to train; -1 = as many as `epochs` take."})
    batch_size: int = field(default=8, metadata={"help": "Preference pairs per device per forward pass."})
    gradient_accumulation_steps: int = field(
        default=1, metadata={"help": "Forward passes per optimizer step (effective batch = batch_size x this)."}
    )
    max_length: int = field(
        default=512, metadata={"help": "Longest prompt + completion in tokens; completions are cut to fit."}
    )
    max_prompt_length: int = field(
        default=256, metadata={"help": "Longest prompt in tokens; longer prompts keep their last tokens."}
    )
    lora: bool = field(default=False, metadata={"help": "Train LoRA adapters instead of all weights (merged at save)."})
    lora_r: int = field(default=8, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA scaling numerator (scale = lora_alpha / lora_r)."})
    lora_dropout: float = field(default=0.0, metadata={"help": "Dropout on the LoRA path."})
    lora_target_modules: str = field(
        default="all-linear",
        metadata={"help": "Modules that get adapters: 'all-linear' or comma-separated names (e.g. q_proj,v_proj)."},
    )
    eval_steps: int = field(
        default=50, metadata={"help": "Evaluate on the validation file every this many steps (when one is given)."}
    )
    seed: int = field(default=0, metadata={"help": "Seed for LoRA init and data order."})
    checkpoint_dir: str | None = field(
        default=None,
        metadata={
            "help": "Save resumable checkpoints here every checkpoint_steps steps, and resume from the last complete "
            "one found there (a run killed midway goes on from it)."
        },
    )
    checkpoint_steps: int = field(default=50, metadata={"help": "Optimizer steps between resumable checkpoints."})
    logging_steps: int = field(default=1, metadata={"help": "Report training metrics every this many steps."})
    device: str = field(default="auto", metadata={"help": "auto (CUDA if available, else CPU), cpu or cuda."})

    def __post_init__(self) -> None:
        check_common(self)
        if not self.beta > 0:
            raise ValueError("beta must be positive")
        if not 1 <= self.max_prompt_length < self.max_length:
            raise ValueError("need 1 <= max_prompt_length < max_length")


@dataclass
class DpoResult:
    """What a DPO run produced."""

    output_dir: str
    steps: int
    """Optimizer steps taken."""
    metrics: dict[str, float]
    """The trainer's summary (train_loss, train_runtime, ...) and, with a validation file, the final
    evaluation (eval_loss, eval_rewards/accuracies, eval_rewards/margins, ...)."""
    stopped: bool
    """True when ``should_stop`` ended training before its planned steps (the policy is saved all the same)."""


def clip_pair(
    example: Mapping[str, Sequence[int]], max_prompt_length: int, max_length: int, bos_token_id: int | None
) -> dict[str, list[int]]:
    """Cut one tokenised pair (``prompt_ids``, ``chosen_ids``, ``rejected_ids``) to the configured lengths.

    The prompt keeps its last ``max_prompt_length`` tokens (its first, when that is the BOS, plus the last
    ``max_prompt_length - 1``): the end of a prompt is what the answer responds to. Each completion then
    keeps its first ``max_length - len(prompt)`` tokens, as TRL's keep_start truncation would.
    """
    prompt = list(example["prompt_ids"])
    if len(prompt) > max_prompt_length:
        keep_bos = bos_token_id is not None and prompt[0] == bos_token_id and max_prompt_length > 1
        tail = prompt[len(prompt) - (max_prompt_length - int(keep_bos)) :]
        prompt = [prompt[0], *tail] if keep_bos else tail
    room = max_length - len(prompt)
    return {
        "prompt_ids": prompt,
        "chosen_ids": list(example["chosen_ids"])[:room],
        "rejected_ids": list(example["rejected_ids"])[:room],
    }


def _clip_dataset(dataset: Dataset, cfg: DpoTrainConfig, bos_token_id: int | None) -> Dataset:
    return dataset.map(
        clip_pair,
        fn_kwargs={
            "max_prompt_length": cfg.max_prompt_length,
            "max_length": cfg.max_length,
            "bos_token_id": bos_token_id,
        },
        desc="Clipping prompts and completions",
    )


def _load_policy(cfg: DpoTrainConfig) -> PreTrainedModel:
    source, local = model_source(cfg.policy_model)
    # fp32 weights: on a GPU, bf16 is autocast (mixed precision), so the optimizer keeps full precision.
    model = AutoModelForCausalLM.from_pretrained(source, local_files_only=local, dtype=torch.float32)
    return cast(PreTrainedModel, model)


def _dpo_args(cfg: DpoTrainConfig, scratch: Path, device: torch.device, has_validation: bool) -> DPOConfig:
    args: dict[str, Any] = {
        "output_dir": str(scratch),
        "beta": cfg.beta,
        "loss_type": [cfg.loss_type],
        "num_train_epochs": cfg.epochs,
        "max_steps": cfg.max_steps,
        "learning_rate": cfg.learning_rate,
        "per_device_train_batch_size": cfg.batch_size,
        "per_device_eval_batch_size": cfg.batch_size,
        "gradient_accumulation_steps": cfg.gradient_accumulation_steps,
        # Lengths are enforced by clip_pair after TRL's tokenisation (TRL would drop long-prompt pairs).
        "max_length": None,
        "seed": cfg.seed,
        "logging_strategy": "steps",
        "logging_steps": cfg.logging_steps,
        "eval_strategy": "steps" if has_validation else "no",
        "eval_steps": cfg.eval_steps if has_validation else None,
        "save_strategy": "no",
        **precision_args(device),
        **quiet_args(),
    }
    return DPOConfig(**{**args, **checkpoint_args(cfg.checkpoint_dir, cfg.checkpoint_steps, eval_steps=None)})


def _final_evaluation(trainer: DPOTrainer) -> dict[str, float]:
    """Validation metrics of the final policy against the reference (still the initial policy).

    Reuses the evaluation the trainer ran at the last step, if it ran one, rather than repeating it.
    """
    for entry in reversed(trainer.state.log_history):
        if "eval_loss" in entry:
            if entry.get("step") == trainer.state.global_step:
                return {k: float(v) for k, v in entry.items() if k.startswith("eval_") and isinstance(v, int | float)}
            break
    return {k: float(v) for k, v in trainer.evaluate().items() if isinstance(v, int | float)}


def train_dpo(
    cfg: DpoTrainConfig,
    train_file: str,
    validation_file: str | None = None,
    *,
    on_metrics: MetricsFn = no_metrics,
    on_progress: ProgressFn = no_progress,
    should_stop: StopFn = never_stop,
) -> DpoResult:
    """Train ``cfg.policy_model`` with DPO on TRL preference JSONL files and save it to ``cfg.output_dir``.

    ``on_metrics(step, metrics)`` receives each log of the trainer: per training step ``loss``,
    ``rewards/chosen`` and ``rewards/rejected`` (beta x log-ratio to the reference), ``rewards/accuracies``,
    ``rewards/margins``, ``logps/chosen``, ``logps/rejected``, ``logits/chosen``, ``logits/rejected``,
    ``entropy``, ``mean_token_accuracy``, ``num_tokens``, ``learning_rate``, ``grad_norm``, ``epoch``; per
    evaluation the same with an ``eval_`` prefix; at the end the trainer's summary. ``on_progress(step,
    total_steps)`` follows every optimizer step; ``should_stop()`` is polled after each and ends training
    when it returns True, after which the policy is saved and evaluated as after a full run.
    """
    device = resolve_device(cfg.device)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    scratch = out / SCRATCH_DIR
    try:
        cache = scratch / "datasets"
        train = load_preference_file(train_file, cache)
        validation = load_preference_file(validation_file, cache) if validation_file else None
        if "prompt" not in train.column_names:
            raise ValueError(f"{train_file}: DPO here needs an explicit `prompt` column")

        tokenizer = load_tokenizer(cfg.policy_model)
        set_seed(cfg.seed)
        hooks = LoopCallback(on_metrics, on_progress, should_stop)
        trainer = DPOTrainer(
            model=_load_policy(cfg),
            args=_dpo_args(cfg, scratch, device, validation is not None),
            train_dataset=train,
            eval_dataset=validation,
            processing_class=tokenizer,
            callbacks=[hooks],
            peft_config=lora_config(cfg, "CAUSAL_LM") if cfg.lora else None,
        )
        silence(trainer)
        bos = tokenizer.bos_token_id
        bos_id = bos if isinstance(bos, int) else None
        trainer.train_dataset = _clip_dataset(cast(Dataset, trainer.train_dataset), cfg, bos_id)
        if trainer.eval_dataset is not None:
            trainer.eval_dataset = _clip_dataset(cast(Dataset, trainer.eval_dataset), cfg, bos_id)

        summary = train_resuming(trainer, cfg.checkpoint_dir, on_metrics)
        metrics = {k: float(v) for k, v in summary.items() if isinstance(v, int | float)}
        if trainer.eval_dataset is not None:
            metrics.update(_final_evaluation(trainer))

        final = merged(trainer.model)
        final.save_pretrained(out)
        tokenizer.save_pretrained(out)
        write_json(
            out / TRAIN_CONFIG_FILE,
            {
                "kind": "dpo",
                "config": dataclasses.asdict(cfg),
                "resolved": {
                    "device": device.type,
                    "bf16": precision_args(device)["bf16"],
                    "max_steps": trainer.state.max_steps,
                    "steps": trainer.state.global_step,
                    "stopped": hooks.stopped,
                    "reference": "base model, adapters disabled" if cfg.lora else "frozen copy of policy_model",
                },
                "files": {"train": train_file, "validation": validation_file},
                "metrics": metrics,
                "versions": versions(),
            },
        )
        return DpoResult(output_dir=str(out), steps=trainer.state.global_step, metrics=metrics, stopped=hooks.stopped)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# ------------------------------------------------------------------------------------------------- CLI


@dataclass
class DpoFiles:
    """Command-line options of ``python -m workers.ml.dpo`` besides the training config."""

    train_file: str = field(metadata={"help": "TRL preference JSONL (prompt, chosen, rejected)."})
    validation_file: str = field(default="", metadata={"help": "Held-out pairs for evaluation; empty = none."})
    num_threads: int = field(default=0, metadata={"help": "torch CPU threads; 0 = one per idle CPU."})


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: train a policy with DPO and print the result as JSON."""
    parser = HfArgumentParser(
        [DataClassType(DpoFiles), DataClassType(DpoTrainConfig)], description=(__doc__ or "").split("\n\n")[0]
    )
    files, cfg = parser.parse_args_into_dataclasses(args=list(argv) if argv is not None else None)
    assert isinstance(files, DpoFiles) and isinstance(cfg, DpoTrainConfig)
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    disable_progress_bars()
    configure_cpu_threads(files.num_threads)
    result = train_dpo(cfg, files.train_file, files.validation_file or None, on_metrics=print_metrics)
    print(json.dumps(dataclasses.asdict(result), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
