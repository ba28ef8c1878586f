"""Candidate generation on the session's tiny model."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from workers.ml import generate
from workers.ml.generate import (
    BatchResult,
    GenerationParams,
    LoadedModel,
    PromptInput,
    PromptResult,
    generate_candidates,
    load_model,
    plan_batches,
    trim_completion,
)

ROOT = Path(__file__).resolve().parents[3]

PROMPTS = [
    PromptInput("q1", messages=[{"role": "user", "content": "Why is the sky blue?"}]),
    PromptInput("q2", messages=[{"role": "user", "content": "How do I make a budget for a whole month at home?"}]),
    PromptInput("t1", text="The garden was quiet"),
    PromptInput(
        "q3",
        messages=[
            {"role": "user", "content": "Hello!"},
            {"role": "assistant", "content": "Hello! How can I help you today?"},
            {"role": "user", "content": "Tell me a fun fact."},
        ],
    ),
    PromptInput("t2", text="Please remember to"),
    PromptInput("q4", messages=[{"role": "user", "content": "What is a prime number?"}]),
]
PARAMS = GenerationParams(k=3, max_new_tokens=12, temperature=1.0, top_p=0.95, seed=7, batch_size=6)


def run(
    loaded: LoadedModel, params: GenerationParams = PARAMS, prompts: list[PromptInput] = PROMPTS
) -> list[BatchResult]:
    return list(generate_candidates(loaded, prompts, params))


def by_key(batches: list[BatchResult]) -> dict[str, PromptResult]:
    return {r.key: r for b in batches for r in b.results}


def test_k_candidates_per_prompt_within_max_new_tokens(tiny_loaded: LoadedModel) -> None:
    batches = run(tiny_loaded)
    assert [b.batch_index for b in batches] == [0, 1, 2]  # 6 rows per batch = 2 prompts x 3 samples
    assert all(b.num_batches == 3 for b in batches)
    results = by_key(batches)
    assert sorted(results) == sorted(p.key for p in PROMPTS)
    tokenizer = tiny_loaded.tokenizer
    for r in results.values():
        assert len(r.texts) == len(r.num_tokens) == len(r.finished) == PARAMS.k
        for text, n, finished in zip(r.texts, r.num_tokens, r.finished, strict=True):
            assert 1 <= n <= PARAMS.max_new_tokens
            assert finished or n == PARAMS.max_new_tokens
            assert "<|eos|>" not in text and "<|pad|>" not in text and "<|bos|>" not in text
            assert len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= PARAMS.max_new_tokens + 2
    for b in batches:
        assert b.generated_tokens == sum(sum(r.num_tokens) for r in b.results)
        assert b.seconds > 0 and b.tokens_per_second > 0


def test_chat_prompts_are_stripped_and_plain_prompts_continue_raw(tiny_loaded: LoadedModel) -> None:
    results = by_key(run(tiny_loaded, replace(PARAMS, max_new_tokens=20)))
    for key in ("q1", "q2", "q3", "q4"):
        assert all(t == t.strip() for t in results[key].texts)
        assert not any(t.startswith("User:") for t in results[key].texts)
    # The chat prompt really went through the template: it ends with the generation prompt.
    ids = generate.encode_prompt(tiny_loaded.tokenizer, PROMPTS[0])
    assert tiny_loaded.tokenizer.decode(ids).endswith("User: Why is the sky blue?\nAssistant:")
    raw = generate.encode_prompt(tiny_loaded.tokenizer, PROMPTS[2])
    assert tiny_loaded.tokenizer.decode(raw) == "<|bos|>The garden was quiet"


def test_same_seed_same_outputs_different_seed_different(tiny_loaded: LoadedModel) -> None:
    torch.manual_seed(123)
    before = torch.rand(1)
    first = by_key(run(tiny_loaded))
    torch.manual_seed(123)
    assert torch.equal(torch.rand(1), before)  # the caller's RNG stream is left alone
    second = by_key(run(tiny_loaded))
    other = by_key(run(tiny_loaded, replace(PARAMS, seed=8)))
    assert {k: r.texts for k, r in first.items()} == {k: r.texts for k, r in second.items()}
    assert {k: r.texts for k, r in first.items()} != {k: r.texts for k, r in other.items()}
    # k samples of one prompt are different draws, not copies.
    assert any(len(set(r.texts)) > 1 for r in first.values())


def test_resume_after_whole_batches_reproduces_the_remaining_samples(tiny_loaded: LoadedModel) -> None:
    full = run(tiny_loaded)
    done = {r.key for r in full[0].results}
    resumed = run(tiny_loaded, prompts=[p for p in PROMPTS if p.key not in done])
    assert [[r.key for r in b.results] for b in resumed] == [[r.key for r in b.results] for b in full[1:]]
    assert by_key(resumed) == {k: v for k, v in by_key(full).items() if k not in done}


def test_input_order_does_not_matter(tiny_loaded: LoadedModel) -> None:
    assert by_key(run(tiny_loaded)) == by_key(run(tiny_loaded, prompts=PROMPTS[::-1]))


def test_should_stop_is_checked_before_every_batch(tiny_loaded: LoadedModel) -> None:
    calls = 0

    def stop_after_one() -> bool:
        nonlocal calls
        calls += 1
        return calls > 1

    batches = list(generate_candidates(tiny_loaded, PROMPTS, PARAMS, should_stop=stop_after_one))
    assert len(batches) == 1 and calls == 2
    assert list(generate_candidates(tiny_loaded, PROMPTS, PARAMS, should_stop=lambda: True)) == []


def test_greedy_decoding_is_deterministic_regardless_of_seed(tiny_loaded: LoadedModel) -> None:
    greedy = replace(PARAMS, k=1, temperature=0.0)
    a = by_key(run(tiny_loaded, greedy))
    b = by_key(run(tiny_loaded, replace(greedy, seed=99)))
    assert {k: r.texts for k, r in a.items()} == {k: r.texts for k, r in b.items()}


def test_loads_by_path_and_generates(tiny_model_dir: Path) -> None:
    batches = list(generate_candidates(tiny_model_dir, PROMPTS[:2], replace(PARAMS, k=2, backend="transformers")))
    assert sorted(r.key for b in batches for r in b.results) == ["q1", "q2"]
    loaded = load_model(str(tiny_model_dir), "cpu")
    assert loaded.device == torch.device("cpu") and loaded.model.dtype == torch.float32


def test_bad_inputs_are_rejected(tiny_loaded: LoadedModel) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        PromptInput("x")
    with pytest.raises(ValueError, match="exactly one"):
        PromptInput("x", text="a", messages=[{"role": "user", "content": "b"}])
    with pytest.raises(ValueError):
        GenerationParams(k=0)
    with pytest.raises(ValueError, match="unique"):
        run(tiny_loaded, prompts=[PROMPTS[0], PROMPTS[0]])
    with pytest.raises(ValueError, match="context"):
        run(tiny_loaded, replace(PARAMS, max_new_tokens=500))
    no_template = copy.deepcopy(tiny_loaded.tokenizer)
    no_template.chat_template = None
    with pytest.raises(ValueError, match="chat template"):
        run(replace(tiny_loaded, tokenizer=no_template), prompts=PROMPTS[:1])
    # vLLM is not installed here: auto falls back to transformers, an explicit request fails clearly.
    assert not generate._use_vllm("some/model", PARAMS)
    with pytest.raises(RuntimeError, match="vLLM"):
        generate._use_vllm("some/model", replace(PARAMS, backend="vllm"))


def test_plan_batches_longest_first_ties_by_key() -> None:
    assert plan_batches(["b", "a", "c", "d"], [3, 3, 5, 1], 2) == [[2, 1], [0, 3]]


def test_trim_completion_counts_through_eos_and_ignores_padding() -> None:
    assert trim_completion([5, 6, 2, 0, 0], {2}) == ([5, 6], 3, True)
    assert trim_completion([5, 6, 7], {2}) == ([5, 6, 7], 3, False)


def test_cli_writes_jsonl_and_resumes(tiny_model_dir: Path, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    rows = [{"key": "a", "text": "The sun"}, {"key": "b", "messages": [{"role": "user", "content": "Hi"}]}]
    prompts.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    common = ["--model", str(tiny_model_dir), "--prompts", str(prompts), "--output", str(out)]
    threads = f"--num_threads={torch.get_num_threads()}"
    assert generate.main([*common, "--k", "2", "--max_new_tokens", "5", "--batch_size", "2", threads]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(line["key"] for line in lines) == ["a", "b"]
    assert all(len(line["candidates"]) == 2 for line in lines)
    assert generate.main([*common, "--resume", threads]) == 0
    assert len(out.read_text().splitlines()) == 2  # nothing left to do


def test_cli_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workers.ml.generate", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    for name in [*GenerationParams.__dataclass_fields__, "model", "prompts", "output", "resume"]:
        assert f"--{name}" in result.stdout
