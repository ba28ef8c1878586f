"""ML test set-up: torch threads sized to the idle CPUs for the session (see runtime.auto_cpu_threads)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from workers.ml.generate import LoadedModel, load_model
from workers.ml.runtime import cpu_threads


@pytest.fixture(scope="session", autouse=True)
def _torch_threads() -> Iterator[None]:
    # Two OpenMP threads on a busy 2-core machine make these small models several times slower.
    with cpu_threads():
        yield


@pytest.fixture(scope="session")
def tiny_loaded(tiny_model_dir: Path) -> LoadedModel:
    """The session's tiny model loaded on CPU in fp32."""
    return load_model(tiny_model_dir, "cpu")
