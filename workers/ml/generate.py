"""Candidate generation: K sampled completions per prompt, in batches, with transformers (or vLLM).

The generation job's Celery task iterates :func:`generate_candidates` and stores each
:class:`BatchResult` as it arrives; between batches it reports progress and may cancel.

Prompts
    A :class:`PromptInput` is either plain ``text`` or chat ``messages``. Messages go through the
    tokenizer's chat template with ``add_generation_prompt=True``; plain text is fed as raw text (with
    the tokenizer's usual special tokens, e.g. a BOS), never wrapped in the chat template, so a
    completion-style prompt stays a completion. A chat prompt for a tokenizer without a chat template
    is an error, not a silent fallback.

Outputs
    Completions are cut at the first end-of-sequence token and decoded without special tokens. Chat
    completions are stripped of surrounding whitespace (the template ends at "Assistant:" and the
    answer begins with a space); plain-text continuations are returned verbatim so that
    ``text + completion`` reads as the model wrote it. Token counts include the EOS token where one was
    generated and never count padding.

Batching and sampling
    Prompts are tokenised up front, ordered by token length (longest first, so an out-of-memory error
    shows up in the first batch; ties by key) and cut into batches of ``batch_size // k`` prompts. Each
    prompt's row is repeated ``k`` times (what ``num_return_sequences`` does inside transformers; timed
    the same, 128 rows of the tiny model, within noise). Left padding; a row stops at EOS and the batch
    when all rows have. ``model.generate`` runs in greedy mode with
    :class:`~workers.ml.sampling.SampleLogitsProcessor` drawing each token: same distribution as
    transformers' temperature/top-k/top-p sampling, but without sorting the whole vocabulary for rows
    whose nucleus is small and without sampling rows that have finished (1.7x the tokens/s of
    transformers' own sampler on the tiny model at top_p=0.95, same run).

Determinism (transformers backend)
    Before each batch the global torch RNG is seeded with a hash of ``(params.seed, key of the batch's
    first prompt)``, inside ``torch.random.fork_rng`` so the caller's RNG state is untouched. Guaranteed: the
    same prompts (same keys and content), params, model weights, device, dtype, torch/transformers
    versions and CPU thread count give bit-identical outputs. Because batches are cut from a fixed
    order, a resumed run that drops the prompts of *whole finished batches* plans exactly the remaining
    batches again and so reproduces their samples too. Not guaranteed: the same samples for a prompt
    that lands in a different batch (other prompts added, a finished batch only partly dropped, another
    ``batch_size`` or ``k``), since rows share one RNG stream and padding changes the arithmetic; and on
    CUDA, bit-equality only as far as the kernels are deterministic.

vLLM
    Used when ``backend="vllm"``, or ``"auto"`` with vLLM importable, a CUDA device and a model given by
    id or path. Each prompt gets its own seed from ``(seed, key)``, so its samples do not depend on the
    batch; vLLM's outputs are not bit-identical to the transformers backend's.

    python -m workers.ml.generate --model ./tiny --chat --k 4 --prompt "Why is the sky blue?" "Say hello."
    python -m workers.ml.generate --model ./tiny --prompts prompts.jsonl --output out.jsonl --resume
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GenerationConfig,
    HfArgumentParser,
    LogitsProcessorList,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.hf_argparser import DataClassType
from transformers.utils import logging as hf_logging

from workers.ml.runtime import configure_cpu_threads, default_dtype, pick_device
from workers.ml.sampling import SampleLogitsProcessor

Message = dict[str, str]


@dataclass(frozen=True)
class PromptInput:
    """One prompt to sample from: exactly one of ``text`` (raw) or ``messages`` (chat)."""

    key: str
    text: str | None = None
    messages: Sequence[Message] | None = None

    def __post_init__(self) -> None:
        if (self.text is None) == (self.messages is None):
            raise ValueError(f"prompt {self.key!r}: give exactly one of text or messages")
        if self.messages is not None and not self.messages:
            raise ValueError(f"prompt {self.key!r}: messages is empty")


@dataclass
class GenerationParams:
    """Sampling settings of a generation job."""

    k: int = field(default=4, metadata={"help": "Completions sampled per prompt."})
    temperature: float = field(
        default=1.0, metadata={"help": "Softmax temperature; 0 means greedy decoding (then use k=1)."}
    )
    top_p: float = field(default=1.0, metadata={"help": "Nucleus sampling: keep the smallest token set of this mass."})
    top_k: int = field(default=0, metadata={"help": "Keep only the top_k most likely tokens; 0 disables."})
    max_new_tokens: int = field(default=128, metadata={"help": "Most tokens generated per completion."})
    seed: int = field(default=0, metadata={"help": "Base seed; each batch's seed derives from it and its first key."})
    batch_size: int = field(
        default=64,
        metadata={"help": "Sequences (prompts x k) per forward pass; a batch holds max(1, batch_size // k) prompts."},
    )
    backend: Literal["auto", "transformers", "vllm"] = field(
        default="auto", metadata={"help": "auto: vLLM when importable on CUDA with a model path/id, else transformers."}
    )

    def __post_init__(self) -> None:
        if self.k < 1 or self.max_new_tokens < 1 or self.batch_size < 1:
            raise ValueError("k, max_new_tokens and batch_size must be at least 1")
        if self.temperature < 0 or not 0 < self.top_p <= 1 or self.top_k < 0:
            raise ValueError("need temperature >= 0, 0 < top_p <= 1 and top_k >= 0")

    @property
    def prompts_per_batch(self) -> int:
        return max(1, self.batch_size // self.k)


@dataclass
class PromptResult:
    """The k completions of one prompt, in sample order."""

    key: str
    texts: list[str]
    num_tokens: list[int]
    """Generated tokens per completion, EOS included when generated."""
    finished: list[bool]
    """True where the completion ended with EOS, False where it hit max_new_tokens."""
    token_ids: list[list[int]] = field(default_factory=list)
    """The sampled token ids of each completion, EOS included when generated (``num_tokens`` of them):
    what the model actually produced, for scoring without re-tokenising the decoded text."""


@dataclass
class BatchResult:
    """What one batch produced, for the caller to store and report."""

    batch_index: int
    num_batches: int
    results: list[PromptResult]
    generated_tokens: int
    seconds: float

    @property
    def tokens_per_second(self) -> float:
        return self.generated_tokens / self.seconds if self.seconds > 0 else 0.0


@dataclass
class LoadedModel:
    """A causal LM with its tokenizer, on a device, ready to generate."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    device: torch.device
    name: str


