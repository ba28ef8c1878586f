"""A tiny causal LM built from nothing but the bundled corpus: no model hub needed.

Tests, benchmarks and the demo need a real Hugging Face model (``save_pretrained`` directory that
``from_pretrained`` loads like any other) but no machine here can download one. This module trains a
byte-level BPE tokenizer on ``workers/ml/data/``, builds a small Llama, trains it for a few hundred
steps on CPU and saves both. A ``build_info.json`` next to the weights records the config and the
corpus hash, so a second call with the same inputs reuses the directory instead of retraining.

    python -m workers.ml.tiny --out_dir /tmp/tiny            # build (or reuse) with the defaults
    python -m workers.ml.tiny --out_dir /tmp/tiny --train_steps 100 --hidden_size 64
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import (
    GenerationConfig,
    HfArgumentParser,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerBase,
    PreTrainedTokenizerFast,
)
from transformers.hf_argparser import DataClassType
from transformers.utils import logging as hf_logging

from workers.ml.runtime import cpu_threads

BUNDLED_CORPUS_DIR = Path(__file__).resolve().parent / "data"
BUILD_INFO_FILE = "build_info.json"
# Bump when the build procedure changes in a way the config and corpus hash do not capture.
BUILD_FORMAT_VERSION = 1

BOS, EOS, PAD, UNK = "<|bos|>", "<|eos|>", "<|pad|>", "<|unk|>"

# Turns are "User: ...\n" and "Assistant: ...<|eos|>"; the generation prompt ends with "Assistant:" (no
# trailing space) so that the prompt tokenises exactly like the start of a training answer: the
# byte-level pre-tokenizer keeps the space with the next word (" Sure"). The {% generation %} block
# marks the assistant's tokens for return_assistant_tokens_mask (TRL's assistant-only losses).
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ 'System: ' + message['content'] + '\n' }}"
    "{% elif message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\n' }}"
    "{% elif message['role'] == 'assistant' %}{{ 'Assistant:' }}"
    "{% generation %}{{ ' ' + message['content'] + eos_token }}{% endgeneration %}"
    "{% else %}{{ raise_exception('Unknown role: ' + message['role']) }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)


@dataclass
class TinyModelConfig:
    """How to build the tiny model. Every field takes part in the cache key."""

    vocab_size: int = field(
        default=2048,
        metadata={"help": "Target BPE vocabulary size, special tokens included (the trainer may stop short)."},
    )
    hidden_size: int = field(default=96, metadata={"help": "Width of the transformer (embedding size)."})
    num_layers: int = field(default=3, metadata={"help": "Number of transformer blocks."})
    num_heads: int = field(default=4, metadata={"help": "Attention heads per block; must divide hidden_size."})
    intermediate_size: int = field(default=256, metadata={"help": "Hidden width of each block's SwiGLU MLP."})
    max_position_embeddings: int = field(
        default=256, metadata={"help": "Longest sequence (prompt + completion) the model accepts, in tokens."}
    )
    train_steps: int = field(default=300, metadata={"help": "Optimizer steps of language-model training."})
    batch_size: int = field(default=8, metadata={"help": "Sequences per training step."})
    seq_len: int = field(default=128, metadata={"help": "Tokens per training sequence (windows of the corpus)."})
    learning_rate: float = field(default=6e-3, metadata={"help": "Peak AdamW learning rate."})
    warmup_steps: int = field(default=30, metadata={"help": "Linear warm-up steps before cosine decay."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    seed: int = field(default=0, metadata={"help": "Seed for weight init, batch order and the sample texts."})
    corpus_dir: str = field(
        default="",
        metadata={"help": "Directory of *.txt corpus files; empty means the corpus bundled in workers/ml/data."},
    )

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_heads:
            raise ValueError(f"hidden_size {self.hidden_size} is not divisible by num_heads {self.num_heads}")
        if self.seq_len > self.max_position_embeddings:
            raise ValueError("seq_len must not exceed max_position_embeddings")
        if min(self.vocab_size, self.train_steps + 1, self.batch_size, self.seq_len) < 1:
            raise ValueError("vocab_size, batch_size and seq_len must be positive, train_steps non-negative")


@dataclass
class TinyBuildArgs:
    """Command-line options of ``python -m workers.ml.tiny`` besides the model config."""

    out_dir: str = field(metadata={"help": "Directory to write (or reuse) the model and tokenizer in."})
    force: bool = field(default=False, metadata={"help": "Rebuild even if out_dir holds a matching build."})
    num_threads: int = field(default=0, metadata={"help": "torch CPU threads; 0 = one per idle CPU."})


# ---------------------------------------------------------------------------------------------- corpus

Messages = list[dict[str, str]]


@dataclass
class Corpus:
    """Parsed corpus: chat dialogues and free-standing sentences."""

    dialogues: list[Messages]
    texts: list[str]


def corpus_files(corpus_dir: str | Path = "") -> list[Path]:
    """The corpus's ``*.txt`` files in a stable order."""
    root = Path(corpus_dir) if corpus_dir else BUNDLED_CORPUS_DIR
    files = sorted(root.glob("*.txt"))
    if not files:
        raise FileNotFoundError(f"no *.txt corpus files in {root}")
    return files


