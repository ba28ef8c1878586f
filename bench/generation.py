"""Generation throughput: the job's batched sampling against a plain one-prompt-at-a-time loop.

Both sides use the same model (the tiny model ``workers.ml.tiny`` builds with its default config,
cached after the first build), the same chat prompts and the same sampling settings, in the same run;
the naive side calls ``model.generate(num_return_sequences=k)`` once per prompt. Tokens counted are
generated tokens up to and including EOS, never padding. Rounds alternate naive and batched so that
load from other processes hits both alike; the medians are reported.

    .venv/bin/python -m bench.generation                 # 32 prompts x 4 samples, 64 new tokens
    .venv/bin/python -m bench.generation --prompts 64 --rounds 3 --batch-size 256

The last line is machine-readable: ``job_tokens_per_s=<x> naive_tokens_per_s=<x> ratio=<x>``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import torch

from workers.ml.generate import (
    GenerationParams,
    LoadedModel,
    PromptInput,
    eos_token_ids,
    generate_candidates,
    load_model,
    trim_completion,
)
from workers.ml.runtime import configure_cpu_threads
from workers.ml.tiny import corpus_question_prompts, tiny_model_path


def make_prompts(n: int) -> list[PromptInput]:
    questions = corpus_question_prompts()
    return [
        PromptInput(f"p{i:04d}", messages=[{"role": "user", "content": questions[(i * 7) % len(questions)]}])
        for i in range(n)
    ]


def run_batched(loaded: LoadedModel, prompts: list[PromptInput], params: GenerationParams) -> tuple[int, float]:
    start = time.perf_counter()
    tokens = sum(batch.generated_tokens for batch in generate_candidates(loaded, prompts, params))
    return tokens, time.perf_counter() - start


def run_naive(loaded: LoadedModel, prompts: list[PromptInput], params: GenerationParams) -> tuple[int, float]:
    model, tokenizer = cast(Any, loaded.model), loaded.tokenizer
    eos = eos_token_ids(loaded.model, tokenizer)
    start = time.perf_counter()
    tokens = 0
    for n, prompt in enumerate(prompts):
        assert prompt.messages is not None
        enc: Any = tokenizer.apply_chat_template(
            [dict(m) for m in prompt.messages], add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        torch.manual_seed(params.seed + n)
        with torch.inference_mode():
            out = model.generate(
                input_ids=enc["input_ids"].to(loaded.device),
                attention_mask=enc["attention_mask"].to(loaded.device),
                do_sample=True,
                temperature=params.temperature,
                top_p=params.top_p,
                top_k=0,
                max_new_tokens=params.max_new_tokens,
                num_return_sequences=params.k,
                pad_token_id=tokenizer.pad_token_id,
            )
        for row in out[:, enc["input_ids"].shape[1] :].tolist():
            tokens += trim_completion(row, eos)[1]
    return tokens, time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--model", default="", help="model directory or hub id; default: the cached tiny model")
    parser.add_argument("--prompts", type=int, default=32, help="number of chat prompts")
    parser.add_argument("--k", type=int, default=4, help="samples per prompt")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--batch-size", type=int, default=128, help="sequences per forward pass (batched side)")
    parser.add_argument("--rounds", type=int, default=1, help="alternating naive/batched rounds; medians reported")
    parser.add_argument("--device", default="", help="torch device; default: cuda if available, else cpu")
    parser.add_argument("--num-threads", type=int, default=0, help="torch CPU threads; 0 = one per idle CPU")
    args = parser.parse_args(argv)

    threads = configure_cpu_threads(args.num_threads)
    model_path: str | Path = args.model or tiny_model_path()
    loaded = load_model(model_path, args.device or None)
    params = GenerationParams(
        k=args.k,
        temperature=args.temperature,
        top_p=args.top_p,
        max_new_tokens=args.max_new_tokens,
        batch_size=args.batch_size,
        backend="transformers",
    )
    prompts = make_prompts(args.prompts)
    run_batched(loaded, prompts[:2], params)  # warm-up: first-call allocations and lazy imports

    naive: list[tuple[int, float]] = []
    batched: list[tuple[int, float]] = []
    for _ in range(args.rounds):
        naive.append(run_naive(loaded, prompts, params))
        batched.append(run_batched(loaded, prompts, params))

    def rate(runs: list[tuple[int, float]]) -> float:
        return statistics.median(t / s for t, s in runs)

    print(f"model {model_path} on {loaded.device} ({threads} CPU threads), {len(prompts)} prompts x k={args.k}")
    print(f"{'method':<36}{'tokens':>9}{'seconds':>10}{'tokens/s':>11}")
    for name, runs in (("naive: generate() per prompt", naive), (f"job: batches of {args.batch_size} rows", batched)):
        for tokens, seconds in runs:
            print(f"{name:<36}{tokens:>9}{seconds:>10.2f}{tokens / seconds:>11.1f}")
    job, base = rate(batched), rate(naive)
    print(f"job_tokens_per_s={job:.1f} naive_tokens_per_s={base:.1f} ratio={job / base:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
