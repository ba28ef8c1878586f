"""Reward-model training on human preference pairs (Bradley-Terry loss, TRL's RewardTrainer) and scoring.

:func:`train_reward_model` reads TRL preference JSONL files (``prompt``, ``chosen``, ``rejected``, optional
``margin``: what the exporter writes for the ``preference`` and ``preference_conversational`` layouts),
fine-tunes a sequence-classification head with one output on top of the base model (a causal LM checkpoint
works: the head starts random), reports metrics, progress and stop requests through callbacks, and saves
the final model (LoRA merged) with its tokenizer and two JSON files:

``reward_format.json`` (:class:`RewardFormat`)
    How a (prompt, response) pair becomes the model's input, exactly as RewardTrainer built it in training
    (trl 1.16, ``RewardTrainer._prepare_dataset`` and ``DataCollatorForPreference``):

    - standard (plain-text) data: the response gets the tokenizer's EOS token appended unless it already
      ends with it; then the text is ``prompt + response``, concatenated with no separator, and tokenised
      with ``tokenizer(text)``, i.e. with the tokenizer's special tokens (a BOS for Llama-style tokenizers).
    - conversational data: no EOS is added; the messages ``prompt + response`` (the response as one
      assistant message) go through ``tokenizer.apply_chat_template(..., tokenize=True)`` without a
      generation prompt (the template writes its own special tokens).
    - pairs with either side longer than ``max_length`` tokens were dropped from training, not truncated.
    - batches are right-padded with the pad token; the reward is the head's output at the last token that
      is not the pad token (so a tokenizer whose pad token is its EOS reads the reward one token earlier,
      at training and scoring time alike).

``train_config.json``
    The resolved config, the files trained on and the library versions.

:class:`RewardScorer` loads such a directory and rebuilds that format for new pairs: it is the reward
function of PPO and of policy evaluation. The held-out accuracies in :class:`RewardResult` are computed
through the same code path, so they measure what a scorer will see.

The helpers under "Shared with dpo.py" (device and precision choice, the callback that carries metrics,
progress and stop requests, JSONL loading, LoRA settings) are used by :mod:`workers.ml.dpo` too, so that a
change in TRL's or transformers' API touches these two modules only.

    python -m workers.ml.reward --base_model ./tiny --output_dir ./rm --train_file train.jsonl \\
        --validation_file validation.jsonl --epochs 3
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
import transformers
import trl
from datasets import (  # type: ignore[import-untyped]  # datasets ships no type hints
    Dataset,
    disable_progress_bars,
    load_dataset,
)
from peft import LoraConfig, PeftModel
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    EarlyStoppingCallback,
    HfArgumentParser,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    PrinterCallback,
    Trainer,
    TrainerCallback,
    TrainerControl,
    TrainerState,
    TrainingArguments,
    set_seed,
)
from transformers.hf_argparser import DataClassType
from transformers.utils import logging as hf_logging
from trl.data_utils import is_conversational
from trl.trainer.reward_config import RewardConfig
from trl.trainer.reward_trainer import RewardTrainer

from workers.ml.checkpoints import checkpoint_args, train_resuming
from workers.ml.runtime import configure_cpu_threads, default_dtype, pick_device

REWARD_FORMAT_FILE = "reward_format.json"
TRAIN_CONFIG_FILE = "train_config.json"
# Bump when RewardFormat's meaning changes; the scorer refuses formats it does not know.
REWARD_FORMAT_VERSION = 1
# The trainer's own output (checkpoints for early stopping, dataset caches) lives here while training
# and is removed afterwards: the artifact is the final model, not the trainer's scratch.
SCRATCH_DIR = "_trainer"

Message = Mapping[str, str]
PromptLike = str | Sequence[Message]
MetricsFn = Callable[[int, dict[str, float]], None]
ProgressFn = Callable[[int, int], None]
StopFn = Callable[[], bool]


def no_metrics(step: int, metrics: dict[str, float]) -> None:
    """Default ``on_metrics``: drop them."""


def no_progress(step: int, total: int) -> None:
    """Default ``on_progress``: ignore it."""


def never_stop() -> bool:
    """Default ``should_stop``: never."""
    return False


# --------------------------------------------------------------------------------------- shared with dpo.py


def resolve_device(device: str) -> torch.device:
    """``auto`` (CUDA when available, else CPU), ``cpu`` or ``cuda``, as a torch device.

    Trainer runs on the first visible GPU; a particular one is chosen with ``CUDA_VISIBLE_DEVICES``, not
    here, so ``cuda:1`` is refused rather than silently ignored.
    """
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {device!r} (pick a GPU with CUDA_VISIBLE_DEVICES)")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' but no CUDA device is available")
    return pick_device(None if device == "auto" else device)


def precision_args(device: torch.device) -> dict[str, Any]:
    """TrainingArguments for ``device``: bf16 mixed precision only where the GPU supports it; no checkpointing.

    TRL's configs default to ``bf16=True`` and gradient checkpointing on. On CPU, bf16 autocast is slow
    and checkpointing made a tiny model's run 13x slower; on a GPU checkpointing trades about a fifth of
    the speed for memory, so it stays off until a config field asks for it.
    """
    return {
        "bf16": default_dtype(device) == torch.bfloat16,
        "fp16": False,
        "use_cpu": device.type == "cpu",
        # transformers 5 renamed gradient_checkpointing; set both so neither TRL default survives.
        "activation_checkpointing": False,
        "gradient_checkpointing": False,
    }


def quiet_args() -> dict[str, Any]:
    """TrainingArguments that keep the trainer from reporting anywhere but our callback.

    With tqdm disabled, Trainer prints every log dict to stdout instead (PrinterCallback): remove that
    callback too, with :func:`silence`.
    """
    return {"report_to": [], "disable_tqdm": True, "push_to_hub": False}


class LoopCallback(TrainerCallback):
    """Carries a Trainer's logs, progress and stop requests to plain callables.

    ``on_metrics(step, logs)`` gets every numeric value of every log (training steps, evaluations, the
    final summary), under the trainer's own names. ``on_progress(step, total)`` is called at the start
    and after every optimizer step. ``should_stop()`` is polled after every step; when it returns True
    the trainer finishes the step and stops, and :attr:`stopped` is set.
    """

    def __init__(self, on_metrics: MetricsFn, on_progress: ProgressFn, should_stop: StopFn) -> None:
        self.on_metrics = on_metrics
        self.on_progress = on_progress
        self.should_stop = should_stop
        self.stopped = False

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        self.on_progress(state.global_step, state.max_steps)

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        self.on_progress(state.global_step, state.max_steps)
        if self.should_stop():
            self.stopped = True
            control.should_training_stop = True

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        numeric = {
            k: float(v) for k, v in (logs or {}).items() if isinstance(v, int | float) and not isinstance(v, bool)
        }
        if numeric:
            self.on_metrics(state.global_step, numeric)


def silence(trainer: Trainer) -> None:
    """Stop ``trainer`` from printing its logs to stdout: they reach the caller through LoopCallback."""
    trainer.remove_callback(PrinterCallback)


def load_preference_file(path: str | Path, cache_dir: Path) -> Dataset:
    """A TRL preference JSONL file as a ``datasets.Dataset``, loaded as a user of TRL would load it."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no such file: {path}")
    dataset = load_dataset("json", data_files=str(path), split="train", cache_dir=str(cache_dir))
    missing = {"chosen", "rejected"} - set(dataset.column_names)
    if missing:
        raise ValueError(f"{path}: missing column(s) {sorted(missing)}; expected prompt, chosen, rejected")
    if len(dataset) == 0:
        raise ValueError(f"{path}: no rows")
    return dataset


