"""Contract: the preference exports load with `datasets` and train TRL's trainers as they are.

Each export (JSONL, Parquet, a ``save_to_disk`` directory written without `datasets`) is loaded the way
a user would and handed to RewardTrainer and DPOTrainer for one step, with no renames or mapping.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from datasets import Dataset, load_dataset, load_from_disk
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer
from trl import DPOConfig, DPOTrainer, RewardConfig, RewardTrainer

from app.datasets.exports import LAYOUTS, iter_export, write_datasets_dir
from app.datasets.schema import SPLITS
from tests.app.datasets.test_exports import expected, write_snapshot

TRAIN_ARGS: dict[str, Any] = {
    "bf16": False,
    "activation_checkpointing": False,  # transformers 5's name for gradient_checkpointing
    "max_steps": 1,
    "per_device_train_batch_size": 2,
    "report_to": [],
    "use_cpu": True,
    "max_length": 128,  # the tiny model's context; RewardTrainer drops longer pairs, and none is longer
    "save_strategy": "no",
    "logging_steps": 1,
}


def _load(fmt: str, snapshot: Path, layout: str, out: Path) -> Dataset:
    """Export the train split with margins and load it as a user would."""
    cache = str(out / "hf-cache")
    if fmt == "datasets":
        write_datasets_dir(snapshot, layout, out / "ds", split="train", with_margin=True)
        loaded = load_from_disk(str(out / "ds"))
    else:
        path = out / f"train.{fmt}"
        path.write_bytes(b"".join(iter_export(snapshot, layout, fmt, split="train", with_margin=True)))
        loaded = load_dataset("json" if fmt == "jsonl" else fmt, data_files=str(path), split="train", cache_dir=cache)
    assert isinstance(loaded, Dataset)
    return loaded


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "datasets"])
@pytest.mark.parametrize("layout", ["preference", "preference_conversational"])
def test_reward_and_dpo_trainers_take_the_export(tiny_model_dir: Path, tmp_path: Path, layout: str, fmt: str) -> None:
    rows = write_snapshot(tmp_path / "snapshot", {"train": 9, "validation": 1, "test": 1})
    dataset = _load(fmt, tmp_path / "snapshot", layout, tmp_path)
    want = expected(rows, layout, split="train", with_margin=True)
    assert dataset.column_names == ["prompt", "chosen", "rejected", "margin"] and len(dataset) == 8
    assert dataset.to_list() == want  # JSON's inferred struct fields come back in key order, too

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    reward_model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=1)
    reward_model.config.pad_token_id = tokenizer.pad_token_id
    reward = RewardTrainer(
        model=reward_model,
        args=RewardConfig(output_dir=str(tmp_path / "rm"), **TRAIN_ARGS),
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    # The margin survives preparation and reaches the loss (`margin` is one of its signature columns).
    assert "margin" in reward.train_dataset.column_names and len(reward.train_dataset) == 8  # none too long
    assert "margin" in next(iter(reward.get_train_dataloader()))
    assert reward.train().global_step == 1
    assert math.isfinite(reward.state.log_history[0]["loss"])

    dpo = DPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(tiny_model_dir),
        args=DPOConfig(output_dir=str(tmp_path / "dpo"), **TRAIN_ARGS),
        train_dataset=dataset,  # `margin` included: DPO drops columns it does not use
        processing_class=tokenizer,
    )
    assert len(dpo.train_dataset) == 8
    assert dpo.train().global_step == 1
    assert math.isfinite(dpo.state.log_history[0]["loss"])


@pytest.mark.parametrize("layout", LAYOUTS)
def test_load_from_disk_reads_every_layout(tmp_path: Path, layout: str) -> None:
    rows = write_snapshot(tmp_path / "snapshot")
    write_datasets_dir(tmp_path / "snapshot", layout, tmp_path / "ds")
    loaded = load_from_disk(str(tmp_path / "ds"))
    assert list(loaded) == list(SPLITS)
    for split in SPLITS:
        want = expected(rows, layout, split=split)
        if layout not in ("pairs", "raw"):  # the split is the DatasetDict's key, not a column
            want = [{k: v for k, v in r.items() if k != "split"} for r in want]
        assert loaded[split].split == split
        assert loaded[split].to_list() == want
