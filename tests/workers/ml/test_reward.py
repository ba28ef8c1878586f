"""Reward-model training on the session's tiny model, and scoring with what it saves.

The synthetic preference has a learnable property: chosen answers are polite ("thank you", "please"),
rejected ones rude and short. Topics differ between the splits, so held-out accuracy measures the property,
not memorised prompts.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pytest
import torch
from datasets import load_dataset
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from trl import RewardConfig, RewardTrainer

from workers.ml.reward import (
    REWARD_FORMAT_FILE,
    TRAIN_CONFIG_FILE,
    RewardFormat,
    RewardModelConfig,
    RewardResult,
    RewardScorer,
    pair_metrics,
    train_reward_model,
)

TOPICS = [
    "the sky", "rain", "cats", "dogs", "bread", "music", "trains", "the sea", "books", "tea", "coffee", "snow",
    "gardens", "maps", "rivers", "stars", "bikes", "apples", "clocks", "birds", "winter", "summer", "paint", "chess",
    "boats", "bridges", "honey", "forests", "lamps", "shoes", "kites", "cheese", "islands", "wolves", "candles",
    "mountains", "letters", "pianos", "roses", "storms", "windows", "soup", "castles", "owls", "sand", "clouds",
    "engines", "rice", "horses", "mirrors", "songs", "rockets", "lakes", "tigers", "salt", "moons", "glass", "ships",
    "gold", "tents", "frogs", "fruit", "deserts", "ice",
]  # fmt: skip
POLITE = [
    " Thank you for asking about {t}. Please enjoy it!",
    " Thanks so much! I am glad to help with {t}, please ask more.",
    " Please let me explain {t}, thank you for the question.",
]
RUDE = [" No. {t} is boring.", " Go away, {t} is dull.", " Whatever. Stop asking about {t}."]
SPLITS = {"train": 32, "validation": 16, "test": 16}


def preference_rows(topics: list[str], rng: random.Random, *, margin: bool, chat: bool = False) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for t in topics:
        prompt, chosen, rejected = f"Tell me about {t}.", rng.choice(POLITE), rng.choice(RUDE)
        row: dict[str, Any] = {"prompt": prompt, "chosen": chosen.format(t=t), "rejected": rejected.format(t=t)}
        if chat:  # the exporter's preference_conversational layout
            row = {
                "prompt": [{"role": "user", "content": prompt}],
                "chosen": [{"role": "assistant", "content": row["chosen"].strip()}],
                "rejected": [{"role": "assistant", "content": row["rejected"].strip()}],
            }
        if margin:
            row["margin"] = rng.choice([0.0, 1.0, 2.0])
        rows.append(row)
    return rows


def write_splits(directory: Path, *, chat: bool = False, seed: int = 0) -> dict[str, Path]:
    rng = random.Random(seed)
    topics = TOPICS[:]
    rng.shuffle(topics)
    directory.mkdir(parents=True, exist_ok=True)
    paths, start = {}, 0
    for split, n in SPLITS.items():
        rows = preference_rows(topics[start : start + n], rng, margin=split == "train", chat=chat)
        start += n
        paths[split] = directory / f"{split}.jsonl"
        paths[split].write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return paths


def fast_config(base: Path, out: Path, **overrides: Any) -> RewardModelConfig:
    settings: dict[str, Any] = {
        "base_model": str(base),
        "output_dir": str(out),
        "max_length": 128,  # the tiny model's context
        "epochs": 4.0,
        "learning_rate": 1e-3,
        "batch_size": 8,
        "eval_steps": 4,
        "device": "cpu",
    }
    return RewardModelConfig(**(settings | overrides))


class Trained:
    """One training run shared by several tests, with everything its callbacks received."""

    def __init__(self, result: RewardResult, logs: list[tuple[int, dict[str, float]]], progress: list[tuple[int, int]]):
        self.result, self.logs, self.progress = result, logs, progress


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_splits(tmp_path_factory.mktemp("pref"))


@pytest.fixture(scope="module")
def trained(tiny_model_dir: Path, files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Trained:
    logs: list[tuple[int, dict[str, float]]] = []
    progress: list[tuple[int, int]] = []
    result = train_reward_model(
        fast_config(tiny_model_dir, tmp_path_factory.mktemp("rm") / "model"),
        str(files["train"]),
        str(files["validation"]),
        str(files["test"]),
        on_metrics=lambda step, m: logs.append((step, m)),
        on_progress=lambda step, total: progress.append((step, total)),
    )
    return Trained(result, logs, progress)


def _trl_view(model_dir: str, data_file: Path, tmp_path: Path) -> tuple[RewardTrainer, Any]:
    """TRL's own preparation of ``data_file`` for the saved model: the ground truth the scorer must match."""
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    dataset = load_dataset("json", data_files=str(data_file), split="train", cache_dir=str(tmp_path / "hf"))
    args = RewardConfig(
        output_dir=str(tmp_path / "trl"),
        bf16=False,
        activation_checkpointing=False,
        use_cpu=True,
        report_to=[],
        max_length=128,
        per_device_eval_batch_size=8,
    )
    trainer = RewardTrainer(
        model=model, args=args, train_dataset=dataset, eval_dataset=dataset, processing_class=tokenizer
    )
    return trainer, dataset