def lora_config(cfg: Any, task_type: str) -> LoraConfig:
    """PEFT LoRA settings from a config with ``lora_r``, ``lora_alpha``, ``lora_dropout``, ``lora_target_modules``."""
    targets = cfg.lora_target_modules
    return LoraConfig(
        task_type=task_type,
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        # "all-linear" leaves out the output layer (LM head, or the classification head for SEQ_CLS, which
        # PEFT trains in full instead via modules_to_save).
        target_modules=targets if targets == "all-linear" else [t.strip() for t in targets.split(",") if t.strip()],
    )


def merged(model: Any) -> PreTrainedModel:
    """The plain transformers model: LoRA adapters folded into the weights where there are any."""
    if isinstance(model, PeftModel):
        return cast(PreTrainedModel, model.merge_and_unload())
    return cast(PreTrainedModel, model)


def load_tokenizer(name_or_path: str) -> PreTrainedTokenizerBase:
    """The tokenizer of a local directory (no network) or a hub id."""
    source, local = model_source(name_or_path)
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
    return cast(PreTrainedTokenizerBase, tokenizer)


def model_source(name_or_path: str) -> tuple[str, bool]:
    """(what to pass to from_pretrained, whether it is a local path)."""
    local = Path(name_or_path).expanduser().exists()
    return (str(Path(name_or_path).expanduser()) if local else name_or_path), local


