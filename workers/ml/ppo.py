"""PPO against a reward function: the classic RLHF recipe, on plain torch (+ peft for LoRA).

TRL removed its PPOTrainer in 1.13, so this module implements the algorithm of its old trainer and of
"The N Implementation Details of RLHF with PPO" (Huang et al., 2024) directly, small enough to read.

One step
    1. Rollout: ``batch_size`` prompts (cycled through in seeded random order) are left-padded and the
       policy samples one response each (``temperature``, ``top_p``, at most ``response_length`` new tokens).
    2. Score: responses are decoded to text and scored by ``reward_fn`` (see "Texts" below).
    3. Log-probabilities of the sampled tokens under the policy and the frozen reference, and the value
       estimates, are computed in one more forward pass each (no grad).
    4. Per-token reward: ``-kl_coef * (logp - ref_logp)`` on every response token, plus the score on the
       last one (the EOS token when there is one). ``missing_eos_penalty`` is subtracted from the score of
       responses that hit ``response_length`` without an EOS; ``whiten_rewards`` scales the rewards to
       unit variance over the batch's tokens.
    5. GAE (``gamma``, ``lam``) gives advantages (then whitened over the batch) and returns
       (advantages + values).
    6. ``ppo_epochs`` passes over shuffled mini-batches: clipped policy loss + ``vf_coef`` x clipped value
       loss, AdamW; the gradient norm clipped at ``max_grad_norm`` when it is set.
    7. With ``adaptive_kl`` the KL coefficient moves toward ``target_kl`` (Ziegler et al., 2019).

    Response tokens are the sampled tokens up to and including the first EOS; everything after it is
    padding and is masked out of rewards, advantages, losses and metrics.

Texts given to ``reward_fn``
    The reward model has its own tokenizer, so it gets text, and tokenises it itself:

    - prompt: plain prompts as their ``text``; chat prompts as ``"role: content"`` lines joined by blank
      lines (:func:`reward_prompt_text`), the format of a snapshot's ``prompt`` column, on which the
      reward model was trained;
    - response: the sampled tokens before the first EOS, decoded without special tokens; stripped of
      surrounding whitespace for chat prompts, verbatim for plain prompts (:func:`decode_response`,
      the same rule as candidate generation in :mod:`workers.ml.generate`).

Model
    The value head is one linear layer on the policy's last hidden state (a shared trunk, as in TRL's
    old ``AutoModelForCausalLMWithValueHead``), initialised to zero so the first values are 0 rather
    than noise. With ``critic_from`` (a reward model with the policy's vocabulary) the critic is a
    separate trainable model started from the reward model's trunk and score head, as TRL 1.12's PPO
    had: its first values are the reward model's scores of each prefix. The reference policy is a
    frozen copy of the initial weights; with ``lora`` it is the same model with its adapters disabled,
    which costs no memory. Dropout stays off in the base model
    (the log-probabilities of the rollout and of the first optimisation pass must agree); LoRA dropout
    applies during optimisation only. Log-probabilities use the temperature-scaled full softmax, as
    TRL's did, also when ``top_p < 1`` truncates what is sampled. The model's own generation config
    (repetition penalties and the like) is not used for sampling: the sampled distribution must be the
    one whose log-probabilities PPO optimises.

Device and precision
    ``device="auto"``: CUDA when available, else CPU. On CPU all is fp32. On a CUDA device with bf16,
    compute runs under bf16 autocast; weights trained in full stay fp32 (AdamW updates at a 1e-5
    learning rate vanish in bf16), a LoRA base is loaded in bf16. The saved model is bf16 there, fp32 on
    CPU. torch's thread count is left to the caller.

Output (``output_dir``)
    The final policy as a plain causal LM (LoRA merged into the base) and its tokenizer, loadable with
    ``AutoModelForCausalLM.from_pretrained``; ``ppo_config.json`` (the resolved config); and
    ``value_head.pt`` (the value head's state dict, kept out of the model's own files).

Resuming
    With ``checkpoint_dir`` the whole state (trained weights, value head and critic, AdamW, KL
    coefficient, prompt order, RNG) is written there atomically every ``checkpoint_steps`` steps, and a
    run that finds it goes on after that step: on CPU it ends exactly as the uninterrupted run.

Determinism
    All randomness (LoRA init, prompt order, sampling, mini-batch order) comes from ``seed``, inside
    ``torch.random.fork_rng`` so the caller's RNG state is untouched: on CPU, the same inputs, torch
    version and thread count give the same run.

    python -m workers.ml.ppo --policy_model ./tiny --output_dir ./out --prompts prompts.jsonl --reward length:12
"""

from __future__ import annotations

import collections
import contextlib
import copy
import dataclasses
import importlib
import json
import logging
import math
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import torch
from torch import nn
from transformers import (
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    GenerationConfig,
    HfArgumentParser,
    LogitsProcessorList,
    PreTrainedTokenizerBase,
)
from transformers.hf_argparser import DataClassType
from transformers.utils import logging as hf_logging

from workers.ml.generate import PromptInput, encode_prompt, read_prompts, trim_completion
from workers.ml.runtime import configure_cpu_threads, default_dtype, pick_device
from workers.ml.sampling import SampleLogitsProcessor

logger = logging.getLogger(__name__)

RewardFn = Callable[[list[str], list[str]], list[float]]
"""``(prompt texts, response texts) -> one score per pair``; see the module docstring for the texts."""

METRIC_NAMES: tuple[str, ...] = (
    "objective/scores",  # mean raw score from reward_fn (after any missing-EOS penalty)
    "objective/scores_std",
    "objective/non_score_reward",  # mean over responses of the summed -kl_coef * KL token rewards
    "objective/rlhf_reward",  # scores + non_score_reward: what PPO maximises
    "objective/kl",  # mean over responses of the summed per-token logp - ref_logp
    "objective/entropy",  # mean over responses of the summed -logp of the sampled tokens
    "policy/entropy_avg",  # mean per-token entropy of the policy during optimisation
    "policy/approxkl_avg",  # 0.5 * mean (logp_new - logp_old)^2: how far an update moved the policy
    "policy/clipfrac_avg",  # share of tokens whose policy ratio was clipped
    "policy/ratio_avg",
    "loss/policy_avg",
    "loss/value_avg",
    "val/clipfrac_avg",  # share of tokens whose value prediction was clipped
    "response/length_mean",  # response tokens, EOS included
    "response/eos_fraction",  # share of responses that ended with EOS
    "kl_coef",  # the coefficient used in this step's rewards
    "lr",  # the learning rate of this step
    "episode",  # rollouts done so far
)