def load_model(
    model_id_or_path: str | Path, device: str | torch.device | None = None, dtype: torch.dtype | None = None
) -> LoadedModel:
    """Load a causal LM and its tokenizer from a local directory or a Hugging Face hub id.

    An existing local path is loaded with ``local_files_only=True`` (no network, clear error if files
    are missing); anything else is treated as a hub id. Default device: CUDA if available, else CPU;
    default dtype: bf16 on CUDA, fp32 on CPU. The tokenizer is set to left padding, with EOS as the pad
    token if it has none.
    """
    dev = device if isinstance(device, torch.device) else pick_device(device)
    name = str(model_id_or_path)
    local = Path(model_id_or_path).expanduser().exists()
    source = str(Path(model_id_or_path).expanduser()) if local else name
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(source, local_files_only=local, dtype=dtype or default_dtype(dev))
    model.to(dev)  # type: ignore[arg-type]  # transformers annotates .to loosely
    model.train(False)
    return LoadedModel(model=model, tokenizer=tokenizer, device=dev, name=name)


# --------------------------------------------------------------------------------------------- helpers


def encode_prompt(tokenizer: PreTrainedTokenizerBase, prompt: PromptInput) -> list[int]:
    """Token ids of a prompt as the model will see them (see the module docstring)."""
    if prompt.messages is not None:
        if not tokenizer.chat_template:
            raise ValueError(f"prompt {prompt.key!r} is a chat, but the tokenizer has no chat template")
        rendered = tokenizer.apply_chat_template(
            [dict(m) for m in prompt.messages], add_generation_prompt=True, tokenize=False
        )
        assert isinstance(rendered, str)
        ids = tokenizer(rendered, add_special_tokens=False)["input_ids"]
    else:
        ids = tokenizer(prompt.text, add_special_tokens=True)["input_ids"]
    return [int(i) for i in ids]