def versions() -> dict[str, str]:
    """Versions of the libraries that shaped a trained artifact."""
    return {"torch": torch.__version__, "transformers": transformers.__version__, "trl": trl.__version__}


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Pretty, key-sorted JSON (these files are read by people as well as by code)."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def check_common(cfg: Any) -> None:
    """Validate the fields reward and DPO configs share."""
    if cfg.batch_size < 1 or cfg.gradient_accumulation_steps < 1 or cfg.logging_steps < 1 or cfg.eval_steps < 1:
        raise ValueError("batch_size, gradient_accumulation_steps, logging_steps and eval_steps must be at least 1")
    if cfg.max_steps == 0 or cfg.max_steps < -1:
        raise ValueError("max_steps must be positive, or -1 to train for `epochs`")
    if cfg.max_steps == -1 and not cfg.epochs > 0:
        raise ValueError("epochs must be positive when max_steps is -1")
    if not cfg.learning_rate > 0:
        raise ValueError("learning_rate must be positive")
    if cfg.lora and (cfg.lora_r < 1 or cfg.lora_alpha <= 0 or not 0 <= cfg.lora_dropout < 1):
        raise ValueError("need lora_r >= 1, lora_alpha > 0 and 0 <= lora_dropout < 1")
    if cfg.device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {cfg.device!r}")
    if cfg.checkpoint_steps < 1:
        raise ValueError("checkpoint_steps must be at least 1")


# ------------------------------------------------------------------------------------------------ config


@dataclass
class RewardModelConfig:
    """How to train a reward model. Saved, resolved, as ``train_config.json`` next to the model."""

    base_model: str = field(
        metadata={
            "help": "Hub id or local directory of the starting model: a causal LM (a new 1-output head is added) "
            "or a sequence-classification checkpoint."
        }
    )
    output_dir: str = field(metadata={"help": "Directory to save the trained reward model, tokenizer and JSON files."})
    max_length: int = field(
        default=512, metadata={"help": "Longest prompt+response in tokens; longer pairs are left out of training."}
    )
    epochs: float = field(default=1.0, metadata={"help": "Passes over the training file (ignored when max_steps > 0)."})
    max_steps: int = field(default=-1, metadata={"help": "Optimizer steps to train; -1 = as many as `epochs` take."})
    learning_rate: float = field(default=5e-5, metadata={"help": "Peak AdamW learning rate (linear decay to 0)."})
    batch_size: int = field(default=8, metadata={"help": "Preference pairs per device per forward pass."})
    gradient_accumulation_steps: int = field(
        default=1, metadata={"help": "Forward passes per optimizer step (effective batch = batch_size x this)."}
    )
    use_margin: bool = field(
        default=True,
        metadata={
            "help": "Use the file's `margin` column: the loss becomes -log sigmoid(r_chosen - r_rejected - margin), "
            "so strong preferences must be separated more. False drops the column."
        },
    )
    center_rewards_coefficient: float | None = field(
        default=None,
        metadata={"help": "Weight of a penalty on (r_chosen + r_rejected)^2 that keeps rewards near 0; e.g. 0.01."},
    )
    lora: bool = field(
        default=False, metadata={"help": "Train LoRA adapters (and the head in full) instead of all weights."}
    )
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
    early_stopping_patience: int | None = field(
        default=None,
        metadata={
            "help": "Stop when validation accuracy has not improved for this many evaluations and keep the best "
            "evaluated model; None trains to the end. Needs a validation file."
        },
    )
    seed: int = field(default=0, metadata={"help": "Seed for the head's initialisation, LoRA init and data order."})
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
        if self.max_length < 2:
            raise ValueError("max_length must be at least 2")
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            raise ValueError("early_stopping_patience must be at least 1 (or None)")