@dataclass
class PpoConfig:
    """Settings of a PPO run. Saved, resolved, as ``ppo_config.json`` next to the trained policy."""

    policy_model: str = field(metadata={"help": "Local directory or hub id of the policy (a causal LM)."})
    output_dir: str = field(metadata={"help": "Directory to save the trained policy, tokenizer and config in."})
    learning_rate: float = field(default=1e-5, metadata={"help": "Peak AdamW learning rate."})
    lr_schedule: Literal["linear", "constant"] = field(
        default="linear", metadata={"help": "linear: decay to 0 over the run (as TRL did); constant: no decay."}
    )
    total_episodes: int = field(default=256, metadata={"help": "Rollouts (prompt + sampled response) in the run."})
    batch_size: int = field(default=16, metadata={"help": "Rollouts per PPO step."})
    mini_batch_size: int = field(default=4, metadata={"help": "Rollouts per optimizer update within a step."})
    ppo_epochs: int = field(default=2, metadata={"help": "Passes over each step's rollouts."})
    response_length: int = field(default=32, metadata={"help": "Most new tokens sampled per response."})
    temperature: float = field(
        default=0.7, metadata={"help": "Sampling temperature; log-probabilities use the same scaling."}
    )
    top_p: float = field(default=1.0, metadata={"help": "Nucleus sampling mass; 1 samples the full distribution."})
    kl_coef: float = field(default=0.05, metadata={"help": "Weight of the per-token KL penalty to the reference."})
    adaptive_kl: bool = field(default=False, metadata={"help": "Adapt kl_coef toward target_kl (Ziegler et al.)."})
    target_kl: float = field(
        default=6.0, metadata={"help": "Adaptive KL: target KL per response (summed over its tokens)."}
    )
    kl_horizon: int = field(default=10000, metadata={"help": "Adaptive KL: rollouts over which to close the gap."})
    clip_range: float = field(default=0.2, metadata={"help": "PPO ratio clipping: ratios outside 1 +- this."})
    clip_range_value: float = field(
        default=0.2, metadata={"help": "Value clipping: new values stay within this of the rollout's values."}
    )
    vf_coef: float = field(default=0.1, metadata={"help": "Weight of the value loss in the total loss."})
    critic_from: str | None = field(
        default=None,
        metadata={
            "help": "A reward model (sequence-classification checkpoint with the policy's vocabulary) to start a "
            "separate critic from, trunk and score head, as TRL's PPO did; None: a zero-initialised value head "
            "on the policy's trunk."
        },
    )
    gamma: float = field(default=1.0, metadata={"help": "Discount factor over response tokens."})
    lam: float = field(default=0.95, metadata={"help": "GAE lambda: bias/variance trade-off of advantages."})
    whiten_rewards: bool = field(
        default=False, metadata={"help": "Scale per-token rewards to unit variance over the batch."}
    )
    missing_eos_penalty: float | None = field(
        default=None, metadata={"help": "Subtracted from the score of responses cut off without an EOS."}
    )
    max_grad_norm: float | None = field(
        default=None,
        metadata={"help": "Clip the gradient norm of each update to this; None: no clipping (as TRL's PPO did)."},
    )
    lora: bool = field(default=False, metadata={"help": "Train LoRA adapters (merged when saving), not all weights."})
    lora_r: int = field(default=8, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA scaling numerator (scale = alpha / r)."})
    lora_dropout: float = field(default=0.0, metadata={"help": "Dropout on the LoRA path during optimisation."})
    lora_target_modules: str = field(
        default="all-linear",
        metadata={"help": "Comma-separated module names to adapt, or 'all-linear' (every linear but the output)."},
    )
    max_prompt_length: int = field(
        default=256, metadata={"help": "Longer prompts (in policy tokens) are skipped, as are ones with no room."}
    )
    forward_batch_size: int = field(
        default=16, metadata={"help": "Rows per no-grad forward pass in the rollout (memory, not results)."}
    )
    sample_every: int = field(
        default=5,
        metadata={"help": "Report sample (prompt, response, score) rows on step 1 and every this many steps; 0 = off."},
    )
    num_samples: int = field(default=4, metadata={"help": "Sample rows per report."})
    seed: int = field(default=0, metadata={"help": "Seed of LoRA init, prompt order, sampling and mini-batches."})
    checkpoint_dir: str | None = field(
        default=None,
        metadata={
            "help": "Save the training state here every checkpoint_steps steps, and go on from the one found there "
            "(a run killed midway resumes, and continues exactly as it would have)."
        },
    )
    checkpoint_steps: int = field(default=10, metadata={"help": "PPO steps between resumable checkpoints."})
    device: str = field(default="auto", metadata={"help": "torch device (cpu, cuda, cuda:1) or auto."})

    def __post_init__(self) -> None:
        positive = {
            "learning_rate": self.learning_rate,
            "total_episodes": self.total_episodes,
            "batch_size": self.batch_size,
            "mini_batch_size": self.mini_batch_size,
            "ppo_epochs": self.ppo_epochs,
            "response_length": self.response_length,
            "temperature": self.temperature,
            "target_kl": self.target_kl,
            "kl_horizon": self.kl_horizon,
            "clip_range": self.clip_range,
            "clip_range_value": self.clip_range_value,
            "max_grad_norm": 1.0 if self.max_grad_norm is None else self.max_grad_norm,
            "lora_r": self.lora_r,
            "lora_alpha": self.lora_alpha,
            "max_prompt_length": self.max_prompt_length,
            "forward_batch_size": self.forward_batch_size,
            "checkpoint_steps": self.checkpoint_steps,
        }
        bad = [name for name, value in positive.items() if not value > 0]
        if bad:
            raise ValueError(f"must be positive: {', '.join(bad)}")
        if not 0 < self.top_p <= 1:
            raise ValueError("top_p must be in (0, 1]")
        if not (0 <= self.gamma <= 1 and 0 <= self.lam <= 1):
            raise ValueError("gamma and lam must be in [0, 1]")
        if self.kl_coef < 0 or self.vf_coef < 0 or self.sample_every < 0 or self.num_samples < 0:
            raise ValueError("kl_coef, vf_coef, sample_every and num_samples must not be negative")
        if not 0 <= self.lora_dropout < 1:
            raise ValueError("lora_dropout must be in [0, 1)")
        if self.lr_schedule not in ("linear", "constant"):
            raise ValueError("lr_schedule must be 'linear' or 'constant'")

    @property
    def num_steps(self) -> int:
        """PPO steps of the run; the last takes only the episodes that are left."""
        return math.ceil(self.total_episodes / self.batch_size)


@dataclass
class PpoResult:
    """What a PPO run did."""

    output_dir: str
    steps: int
    """PPO steps completed."""
    episodes: int
    """Rollouts trained on."""
    final_metrics: dict[str, float]
    """The last step's metrics (empty when stopped before the first step)."""
    stopped: bool
    """True when ``should_stop`` ended the run early (the policy so far is still saved)."""


# ------------------------------------------------------------------------------------------------ texts


def reward_prompt_text(prompt: PromptInput) -> str:
    """The prompt as ``reward_fn`` sees it: plain text as is, chats as "role: content" paragraphs."""
    if prompt.messages is None:
        assert prompt.text is not None
        return prompt.text
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in prompt.messages)