def corpus_hash(corpus_dir: str | Path = "") -> str:
    """SHA-256 over the corpus files' names and contents."""
    digest = hashlib.sha256()
    for path in corpus_files(corpus_dir):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def parse_corpus_text(text: str) -> Corpus:
    """Parse one corpus file.

    Blocks are separated by blank lines. A block whose lines start with ``U:`` / ``A:`` is one dialogue
    (user and assistant turns); any other block contributes each line as a separate plain text.
    Lines starting with ``#`` are comments.
    """
    corpus = Corpus(dialogues=[], texts=[])
    block: list[str] = []

    def flush() -> None:
        if not block:
            return
        if block[0].startswith(("U:", "A:")):
            messages: Messages = []
            for line in block:
                role = {"U:": "user", "A:": "assistant"}.get(line[:2])
                if role is None:
                    raise ValueError(f"dialogue line without U:/A: prefix: {line!r}")
                messages.append({"role": role, "content": line[2:].strip()})
            corpus.dialogues.append(messages)
        else:
            corpus.texts.extend(block)
        block.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            continue
        if line:
            block.append(line)
        else:
            flush()
    flush()
    return corpus


def load_corpus(corpus_dir: str | Path = "") -> Corpus:
    """All dialogues and texts of the corpus directory (default: the bundled one)."""
    corpus = Corpus(dialogues=[], texts=[])
    for path in corpus_files(corpus_dir):
        part = parse_corpus_text(path.read_text(encoding="utf-8"))
        corpus.dialogues.extend(part.dialogues)
        corpus.texts.extend(part.texts)
    return corpus


def corpus_question_prompts(corpus_dir: str | Path = "") -> list[str]:
    """The first user turn of every dialogue: handy prompts for benches and sampling checks."""
    return [d[0]["content"] for d in load_corpus(corpus_dir).dialogues if d and d[0]["role"] == "user"]


# ------------------------------------------------------------------------------------------- tokenizer


def _plain_renderings(corpus: Corpus) -> Iterator[str]:
    # Same surface text as the chat template renders, so BPE merges fit what the model will see.
    for dialogue in corpus.dialogues:
        parts = []
        for m in dialogue:
            prefix = "User: " if m["role"] == "user" else "Assistant: "
            parts.append(prefix + m["content"] + "\n")
        yield "".join(parts)
    yield from corpus.texts


def train_tokenizer(corpus: Corpus, vocab_size: int, max_length: int) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer on the corpus and wrap it for transformers.

    Plain ``tokenizer(text)`` prepends ``<|bos|>`` (as Llama tokenizers do); the chat template writes
    its own ``<|bos|>`` and is tokenised with ``add_special_tokens=False`` by transformers.
    """
    tok = Tokenizer(models.BPE(unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[PAD, BOS, EOS, UNK],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_plain_renderings(corpus), trainer=trainer)
    bos_id = tok.token_to_id(BOS)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, bos_id)]
    )
    return PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]  # transformers leaves __init__ unannotated
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=UNK,
        chat_template=CHAT_TEMPLATE,
        model_max_length=max_length,
        clean_up_tokenization_spaces=False,
        padding_side="left",
    )


def _encode_ids(tokenizer: PreTrainedTokenizerBase, text: str, *, add_special_tokens: bool) -> list[int]:
    ids = tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"]
    return [int(i) for i in ids]


def encode_corpus(tokenizer: PreTrainedTokenizerBase, corpus: Corpus) -> list[list[int]]:
    """Token ids per document: dialogues through the chat template, texts as ``<bos> text <eos>``."""
    docs: list[list[int]] = []
    for dialogue in corpus.dialogues:
        rendered = tokenizer.apply_chat_template(dialogue, tokenize=False)
        assert isinstance(rendered, str)
        docs.append(_encode_ids(tokenizer, rendered, add_special_tokens=False))
    eos_id = tokenizer.eos_token_id
    assert isinstance(eos_id, int)
    for text in corpus.texts:
        docs.append([*_encode_ids(tokenizer, text, add_special_tokens=True), eos_id])
    return docs


# ----------------------------------------------------------------------------------------------- model


def make_model_config(config: TinyModelConfig, tokenizer: PreTrainedTokenizerBase) -> LlamaConfig:
    """A small Llama sized by ``config`` around ``tokenizer``'s vocabulary and special tokens."""
    # Round the embedding up to a multiple of 64: aligned matmuls, and room for a few added tokens later.
    vocab = math.ceil(len(tokenizer) / 64) * 64
    return LlamaConfig(
        vocab_size=vocab,
        hidden_size=config.hidden_size,
        intermediate_size=config.intermediate_size,
        num_hidden_layers=config.num_layers,
        num_attention_heads=config.num_heads,
        num_key_value_heads=config.num_heads,
        max_position_embeddings=config.max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        initializer_range=0.02,
    )