@dataclass
class RewardResult:
    """What a reward-model run produced."""

    output_dir: str
    steps: int
    """Optimizer steps taken."""
    validation_accuracy: float | None
    """Fraction of validation pairs with reward(chosen) > reward(rejected), scored as RewardScorer scores."""
    test_accuracy: float | None
    metrics: dict[str, float]
    """Final numbers: the trainer's summary (train_loss, train_runtime, ...) and, per held-out split,
    ``{split}_accuracy``, ``{split}_margin`` (mean reward difference), ``{split}_loss`` (Bradley-Terry loss
    without margins) and ``{split}_pairs``."""
    stopped: bool
    """True when ``should_stop`` ended training before its planned steps (the model is saved all the same)."""


# ---------------------------------------------------------------------------------------- input format


@dataclass
class RewardFormat:
    """How a (prompt, response) pair was turned into token ids in training (see the module docstring)."""

    conversational: bool
    """Chat messages through the chat template (True) or plain ``prompt + response`` text (False)."""
    eos_token: str | None
    """Appended to a plain-text response unless it already ends with it; None for conversational data."""
    pad_token_id: int
    """Right padding; the reward is read at the last token that is not this one."""
    max_length: int | None
    """Pairs longer than this were left out of training (for information; scoring does not drop them)."""
    add_special_tokens: bool = True
    """Plain text is tokenised with the tokenizer's special tokens (e.g. a leading BOS)."""
    padding_side: str = "right"
    format_version: int = REWARD_FORMAT_VERSION
    description: str = ""
    versions: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def read(cls, model_dir: str | Path) -> RewardFormat:
        """The format saved next to a reward model; ValueError for a missing or unknown one."""
        path = Path(model_dir) / REWARD_FORMAT_FILE
        if not path.is_file():
            raise ValueError(f"{model_dir} has no {REWARD_FORMAT_FILE}: not a reward model trained here")
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format_version") != REWARD_FORMAT_VERSION:
            raise ValueError(f"{path}: format_version {data.get('format_version')!r}, expected {REWARD_FORMAT_VERSION}")
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def write(self, model_dir: str | Path) -> None:
        write_json(Path(model_dir) / REWARD_FORMAT_FILE, dataclasses.asdict(self))


def _describe(conversational: bool) -> str:
    if conversational:
        return (
            "input_ids = tokenizer.apply_chat_template(prompt_messages + [assistant response], tokenize=True) "
            "(no generation prompt, no extra EOS); right padding; reward = head output at the last non-pad token"
        )
    return (
        "input_ids = tokenizer(prompt + response + eos_token) with the tokenizer's special tokens; the EOS is "
        "appended only if the response does not already end with it; prompt and response are joined with no "
        "separator; right padding; reward = head output at the last non-pad token"
    )


def encode_pair(
    tokenizer: PreTrainedTokenizerBase, fmt: RewardFormat, prompt: PromptLike, response: PromptLike
) -> list[int]:
    """Token ids of one (prompt, response) as RewardTrainer tokenised a training pair (chosen or rejected).

    For a conversational format a plain-string prompt becomes one user message and a plain-string
    response one assistant message. A message-list prompt for a plain-text format is a ValueError.
    """
    if fmt.conversational:
        messages = [dict(m) for m in _as_messages(prompt, "user")] + [
            dict(m) for m in _as_messages(response, "assistant")
        ]
        encoded = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)
        ids = cast(Mapping[str, Any], encoded)["input_ids"]
    else:
        if not isinstance(prompt, str) or not isinstance(response, str):
            raise ValueError("this reward model was trained on plain text; give prompts and responses as strings")
        if fmt.eos_token is not None and not response.endswith(fmt.eos_token):
            response = response + fmt.eos_token
        ids = tokenizer(prompt + response, add_special_tokens=fmt.add_special_tokens)["input_ids"]
    return [int(i) for i in ids]


def _as_messages(value: PromptLike, role: str) -> Sequence[Message]:
    if isinstance(value, str):
        return [{"role": role, "content": value}]
    return value


# ------------------------------------------------------------------------------------------------ scorer


