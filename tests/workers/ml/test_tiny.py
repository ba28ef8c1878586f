"""The tiny model: corpus, tokenizer, chat template, training, caching, CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from workers.ml import tiny
from workers.ml.tiny import BUILD_INFO_FILE, TinyModelConfig, build_tiny_model, load_corpus, read_build_info

ROOT = Path(__file__).resolve().parents[3]
POLITE = re.compile(r"\b(please|thank you|thanks)\b", re.IGNORECASE)


def test_corpus_has_dialogues_texts_and_a_minority_of_polite_answers() -> None:
    corpus = load_corpus()
    assert len(corpus.dialogues) > 200 and len(corpus.texts) > 50
    answers = [m["content"] for d in corpus.dialogues for m in d if m["role"] == "assistant"]
    rate = sum(bool(POLITE.search(a)) for a in answers) / len(answers)
    assert 0.10 <= rate <= 0.20


def test_parse_corpus_text_splits_dialogues_and_sentences() -> None:
    text = "# comment\nU: Hi\nA: Hello!\nU: Bye\nA: Goodbye.\n\nOne sentence.\nAnother one.\n"
    corpus = tiny.parse_corpus_text(text)
    assert corpus.dialogues == [
        [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Bye"},
            {"role": "assistant", "content": "Goodbye."},
        ]
    ]
    assert corpus.texts == ["One sentence.", "Another one."]


@pytest.mark.parametrize(
    "text",
    ["Why is the sky blue?", "  two  spaces\nand a newline\t", "Café naïve \u2013 3.14 😀 ", "Unseen wørds: zyxq"],
)
def test_tokenizer_round_trips_text(tiny_model_dir: Path, text: str) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir, local_files_only=True)
    ids = tokenizer(text)["input_ids"]
    assert ids[0] == tokenizer.bos_token_id
    assert tokenizer.unk_token_id not in ids  # byte-level: every string is representable
    assert tokenizer.decode(ids, skip_special_tokens=True) == text


def test_tokenizer_has_special_tokens_and_chat_template(tiny_model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir, local_files_only=True)
    assert len({tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id, tokenizer.unk_token_id}) == 4
    assert tokenizer.padding_side == "left"
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "How are you?"},
    ]
    rendered = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert rendered == "<|bos|>System: Be brief.\nUser: Hi\nAssistant: Hello!<|eos|>User: How are you?\nAssistant:"
    full = tokenizer.apply_chat_template(messages[:3], tokenize=False)
    assert full.endswith("Assistant: Hello!<|eos|>")

    out = tokenizer.apply_chat_template(messages[1:3], return_assistant_tokens_mask=True, return_dict=True)
    masked = [t for t, m in zip(out["input_ids"], out["assistant_masks"], strict=True) if m]
    assert tokenizer.decode(masked) == " Hello!<|eos|>"
    # The generation prompt tokenises as the prefix of an answered turn, so sampling continues naturally.
    prompt_ids = tokenizer.apply_chat_template(messages[1:2], add_generation_prompt=True, return_dict=False)
    answered_ids = tokenizer.apply_chat_template(messages[1:3], return_dict=False)
    assert answered_ids[: len(prompt_ids)] == prompt_ids


def test_training_loss_fell_and_model_loads(tiny_model_dir: Path) -> None:
    info = read_build_info(tiny_model_dir)
    assert info is not None
    train = info["train"]
    assert train["loss_after"] < train["loss_before"] - 1.0
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir, local_files_only=True)
    assert model.config.vocab_size >= len(tokenizer)
    assert model.config.eos_token_id == tokenizer.eos_token_id
    assert model.generation_config.pad_token_id == tokenizer.pad_token_id
    with torch.no_grad():
        ids = torch.tensor([tokenizer("User: Hello\nAssistant:")["input_ids"]])
        assert model(input_ids=ids).logits.shape == (1, ids.shape[1], model.config.vocab_size)


MICRO = TinyModelConfig(
    vocab_size=400, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32,
    max_position_embeddings=32, train_steps=2, batch_size=2, seq_len=16, warmup_steps=1,
)  # fmt: skip


def test_build_reuses_a_matching_build_and_rebuilds_on_a_new_config(tmp_path: Path) -> None:
    out = build_tiny_model(tmp_path / "m", MICRO)
    stamp = (out / BUILD_INFO_FILE).stat().st_mtime_ns
    assert build_tiny_model(out, MICRO) == out
    assert (out / BUILD_INFO_FILE).stat().st_mtime_ns == stamp

    other = TinyModelConfig(**{**MICRO.__dict__, "seed": 1})
    build_tiny_model(out, other)
    info = read_build_info(out)
    assert info is not None and info["config"]["seed"] == 1
    assert not [p for p in tmp_path.iterdir() if ".building-" in p.name]  # no temporary directory left


def test_build_refuses_to_overwrite_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        build_tiny_model(tmp_path, MICRO)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_config_rejects_heads_that_do_not_divide_the_width() -> None:
    with pytest.raises(ValueError, match="divisible"):
        TinyModelConfig(hidden_size=66, num_heads=4)


def test_cli_help_lists_every_config_field() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workers.ml.tiny", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    for name in [*TinyModelConfig.__dataclass_fields__, "out_dir", "force"]:
        assert f"--{name}" in result.stdout


def test_cli_builds_a_model(tmp_path: Path) -> None:
    args = [f"--{k}={v}" for k, v in MICRO.__dict__.items() if k != "corpus_dir"]
    assert tiny.main(["--out_dir", str(tmp_path / "cli"), f"--num_threads={torch.get_num_threads()}", *args]) == 0
    info = json.loads((tmp_path / "cli" / BUILD_INFO_FILE).read_text())
    assert info["config"]["hidden_size"] == MICRO.hidden_size


def test_concurrent_builders_build_once(tmp_path: Path) -> None:
    with ThreadPoolExecutor(2) as pool:
        paths = list(pool.map(lambda _: build_tiny_model(tmp_path / "shared", MICRO), range(2)))
    assert paths == [tmp_path / "shared"] * 2
    assert read_build_info(tmp_path / "shared") is not None
