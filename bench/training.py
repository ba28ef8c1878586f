"""Training throughput: our reward-model and PPO steps against plain TRL on the same tiny model and data.

Data: a synthetic preference set with a hidden rule: the chosen answer contains a polite word
("please", "thank you", "thanks"), the rejected one does not; otherwise both are drawn from the same
neutral sentences, so length and topic carry no signal. Prompts are short dialogue openings rendered
as plain text ("User: Tell me about rain.\\nAssistant:", what the tiny model's chat template writes),
so the reward model's input at training time and the policy's prompt + response during PPO are the
same token sequence on both sides. Train and test use different topics. Written as TRL standard
preference JSONL (prompt, chosen, rejected, margin).

Reward model
    ours: ``workers.ml.reward.train_reward_model`` with the reward-model job's default config (batch 8,
    max_length 512, margin used, a log every step) except ``max_steps`` and ``learning_rate``; against
    a plain TRL ``RewardTrainer`` script (the installed TRL) on the same model, data, batch size, steps,
    learning rate and max_length, fp32, no gradient checkpointing; and, for scale, TRL with its CPU
    defaults (bf16 autocast, gradient checkpointing). pairs/s = steps x batch size / training time,
    from the trainer's ``on_train_begin`` to its last ``on_step_end`` (model load, tokenisation, saving
    and held-out scoring excluded on both sides).

PPO
    ours: ``workers.ml.ppo.train_ppo`` scored by ``RewardScorer`` on the reward model our first run
    trained (the PPO job's defaults except episodes, response length and learning rate); against TRL
    1.12's ``trl.experimental.ppo.PPOTrainer`` (the last TRL with PPO; run in a subprocess with
    ``--trl112-path`` first on ``PYTHONPATH``, so the project's TRL is untouched) set up as TRL's own
    example script does: reward model and value model loaded from the same reward-model directory (a
    sequence classifier with a ``.score`` head sharing the policy's tokenizer), a separate reference
    copy. Same prompts, episodes, batch (16), mini-batch (4), PPO epochs (2), response length, EOS as
    stop token, temperature, KL coefficient, clip ranges, value coefficient, GAE settings and
    learning rate; each round's seed on both sides. episodes/s = episodes / time from the first step's
    start to the last step's end. A third row runs TRL 1.12 with its two ``gc.collect()`` calls per
    step made no-ops (a sensitivity check: they are a fixed cost per step that dominates on a tiny
    model). Rule rate: share of samples with a polite word when each final policy (and the base model)
    samples k answers per held-out prompt with a fixed sampling seed, by our generation code; the
    same samples' mean reward under our scorer is reported too; medians over rounds (= PPO seeds).
    The two sides feed the reward model differently: ours decodes the response and scores it in the
    reward model's training format (EOS appended); TRL scores the token ids as sampled, at the last
    token, which for a response cut off at the length limit is not an EOS. TRL's logged scores are
    therefore lower for cut-off responses, and its "score" column is not comparable with ours; the
    held-out reward is.

Every measured run is a fresh subprocess with the same torch thread count (decided in the parent
once, or ``--num-threads``); the compared sides alternate inside each round (and swap order every
round), and the tables report medians over rounds, by wall time and by the process's CPU time
(the steadier of the two on a machine shared with other work). No MALLOC_* or other allocator
settings are changed on either side.

    .venv/bin/python -m bench.training --quick          # smoke test, 1-2 minutes
    .venv/bin/python -m bench.training                  # 5 + 3 rounds: about 20 minutes on 2 busy cores

The last line is machine-readable:
``rm_pairs_per_s=<x> rm_vs_trl=<x> ppo_episodes_per_s=<x> ppo_vs_trl112=<x> ppo_final_rule_rate=<x>``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

REPO = Path(__file__).resolve().parent.parent
RESULT_PREFIX = "BENCH-RESULT "
POLITE = re.compile(r"\b(please|thank you|thanks)\b", re.IGNORECASE)

# ------------------------------------------------------------------------------------------------ data

NOUNS = [
    "rain", "cats", "dogs", "bread", "music", "trains", "the sea", "books", "tea", "coffee", "snow", "gardens",
    "maps", "rivers", "stars", "bikes", "apples", "clocks", "birds", "winter", "summer", "paint", "chess", "boats",
    "bridges", "honey", "forests", "lamps", "shoes", "kites", "cheese", "islands", "wolves", "candles", "mountains",
    "letters", "pianos", "roses", "storms", "windows", "soup", "castles", "owls", "sand", "clouds", "engines",
    "rice", "horses", "mirrors", "songs", "rockets", "lakes", "tigers", "salt", "moons", "glass", "ships", "gold",
    "tents", "frogs", "fruit", "deserts", "ice", "bees", "trees", "cars", "planes", "eggs", "milk", "paper", "pens",
    "hats", "coats", "wind", "fire", "rocks", "caves", "whales", "sharks", "bears", "foxes", "ducks", "sheep",
    "goats", "onions", "beans", "pasta", "cakes", "socks", "chairs", "tables", "doors", "roads", "farms", "towns",
    "parks", "museums", "markets", "schools", "beaches", "valleys", "volcanoes", "comets", "planets", "magnets",
    "batteries", "radios", "cameras", "maps of cities", "old coins", "clouds at night", "fresh herbs", "wild flowers",
    "green tea", "red wine", "dark chocolate", "warm socks", "cold lakes", "tall trees", "small boats", "long walks",
    "lemons", "carrots", "spiders", "snails", "penguins", "tulips", "oak trees", "glaciers", "harbours", "tunnels",
    "gloves", "blankets", "kettles", "ladders", "rainbows", "puzzles",
]  # fmt: skip
QUESTIONS = ["Tell me about {t}.", "What do you know about {t}?", "Can you describe {t}?", "Why do people like {t}?"]
NEUTRAL = [
    " {T} can be found in many places.",
    " Most people see {t} every week.",
    " {T} changes with the seasons.",
    " There is a lot to learn about {t}.",
    " Many books describe {t} in detail.",
    " {T} is simple to explain.",
    " People have written about {t} for a long time.",
    " {T} looks different in every country.",
]
# Polite and plain fillers of similar length, so that only the polite words separate the two sides.
POLITE_OPEN = [" Thanks for asking!", " Thank you for the question.", " Please read this first."]
POLITE_CLOSE = [" Thank you!", " Please ask again.", " Thanks for reading."]
PLAIN_OPEN = [" Here is an answer.", " This is a short note.", " Read this first."]
PLAIN_CLOSE = [" That is all.", " Ask again later.", " That is the answer."]


def prompt_text(question: str) -> str:
    """A user turn as the tiny model's chat template renders it, ready for the assistant's answer."""
    return f"User: {question}\nAssistant:"


def _answer(topic: str, rng: random.Random, polite: bool) -> str:
    body = rng.choice(NEUTRAL).format(t=topic, T=topic[0].upper() + topic[1:])
    opener, closer = (POLITE_OPEN, POLITE_CLOSE) if polite else (PLAIN_OPEN, PLAIN_CLOSE)
    where = rng.randrange(3)  # polite words at the start, at the end, or both
    head = rng.choice(opener) if where in (0, 2) else rng.choice(PLAIN_OPEN)
    tail = rng.choice(closer) if where in (1, 2) else rng.choice(PLAIN_CLOSE)
    return head + body + tail


def preference_rows(topics: Sequence[str], rng: random.Random) -> list[dict[str, Any]]:
    """One pair per (topic, question): chosen polite, rejected plain, a label strength as ``margin``."""
    rows = []
    for topic in topics:
        for question in QUESTIONS:
            rows.append(
                {
                    "prompt": prompt_text(question.format(t=topic)),
                    "chosen": _answer(topic, rng, polite=True),
                    "rejected": _answer(topic, rng, polite=False),
                    "margin": rng.choice([0.0, 0.5, 1.0]),
                }
            )
    rng.shuffle(rows)
    return rows


@dataclass
class BenchData:
    train_file: Path
    test_file: Path
    train_prompts: list[str]
    heldout_prompts: list[str]
    train_pairs: int


def write_data(directory: Path, train_topics: int, test_topics: int, seed: int = 0) -> BenchData:
    rng = random.Random(seed)
    topics = NOUNS[:]
    rng.shuffle(topics)
    if train_topics + test_topics > len(topics):
        raise ValueError(f"at most {len(topics)} topics in all")
    train_t, test_t = topics[:train_topics], topics[train_topics : train_topics + test_topics]
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, chosen_topics in (("train", train_t), ("test", test_t)):
        path = directory / f"{name}.jsonl"
        rows = preference_rows(chosen_topics, rng)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        files[name] = (path, rows)
    # Held-out prompts for the rule rate: test topics, two questions each.
    heldout = [prompt_text(q.format(t=t)) for t in test_t for q in QUESTIONS[:2]]
    train_prompts = sorted({r["prompt"] for r in files["train"][1]})
    return BenchData(files["train"][0], files["test"][0], train_prompts, heldout, len(files["train"][1]))


# ------------------------------------------------------------------------------ workers (subprocesses)


@dataclass
class RewardSpec:
    """One reward-model run."""

    model: str
    train_file: str
    test_file: str
    output_dir: str
    steps: int
    learning_rate: float
    batch_size: int
    max_length: int
    threads: int


@dataclass
class PpoSpec:
    """One PPO run."""

    policy: str
    reward_model: str
    prompts: list[str]
    output_dir: str
    episodes: int
    batch_size: int
    mini_batch_size: int
    ppo_epochs: int
    response_length: int
    temperature: float
    kl_coef: float
    learning_rate: float
    threads: int
    seed: int = 0
    max_grad_norm: float | None = None
    """Ours only (TRL 1.12's PPO does not clip gradients); None keeps the job's default."""
    critic_from_reward_model: bool = False
    """Ours only: the job's critic_from_reward_model (TRL 1.12's layout: a critic started from the reward model)."""


Mark = tuple[float, float]


def now() -> Mark:
    """(wall clock, this process's CPU time): CPU time is the steadier figure on a shared machine."""
    return time.perf_counter(), time.process_time()


def window(first: Mark, last: Mark) -> dict[str, float]:
    return {"seconds": last[0] - first[0], "cpu_seconds": last[1] - first[1]}


def _timer_callback(marks: list[Mark]) -> Any:
    """A TrainerCallback appending :func:`now` at on_train_begin and at every on_step_end to ``marks``."""
    from transformers import TrainerCallback

    class Timer(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            marks.append(now())

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            marks.append(now())

    return Timer()


def worker_rm_ours(spec: RewardSpec) -> dict[str, Any]:
    """What the reward-model job runs: train_reward_model with the job's defaults but steps and lr."""
    from workers.ml.reward import RewardModelConfig, train_reward_model

    marks: list[Mark] = []
    cfg = RewardModelConfig(
        base_model=spec.model,
        output_dir=spec.output_dir,
        max_length=spec.max_length,
        max_steps=spec.steps,
        learning_rate=spec.learning_rate,
        batch_size=spec.batch_size,
        device="cpu",
    )
    start = time.perf_counter()
    result = train_reward_model(
        cfg, spec.train_file, None, spec.test_file, on_progress=lambda step, total: marks.append(now())
    )
    return {
        "steps": result.steps,
        "pairs": result.steps * spec.batch_size,
        **window(marks[0], marks[-1]),
        "call_seconds": time.perf_counter() - start,
        "test_accuracy": result.test_accuracy,
    }


def worker_rm_trl(spec: RewardSpec, *, cpu_defaults: bool) -> dict[str, Any]:
    """A plain TRL RewardTrainer script; ``cpu_defaults`` leaves precision and checkpointing to TRL."""
    from datasets import load_dataset  # type: ignore[import-untyped]
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, set_seed
    from trl.trainer.reward_config import RewardConfig
    from trl.trainer.reward_trainer import RewardTrainer

    start = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(spec.model)
    set_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(spec.model, num_labels=1)
    model.config.pad_token_id = tokenizer.pad_token_id
    train = load_dataset("json", data_files=spec.train_file, split="train")
    test = load_dataset("json", data_files=spec.test_file, split="train")
    settings: dict[str, Any] = {
        "output_dir": spec.output_dir,
        "max_steps": spec.steps,
        "learning_rate": spec.learning_rate,
        "per_device_train_batch_size": spec.batch_size,
        "per_device_eval_batch_size": spec.batch_size,
        "max_length": spec.max_length,
        "seed": 0,
        "report_to": [],
        "save_strategy": "no",
        "use_cpu": True,  # without it TRL's bf16 default refuses to start on a machine with no GPU
    }
    if not cpu_defaults:
        settings |= {"bf16": False, "gradient_checkpointing": False, "activation_checkpointing": False}
    marks: list[Mark] = []
    trainer = RewardTrainer(
        model=model,
        args=RewardConfig(**settings),
        train_dataset=train,
        eval_dataset=test,
        processing_class=tokenizer,
        callbacks=[_timer_callback(marks)],
    )
    trainer.train()
    accuracy = trainer.evaluate().get("eval_accuracy")
    return {
        "steps": trainer.state.global_step,
        "pairs": trainer.state.global_step * spec.batch_size,
        **window(marks[0], marks[-1]),
        "call_seconds": time.perf_counter() - start,
        "test_accuracy": accuracy,
        "bf16": bool(trainer.args.bf16),
        "gradient_checkpointing": bool(trainer.args.gradient_checkpointing),
    }


def worker_ppo_ours(spec: PpoSpec) -> dict[str, Any]:
    """What the PPO job runs: train_ppo against a RewardScorer, job defaults but the sizes given."""
    from workers.ml.generate import PromptInput
    from workers.ml.ppo import PpoConfig, train_ppo
    from workers.ml.reward import RewardScorer

    scorer = RewardScorer(spec.reward_model, device="cpu")  # the job loads it before training too
    cfg = PpoConfig(
        policy_model=spec.policy,
        output_dir=spec.output_dir,
        learning_rate=spec.learning_rate,
        total_episodes=spec.episodes,
        batch_size=spec.batch_size,
        mini_batch_size=spec.mini_batch_size,
        ppo_epochs=spec.ppo_epochs,
        response_length=spec.response_length,
        temperature=spec.temperature,
        kl_coef=spec.kl_coef,
        seed=spec.seed,
        device="cpu",
        critic_from=spec.reward_model if spec.critic_from_reward_model else None,
    )
    if spec.max_grad_norm is not None:
        cfg = dataclasses.replace(cfg, max_grad_norm=spec.max_grad_norm)
    prompts = [PromptInput(key=f"p{i}", text=p) for i, p in enumerate(spec.prompts)]
    begin: list[Mark] = []
    end: list[Mark] = []
    scores: list[float] = []
    eos: list[float] = []

    def metrics(step: int, values: dict[str, float]) -> None:
        scores.append(values["objective/scores"])
        eos.append(values["response/eos_fraction"])

    def should_stop() -> bool:  # polled before every step, after the policy is loaded
        if not begin:
            begin.append(now())
        return False

    start = time.perf_counter()
    result = train_ppo(
        cfg,
        prompts,
        scorer,
        on_metrics=metrics,
        on_samples=lambda step, rows: None,
        on_progress=lambda done, total: end.append(now()),
        should_stop=should_stop,
    )
    return {
        "episodes": result.episodes,
        **window(begin[0], end[-1]),
        "call_seconds": time.perf_counter() - start,
        "first_scores": scores[0],
        "last_scores": scores[-1],
        "eos_share": statistics.fmean(eos),
    }


def worker_ppo_trl112(spec: PpoSpec, *, collect_garbage: bool = True) -> dict[str, Any]:
    """TRL 1.12's PPOTrainer as its example script sets it up, on CPU in fp32.

    ``collect_garbage=False`` turns the trainer's two ``gc.collect()`` calls per step into no-ops: a
    sensitivity check, since a full collection costs a fixed ~0.25 s here whatever the model's size.
    """
    import trl
    from datasets import Dataset
    from transformers import (
        AutoModelForCausalLM,
        AutoModelForSequenceClassification,
        AutoTokenizer,
        TrainerCallback,
        set_seed,
    )

    if not trl.__version__.startswith("1.12"):
        raise RuntimeError(f"expected TRL 1.12 first on PYTHONPATH, got {trl.__version__} from {trl.__file__}")
    ppo = importlib.import_module("trl.experimental.ppo")  # gone from the project's TRL, so not typed here
    if not collect_garbage:
        trainer_module = importlib.import_module("trl.experimental.ppo.ppo_trainer")
        trainer_module.gc = types.SimpleNamespace(collect=lambda *args: 0)  # type: ignore[attr-defined]
    start = time.perf_counter()
    set_seed(spec.seed)  # numpy too: the trainer draws its mini-batch order from numpy's global generator
    tokenizer = AutoTokenizer.from_pretrained(spec.policy, padding_side="left")
    policy = AutoModelForCausalLM.from_pretrained(spec.policy)
    ref_policy = AutoModelForCausalLM.from_pretrained(spec.policy)
    value_model = AutoModelForSequenceClassification.from_pretrained(spec.reward_model, num_labels=1)
    reward_model = AutoModelForSequenceClassification.from_pretrained(spec.reward_model, num_labels=1)
    dataset = Dataset.from_dict({"input_ids": [tokenizer(p)["input_ids"] for p in spec.prompts]})
    args = ppo.PPOConfig(
        output_dir=spec.output_dir,
        total_episodes=spec.episodes,
        per_device_train_batch_size=spec.batch_size,
        gradient_accumulation_steps=1,
        num_mini_batches=spec.batch_size // spec.mini_batch_size,
        num_ppo_epochs=spec.ppo_epochs,
        local_rollout_forward_batch_size=spec.batch_size,
        response_length=spec.response_length,
        temperature=spec.temperature,
        kl_coef=spec.kl_coef,
        learning_rate=spec.learning_rate,
        stop_token="eos",
        # The PPO job's defaults, which are TRL's.
        cliprange=0.2,
        cliprange_value=0.2,
        vf_coef=0.1,
        gamma=1.0,
        lam=0.95,
        whiten_rewards=False,
        num_sample_generations=0,  # debugging tables, not training
        bf16=False,
        gradient_checkpointing=False,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        logging_steps=1,
        disable_tqdm=True,
        seed=spec.seed,
    )
    scores: list[float] = []
    eos: list[float] = []
    marks: list[Mark] = []
    timer = _timer_callback(marks)

    class Scores(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
            if logs and "objective/scores" in logs:
                scores.append(float(logs["objective/scores"]))
                eos.append(float(logs["val/num_eos_tokens"]) / spec.batch_size)

    trainer = ppo.PPOTrainer(
        args=args,
        processing_class=tokenizer,
        model=policy,
        ref_model=ref_policy,
        reward_model=reward_model,
        value_model=value_model,
        train_dataset=dataset,
        eval_dataset=dataset.select(range(min(len(dataset), spec.batch_size))),
        callbacks=[timer, Scores()],
    )
    trainer.train()
    trainer.save_model(spec.output_dir)
    return {
        "episodes": int(trainer.state.episode),
        **window(marks[0], marks[-1]),
        "call_seconds": time.perf_counter() - start,
        "first_scores": scores[0] if scores else math.nan,
        "last_scores": scores[-1] if scores else math.nan,
        "eos_share": statistics.fmean(eos) if eos else math.nan,
        "trl": trl.__version__,
    }


WORKERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "rm-ours": lambda s: worker_rm_ours(RewardSpec(**s)),
    "rm-trl": lambda s: worker_rm_trl(RewardSpec(**s), cpu_defaults=False),
    "rm-trl-defaults": lambda s: worker_rm_trl(RewardSpec(**s), cpu_defaults=True),
    "ppo-ours": lambda s: worker_ppo_ours(PpoSpec(**s)),
    "ppo-ours-critic": lambda s: worker_ppo_ours(PpoSpec(**{**s, "critic_from_reward_model": True})),
    "ppo-trl112": lambda s: worker_ppo_trl112(PpoSpec(**s)),
    "ppo-trl112-nogc": lambda s: worker_ppo_trl112(PpoSpec(**s), collect_garbage=False),
}


def run_worker(kind: str, spec_json: str) -> int:
    import torch
    from transformers.utils import logging as hf_logging

    spec = json.loads(spec_json)
    torch.set_num_threads(int(spec["threads"]))
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    result = WORKERS[kind](spec)
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


# ------------------------------------------------------------------------------------------- the parent


@dataclass
class Run:
    kind: str
    round: int
    result: dict[str, Any]


def spawn(kind: str, spec: Any, log: Path, extra_path: str = "", timeout: float | None = None) -> dict[str, Any]:
    """Run one worker in a fresh interpreter; its output goes to ``log``; its result dict comes back."""
    env = dict(os.environ, TOKENIZERS_PARALLELISM="false", TRL_EXPERIMENTAL_SILENCE="1")
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (extra_path, str(REPO), env.get("PYTHONPATH", "")) if p)
    command = [sys.executable, "-m", "bench.training", "--worker", kind, "--spec", json.dumps(dataclasses.asdict(spec))]
    with log.open("w") as out:
        proc = subprocess.run(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
    lines = log.read_text().splitlines()
    results = [line.removeprefix(RESULT_PREFIX) for line in lines if line.startswith(RESULT_PREFIX)]
    if proc.returncode != 0 or not results:
        tail = "\n".join(lines[-25:])
        raise RuntimeError(f"{kind} failed (exit {proc.returncode}); log {log}:\n{tail}")
    return cast(dict[str, Any], json.loads(results[-1]))


def trl112_problem(path: str) -> str | None:
    """None when ``path`` holds TRL 1.12 with its PPOTrainer importable next to our transformers; else why not."""
    if not path or not Path(path, "trl").is_dir():
        return f"no TRL under {path!r} (install: .venv/bin/pip install --no-deps --target {path} trl==1.12.0)"
    code = "import trl; from trl.experimental.ppo import PPOTrainer; print(trl.__version__)"
    env = dict(os.environ, PYTHONPATH=path, TRL_EXPERIMENTAL_SILENCE="1")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd="/")
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or ["import failed"])[-1]
    if not proc.stdout.strip().startswith("1.12"):
        return f"{path} holds TRL {proc.stdout.strip()}, not 1.12"
    return None