class RewardScorer:
    """Scores (prompt, response) pairs with a reward model saved by :func:`train_reward_model`.

    Rebuilds the training input format from ``reward_format.json``, batches by length (right padding, as
    in training) and returns one scalar per pair, in input order. Calling the scorer is the same as
    :meth:`score`, so it serves as a reward function ``(prompts, responses) -> rewards``. Sequences longer
    than the model's context keep their last tokens (where the reward is read).
    """

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    reward_format: RewardFormat
    device: torch.device
    batch_size: int

    def __init__(self, model_dir: str | Path, device: str = "auto", batch_size: int = 16) -> None:
        fmt = RewardFormat.read(model_dir)
        dev = resolve_device(device)
        source, local = model_source(str(model_dir))
        tokenizer = load_tokenizer(source)
        model = AutoModelForSequenceClassification.from_pretrained(
            source, local_files_only=local, dtype=default_dtype(dev)
        )
        self._setup(cast(PreTrainedModel, model), tokenizer, fmt, dev, batch_size)

    @classmethod
    def from_model(
        cls,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        reward_format: RewardFormat,
        batch_size: int = 16,
    ) -> RewardScorer:
        """A scorer around a model already in memory (on its current device), e.g. right after training."""
        scorer = cls.__new__(cls)
        scorer._setup(model, tokenizer, reward_format, model.device, batch_size)
        return scorer

    def _setup(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        fmt: RewardFormat,
        device: torch.device,
        batch_size: int,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if getattr(model.config, "num_labels", None) != 1:
            raise ValueError("a reward model has exactly one output (num_labels=1)")
        model.to(device)  # type: ignore[arg-type]  # transformers annotates .to loosely
        model.train(False)
        # The model finds the reward's position by this id; it must be the one used in training.
        model.config.pad_token_id = fmt.pad_token_id
        self.model, self.tokenizer, self.reward_format = model, tokenizer, fmt
        self.device, self.batch_size = device, batch_size
        limit = getattr(model.config, "max_position_embeddings", None)
        self._context = limit if isinstance(limit, int) and limit > 0 else None

    def encode(self, prompt: PromptLike, response: PromptLike) -> list[int]:
        """The token ids the model sees for one pair (see :func:`encode_pair`)."""
        return encode_pair(self.tokenizer, self.reward_format, prompt, response)

    def score(self, prompts: Sequence[PromptLike], responses: Sequence[PromptLike]) -> list[float]:
        """One reward per (prompt, response) pair, in input order."""
        if len(prompts) != len(responses):
            raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
        return self.score_ids([self.encode(p, r) for p, r in zip(prompts, responses, strict=True)])

    __call__ = score

    def score_ids(self, sequences: Sequence[Sequence[int]]) -> list[float]:
        """Rewards of already encoded sequences (as :meth:`encode` returns them), in input order."""
        if any(len(s) == 0 for s in sequences):
            raise ValueError("cannot score an empty token sequence")
        rows = [list(s[-self._context :]) if self._context else list(s) for s in sequences]
        # Longest first, so the batches' padding is small and an out-of-memory error shows up at once.
        order = sorted(range(len(rows)), key=lambda i: -len(rows[i]))
        out = [0.0] * len(rows)
        pad = self.reward_format.pad_token_id
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            width = max(len(rows[i]) for i in batch)
            input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
            attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):  # right padding, as DataCollatorForPreference pads
                input_ids[row, : len(rows[i])] = torch.tensor(rows[i])
                attention_mask[row, : len(rows[i])] = 1
            with torch.inference_mode():
                logits = self.model(
                    input_ids=input_ids.to(self.device), attention_mask=attention_mask.to(self.device), use_cache=False
                ).logits
            for row, i in enumerate(batch):
                out[i] = float(logits[row, 0])
        return out


def pair_metrics(scorer: RewardScorer, dataset: Iterable[Mapping[str, Any]], prefix: str) -> dict[str, float]:
    """Accuracy (reward(chosen) > reward(rejected)), mean margin and Bradley-Terry loss over preference rows."""
    prompts: list[PromptLike] = []
    chosen: list[PromptLike] = []
    rejected: list[PromptLike] = []
    # Without a prompt column the prompt is part of chosen/rejected (TRL's implicit-prompt format).
    no_prompt: PromptLike = [] if scorer.reward_format.conversational else ""
    for row in dataset:
        prompt = row.get("prompt")
        prompts.append(no_prompt if prompt is None else prompt)
        chosen.append(row["chosen"])
        rejected.append(row["rejected"])
    r_chosen = torch.tensor(scorer.score(prompts, chosen), dtype=torch.float64)
    r_rejected = torch.tensor(scorer.score(prompts, rejected), dtype=torch.float64)
    diff = r_chosen - r_rejected
    return {
        f"{prefix}_accuracy": float((diff > 0).double().mean()),
        f"{prefix}_margin": float(diff.mean()),
        f"{prefix}_loss": float(-torch.nn.functional.logsigmoid(diff).mean()),
        f"{prefix}_pairs": float(len(prompts)),
    }


