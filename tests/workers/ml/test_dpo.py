"""DPO on the session's tiny model: the policy moves towards the chosen answers and saves as a plain causal LM."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from tests.workers.ml.test_reward import write_splits
from workers.ml.dpo import DpoResult, DpoTrainConfig, clip_pair, train_dpo
from workers.ml.reward import TRAIN_CONFIG_FILE


def fast_config(base: Path, out: Path, **overrides: Any) -> DpoTrainConfig:
    settings: dict[str, Any] = {
        "policy_model": str(base),
        "output_dir": str(out),
        "learning_rate": 5e-4,
        "max_steps": 8,
        "batch_size": 8,
        "max_length": 128,  # the tiny model's context
        "max_prompt_length": 64,
        "eval_steps": 4,
        "device": "cpu",
    }
    return DpoTrainConfig(**(settings | overrides))


def completion_logps(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, prompts: Sequence[str], completions: Sequence[str]
) -> torch.Tensor:
    """Sum of log p(completion + EOS | prompt) per pair, the quantity DPO compares with the reference."""
    out = []
    for prompt, completion in zip(prompts, completions, strict=True):
        prompt_len = len(tokenizer(prompt)["input_ids"])
        ids = torch.tensor([tokenizer(prompt + completion + tokenizer.eos_token)["input_ids"]])
        with torch.no_grad():
            logps = model(input_ids=ids).logits[0, :-1].log_softmax(-1)
        token_logps = logps.gather(-1, ids[0, 1:, None])[:, 0]
        out.append(token_logps[prompt_len - 1 :].sum())
    return torch.stack(out)


def preference_gap(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, path: Path) -> float:
    """Mean log p(chosen) - log p(rejected) over a preference file."""
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    prompts = [r["prompt"] for r in rows]
    chosen = completion_logps(model, tokenizer, prompts, [r["chosen"] for r in rows])
    rejected = completion_logps(model, tokenizer, prompts, [r["rejected"] for r in rows])
    return float((chosen - rejected).mean())


class Trained:
    def __init__(self, result: DpoResult, logs: list[tuple[int, dict[str, float]]], progress: list[tuple[int, int]]):
        self.result, self.logs, self.progress = result, logs, progress


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_splits(tmp_path_factory.mktemp("pref"))


@pytest.fixture(scope="module")
def trained(tiny_model_dir: Path, files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Trained:
    logs: list[tuple[int, dict[str, float]]] = []
    progress: list[tuple[int, int]] = []
    result = train_dpo(
        fast_config(tiny_model_dir, tmp_path_factory.mktemp("dpo") / "policy"),
        str(files["train"]),
        str(files["validation"]),
        on_metrics=lambda step, m: logs.append((step, m)),
        on_progress=lambda step, total: progress.append((step, total)),
    )
    return Trained(result, logs, progress)


def test_dpo_learns_the_preference(trained: Trained) -> None:
    result = trained.result
    assert result.steps == 8 and not result.stopped
    train_logs = [m for _, m in trained.logs if "loss" in m]
    assert len(train_logs) == 8
    wanted = {"loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins"}
    for m in train_logs:
        assert wanted | {"logps/chosen", "logps/rejected", "learning_rate", "epoch"} <= m.keys()
        assert all(math.isfinite(v) for v in m.values())
    assert train_logs[0]["loss"] == pytest.approx(math.log(2), abs=1e-3)  # policy == reference at step 1
    assert train_logs[-1]["loss"] < train_logs[0]["loss"] - 0.1
    assert train_logs[-1]["rewards/margins"] > train_logs[0]["rewards/margins"] + 0.2
    assert trained.progress[0] == (0, 8) and trained.progress[-1] == (8, 8)
    # Held out: the final evaluation (reused from step 8, not repeated) against the initial policy.
    assert [s for s, m in trained.logs if "eval_loss" in m] == [4, 8]
    assert result.metrics["eval_rewards/margins"] > 0 and result.metrics["eval_loss"] < math.log(2)


def test_saved_policy_prefers_chosen_more_than_the_reference(
    trained: Trained, tiny_model_dir: Path, files: dict[str, Path]
) -> None:
    out = Path(trained.result.output_dir)
    assert not (out / "adapter_config.json").exists() and not (out / "_trainer").exists()
    policy = AutoModelForCausalLM.from_pretrained(out)
    reference = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert not torch.equal(policy.model.layers[0].mlp.up_proj.weight, reference.model.layers[0].mlp.up_proj.weight)
    for split in ("train", "validation"):
        assert preference_gap(policy, tokenizer, files[split]) > preference_gap(reference, tokenizer, files[split]) + 1
    saved = json.loads((out / TRAIN_CONFIG_FILE).read_text())
    assert saved["kind"] == "dpo" and saved["config"]["beta"] == 0.1 and saved["resolved"]["steps"] == 8
    assert saved["resolved"]["reference"] == "frozen copy of policy_model"


def test_lora_saves_a_merged_policy(tiny_model_dir: Path, files: dict[str, Path], tmp_path: Path) -> None:
    cfg = fast_config(tiny_model_dir, tmp_path / "policy", lora=True, max_steps=3, learning_rate=5e-3)
    result = train_dpo(cfg, str(files["train"]))
    out = Path(result.output_dir)
    assert result.steps == 3 and not (out / "adapter_config.json").exists()
    policy = AutoModelForCausalLM.from_pretrained(out)
    reference = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert not any("lora" in name for name, _ in policy.named_parameters())
    assert not torch.equal(
        policy.model.layers[0].self_attn.q_proj.weight, reference.model.layers[0].self_attn.q_proj.weight
    )
    assert torch.equal(policy.model.embed_tokens.weight, reference.model.embed_tokens.weight)  # no adapter there
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert preference_gap(policy, tokenizer, files["train"]) > preference_gap(reference, tokenizer, files["train"])


def test_should_stop_ends_after_one_step(tiny_model_dir: Path, files: dict[str, Path], tmp_path: Path) -> None:
    result = train_dpo(fast_config(tiny_model_dir, tmp_path / "policy"), str(files["train"]), should_stop=lambda: True)
    assert result.stopped and result.steps == 1
    assert (tmp_path / "policy" / "model.safetensors").is_file()


def test_long_prompts_are_clipped_not_dropped(tiny_model_dir: Path, files: dict[str, Path], tmp_path: Path) -> None:
    # Every prompt is longer than 4 tokens; all 32 pairs still train (4 steps of 8 in one epoch).
    cfg = fast_config(tiny_model_dir, tmp_path / "policy", max_steps=-1, max_prompt_length=4, max_length=12)
    assert train_dpo(cfg, str(files["train"])).steps == 4


def test_clip_pair() -> None:
    example = {"prompt_ids": [1, 10, 11, 12, 13], "chosen_ids": [20, 21, 22], "rejected_ids": [30]}
    assert clip_pair(example, 3, 6, bos_token_id=1) == {
        "prompt_ids": [1, 12, 13],  # BOS kept, then the prompt's end
        "chosen_ids": [20, 21, 22],
        "rejected_ids": [30],
    }
    assert clip_pair(example, 3, 5, bos_token_id=None) == {
        "prompt_ids": [11, 12, 13],
        "chosen_ids": [20, 21],
        "rejected_ids": [30],
    }
    assert clip_pair(example, 8, 128, bos_token_id=1) == {k: list(v) for k, v in example.items()}


def test_config_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_prompt_length"):
        DpoTrainConfig(policy_model="x", output_dir=str(tmp_path), max_length=64, max_prompt_length=64)
    with pytest.raises(ValueError, match="beta"):
        DpoTrainConfig(policy_model="x", output_dir=str(tmp_path), beta=0)