def _assert_scorer_matches_trl(model_dir: str, data_file: Path, tmp_path: Path) -> None:
    trainer, rows = _trl_view(model_dir, data_file, tmp_path)
    scorer = RewardScorer(model_dir, device="cpu", batch_size=3)  # other batches and padding than TRL's
    prepared = trainer.eval_dataset
    assert len(prepared) == len(rows)
    for row, ids in zip(rows, prepared, strict=True):
        assert scorer.encode(row["prompt"], row["chosen"]) == ids["chosen_ids"]
        assert scorer.encode(row["prompt"], row["rejected"]) == ids["rejected_ids"]

    batch = next(iter(trainer.get_eval_dataloader()))  # in file order, chosen rows then rejected rows
    batch.pop("margin", None)
    with torch.no_grad():
        rewards = trainer.model(**batch).logits.squeeze(-1)
    n = len(rewards) // 2
    first = rows.select(range(n))
    want_chosen, want_rejected = rewards[:n].tolist(), rewards[n:].tolist()
    assert scorer(first["prompt"], first["chosen"]) == pytest.approx(want_chosen, abs=1e-5)
    assert scorer.score(first["prompt"], first["rejected"]) == pytest.approx(want_rejected, abs=1e-5)


# ----------------------------------------------------------------------------------------------- tests


def test_training_learns_the_preference(trained: Trained) -> None:
    result = trained.result
    assert result.steps == 16 and not result.stopped  # 32 pairs / 8 per step x 4 epochs
    train_logs = [m for _, m in trained.logs if "loss" in m]
    assert len(train_logs) == 16
    for m in train_logs:
        assert {"loss", "accuracy", "margin", "learning_rate", "epoch"} <= m.keys()
        assert all(math.isfinite(v) for v in m.values())
    losses = [m["loss"] for m in train_logs]
    assert sum(losses[-4:]) / 4 < 0.75 * sum(losses[:4]) / 4
    assert train_logs[-1]["margin"] > train_logs[0]["margin"]
    evals = [m for _, m in trained.logs if "eval_accuracy" in m]
    assert [s for s, m in trained.logs if "eval_accuracy" in m] == [4, 8, 12, 16]
    assert evals[-1]["eval_loss"] < evals[0]["eval_loss"]
    assert trained.progress[0] == (0, 16) and trained.progress[-1] == (16, 16)

    assert result.validation_accuracy is not None and result.validation_accuracy >= 0.8
    assert result.test_accuracy is not None and result.test_accuracy >= 0.8
    for split in ("validation", "test"):
        assert result.metrics[f"{split}_pairs"] == 16
        assert result.metrics[f"{split}_margin"] > 0
    # The final in-training evaluation (TRL's, same model, two equal batches) agrees with the scorer's.
    assert evals[-1]["eval_accuracy"] == result.validation_accuracy
    assert evals[-1]["eval_loss"] == pytest.approx(result.metrics["validation_loss"], abs=1e-4)


def test_saved_files(trained: Trained, files: dict[str, Path]) -> None:
    out = Path(trained.result.output_dir)
    assert (out / "config.json").is_file() and (out / "tokenizer.json").is_file()
    assert not (out / "_trainer").exists()  # the trainer's scratch is gone
    fmt = json.loads((out / REWARD_FORMAT_FILE).read_text())
    assert fmt["conversational"] is False and fmt["eos_token"] == "<|eos|>" and fmt["padding_side"] == "right"
    assert fmt["add_special_tokens"] is True and fmt["max_length"] == 128
    saved = json.loads((out / TRAIN_CONFIG_FILE).read_text())
    assert saved["kind"] == "reward_model" and saved["config"]["learning_rate"] == 1e-3
    assert saved["resolved"]["margin_used"] is True and saved["resolved"]["bf16"] is False
    assert saved["files"]["train"] == str(files["train"])