# ---------------------------------------------------------------------------------------------- training


def _without_margin(dataset: Dataset) -> Dataset:
    return dataset.remove_columns("margin") if "margin" in dataset.column_names else dataset


def _load_reward_model(cfg: RewardModelConfig, tokenizer: PreTrainedTokenizerBase) -> PreTrainedModel:
    source, local = model_source(cfg.base_model)
    # The head of a causal-LM checkpoint starts random: seed first so a run is reproducible.
    set_seed(cfg.seed)
    model = AutoModelForSequenceClassification.from_pretrained(
        source, num_labels=1, local_files_only=local, dtype=torch.float32
    )
    model.config.pad_token_id = tokenizer.pad_token_id
    return cast(PreTrainedModel, model)


def _reward_args(cfg: RewardModelConfig, scratch: Path, device: torch.device, has_validation: bool) -> RewardConfig:
    evaluate = has_validation
    early = cfg.early_stopping_patience is not None
    args: dict[str, Any] = {
        "output_dir": str(scratch),
        "num_train_epochs": cfg.epochs,
        "max_steps": cfg.max_steps,
        "learning_rate": cfg.learning_rate,
        "per_device_train_batch_size": cfg.batch_size,
        "per_device_eval_batch_size": cfg.batch_size,
        "gradient_accumulation_steps": cfg.gradient_accumulation_steps,
        "max_length": cfg.max_length,
        "center_rewards_coefficient": cfg.center_rewards_coefficient,
        "seed": cfg.seed,
        "logging_strategy": "steps",
        "logging_steps": cfg.logging_steps,
        "eval_strategy": "steps" if evaluate else "no",
        "eval_steps": cfg.eval_steps if evaluate else None,
        # Without a checkpoint folder: checkpoints only where early stopping needs them to restore the best
        # model (weights only, in the scratch folder).
        "save_strategy": "steps" if early else "no",
        "save_steps": cfg.eval_steps,
        "save_total_limit": 1 if early else None,
        "save_only_model": True,
        "load_best_model_at_end": early,
        "metric_for_best_model": "eval_accuracy" if early else None,
        "greater_is_better": True if early else None,
        **precision_args(device),
        **quiet_args(),
    }
    resumable = checkpoint_args(cfg.checkpoint_dir, cfg.checkpoint_steps, eval_steps=cfg.eval_steps if early else None)
    return RewardConfig(**{**args, **resumable})


