"""`prefloop models build-tiny`: builds a tiny causal LM without any hub and registers it ready to use."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import cli
from app.db import session_scope
from app.registry.models import ModelKind, ModelStatus, ModelVersion


def test_build_tiny_builds_and_registers_a_loadable_model(engine: object, tmp_path: Path) -> None:
    out = tmp_path / "tiny"
    args = ["models", "build-tiny", "--out-dir", str(out), "--train-steps", "5", "--name", "tiny-test"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert (out / "config.json").exists() and (out / "tokenizer.json").exists()
    with session_scope(write=False) as s:
        version = s.scalar(select(ModelVersion).where(ModelVersion.name == "tiny-test"))
    assert version is not None and version.status == ModelStatus.ready and version.kind == ModelKind.base
    assert version.info["model_type"] == "llama" and version.info["has_chat_template"] is True
    # Building again reuses the build and the registered version.
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0 and f"registered model version {version.id}" in again.output