def batch_seed(seed: int, key: str) -> int:
    """A 63-bit seed derived from the base seed and a prompt key (stable across runs and machines)."""
    digest = hashlib.sha256(f"{seed}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def plan_batches(keys: Sequence[str], lengths: Sequence[int], prompts_per_batch: int) -> list[list[int]]:
    """Indices of the prompts in each batch: longest first, ties by key, cut into equal chunks."""
    order = sorted(range(len(keys)), key=lambda i: (-lengths[i], keys[i]))
    return [order[i : i + prompts_per_batch] for i in range(0, len(order), prompts_per_batch)]


def eos_token_ids(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> set[int]:
    """Every token id that ends a completion (models such as Llama 3 have several)."""
    ids: set[int] = set()
    configured = model.generation_config.eos_token_id if model.generation_config is not None else None
    for value in (configured, tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, list):
            ids.update(int(v) for v in value)
    if not ids:
        raise ValueError("the model and tokenizer define no EOS token")
    return ids


def trim_completion(tokens: Sequence[int], eos_ids: set[int]) -> tuple[list[int], int, bool]:
    """(tokens before the first EOS, generated-token count incl. that EOS, whether an EOS was found)."""
    for i, tok in enumerate(tokens):
        if tok in eos_ids:
            return list(tokens[:i]), i + 1, True
    return list(tokens), len(tokens), False


def _check_lengths(model: PreTrainedModel, prompts: Sequence[PromptInput], lengths: Sequence[int], new: int) -> None:
    limit = getattr(model.config, "max_position_embeddings", None)
    if not isinstance(limit, int):
        return
    for prompt, n in zip(prompts, lengths, strict=True):
        if n + new > limit:
            raise ValueError(
                f"prompt {prompt.key!r} has {n} tokens; with max_new_tokens={new} it exceeds the model's "
                f"context of {limit} tokens"
            )


def _sampling_config(model: PreTrainedModel, params: GenerationParams, pad_id: int) -> GenerationConfig:
    # Start from the model's own config (it may list several EOS ids, penalties) and override what the job
    # sets. Always "greedy": sampling happens in SampleLogitsProcessor (see workers.ml.sampling).
    config = copy.deepcopy(model.generation_config) if model.generation_config is not None else GenerationConfig()
    config.update(  # type: ignore[no-untyped-call]
        do_sample=False,
        temperature=None,
        top_p=None,
        top_k=None,
        max_new_tokens=params.max_new_tokens,
        max_length=None,
        min_new_tokens=None,
        num_return_sequences=1,
        num_beams=1,
        pad_token_id=pad_id,
    )
    return config


def _logits_processors(params: GenerationParams, eos_ids: set[int]) -> LogitsProcessorList:
    if params.temperature == 0:
        return LogitsProcessorList()
    return LogitsProcessorList([SampleLogitsProcessor(params.temperature, params.top_k, params.top_p, eos_ids)])


# ------------------------------------------------------------------------------------------ generation


def _use_vllm(model_or_path: object, params: GenerationParams) -> bool:
    if params.backend == "transformers":
        return False
    available = importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()
    if params.backend == "vllm":
        if not available or not isinstance(model_or_path, str | Path):
            raise RuntimeError("backend='vllm' needs vLLM installed, a CUDA device and a model id or path")
        return True
    return available and isinstance(model_or_path, str | Path)


def generate_candidates(
    model_or_path: LoadedModel | str | Path,
    prompts: Sequence[PromptInput],
    params: GenerationParams,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[BatchResult]:
    """Sample ``params.k`` completions per prompt, yielding one :class:`BatchResult` per batch.

    ``model_or_path`` is a :class:`LoadedModel` or a hub id / local path (loaded with
    :func:`load_model`). ``should_stop`` is called before every batch, the first included; when it
    returns True the generator returns, so results already yielded are complete and nothing is half
    done. Prompt keys must be unique. Raises ValueError for a duplicate key, a chat prompt without a
    chat template, or a prompt too long for the model's context. See the module docstring for ordering
    and determinism.
    """
    keys = [p.key for p in prompts]
    if len(set(keys)) != len(keys):
        raise ValueError("prompt keys must be unique")
    if not prompts:
        return
    if _use_vllm(model_or_path, params):
        assert isinstance(model_or_path, str | Path)
        yield from _generate_vllm(str(model_or_path), prompts, params, should_stop)
        return
    loaded = model_or_path if isinstance(model_or_path, LoadedModel) else load_model(model_or_path)
    yield from _generate_transformers(loaded, prompts, params, should_stop)


def _generate_transformers(
    loaded: LoadedModel, prompts: Sequence[PromptInput], params: GenerationParams, should_stop: Callable[[], bool]
) -> Iterator[BatchResult]:
    model, tokenizer, device = loaded.model, loaded.tokenizer, loaded.device
    encoded = [encode_prompt(tokenizer, p) for p in prompts]
    lengths = [len(ids) for ids in encoded]
    _check_lengths(model, prompts, lengths, params.max_new_tokens)
    pad_id = tokenizer.pad_token_id
    if not isinstance(pad_id, int):
        raise ValueError("the tokenizer has no pad token (load_model sets one)")
    eos_ids = eos_token_ids(model, tokenizer)
    config = _sampling_config(model, params, pad_id)
    batches = plan_batches([p.key for p in prompts], lengths, params.prompts_per_batch)
    rng_devices = (
        [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    )

    for index, batch in enumerate(batches):
        if should_stop():
            return
        start = time.perf_counter()
        width = max(lengths[i] for i in batch)
        input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, i in enumerate(batch):  # left padding: the prompt ends where generation starts
            input_ids[row, width - lengths[i] :] = torch.tensor(encoded[i])
            attention_mask[row, width - lengths[i] :] = 1
        with torch.random.fork_rng(devices=rng_devices), torch.inference_mode():
            torch.manual_seed(batch_seed(params.seed, prompts[batch[0]].key))
            output = cast(Any, model).generate(  # GenerationMixin's self-type is not PreTrainedModel
                input_ids=input_ids.repeat_interleave(params.k, dim=0).to(device),
                attention_mask=attention_mask.repeat_interleave(params.k, dim=0).to(device),
                generation_config=config,
                logits_processor=_logits_processors(params, eos_ids),  # stateful: one per call
            )
        assert isinstance(output, torch.Tensor)
        new_tokens = output[:, width:].tolist()
        results: list[PromptResult] = []
        total = 0
        for row, i in enumerate(batch):
            prompt = prompts[i]
            result = PromptResult(key=prompt.key, texts=[], num_tokens=[], finished=[])
            for sample in range(params.k):
                generated = new_tokens[row * params.k + sample]
                kept, count, finished = trim_completion(generated, eos_ids)
                result.token_ids.append([int(t) for t in generated[:count]])
                text = str(tokenizer.decode(kept, skip_special_tokens=True))
                result.texts.append(text.strip() if prompt.messages is not None else text)
                result.num_tokens.append(count)
                result.finished.append(finished)
                total += count
            results.append(result)
        yield BatchResult(index, len(batches), results, total, time.perf_counter() - start)


def _generate_vllm(
    model_path: str, prompts: Sequence[PromptInput], params: GenerationParams, should_stop: Callable[[], bool]
) -> Iterator[BatchResult]:  # pragma: no cover - needs vLLM and a GPU
    from vllm import LLM, SamplingParams  # type: ignore[import-not-found,unused-ignore]

    llm: Any = LLM(model=model_path, seed=params.seed)
    tokenizer: Any = llm.get_tokenizer()
    encoded = [encode_prompt(tokenizer, p) for p in prompts]
    batches = plan_batches([p.key for p in prompts], [len(e) for e in encoded], params.prompts_per_batch)
    greedy = params.temperature == 0
    for index, batch in enumerate(batches):
        if should_stop():
            return
        start = time.perf_counter()
        sampling = [
            SamplingParams(
                n=params.k,
                temperature=params.temperature,
                top_p=1.0 if greedy else params.top_p,
                top_k=-1 if greedy or params.top_k == 0 else params.top_k,
                max_tokens=params.max_new_tokens,
                seed=batch_seed(params.seed, prompts[i].key),
                skip_special_tokens=True,
            )
            for i in batch
        ]
        outputs: Any = llm.generate([{"prompt_token_ids": encoded[i]} for i in batch], sampling, use_tqdm=False)
        results: list[PromptResult] = []
        total = 0
        for i, out in zip(batch, outputs, strict=True):
            chat = prompts[i].messages is not None
            texts = [str(c.text).strip() if chat else str(c.text) for c in out.outputs]
            counts = [len(c.token_ids) for c in out.outputs]
            finished = [c.finish_reason == "stop" for c in out.outputs]
            ids = [[int(t) for t in c.token_ids] for c in out.outputs]
            results.append(PromptResult(prompts[i].key, texts, counts, finished, ids))
            total += sum(counts)
        yield BatchResult(index, len(batches), results, total, time.perf_counter() - start)


# ------------------------------------------------------------------------------------------------- CLI


@dataclass
class GenerateArgs:
    """Command-line options of ``python -m workers.ml.generate`` besides the sampling params."""

    model: str = field(metadata={"help": "Hub id or local directory of a causal LM and its tokenizer."})
    prompts: str = field(
        default="",
        metadata={"help": 'JSONL file, one {"key": ..., "text": ...} or {"key": ..., "messages": [...]} per line.'},
    )
    prompt: list[str] = field(
        default_factory=list, metadata={"help": "Prompt texts given inline, all after one --prompt flag."}
    )
    chat: bool = field(default=False, metadata={"help": "Send inline --prompt texts as a user message."})
    output: str = field(default="", metadata={"help": "JSONL file to append results to; empty = stdout."})
    resume: bool = field(default=False, metadata={"help": "Skip prompts whose key is already in --output."})
    device: str = field(default="", metadata={"help": "torch device (cpu, cuda, cuda:1); empty = auto."})
    num_threads: int = field(default=0, metadata={"help": "torch CPU threads; 0 = one per idle CPU."})


def read_prompts(path: str | Path) -> list[PromptInput]:
    """Prompts from a JSONL file (see ``--prompts``)."""
    prompts = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            prompts.append(PromptInput(key=str(row.get("key", n)), text=row.get("text"), messages=row.get("messages")))
    return prompts


def _done_keys(path: Path) -> set[str]:
    if not path.exists():
        return set()
    with path.open(encoding="utf-8") as f:
        return {str(json.loads(line)["key"]) for line in f if line.strip()}


def _write(results: Iterable[PromptResult], out: Any) -> None:
    for r in results:
        row = {"key": r.key, "candidates": r.texts, "num_tokens": r.num_tokens, "finished": r.finished}
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    out.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: sample completions for prompts from a JSONL file or the command line."""
    parser = HfArgumentParser(
        [DataClassType(GenerateArgs), DataClassType(GenerationParams)], description=(__doc__ or "").split("\n\n")[0]
    )
    args, params = parser.parse_args_into_dataclasses(args=list(argv) if argv is not None else None)
    assert isinstance(args, GenerateArgs) and isinstance(params, GenerationParams)
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    prompts = read_prompts(args.prompts) if args.prompts else []
    for n, text in enumerate(args.prompt):
        messages = [{"role": "user", "content": text}]
        prompts.append(PromptInput(f"arg-{n}", messages=messages) if args.chat else PromptInput(f"arg-{n}", text=text))
    if not prompts:
        parser.error("give --prompts FILE or --prompt TEXT")
    if args.resume and args.output:
        done = _done_keys(Path(args.output))
        prompts = [p for p in prompts if p.key not in done]
    configure_cpu_threads(args.num_threads)
    model: LoadedModel | str = args.model
    if not _use_vllm(args.model, params):
        model = load_model(args.model, args.device or None)
    out = open(args.output, "a", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
    tokens, seconds = 0, 0.0
    try:
        for batch in generate_candidates(model, prompts, params):
            _write(batch.results, out)
            tokens, seconds = tokens + batch.generated_tokens, seconds + batch.seconds
            print(
                f"batch {batch.batch_index + 1}/{batch.num_batches}: {batch.generated_tokens} tokens in "
                f"{batch.seconds:.2f}s ({batch.tokens_per_second:.0f} tokens/s)",
                file=sys.stderr,
            )
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"{tokens} tokens in {seconds:.2f}s ({tokens / max(seconds, 1e-9):.0f} tokens/s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