def train_reward_model(
    cfg: RewardModelConfig,
    train_file: str,
    validation_file: str | None = None,
    test_file: str | None = None,
    *,
    on_metrics: MetricsFn = no_metrics,
    on_progress: ProgressFn = no_progress,
    should_stop: StopFn = never_stop,
) -> RewardResult:
    """Train a reward model on TRL preference JSONL files and save it to ``cfg.output_dir``.

    ``on_metrics(step, metrics)`` receives each log of the trainer: per training step ``loss``,
    ``accuracy`` (pairs of the batch ranked right), ``margin`` (mean reward(chosen) - reward(rejected)),
    ``learning_rate``, ``epoch``, ``grad_norm``, ``min_reward``/``mean_reward``/``max_reward``,
    ``num_tokens``; per evaluation the same with an ``eval_`` prefix; at the end the trainer's summary
    (``train_loss``, ``train_runtime``, ...). ``on_progress(step, total_steps)`` follows every optimizer
    step; ``should_stop()`` is polled after each and ends training when it returns True. The model is then
    saved and evaluated as after a full run. Held-out accuracies are computed at the end with the saved
    input format (see :class:`RewardScorer`). Raises ValueError for unusable input files or settings.
    """
    if cfg.early_stopping_patience is not None and not validation_file:
        raise ValueError("early_stopping_patience needs a validation file")
    device = resolve_device(cfg.device)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    scratch = out / SCRATCH_DIR
    try:
        cache = scratch / "datasets"
        train = load_preference_file(train_file, cache)
        validation = load_preference_file(validation_file, cache) if validation_file else None
        test = load_preference_file(test_file, cache) if test_file else None
        if not cfg.use_margin:
            train = _without_margin(train)
            validation = _without_margin(validation) if validation is not None else None
        conversational = is_conversational(train[0])

        tokenizer = load_tokenizer(cfg.base_model)
        if tokenizer.pad_token is None:  # what RewardTrainer would do; done here so the model config agrees
            tokenizer.pad_token = tokenizer.eos_token
        model = _load_reward_model(cfg, tokenizer)
        hooks = LoopCallback(on_metrics, on_progress, should_stop)
        callbacks: list[TrainerCallback] = [hooks]
        if cfg.early_stopping_patience is not None:
            callbacks.append(EarlyStoppingCallback(early_stopping_patience=cfg.early_stopping_patience))
        trainer = RewardTrainer(
            model=model,
            args=_reward_args(cfg, scratch, device, validation is not None),
            train_dataset=train,
            eval_dataset=validation,
            processing_class=tokenizer,
            callbacks=callbacks,
            peft_config=lora_config(cfg, "SEQ_CLS") if cfg.lora else None,
        )
        silence(trainer)
        prepared = cast(Dataset, trainer.train_dataset)  # tokenised, over-long pairs dropped
        if len(prepared) == 0:
            raise ValueError(f"every training pair is longer than max_length={cfg.max_length} tokens")
        summary = train_resuming(trainer, cfg.checkpoint_dir, on_metrics)

        final = merged(trainer.model)
        fmt = RewardFormat(
            conversational=conversational,
            eos_token=None if conversational else tokenizer.eos_token,
            pad_token_id=int(cast(int, tokenizer.pad_token_id)),
            max_length=cfg.max_length,
            description=_describe(conversational),
            versions=versions(),
        )
        final.save_pretrained(out)
        tokenizer.save_pretrained(out)
        fmt.write(out)

        metrics = {k: float(v) for k, v in summary.items() if isinstance(v, int | float)}
        scorer = RewardScorer.from_model(final, tokenizer, fmt, batch_size=cfg.batch_size)
        for name, held_out in (("validation", validation), ("test", test)):
            if held_out is not None:
                metrics.update(pair_metrics(scorer, held_out, name))
        write_json(
            out / TRAIN_CONFIG_FILE,
            {
                "kind": "reward_model",
                "config": dataclasses.asdict(cfg),
                "resolved": {
                    "device": device.type,
                    "bf16": precision_args(device)["bf16"],
                    "max_steps": trainer.state.max_steps,
                    "steps": trainer.state.global_step,
                    "stopped": hooks.stopped,
                    "conversational": conversational,
                    "margin_used": cfg.use_margin and "margin" in train.column_names,
                    "train_pairs_used": len(prepared),
                },
                "files": {"train": train_file, "validation": validation_file, "test": test_file},
                "metrics": metrics,
                "versions": versions(),
            },
        )
        return RewardResult(
            output_dir=str(out),
            steps=trainer.state.global_step,
            validation_accuracy=metrics.get("validation_accuracy"),
            test_accuracy=metrics.get("test_accuracy"),
            metrics=metrics,
            stopped=hooks.stopped,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# ------------------------------------------------------------------------------------------------- CLI


@dataclass
class RewardFiles:
    """Command-line options of ``python -m workers.ml.reward`` besides the training config."""

    train_file: str = field(metadata={"help": "TRL preference JSONL (prompt, chosen, rejected[, margin])."})
    validation_file: str = field(default="", metadata={"help": "Held-out pairs for evaluation; empty = none."})
    test_file: str = field(default="", metadata={"help": "Pairs scored once at the end; empty = none."})
    num_threads: int = field(default=0, metadata={"help": "torch CPU threads; 0 = one per idle CPU."})


def print_metrics(step: int, metrics: dict[str, float]) -> None:
    """An ``on_metrics`` for the command line: one JSON object per log on stderr (stdout holds the result)."""
    shown = {k: (round(v, 6) if math.isfinite(v) else str(v)) for k, v in metrics.items()}
    print(json.dumps({"step": step, **shown}), file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: train a reward model and print its result as JSON."""
    parser = HfArgumentParser(
        [DataClassType(RewardFiles), DataClassType(RewardModelConfig)], description=(__doc__ or "").split("\n\n")[0]
    )
    files, cfg = parser.parse_args_into_dataclasses(args=list(argv) if argv is not None else None)
    assert isinstance(files, RewardFiles) and isinstance(cfg, RewardModelConfig)
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    disable_progress_bars()
    configure_cpu_threads(files.num_threads)
    result = train_reward_model(
        cfg, files.train_file, files.validation_file or None, files.test_file or None, on_metrics=print_metrics
    )
    print(json.dumps(dataclasses.asdict(result), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