def decode_response(tokenizer: PreTrainedTokenizerBase, tokens: Sequence[int], eos_ids: set[int], *, chat: bool) -> str:
    """A sampled response as ``reward_fn`` sees it: cut before the first EOS, no special tokens.

    Stripped of surrounding whitespace for chat prompts (the answer follows the template's "Assistant:"
    with a space); verbatim for plain prompts, so that prompt + response reads as the model wrote it.
    """
    kept, _, _ = trim_completion(tokens, eos_ids)
    text = str(tokenizer.decode(kept, skip_special_tokens=True))
    return text.strip() if chat else text


# ------------------------------------------------------------------------------------------ PPO maths


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` where ``mask`` is true (0 when nothing is)."""
    m = mask.to(values.dtype)
    return (values * m).sum() / m.sum().clamp(min=1.0)


def masked_whiten(values: torch.Tensor, mask: torch.Tensor, *, shift_mean: bool = True) -> torch.Tensor:
    """Scale ``values`` to unit variance over ``mask`` (and zero mean when ``shift_mean``).

    Variance with Bessel's correction, as TRL's ``masked_whiten``. Masked positions come back as 0.
    """
    mean = masked_mean(values, mask)
    centred = values - mean
    count = mask.sum()
    var = masked_mean(centred**2, mask)
    if count > 1:
        var = var * count / (count - 1)
    whitened = centred * torch.rsqrt(var + 1e-8)
    if not shift_mean:
        whitened = whitened + mean
    return whitened * mask.to(values.dtype)


def response_mask(responses: torch.Tensor, eos_ids: set[int]) -> torch.Tensor:
    """True for each response token up to and including its row's first EOS; False for what follows."""
    eos = torch.isin(responses, torch.tensor(sorted(eos_ids), device=responses.device))
    eos_before = eos.long().cumsum(dim=1) - eos.long()  # EOS tokens strictly before each position
    return eos_before == 0


def token_rewards(
    scores: torch.Tensor, logprobs: torch.Tensor, ref_logprobs: torch.Tensor, mask: torch.Tensor, kl_coef: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(rewards, non-score rewards, KL) per token: ``-kl_coef * KL`` everywhere, + score on the last token.

    KL is the sampled-token estimate ``logp - ref_logp`` (k1), zero on masked positions. ``mask`` must
    be true for a prefix of each row with at least one token (see :func:`response_mask`).
    """
    kl = (logprobs - ref_logprobs) * mask
    non_score = -kl_coef * kl
    last = mask.sum(dim=1).long() - 1
    rewards = non_score.clone()
    rewards[torch.arange(rewards.shape[0], device=rewards.device), last] += scores
    return rewards, non_score, kl


def compute_gae(
    rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float, lam: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(advantages, returns) by generalised advantage estimation over ``[batch, tokens]``.

    The episode ends at the last unmasked token: nothing after it (reward, value) leaks back. Masked
    positions get advantage and return 0. Advantages are returned raw (whitening is the caller's).
    """
    m = mask.to(values.dtype)
    rewards, values = rewards * m, values * m
    steps = rewards.shape[1]
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    for t in reversed(range(steps)):
        next_values = values[:, t + 1] if t + 1 < steps else torch.zeros_like(running)
        delta = rewards[:, t] + gamma * next_values - values[:, t]
        # ``running`` is already 0 where t + 1 is masked, as are next_values there.
        running = (delta + gamma * lam * running) * m[:, t]
        advantages[:, t] = running
    returns = (advantages + values) * m
    return advantages, returns


def clipped_policy_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    clip_range: float,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """PPO's clipped surrogate loss (to minimise) and its stats: clip fraction, approx KL, mean ratio."""
    log_ratio = logprobs - old_logprobs
    ratio = torch.exp(log_ratio)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - clip_range, 1.0 + clip_range)
    loss = masked_mean(torch.maximum(unclipped, clipped), mask)
    with torch.no_grad():
        stats = {
            "clipfrac": masked_mean((clipped > unclipped).to(ratio.dtype), mask),
            "approxkl": 0.5 * masked_mean(log_ratio**2, mask),
            "ratio": masked_mean(ratio, mask),
        }
    return loss, stats


def clipped_value_loss(
    values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    mask: torch.Tensor,
    clip_range_value: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """0.5 x the larger of the squared errors of the new and the clipped value; and the clip fraction."""
    clipped_values = old_values + torch.clamp(values - old_values, -clip_range_value, clip_range_value)
    unclipped = (values - returns) ** 2
    clipped = (clipped_values - returns) ** 2
    loss = 0.5 * masked_mean(torch.maximum(unclipped, clipped), mask)
    with torch.no_grad():
        clipfrac = masked_mean((clipped > unclipped).to(values.dtype), mask)
    return loss, clipfrac


class AdaptiveKLController:
    """Ziegler et al. (2019): move the KL coefficient so that the policy's KL approaches a target.

    ``value *= 1 + clip(kl / target - 1, -0.2, 0.2) * n_steps / horizon`` after each batch of
    ``n_steps`` rollouts with mean (summed per response) KL ``kl``.
    """

    def __init__(self, init_kl_coef: float, target: float, horizon: int) -> None:
        self.value = init_kl_coef
        self.target = target
        self.horizon = horizon

    def update(self, current_kl: float, n_steps: int) -> None:
        proportional_error = min(max(current_kl / self.target - 1.0, -0.2), 0.2)
        self.value *= 1.0 + proportional_error * n_steps / self.horizon


class FixedKLController:
    """A KL coefficient that stays put (``adaptive_kl=False``)."""

    def __init__(self, kl_coef: float) -> None:
        self.value = kl_coef

    def update(self, current_kl: float, n_steps: int) -> None:
        del current_kl, n_steps


def token_logprobs(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Log-probability of each of ``tokens`` (``[b, t]``) under ``logits`` (``[b, t, vocab]``)."""
    picked = logits.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    return picked - torch.logsumexp(logits, dim=-1)


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of each position's softmax distribution."""
    probs = torch.softmax(logits, dim=-1)
    return torch.logsumexp(logits, dim=-1) - (probs * logits).sum(dim=-1)


# ------------------------------------------------------------------------------------------------ model


class ValueHead(nn.Module):
    """A scalar value per position from the policy's last hidden state (one linear layer, fp32)."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.linear = nn.Linear(hidden_size, 1)
        # Zero init: the first values are 0, not noise, so the first advantages are the plain returns.
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        # fp32 even under bf16 autocast: values are regression targets of a few bits' precision otherwise.
        with torch.autocast(device_type=hidden.device.type, enabled=False):
            return cast(torch.Tensor, self.linear(hidden.float())).squeeze(-1)


@dataclass
class _Policy:
    model: nn.Module
    value_head: ValueHead
    critic: nn.Module | None
    """The critic's own trunk (from ``critic_from``), or None: the value head reads the policy's hidden states."""
    reference: nn.Module | None
    """A frozen copy of the initial policy; None with LoRA (the adapters are disabled instead)."""
    tokenizer: PreTrainedTokenizerBase
    original_tokenizer: PreTrainedTokenizerBase
    eos_ids: set[int]
    pad_id: int
    context_limit: int | None

    @contextlib.contextmanager
    def as_reference(self) -> Iterator[nn.Module]:
        if self.reference is not None:
            yield self.reference
        else:
            with cast(Any, self.model).disable_adapter():
                yield self.model


def _eos_ids(model: nn.Module, tokenizer: PreTrainedTokenizerBase) -> set[int]:
    ids: set[int] = set()
    generation_config = getattr(model, "generation_config", None)
    configured = generation_config.eos_token_id if generation_config is not None else None
    for value in (configured, tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, list):
            ids.update(int(v) for v in value)
    if not ids:
        raise ValueError("the policy and its tokenizer define no EOS token")
    return ids


def _lora_targets(spec: str) -> str | list[str]:
    return "all-linear" if spec.strip() == "all-linear" else [s.strip() for s in spec.split(",") if s.strip()]


def _load_policy(cfg: PpoConfig, device: torch.device, amp: bool) -> _Policy:
    local = Path(cfg.policy_model).expanduser().exists()
    source = str(Path(cfg.policy_model).expanduser()) if local else cfg.policy_model
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
    # Saved with the policy as it came: the left padding and pad token set here are for sampling only.
    original_tokenizer = copy.deepcopy(tokenizer)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    # Full fine-tuning keeps fp32 weights even under bf16 autocast; a frozen LoRA base can be bf16.
    dtype = torch.bfloat16 if amp and cfg.lora else torch.float32
    base = AutoModelForCausalLM.from_pretrained(source, local_files_only=local, dtype=dtype)
    base.to(device)  # type: ignore[arg-type]  # transformers annotates .to loosely
    eos_ids = _eos_ids(base, tokenizer)
    hidden = getattr(base.config, "hidden_size", None)
    if not isinstance(hidden, int):
        hidden = int(cast(Any, base.get_input_embeddings()).weight.shape[-1])
    limit = getattr(base.config, "max_position_embeddings", None)
    model: nn.Module = base
    reference: nn.Module | None = None
    if cfg.lora:
        from peft import LoraConfig, get_peft_model

        lora_config = LoraConfig(
            r=cfg.lora_r,
            lora_alpha=cfg.lora_alpha,
            lora_dropout=cfg.lora_dropout,
            target_modules=_lora_targets(cfg.lora_target_modules),
            task_type="CAUSAL_LM",
        )
        model = cast(nn.Module, get_peft_model(base, lora_config))
    else:
        reference = cast(nn.Module, copy.deepcopy(base))
        if amp:  # compute is bf16 under autocast anyway; half the memory of the frozen copy
            reference.to(torch.bfloat16)
        reference.requires_grad_(False)
        reference.train(False)
    # Always in eval mode: no dropout in the base model (see the module docstring); LoRA's own dropout
    # modules are switched on around optimisation by _lora_dropout.
    model.train(False)
    value_head = ValueHead(hidden).to(device)
    critic = _load_critic(cfg, tokenizer, value_head, device) if cfg.critic_from else None
    return _Policy(
        model=model,
        value_head=value_head,
        critic=critic,
        reference=reference,
        tokenizer=tokenizer,
        original_tokenizer=original_tokenizer,
        eos_ids=eos_ids,
        pad_id=int(tokenizer.pad_token_id),
        context_limit=limit if isinstance(limit, int) else None,
    )


def _load_critic(
    cfg: PpoConfig, tokenizer: PreTrainedTokenizerBase, value_head: ValueHead, device: torch.device
) -> nn.Module:
    """The reward model's trunk as the critic's, its score head copied into ``value_head``: the first
    values are the reward model's scores of each prefix rather than 0."""
    assert cfg.critic_from is not None
    local = Path(cfg.critic_from).expanduser().exists()
    source = str(Path(cfg.critic_from).expanduser()) if local else cfg.critic_from
    if AutoTokenizer.from_pretrained(source, local_files_only=local).get_vocab() != tokenizer.get_vocab():
        raise ValueError("critic_from needs the policy's vocabulary: its values are read at the policy's tokens")
    reward = AutoModelForSequenceClassification.from_pretrained(
        source, local_files_only=local, num_labels=1, dtype=torch.float32
    )
    head = getattr(reward, "score", None) or getattr(reward, "classifier", None)
    if not isinstance(head, nn.Linear) or head.weight.shape != value_head.linear.weight.shape:
        raise ValueError("critic_from needs a linear score head on a trunk of the policy's hidden size")
    with torch.no_grad():
        value_head.linear.weight.copy_(head.weight)
        value_head.linear.bias.copy_(head.bias if head.bias is not None else torch.zeros(1))
    trunk = cast(nn.Module, reward.base_model)
    trunk.to(device)
    trunk.train(False)
    return trunk


@contextlib.contextmanager
def _lora_dropout(model: nn.Module) -> Iterator[None]:
    modules = [m for name, m in model.named_modules() if "lora_dropout" in name and isinstance(m, nn.Dropout)]
    for m in modules:
        m.train(True)
    try:
        yield
    finally:
        for m in modules:
            m.train(False)


# ---------------------------------------------------------------------------------------------- rollout


@dataclass
class _Rollout:
    """One step's rollouts; token tensors are ``[rows, context + response]``, the rest ``[rows, response]``."""

    prompt_indices: list[int]
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    position_ids: torch.Tensor
    context: int
    responses: torch.Tensor
    mask: torch.Tensor
    logprobs: torch.Tensor
    ref_logprobs: torch.Tensor
    values: torch.Tensor
    scores: torch.Tensor
    texts: list[str]
    prompt_texts: list[str]


def _autocast(device: torch.device, amp: bool) -> contextlib.AbstractContextManager[Any]:
    if amp:
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _forward(
    model: nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    position_ids: torch.Tensor,
    context: int,
    temperature: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(temperature-scaled fp32 logits, last hidden states) at the positions that predict the response."""
    out = model(
        input_ids=input_ids,
        attention_mask=attention_mask,
        position_ids=position_ids,
        output_hidden_states=True,
        use_cache=False,
    )
    # Position t predicts token t + 1: the response's tokens are predicted from context - 1 on.
    logits = out.logits[:, context - 1 : -1].float() / temperature
    hidden = out.hidden_states[-1][:, context - 1 : -1]
    return logits, hidden


def _values(
    policy: _Policy,
    policy_hidden: torch.Tensor,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    position_ids: torch.Tensor,
    context: int,
) -> torch.Tensor:
    """Values at the positions that predict the response: from the critic's trunk, or the policy's."""
    if policy.critic is None:
        return cast(torch.Tensor, policy.value_head(policy_hidden))
    out = policy.critic(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, use_cache=False)
    return cast(torch.Tensor, policy.value_head(out.last_hidden_state[:, context - 1 : -1]))


def _sample(
    policy: _Policy, encoded: Sequence[Sequence[int]], cfg: PpoConfig, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Left-pad the prompts and sample: (ids, attention mask, position ids, context width)."""
    width = max(len(ids) for ids in encoded)
    input_ids = torch.full((len(encoded), width), policy.pad_id, dtype=torch.long)
    prompt_mask = torch.zeros((len(encoded), width), dtype=torch.long)
    for row, ids in enumerate(encoded):
        input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
        prompt_mask[row, width - len(ids) :] = 1
    # A fresh config, not the model's: its penalties would make the sampled distribution differ from
    # the one whose log-probabilities PPO computes. Sampling is SampleLogitsProcessor's (greedy pick).
    generation_config = GenerationConfig(  # type: ignore[no-untyped-call]
        do_sample=False,
        max_new_tokens=cfg.response_length,
        eos_token_id=sorted(policy.eos_ids),
        pad_token_id=policy.pad_id,
        num_beams=1,
    )
    processors = LogitsProcessorList([SampleLogitsProcessor(cfg.temperature, 0, cfg.top_p, policy.eos_ids)])
    output = cast(Any, policy.model).generate(
        input_ids=input_ids.to(device),
        attention_mask=prompt_mask.to(device),
        generation_config=generation_config,
        logits_processor=processors,
    )
    assert isinstance(output, torch.Tensor)
    # Every generated position attends (as in generate); positions as generate derives them from the mask.
    attention_mask = torch.cat(
        [prompt_mask.to(device), torch.ones_like(output[:, width:])],
        dim=1,
    )
    position_ids = (attention_mask.cumsum(dim=1) - 1).clamp(min=0)
    return output, attention_mask, position_ids, width


@torch.no_grad()
def _rollout(
    policy: _Policy,
    prompts: Sequence[PromptInput],
    encoded: Sequence[Sequence[int]],
    indices: list[int],
    reward_fn: RewardFn,
    cfg: PpoConfig,
    device: torch.device,
    amp: bool,
) -> _Rollout:
    with _autocast(device, amp):
        input_ids, attention_mask, position_ids, context = _sample(policy, [encoded[i] for i in indices], cfg, device)
    responses = input_ids[:, context:]
    mask = response_mask(responses, policy.eos_ids)

    logprobs, ref_logprobs, values = [], [], []
    for start in range(0, len(indices), cfg.forward_batch_size):
        rows = slice(start, start + cfg.forward_batch_size)
        args = (input_ids[rows], attention_mask[rows], position_ids[rows], context, cfg.temperature)
        with _autocast(device, amp):
            logits, hidden = _forward(policy.model, *args)
            logprobs.append(token_logprobs(logits, responses[rows]))
            values.append(_values(policy, hidden, *args[:4]))
            with policy.as_reference() as reference:
                ref_logits, _ = _forward(reference, *args)
            ref_logprobs.append(token_logprobs(ref_logits, responses[rows]))

    chat = [prompts[i].messages is not None for i in indices]
    texts = [
        decode_response(policy.tokenizer, row, policy.eos_ids, chat=c)
        for row, c in zip(responses.tolist(), chat, strict=True)
    ]
    prompt_texts = [reward_prompt_text(prompts[i]) for i in indices]
    raw = list(reward_fn(prompt_texts, texts))
    if len(raw) != len(texts):
        raise ValueError(f"reward_fn returned {len(raw)} scores for {len(texts)} responses")
    scores = torch.tensor([float(s) for s in raw], dtype=torch.float32, device=device)
    if not bool(torch.isfinite(scores).all()):
        raise ValueError("reward_fn returned a score that is not finite")
    if cfg.missing_eos_penalty is not None:
        ended = torch.isin(responses, torch.tensor(sorted(policy.eos_ids), device=device)).any(dim=1)
        scores = torch.where(ended, scores, scores - cfg.missing_eos_penalty)

    m = mask.float()
    return _Rollout(
        prompt_indices=indices,
        input_ids=input_ids,
        attention_mask=attention_mask,
        position_ids=position_ids,
        context=context,
        responses=responses,
        mask=mask,
        logprobs=torch.cat(logprobs) * m,
        ref_logprobs=torch.cat(ref_logprobs) * m,
        values=torch.cat(values) * m,
        scores=scores,
        texts=texts,
        prompt_texts=prompt_texts,
    )


# --------------------------------------------------------------------------------------------- training


class _PromptOrder:
    """Prompt indices in seeded random order, reshuffled after every pass over the prompts."""

    def __init__(self, count: int, seed: int) -> None:
        self.count = count
        self.generator = torch.Generator().manual_seed(seed)
        self.queue: collections.deque[int] = collections.deque()

    def take(self, n: int) -> list[int]:
        out: list[int] = []
        while len(out) < n:
            if not self.queue:
                self.queue.extend(torch.randperm(self.count, generator=self.generator).tolist())
            out.append(self.queue.popleft())
        return out


def _encode_prompts(
    policy: _Policy, prompts: Sequence[PromptInput], cfg: PpoConfig
) -> tuple[list[PromptInput], list[list[int]]]:
    limit = cfg.max_prompt_length
    if policy.context_limit is not None:
        limit = min(limit, policy.context_limit - cfg.response_length)
    kept: list[PromptInput] = []
    encoded: list[list[int]] = []
    for prompt in prompts:
        ids = encode_prompt(policy.tokenizer, prompt)
        if 0 < len(ids) <= limit:
            kept.append(prompt)
            encoded.append(ids)
    if len(kept) < len(prompts):
        logger.warning("skipped %d of %d prompts longer than %d tokens", len(prompts) - len(kept), len(prompts), limit)
    if not kept:
        raise ValueError(f"no prompt fits: every prompt is longer than {limit} tokens (or empty)")
    return kept, encoded


def _optimise(
    policy: _Policy,
    optimizer: torch.optim.Optimizer,
    params: list[nn.Parameter],
    rollout: _Rollout,
    advantages: torch.Tensor,
    returns: torch.Tensor,
    cfg: PpoConfig,
    device: torch.device,
    amp: bool,
) -> dict[str, float]:
    """``ppo_epochs`` passes of clipped PPO updates over shuffled mini-batches; mean stats per update."""
    totals: dict[str, float] = {}
    updates = 0
    rows = rollout.input_ids.shape[0]
    with _lora_dropout(policy.model):
        for _ in range(cfg.ppo_epochs):
            order = torch.randperm(rows).tolist()
            for start in range(0, rows, cfg.mini_batch_size):
                mb = torch.tensor(order[start : start + cfg.mini_batch_size], device=device)
                mask = rollout.mask[mb]
                with _autocast(device, amp):
                    logits, hidden = _forward(
                        policy.model,
                        rollout.input_ids[mb],
                        rollout.attention_mask[mb],
                        rollout.position_ids[mb],
                        rollout.context,
                        cfg.temperature,
                    )
                    values = _values(
                        policy,
                        hidden,
                        rollout.input_ids[mb],
                        rollout.attention_mask[mb],
                        rollout.position_ids[mb],
                        rollout.context,
                    )
                logprobs = token_logprobs(logits, rollout.responses[mb])
                pg_loss, pg_stats = clipped_policy_loss(
                    logprobs, rollout.logprobs[mb], advantages[mb], mask, cfg.clip_range
                )
                vf_loss, vf_clipfrac = clipped_value_loss(
                    values, rollout.values[mb], returns[mb], mask, cfg.clip_range_value
                )
                loss = pg_loss + cfg.vf_coef * vf_loss
                optimizer.zero_grad(set_to_none=True)
                loss.backward()  # type: ignore[no-untyped-call]
                if cfg.max_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
                optimizer.step()
                with torch.no_grad():
                    stats = {
                        "policy/entropy_avg": masked_mean(entropy_from_logits(logits), mask),
                        "policy/approxkl_avg": pg_stats["approxkl"],
                        "policy/clipfrac_avg": pg_stats["clipfrac"],
                        "policy/ratio_avg": pg_stats["ratio"],
                        "loss/policy_avg": pg_loss,
                        "loss/value_avg": vf_loss,
                        "val/clipfrac_avg": vf_clipfrac,
                    }
                for key, value in stats.items():
                    totals[key] = totals.get(key, 0.0) + float(value.detach())
                updates += 1
    return {key: value / updates for key, value in totals.items()}


def _save(policy: _Policy, cfg: PpoConfig, device: torch.device, amp: bool, steps: int, episodes: int) -> None:
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    model: Any = cast(Any, policy.model).merge_and_unload() if cfg.lora else policy.model
    model.to(torch.bfloat16 if amp else torch.float32)
    model.save_pretrained(out)
    policy.original_tokenizer.save_pretrained(out)
    torch.save(policy.value_head.state_dict(), out / "value_head.pt")
    resolved = {
        **dataclasses.asdict(cfg),
        "resolved": {"device": str(device), "bf16": amp, "steps": steps, "episodes": episodes},
    }
    (out / "ppo_config.json").write_text(json.dumps(resolved, indent=2) + "\n")


CHECKPOINT_FILE = "ppo_state.pt"


def _save_checkpoint(
    cfg: PpoConfig,
    policy: _Policy,
    optimizer: torch.optim.Optimizer,
    order: _PromptOrder,
    kl_value: float,
    step: int,
    episodes: int,
    device: torch.device,
) -> None:
    """Everything the next step depends on, written atomically (a new file renamed over the old one)."""
    assert cfg.checkpoint_dir is not None
    folder = Path(cfg.checkpoint_dir)
    folder.mkdir(parents=True, exist_ok=True)
    state = {
        "step": step,
        "episodes": episodes,
        # Trained parameters only: all of them in full fine-tuning, the adapters with LoRA.
        "model": {name: p.detach() for name, p in policy.model.named_parameters() if p.requires_grad},
        "value_head": policy.value_head.state_dict(),
        "critic": policy.critic.state_dict() if policy.critic is not None else None,
        "optimizer": optimizer.state_dict(),
        "kl_coef": kl_value,
        "order_queue": list(order.queue),
        "order_generator": order.generator.get_state(),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
    }
    partial = folder / f"{CHECKPOINT_FILE}.partial"
    torch.save(state, partial)
    partial.replace(folder / CHECKPOINT_FILE)


def _resume(
    cfg: PpoConfig,
    policy: _Policy,
    optimizer: torch.optim.Optimizer,
    order: _PromptOrder,
    kl_controller: AdaptiveKLController | FixedKLController,
    device: torch.device,
) -> tuple[int, int]:
    """(steps, episodes) done by the checkpoint in ``cfg.checkpoint_dir``, restored; (0, 0) without one."""
    file = Path(cfg.checkpoint_dir) / CHECKPOINT_FILE if cfg.checkpoint_dir else None
    if file is None or not file.is_file():
        return 0, 0
    state = torch.load(file, map_location=device, weights_only=True)
    trained = {name for name, p in policy.model.named_parameters() if p.requires_grad}
    if set(state["model"]) != trained:
        raise ValueError(f"{file} was saved by another model or LoRA setting; remove it to start over")
    policy.model.load_state_dict(state["model"], strict=False)
    policy.value_head.load_state_dict(state["value_head"])
    if (state["critic"] is None) != (policy.critic is None):
        raise ValueError(f"{file} was saved with another critic setting; remove it to start over")
    if policy.critic is not None:
        policy.critic.load_state_dict(state["critic"])
    optimizer.load_state_dict(state["optimizer"])
    kl_controller.value = float(state["kl_coef"])
    order.queue = collections.deque(int(i) for i in state["order_queue"])
    order.generator.set_state(state["order_generator"].cpu())
    torch.set_rng_state(state["torch_rng"].cpu())
    if state["cuda_rng"] is not None and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda_rng"].cpu(), device)
    return int(state["step"]), int(state["episodes"])


def _ignore_metrics(step: int, metrics: dict[str, float]) -> None:
    del step, metrics


def _ignore_samples(step: int, samples: list[dict[str, object]]) -> None:
    del step, samples


def _ignore_progress(done: int, total: int) -> None:
    del done, total


def train_ppo(
    cfg: PpoConfig,
    prompts: Sequence[PromptInput],
    reward_fn: RewardFn,
    *,
    on_metrics: Callable[[int, dict[str, float]], None] = _ignore_metrics,
    on_samples: Callable[[int, list[dict[str, object]]], None] = _ignore_samples,
    on_progress: Callable[[int, int], None] = _ignore_progress,
    should_stop: Callable[[], bool] = lambda: False,
) -> PpoResult:
    """Fine-tune ``cfg.policy_model`` with PPO against ``reward_fn`` and save it into ``cfg.output_dir``.

    Runs ``cfg.num_steps`` steps of ``cfg.batch_size`` rollouts (see the module docstring for the
    algorithm, the texts ``reward_fn`` gets and what is saved). After each step: ``on_metrics(step,
    metrics)`` with every name in :data:`METRIC_NAMES`; ``on_progress(episodes_done,
    cfg.total_episodes)``; and on step 1 and every ``cfg.sample_every``-th step ``on_samples(step,
    rows)`` with up to ``cfg.num_samples`` ``{"key", "prompt", "response", "score"}`` dicts. Before
    each step ``should_stop()`` may end the run early: the policy so far is saved all the same and
    the result says ``stopped=True``. Prompts longer than ``cfg.max_prompt_length`` tokens (or than
    the model's context leaves room for) are skipped; ValueError if none is left, or if ``reward_fn``
    returns the wrong number of scores or a non-finite one.
    """
    if not prompts:
        raise ValueError("no prompts")
    device = pick_device(None if cfg.device == "auto" else cfg.device)
    amp = default_dtype(device) == torch.bfloat16
    rng_devices = (
        [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    )
    with torch.random.fork_rng(devices=rng_devices):
        torch.manual_seed(cfg.seed)
        policy = _load_policy(cfg, device, amp)
        kept, encoded = _encode_prompts(policy, prompts, cfg)
        params = [p for p in policy.model.parameters() if p.requires_grad] + list(policy.value_head.parameters())
        if policy.critic is not None:
            params += list(policy.critic.parameters())
        # No weight decay and eps 1e-8, as TRL's PPO had (its TrainingArguments defaults). On the tiny-model
        # benchmark eps 1e-5 and gradient clipping at 1.0 (the OpenAI baselines' choices) learned the rule
        # in 0.53 of held-out samples, these settings in 0.75 (docs/benchmarks.md).
        optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, eps=1e-8, weight_decay=0.0)
        kl_controller: AdaptiveKLController | FixedKLController = (
            AdaptiveKLController(cfg.kl_coef, cfg.target_kl, cfg.kl_horizon)
            if cfg.adaptive_kl
            else FixedKLController(cfg.kl_coef)
        )
        order = _PromptOrder(len(kept), cfg.seed)
        stopped = False
        steps, episodes = _resume(cfg, policy, optimizer, order, kl_controller, device)
        if steps:
            logger.info("resuming PPO after step %d (%d episodes) from %s", steps, episodes, cfg.checkpoint_dir)
            on_metrics(steps, {"resumed_from_step": float(steps)})
        metrics: dict[str, float] = {}
        for step in range(steps + 1, cfg.num_steps + 1):
            if should_stop():
                stopped = True
                break
            lr = cfg.learning_rate * (1.0 - (step - 1) / cfg.num_steps if cfg.lr_schedule == "linear" else 1.0)
            for group in optimizer.param_groups:
                group["lr"] = lr
            n = min(cfg.batch_size, cfg.total_episodes - episodes)
            rollout = _rollout(policy, kept, encoded, order.take(n), reward_fn, cfg, device, amp)
            metrics = _step(policy, optimizer, params, rollout, kl_controller.value, cfg, device, amp)
            kl_controller.update(metrics["objective/kl"], n)
            episodes += n
            steps = step
            metrics.update({"lr": lr, "episode": float(episodes)})
            on_metrics(step, metrics)
            if cfg.sample_every and cfg.num_samples and (step == 1 or step % cfg.sample_every == 0):
                on_samples(step, _samples(rollout, kept, cfg.num_samples))
            on_progress(episodes, cfg.total_episodes)
            if cfg.checkpoint_dir and step % cfg.checkpoint_steps == 0 and step < cfg.num_steps:
                _save_checkpoint(cfg, policy, optimizer, order, kl_controller.value, step, episodes, device)
        _save(policy, cfg, device, amp, steps, episodes)
    return PpoResult(output_dir=cfg.output_dir, steps=steps, episodes=episodes, final_metrics=metrics, stopped=stopped)


def _step(
    policy: _Policy,
    optimizer: torch.optim.Optimizer,
    params: list[nn.Parameter],
    rollout: _Rollout,
    kl_coef: float,
    cfg: PpoConfig,
    device: torch.device,
    amp: bool,
) -> dict[str, float]:
    """Rewards, advantages and the PPO updates of one rollout batch; the step's metrics (no lr/episode)."""
    mask = rollout.mask
    with torch.no_grad():
        rewards, non_score, kl = token_rewards(rollout.scores, rollout.logprobs, rollout.ref_logprobs, mask, kl_coef)
        if cfg.whiten_rewards:
            rewards = masked_whiten(rewards, mask, shift_mean=False)
        advantages, returns = compute_gae(rewards, rollout.values, mask, cfg.gamma, cfg.lam)
        advantages = masked_whiten(advantages, mask)
    train_stats = _optimise(policy, optimizer, params, rollout, advantages, returns, cfg, device, amp)
    scores = rollout.scores
    non_score_sum = non_score.sum(dim=1)
    ended = torch.isin(rollout.responses, torch.tensor(sorted(policy.eos_ids), device=device)).any(dim=1)
    metrics = {
        "objective/scores": float(scores.mean()),
        "objective/scores_std": float(scores.std()) if scores.numel() > 1 else 0.0,
        "objective/non_score_reward": float(non_score_sum.mean()),
        "objective/rlhf_reward": float((scores + non_score_sum).mean()),
        "objective/kl": float(kl.sum(dim=1).mean()),
        "objective/entropy": float((-rollout.logprobs).sum(dim=1).mean()),
        **train_stats,
        "response/length_mean": float(mask.sum(dim=1).float().mean()),
        "response/eos_fraction": float(ended.float().mean()),
        "kl_coef": float(kl_coef),
    }
    return metrics


def _samples(rollout: _Rollout, prompts: Sequence[PromptInput], count: int) -> list[dict[str, object]]:
    return [
        {
            "key": prompts[rollout.prompt_indices[i]].key,
            "prompt": rollout.prompt_texts[i],
            "response": rollout.texts[i],
            "score": float(rollout.scores[i]),
        }
        for i in range(min(count, len(rollout.texts)))
    ]


# ------------------------------------------------------------------------------------------------- CLI


@dataclass
class PpoCliArgs:
    """Command-line options of ``python -m workers.ml.ppo`` besides the PPO config."""

    prompts: str = field(
        metadata={"help": 'JSONL file, one {"key": ..., "text": ...} or {"key": ..., "messages": [...]} per line.'}
    )
    reward: str = field(
        metadata={
            "help": "model:PATH (a reward model, scored by workers.ml.reward.RewardScorer), or a toy reward for "
            "smoke tests: length:N (minus the distance of the word count to N) or contains:TEXT (occurrences)."
        }
    )
    num_threads: int = field(default=0, metadata={"help": "torch CPU threads; 0 = one per idle CPU."})


def toy_reward(spec: str) -> RewardFn:
    """A reward function from ``length:N`` or ``contains:TEXT`` (for smoke tests and demos)."""
    kind, _, arg = spec.partition(":")
    if kind == "length" and re.fullmatch(r"\d+", arg):
        target = int(arg)
        return lambda prompts, responses: [-abs(len(r.split()) - target) for r in responses]
    if kind == "contains" and arg:
        return lambda prompts, responses: [float(r.count(arg)) for r in responses]
    raise ValueError(f"unknown reward {spec!r}: use model:PATH, length:N or contains:TEXT")


def _reward_from_spec(spec: str) -> RewardFn:
    if spec.startswith("model:"):
        # Imported by name: the reward scorer lives in its own module, loaded only when asked for.
        scorer_class = importlib.import_module("workers.ml.reward").RewardScorer
        return cast(RewardFn, scorer_class(spec.removeprefix("model:")))
    return toy_reward(spec)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: PPO on prompts from a JSONL file, printing metrics and samples as it goes."""
    parser = HfArgumentParser(
        [DataClassType(PpoCliArgs), DataClassType(PpoConfig)], description=(__doc__ or "").split("\n\n")[0]
    )
    args, cfg = parser.parse_args_into_dataclasses(args=list(argv) if argv is not None else None)
    assert isinstance(args, PpoCliArgs) and isinstance(cfg, PpoConfig)
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    configure_cpu_threads(args.num_threads)
    reward_fn = _reward_from_spec(args.reward)
    start = time.perf_counter()

    def show_metrics(step: int, metrics: dict[str, float]) -> None:
        keys = ("objective/scores", "objective/kl", "loss/policy_avg", "loss/value_avg", "response/length_mean")
        shown = " ".join(f"{k.split('/')[-1]}={metrics[k]:.3f}" for k in keys)
        print(f"step {step}/{cfg.num_steps} {shown} ({time.perf_counter() - start:.1f}s)", file=sys.stderr, flush=True)

    def show_samples(step: int, samples: list[dict[str, object]]) -> None:
        for s in samples:
            print(f"  [{s['score']:.2f}] {s['prompt']!r} -> {s['response']!r}", file=sys.stderr)

    result = train_ppo(cfg, read_prompts(args.prompts), reward_fn, on_metrics=show_metrics, on_samples=show_samples)
    print(f"saved {result.output_dir}: {result.steps} steps, {result.episodes} episodes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