@dataclass
class PolicyEval:
    rule_rate: float
    mean_reward: float
    samples: int
    example: str


def evaluate_policy(policy: str, prompts: list[str], reward_model: str, k: int, length: int, temp: float) -> PolicyEval:
    """Rule rate and mean reward of ``k`` seeded samples per held-out prompt (our generation code)."""
    from workers.ml.generate import GenerationParams, PromptInput, generate_candidates, load_model
    from workers.ml.reward import RewardScorer

    loaded = load_model(policy, "cpu")
    params = GenerationParams(
        k=k, temperature=temp, top_p=1.0, max_new_tokens=length, seed=1234, batch_size=256, backend="transformers"
    )
    inputs = [PromptInput(key=f"h{i}", text=p) for i, p in enumerate(prompts)]
    texts: dict[str, list[str]] = {}
    for batch in generate_candidates(loaded, inputs, params):
        for result in batch.results:
            texts[result.key] = result.texts
    pairs = [(p.text or "", t) for p in inputs for t in texts[p.key]]
    rewards = RewardScorer(reward_model, device="cpu").score([p for p, _ in pairs], [t for _, t in pairs])
    rate = sum(bool(POLITE.search(t)) for _, t in pairs) / len(pairs)
    example = next((t for _, t in pairs if POLITE.search(t)), pairs[0][1])
    return PolicyEval(rate, statistics.fmean(rewards), len(pairs), example)


