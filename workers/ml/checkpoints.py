"""Resumable training checkpoints for the Trainer-based jobs (reward model, DPO).

A run given a checkpoint folder saves the whole training state there (weights, optimizer, scheduler,
RNG, data position: what ``Trainer.train(resume_from_checkpoint=...)`` restores) every ``every``
optimizer steps, keeping the latest only, and a run that finds a complete checkpoint in that folder
goes on from it instead of starting over. The worker gives a job's attempts the same folder, so a
killed worker's job resumes from its last checkpoint on the next one.

A checkpoint counts as complete when its ``trainer_state.json`` (the Trainer's last write, after the
weights and optimizer) is there and parses: a folder half written when the process died is ignored
and removed.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transformers import Trainer

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
STATE_FILE = "trainer_state.json"


def _complete(folder: Path) -> bool:
    try:
        json.loads((folder / STATE_FILE).read_text())
    except (OSError, ValueError):
        return False
    return True


def last_checkpoint(checkpoint_dir: str | Path | None) -> Path | None:
    """The newest complete checkpoint in ``checkpoint_dir`` (None when there is none); incomplete ones
    are deleted so the Trainer's own rotation never counts them."""
    if checkpoint_dir is None or not Path(checkpoint_dir).is_dir():
        return None
    found: list[tuple[int, Path]] = []
    for folder in Path(checkpoint_dir).iterdir():
        match = _CHECKPOINT.match(folder.name)
        if match is None or not folder.is_dir():
            continue
        if _complete(folder):
            found.append((int(match.group(1)), folder))
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return max(found)[1] if found else None


def checkpoint_args(checkpoint_dir: str | None, every: int, *, eval_steps: int | None) -> dict[str, Any]:
    """TrainingArguments for resumable checkpoints in ``checkpoint_dir`` (empty when it is None).

    With early stopping (``eval_steps`` given) checkpoints follow the evaluations, as restoring the best
    model needs; the best and the latest are kept.
    """
    if checkpoint_dir is None:
        return {}
    return {
        "output_dir": checkpoint_dir,
        "save_strategy": "steps",
        "save_steps": eval_steps if eval_steps is not None else every,
        "save_total_limit": 2 if eval_steps is not None else 1,
        "save_only_model": False,
    }


def step_of(checkpoint: Path) -> int:
    match = _CHECKPOINT.match(checkpoint.name)
    return int(match.group(1)) if match else 0


def train_resuming(
    trainer: Trainer, checkpoint_dir: str | None, on_metrics: Callable[[int, dict[str, float]], None]
) -> dict[str, float]:
    """``trainer.train()`` from the last complete checkpoint in ``checkpoint_dir`` when there is one (reported
    as a ``resumed_from_step`` metric), else from the start; the trainer's summary metrics."""
    resume = last_checkpoint(checkpoint_dir)
    if resume is not None:
        on_metrics(step_of(resume), {"resumed_from_step": float(step_of(resume))})
    return dict(trainer.train(resume_from_checkpoint=str(resume) if resume else None).metrics)