def test_scorer_reproduces_the_training_input_and_rewards(
    trained: Trained, files: dict[str, Path], tmp_path: Path
) -> None:
    model_dir = trained.result.output_dir
    scorer = RewardScorer(model_dir, device="cpu")
    tokenizer = scorer.tokenizer
    # Plain text: <bos> prompt + response <eos>, no separator, EOS not doubled.
    ids = scorer.encode("Hi.", " Thank you!")
    assert ids == tokenizer("Hi. Thank you!<|eos|>")["input_ids"]
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert scorer.encode("Hi.", " Thank you!<|eos|>") == ids
    _assert_scorer_matches_trl(model_dir, files["validation"], tmp_path)

    rows = load_dataset("json", data_files=str(files["validation"]), split="train", cache_dir=str(tmp_path / "hf"))
    assert pair_metrics(scorer, rows, "v")["v_accuracy"] == trained.result.validation_accuracy
    with pytest.raises(ValueError, match="plain text"):
        scorer.score([[{"role": "user", "content": "Hi"}]], ["Hello"])


def test_conversational_format(tiny_model_dir: Path, tmp_path: Path) -> None:
    paths = write_splits(tmp_path / "chat", chat=True)
    cfg = fast_config(tiny_model_dir, tmp_path / "model", max_steps=2)
    result = train_reward_model(cfg, str(paths["train"]), str(paths["validation"]))
    assert result.steps == 2 and result.validation_accuracy is not None
    fmt = RewardFormat.read(result.output_dir)
    assert fmt.conversational and fmt.eos_token is None
    _assert_scorer_matches_trl(result.output_dir, paths["validation"], tmp_path)
    scorer = RewardScorer(result.output_dir, device="cpu")
    # A plain string is taken as the user's message / the assistant's answer.
    as_text = scorer.score(["Tell me about rain."], ["Thank you for asking."])
    as_chat = scorer.score(
        [[{"role": "user", "content": "Tell me about rain."}]],
        [[{"role": "assistant", "content": "Thank you for asking."}]],
    )
    assert as_text == as_chat


def test_should_stop_ends_after_one_step_without_margin(
    tiny_model_dir: Path, files: dict[str, Path], tmp_path: Path
) -> None:
    calls: list[int] = []

    def stop() -> bool:
        calls.append(1)
        return True

    cfg = fast_config(tiny_model_dir, tmp_path / "model", use_margin=False)
    result = train_reward_model(cfg, str(files["train"]), on_progress=lambda s, t: calls.append(0), should_stop=stop)
    assert result.stopped and result.steps == 1 and calls.count(1) == 1
    assert result.validation_accuracy is None and result.test_accuracy is None
    saved = json.loads((tmp_path / "model" / TRAIN_CONFIG_FILE).read_text())
    assert saved["resolved"]["margin_used"] is False
    assert math.isfinite(RewardScorer(result.output_dir, device="cpu").score(["Hi."], [" Thanks."])[0])


def test_early_stopping_keeps_the_best_model(tiny_model_dir: Path, files: dict[str, Path], tmp_path: Path) -> None:
    # Validation accuracy reaches its best early on this easy task, so patience 1 stops well before 16 steps.
    cfg = fast_config(tiny_model_dir, tmp_path / "model", eval_steps=2, early_stopping_patience=1)
    result = train_reward_model(cfg, str(files["train"]), str(files["validation"]))
    assert 2 <= result.steps < 16 and not result.stopped
    assert result.validation_accuracy is not None
    assert not (tmp_path / "model" / "_trainer").exists()


def test_lora_saves_a_merged_model(tiny_model_dir: Path, files: dict[str, Path], tmp_path: Path) -> None:
    cfg = fast_config(tiny_model_dir, tmp_path / "model", lora=True, max_steps=4, learning_rate=1e-2)
    result = train_reward_model(cfg, str(files["train"]), str(files["validation"]))
    out = Path(result.output_dir)
    assert result.steps == 4 and not (out / "adapter_config.json").exists()
    model = AutoModelForSequenceClassification.from_pretrained(out)
    names = dict(model.named_parameters())
    assert not any("lora" in n for n in names)
    base = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=1)
    base_names = dict(base.named_parameters())
    # The adapters were folded into the linear layers; the embedding (no adapter) is unchanged.
    assert not torch.equal(
        names["model.layers.0.self_attn.q_proj.weight"], base_names["model.layers.0.self_attn.q_proj.weight"]
    )
    assert torch.equal(names["model.embed_tokens.weight"], base_names["model.embed_tokens.weight"])
    scores = RewardScorer(out, device="cpu").score(["Tell me about rain."] * 2, [" Thank you, please!", " No."])
    assert all(math.isfinite(s) for s in scores)


def test_config_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="device"):
        RewardModelConfig(base_model="x", output_dir=str(tmp_path), device="cuda:1")
    with pytest.raises(ValueError, match="max_steps"):
        RewardModelConfig(base_model="x", output_dir=str(tmp_path), max_steps=0)
    cfg = RewardModelConfig(base_model="x", output_dir=str(tmp_path), early_stopping_patience=2)
    with pytest.raises(ValueError, match="validation file"):
        train_reward_model(cfg, "train.jsonl")