def median(runs: list[Run], kind: str, key: str) -> float:
    values = [float(r.result[key]) for r in runs if r.kind == kind and r.result.get(key) is not None]
    return statistics.median(values) if values else math.nan


def rate(r: Run, count: str, clock: str = "seconds") -> float:
    """``count`` per second of wall time (``seconds``) or of process CPU time (``cpu_seconds``)."""
    return float(r.result[count]) / float(r.result[clock])


def median_rate(runs: list[Run], kind: str, count: str, clock: str = "seconds") -> float:
    values = [rate(r, count, clock) for r in runs if r.kind == kind]
    return statistics.median(values) if values else math.nan


def ratios(runs: list[Run], ours: str, theirs: str, count: str) -> str:
    """Median ratios of the two sides' rates (wall and CPU time) and the per-round wall ratios."""
    pairs = [(a, b) for a in runs for b in runs if a.kind == ours and b.kind == theirs and a.round == b.round]
    if not pairs:
        return "nothing to compare"
    wall = median_rate(runs, ours, count) / median_rate(runs, theirs, count)
    cpu = median_rate(runs, ours, count, "cpu_seconds") / median_rate(runs, theirs, count, "cpu_seconds")
    best = max(rate(a, count) for a, _ in pairs) / max(rate(b, count) for _, b in pairs)
    rounds = ", ".join(f"{rate(a, count) / rate(b, count):.2f}" for a, b in pairs)
    return (
        f"{ours}/{theirs}: {wall:.3f} by wall time, {cpu:.3f} by CPU time, {best:.3f} best round vs best round "
        f"(per round, wall: {rounds})"
    )