@dataclass
class TrainReport:
    """What language-model training did."""

    loss_before: float
    loss_after: float
    steps: int
    seconds: float
    tokens_in_corpus: int


def _lr_factor(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))


def train_lm(
    model: LlamaForCausalLM, docs: Sequence[Sequence[int]], config: TinyModelConfig, log_every: int = 50
) -> TrainReport:
    """Next-token training on random windows of the shuffled, concatenated documents (plain torch)."""
    gen = torch.Generator().manual_seed(config.seed)
    order = torch.randperm(len(docs), generator=gen).tolist()
    stream = torch.tensor([tok for i in order for tok in docs[i]], dtype=torch.long)
    window = config.seq_len
    if stream.numel() <= window:
        raise ValueError(f"corpus has {stream.numel()} tokens, fewer than seq_len {window}")
    max_start = stream.numel() - window

    def batch(g: torch.Generator) -> torch.Tensor:
        starts = torch.randint(0, max_start, (config.batch_size,), generator=g)
        return torch.stack([stream[s : s + window] for s in starts.tolist()])

    # A fixed batch measured before and after: the same tokens, so the two losses compare.
    eval_batch = batch(torch.Generator().manual_seed(config.seed + 1))

    def eval_loss() -> float:
        model.train(False)
        with torch.no_grad():
            loss = model(input_ids=eval_batch, labels=eval_batch).loss
        model.train()
        return float(loss)

    loss_before = eval_loss()
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay, betas=(0.9, 0.95)
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: _lr_factor(s, config.warmup_steps, config.train_steps)
    )
    start = time.perf_counter()
    model.train()
    for step in range(config.train_steps):
        ids = batch(gen)
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        if log_every and (step + 1) % log_every == 0:
            print(f"step {step + 1}/{config.train_steps} loss {float(loss.detach()):.3f}", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - start
    loss_after = eval_loss()
    model.train(False)
    return TrainReport(loss_before, loss_after, config.train_steps, seconds, int(stream.numel()))


def sample_texts(
    model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerBase, questions: Sequence[str], seed: int
) -> list[dict[str, str]]:
    """One sampled answer per question (temperature 1), for the build report."""
    out: list[dict[str, str]] = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for q in questions:
            rendered = tokenizer.apply_chat_template(
                [{"role": "user", "content": q}], add_generation_prompt=True, tokenize=False
            )
            assert isinstance(rendered, str)
            ids = torch.tensor([_encode_ids(tokenizer, rendered, add_special_tokens=False)])
            with torch.no_grad():
                gen = cast(Any, model).generate(  # GenerationMixin's self-type does not match Llama
                    input_ids=ids,
                    attention_mask=torch.ones_like(ids),
                    do_sample=True,
                    temperature=1.0,
                    top_p=1.0,
                    max_new_tokens=48,
                )
            answer = str(tokenizer.decode(gen[0, ids.shape[1] :].tolist(), skip_special_tokens=True)).strip()
            out.append({"prompt": q, "completion": answer})
    return out


# ----------------------------------------------------------------------------------------------- build


def _config_key(config: TinyModelConfig) -> dict[str, Any]:
    key = dataclasses.asdict(config)
    # The directory's location is not part of what is built; its contents are (via corpus_sha256).
    key["corpus_dir"] = ""
    return key


def read_build_info(out_dir: str | Path) -> dict[str, Any] | None:
    """The build report of a tiny-model directory, or None if it holds no finished build."""
    path = Path(out_dir) / BUILD_INFO_FILE
    try:
        info = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return info if isinstance(info, dict) else None


def _matches(info: dict[str, Any] | None, config: TinyModelConfig, digest: str) -> bool:
    return (
        info is not None
        and info.get("format_version") == BUILD_FORMAT_VERSION
        and info.get("config") == _config_key(config)
        and info.get("corpus_sha256") == digest
    )


def _build_into(directory: Path, config: TinyModelConfig, digest: str) -> dict[str, Any]:
    corpus = load_corpus(config.corpus_dir)
    tokenizer = train_tokenizer(corpus, config.vocab_size, config.max_position_embeddings)
    docs = encode_corpus(tokenizer, corpus)
    torch.manual_seed(config.seed)
    model = LlamaForCausalLM(make_model_config(config, tokenizer))
    report = train_lm(model, docs, config)
    model.generation_config = GenerationConfig(  # type: ignore[no-untyped-call]
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        do_sample=True,
        temperature=1.0,
        top_p=1.0,
        max_new_tokens=64,
    )
    questions = [d[0]["content"] for d in corpus.dialogues[:: max(1, len(corpus.dialogues) // 4)]][:4]
    samples = sample_texts(model, tokenizer, [*questions, "What is your favourite colour?"], config.seed)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    info: dict[str, Any] = {
        "format_version": BUILD_FORMAT_VERSION,
        "config": _config_key(config),
        "corpus_sha256": digest,
        "corpus": {"dialogues": len(corpus.dialogues), "texts": len(corpus.texts), "tokens": report.tokens_in_corpus},
        "vocab_size": len(tokenizer),
        "parameters": sum(p.numel() for p in model.parameters()),
        "train": dataclasses.asdict(report),
        "samples": samples,
        "versions": {"torch": torch.__version__, "transformers": _transformers_version()},
    }
    # Written last: its presence marks a complete build.
    (directory / BUILD_INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    return info


def _transformers_version() -> str:
    import transformers

    return str(transformers.__version__)


def build_tiny_model(
    out_dir: str | Path, config: TinyModelConfig | None = None, *, force: bool = False, num_threads: int = 0
) -> Path:
    """Build the tiny model and tokenizer into ``out_dir``, or reuse a matching earlier build there.

    A build matches when its ``build_info.json`` records the same config, corpus hash and build format.
    The build happens in a temporary sibling directory that is renamed into place, so a crash never
    leaves a half-written model behind, and under a lock file next to it, so concurrent callers build
    once. An existing ``out_dir`` is replaced
    only if it is empty or holds an earlier tiny-model build; anything else raises FileExistsError.
    Training runs with ``num_threads`` torch threads (0 = one per idle CPU; restored afterwards).
    Returns ``out_dir`` as a Path.
    """
    config = config or TinyModelConfig()
    out = Path(out_dir)
    digest = corpus_hash(config.corpus_dir)
    if not force and _matches(read_build_info(out), config, digest):
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    # One builder per directory (workers and test processes on one machine share the cache): the
    # others wait here and then find the finished build.
    with open(out.parent / f".{out.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and _matches(read_build_info(out), config, digest):
            return out
        if out.exists() and any(out.iterdir()) and read_build_info(out) is None:
            raise FileExistsError(f"{out} exists and is not a tiny-model build; refusing to overwrite it")
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
        try:
            with cpu_threads(num_threads):
                _build_into(tmp, config, digest)
            if out.exists():
                shutil.rmtree(out)
            os.replace(tmp, out)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return out


def default_cache_dir() -> Path:
    """Where :func:`tiny_model_path` keeps builds: ``$PREFLOOP_CACHE_DIR`` or ``~/.cache/prefloop``."""
    env = os.environ.get("PREFLOOP_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "prefloop"


def tiny_model_path(config: TinyModelConfig | None = None, cache_dir: str | Path | None = None) -> Path:
    """Path of a cached build for ``config`` (built on first use), keyed by config and corpus hash."""
    config = config or TinyModelConfig()
    key = json.dumps([_config_key(config), corpus_hash(config.corpus_dir), BUILD_FORMAT_VERSION], sort_keys=True)
    name = "tiny-" + hashlib.sha256(key.encode()).hexdigest()[:12]
    return build_tiny_model(Path(cache_dir or default_cache_dir()) / name, config)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build (or reuse) a tiny model and print its build report."""
    parser = HfArgumentParser(
        [DataClassType(TinyBuildArgs), DataClassType(TinyModelConfig)], description=(__doc__ or "").split("\n\n")[0]
    )
    args, config = parser.parse_args_into_dataclasses(args=list(argv) if argv is not None else None)
    assert isinstance(args, TinyBuildArgs) and isinstance(config, TinyModelConfig)
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    start = time.perf_counter()
    out = build_tiny_model(args.out_dir, config, force=args.force, num_threads=args.num_threads)
    info = read_build_info(out) or {}
    train = info.get("train", {})
    print(
        f"model in {out} ({time.perf_counter() - start:.1f}s): {info.get('parameters')} parameters, "
        f"vocab {info.get('vocab_size')}, loss {train.get('loss_before', float('nan')):.3f} -> "
        f"{train.get('loss_after', float('nan')):.3f} in {train.get('steps')} steps "
        f"({train.get('seconds', 0.0):.1f}s)"
    )
    for sample in info.get("samples", []):
        print(f"  {sample['prompt']!r} -> {sample['completion']!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
