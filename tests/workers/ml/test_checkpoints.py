"""Resumable checkpoints: which checkpoint a run resumes from, and a DPO run that goes on where one stopped."""

from __future__ import annotations

import json
from pathlib import Path

from tests.workers.ml.test_dpo import fast_config
from tests.workers.ml.test_reward import write_splits
from workers.ml.checkpoints import STATE_FILE, checkpoint_args, last_checkpoint, step_of
from workers.ml.dpo import train_dpo


def _checkpoint(root: Path, step: int, complete: bool) -> Path:
    folder = root / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"weights")
    if complete:
        (folder / STATE_FILE).write_text(json.dumps({"global_step": step}))
    return folder


def test_the_newest_complete_checkpoint_is_chosen_and_half_written_ones_are_removed(tmp_path: Path) -> None:
    assert last_checkpoint(None) is None and last_checkpoint(tmp_path / "missing") is None
    _checkpoint(tmp_path, 5, complete=True)
    ten = _checkpoint(tmp_path, 10, complete=True)
    half = _checkpoint(tmp_path, 15, complete=False)  # the process died while writing it
    (tmp_path / "checkpoint-20").mkdir()
    (tmp_path / "checkpoint-20" / STATE_FILE).write_text("{trunc")  # cut off mid-write
    (tmp_path / "runs").mkdir()  # not a checkpoint: left alone
    assert last_checkpoint(tmp_path) == ten and step_of(ten) == 10
    assert not half.exists() and not (tmp_path / "checkpoint-20").exists() and (tmp_path / "runs").exists()


def test_checkpoint_arguments() -> None:
    assert checkpoint_args(None, 5, eval_steps=None) == {}
    plain = checkpoint_args("/c", 5, eval_steps=None)
    assert plain["output_dir"] == "/c" and plain["save_steps"] == 5 and plain["save_total_limit"] == 1
    assert plain["save_only_model"] is False  # optimizer, scheduler and RNG too: what resuming needs
    early = checkpoint_args("/c", 5, eval_steps=4)  # early stopping restores the best: saves follow evaluations
    assert early["save_steps"] == 4 and early["save_total_limit"] == 2


def test_a_stopped_dpo_run_resumes_from_its_checkpoint(tiny_model_dir: Path, tmp_path: Path) -> None:
    files = write_splits(tmp_path / "pref")
    checkpoints = tmp_path / "checkpoints"
    first_steps: list[int] = []
    cfg = fast_config(tiny_model_dir, tmp_path / "first", checkpoint_dir=str(checkpoints), checkpoint_steps=3)
    first = train_dpo(
        cfg,
        str(files["train"]),
        on_metrics=lambda step, m: first_steps.append(step) if "loss" in m else None,
        should_stop=lambda: len(first_steps) >= 4,  # as if the worker had died around step 5
    )
    assert first.stopped and first.steps < 8
    saved = last_checkpoint(checkpoints)
    assert saved is not None and 3 <= step_of(saved) <= first.steps  # a stopped run saves its last step too

    logs: list[tuple[int, dict[str, float]]] = []
    second = train_dpo(
        fast_config(tiny_model_dir, tmp_path / "second", checkpoint_dir=str(checkpoints), checkpoint_steps=3),
        str(files["train"]),
        on_metrics=lambda step, m: logs.append((step, m)),
    )
    assert not second.stopped and second.steps == 8
    assert logs[0] == (step_of(saved), {"resumed_from_step": float(step_of(saved))})
    trained_steps = [step for step, m in logs if "loss" in m]
    assert trained_steps == list(range(step_of(saved) + 1, 9))  # only the steps after the checkpoint