def progress(when: str, run: Run, count: str) -> None:
    wall, cpu = rate(run, count), rate(run, count, "cpu_seconds")
    print(f"  {when:<8} {run.kind:<16} {wall:8.2f} {count}/s ({cpu:.2f} per CPU second)", flush=True)


def print_rows(runs: list[Run], labels: dict[str, str], count: str, extra: Callable[[str], str]) -> None:
    for kind, label in labels.items():
        n = sum(r.kind == kind for r in runs)
        if n:
            print(
                f"{label:<44}{n:>7}{median(runs, kind, 'seconds'):>9.1f}{median_rate(runs, kind, count):>9.2f}"
                f"{median_rate(runs, kind, count, 'cpu_seconds'):>9.2f}{extra(kind)}"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rm-steps", type=int, default=200, help="reward-model optimizer steps per run")
    parser.add_argument("--rm-lr", type=float, default=1e-4, help="reward-model learning rate (both sides)")
    parser.add_argument("--rm-batch-size", type=int, default=8, help="pairs per step (the job's default 8)")
    parser.add_argument("--ppo-episodes", type=int, default=800, help="PPO rollouts per run (50 steps of 16)")
    parser.add_argument("--ppo-lr", type=float, default=1e-4, help="PPO learning rate (both sides)")
    parser.add_argument("--response-length", type=int, default=24)
    parser.add_argument(
        "--ppo-max-grad-norm",
        type=float,
        default=None,
        help="ours only; default: the job's (1.0); TRL 1.12 never clips",
    )
    parser.add_argument("--repeats", type=int, default=3, help="interleaved PPO rounds; medians are reported")
    parser.add_argument("--rm-repeats", type=int, default=5, help="interleaved reward-model rounds (cheap)")
    parser.add_argument("--num-threads", type=int, default=0, help="torch threads per run; 0 = idle CPUs, once")
    parser.add_argument("--trl112-path", default="/tmp/trl112", help="a --target install of trl==1.12.0")
    parser.add_argument("--skip-trl-defaults", action="store_true", help="no TRL-with-CPU-defaults row")
    parser.add_argument("--skip-ppo", action="store_true")
    parser.add_argument("--skip-trl-nogc", action="store_true", help="no TRL 1.12 run with gc.collect() off")
    parser.add_argument("--skip-ours-critic", action="store_true", help="no run of ours with a critic from the RM")
    parser.add_argument("--eval-k", type=int, default=4, help="samples per held-out prompt for the rule rate")
    parser.add_argument("--workdir", default="", help="where data, models and logs go (default: a temp dir)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round: a smoke test")
    parser.add_argument("--worker", default="", help=argparse.SUPPRESS)
    parser.add_argument("--spec", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return run_worker(args.worker, args.spec)
    if args.quick:
        args.rm_steps, args.ppo_episodes, args.repeats, args.rm_repeats = 16, 48, 1, 1

    import tempfile

    from workers.ml.runtime import configure_cpu_threads
    from workers.ml.tiny import tiny_model_path

    threads = configure_cpu_threads(args.num_threads)  # decided once: every run gets the same count
    model = str(tiny_model_path())
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-training-"))
    (work / "logs").mkdir(parents=True, exist_ok=True)
    data = write_data(work / "data", train_topics=24 if args.quick else 96, test_topics=8 if args.quick else 32)
    print(f"model {model}; {threads} torch thread(s) per run; work dir {work}")
    print(f"data: {data.train_pairs} train pairs, {len(data.train_prompts)} PPO prompts, "
          f"{len(data.heldout_prompts)} held-out prompts")  # fmt: skip

    # ---- reward model
    runs: list[Run] = []
    rm_dir = ""
    for rnd in range(args.rm_repeats):
        order = ["rm-ours", "rm-trl"] if rnd % 2 == 0 else ["rm-trl", "rm-ours"]
        for kind in order:
            out = work / f"{kind}-{rnd}"
            spec = RewardSpec(
                model, str(data.train_file), str(data.test_file), str(out), args.rm_steps, args.rm_lr,
                args.rm_batch_size, 512, threads,
            )  # fmt: skip
            result = spawn(kind, spec, work / "logs" / f"{kind}-{rnd}.log")
            runs.append(Run(kind, rnd, result))
            progress(f"round {rnd}", runs[-1], "pairs")
            if kind == "rm-ours" and not rm_dir:
                rm_dir = str(out)
    if not args.skip_trl_defaults:
        spec = RewardSpec(
            model, str(data.train_file), str(data.test_file), str(work / "rm-trl-defaults"), args.rm_steps,
            args.rm_lr, args.rm_batch_size, 512, threads,
        )  # fmt: skip
        result = spawn("rm-trl-defaults", spec, work / "logs" / "rm-trl-defaults.log", timeout=1800)
        runs.append(Run("rm-trl-defaults", 0, result))
        progress("once", runs[-1], "pairs")

    # ---- PPO
    problem = "skipped (--skip-ppo)" if args.skip_ppo else trl112_problem(args.trl112_path)
    base_eval: PolicyEval | None = None
    if not args.skip_ppo:
        print(f"TRL 1.12 PPO: {'unavailable: ' + problem if problem else 'from ' + args.trl112_path}")
        kinds = ["ppo-ours"] + ([] if args.skip_ours_critic else ["ppo-ours-critic"])
        kinds += [] if problem else ["ppo-trl112"]
        if not problem and not args.skip_trl_nogc:
            kinds.append("ppo-trl112-nogc")
        for rnd in range(args.repeats):
            for kind in kinds if rnd % 2 == 0 else kinds[::-1]:
                out = work / f"{kind}-{rnd}"
                # Both sides get the round's seed: three rounds are three seeds for the rule rate.
                ppo_spec = PpoSpec(
                    model, rm_dir, data.train_prompts, str(out), args.ppo_episodes, 16, 4, 2, args.response_length,
                    0.7, 0.05, args.ppo_lr, threads, seed=rnd, max_grad_norm=args.ppo_max_grad_norm,
                )  # fmt: skip
                extra = args.trl112_path if kind.startswith("ppo-trl112") else ""
                result = spawn(kind, ppo_spec, work / "logs" / f"{kind}-{rnd}.log", extra_path=extra)
                runs.append(Run(kind, rnd, result))
                progress(f"round {rnd}", runs[-1], "episodes")
        held_out = {"prompts": data.heldout_prompts, "reward_model": rm_dir, "k": args.eval_k}
        held_out |= {"length": args.response_length, "temp": 0.7}
        base_eval = evaluate_policy(model, **held_out)
        for run in runs:
            if run.kind.startswith("ppo-"):
                ev = evaluate_policy(str(work / f"{run.kind}-{run.round}"), **held_out)
                run.result |= {"rule_rate": ev.rule_rate, "heldout_reward": ev.mean_reward, "example": ev.example}

    # ---- report
    print()
    print("Reward model: pairs per second of training (steps x batch / time), medians over rounds")
    print(f"{'run':<44}{'rounds':>7}{'wall s':>9}{'/s wall':>9}{'/s CPU':>9}{'test acc':>10}")
    labels = {
        "rm-ours": "ours: train_reward_model (job defaults)",
        "rm-trl": "TRL RewardTrainer, fp32, no checkpointing",
        "rm-trl-defaults": "TRL RewardTrainer, CPU defaults",
    }
    print_rows(runs, labels, "pairs", lambda kind: f"{median(runs, kind, 'test_accuracy'):>10.3f}")
    print(ratios(runs, "rm-ours", "rm-trl", "pairs"))
    rm_ours, rm_trl = median_rate(runs, "rm-ours", "pairs"), median_rate(runs, "rm-trl", "pairs")

    ppo_ours = ppo_trl = final_rate = math.nan
    if not args.skip_ppo:
        print()
        print(f"PPO: episodes per second ({args.ppo_episodes} episodes, batch 16, mini-batch 4, 2 PPO epochs, "
              f"{args.response_length} tokens, T=0.7, kl 0.05, lr {args.ppo_lr:g}), medians over rounds")  # fmt: skip
        print(f"{'run':<44}{'rounds':>7}{'wall s':>9}{'/s wall':>9}{'/s CPU':>9}{'EOS':>7}{'score 1st->last':>17}")

        def ppo_extra(kind: str) -> str:
            first, last = median(runs, kind, "first_scores"), median(runs, kind, "last_scores")
            return f"{median(runs, kind, 'eos_share'):>7.2f}{f'{first:+.2f} -> {last:+.2f}':>17}"

        ppo_labels = {
            "ppo-ours": "ours: train_ppo"
            + ("" if args.ppo_max_grad_norm is None else f", max_grad_norm {args.ppo_max_grad_norm:g}"),
            "ppo-ours-critic": "ours, critic from the reward model",
            "ppo-trl112": "TRL 1.12 PPOTrainer",
            "ppo-trl112-nogc": "TRL 1.12 PPOTrainer, its gc.collect() off",
        }
        print_rows(runs, ppo_labels, "episodes", ppo_extra)
        if problem:
            print(f"TRL 1.12 not run: {problem}")
        else:
            for ours, theirs in (
                ("ppo-ours", "ppo-trl112"),
                ("ppo-ours", "ppo-trl112-nogc"),
                ("ppo-ours-critic", "ppo-trl112"),
            ):
                if any(r.kind == ours for r in runs) and any(r.kind == theirs for r in runs):
                    print(ratios(runs, ours, theirs, "episodes"))
        print()
        print(f"Held-out rule rate ({len(data.heldout_prompts)} prompts x {args.eval_k} samples, sampling seed "
              f"1234, T=0.7, {args.response_length} tokens): median over rounds (PPO seed = round)")  # fmt: skip
        print(f"{'policy':<44}{'polite rate':>12}{'reward':>8}  {'per round':<20}  example (round 0)")
        assert base_eval is not None
        print(f"{'base (tiny model)':<44}{base_eval.rule_rate:>12.3f}{base_eval.mean_reward:>8.3f}  {'':<20}  "
              f"{base_eval.example.strip()[:40]!r}")  # fmt: skip
        for kind, label in ppo_labels.items():
            mine = [r for r in runs if r.kind == kind]
            if mine:
                each = " ".join(f"{r.result['rule_rate']:.2f}" for r in mine)
                print(
                    f"{label:<44}{median(runs, kind, 'rule_rate'):>12.3f}{median(runs, kind, 'heldout_reward'):>8.3f}"
                    f"  {each:<20}  {str(mine[0].result['example']).strip()[:40]!r}"
                )
        ppo_ours = median_rate(runs, "ppo-ours", "episodes")
        ppo_trl = median_rate(runs, "ppo-trl112", "episodes")
        final_rate = median(runs, "ppo-ours", "rule_rate")
    print(
        f"rm_pairs_per_s={rm_ours:.1f} rm_vs_trl={rm_ours / rm_trl:.3f} ppo_episodes_per_s={ppo_ours:.2f} "
        f"ppo_vs_trl112={ppo_ours / ppo_trl:.3f} ppo_final_rule_rate={final_rate:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
