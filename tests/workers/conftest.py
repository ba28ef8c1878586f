"""Worker-side fixtures: a tiny causal LM built once per test session (no model hub needed).

``tiny_model_dir`` is a ``save_pretrained`` directory (Llama + byte-level BPE tokenizer with a chat
template) that any ``from_pretrained`` call or worker task can load by path. It is deliberately small
(about 2 s to build on one CPU core); use ``workers.ml.tiny.TinyModelConfig()`` defaults where a test
needs samples that read like English.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.ml.tiny import TinyModelConfig, build_tiny_model

TEST_TINY_CONFIG = TinyModelConfig(
    vocab_size=1024,
    hidden_size=64,
    num_layers=2,
    num_heads=4,
    intermediate_size=128,
    max_position_embeddings=128,
    train_steps=60,
    batch_size=8,
    seq_len=64,
    warmup_steps=10,
    learning_rate=1e-2,
)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory of the session's tiny model and tokenizer (built on first use)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "model", TEST_TINY_CONFIG)
