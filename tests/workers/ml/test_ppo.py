"""Our PPO: the maths on hand-made tensors, then short runs on the session's tiny model."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from workers.ml import ppo
from workers.ml.generate import GenerationParams, PromptInput, generate_candidates, load_model
from workers.ml.ppo import (
    METRIC_NAMES,
    AdaptiveKLController,
    PpoConfig,
    PpoResult,
    clipped_policy_loss,
    clipped_value_loss,
    compute_gae,
    decode_response,
    masked_whiten,
    response_mask,
    reward_prompt_text,
    token_rewards,
    train_ppo,
)

QUESTIONS = [
    "How do I boil an egg?",
    "What is a good name for a cat?",
    "Can you help me plan a party?",
    "Why is the sky blue?",
    "How do I spot a phishing email?",
    "What should I cook tonight?",
]
PROMPTS = [PromptInput(f"q{i}", messages=[{"role": "user", "content": q}]) for i, q in enumerate(QUESTIONS)] + [
    PromptInput("t0", text="The garden was quiet"),
    PromptInput("t1", text="Please remember to"),
]
HELD_OUT = [
    PromptInput("h0", messages=[{"role": "user", "content": "Tell me about dogs."}]),
    PromptInput("h1", messages=[{"role": "user", "content": "How can I sleep better?"}]),
    PromptInput("h2", text="On Sunday morning"),
]
LETTER = "e"  # frequent in the tiny model's English-ish output, so there is signal to climb from the start


def letter_count(prompts: list[str], responses: list[str]) -> list[float]:
    return [float(r.count(LETTER)) for r in responses]


def small_config(model_dir: Path, out: Path, **overrides: Any) -> PpoConfig:
    """A run that takes about a second on one slow core: 8 rollouts of up to 16 tokens per step."""
    base = PpoConfig(
        policy_model=str(model_dir),
        output_dir=str(out),
        learning_rate=3e-3,  # the tiny model learns in a few steps only at a large rate
        total_episodes=16,
        batch_size=8,
        mini_batch_size=4,
        ppo_epochs=2,
        response_length=16,
        temperature=1.0,
        device="cpu",
        sample_every=5,
    )
    return replace(base, **overrides)


# -------------------------------------------------------------------------------------------- maths


def test_gae_by_hand_with_a_masked_position() -> None:
    rewards = torch.tensor([[0.0, 0.0, 1.0, 5.0]])  # the 5.0 sits on padding and must not leak back
    values = torch.tensor([[0.5, 0.4, 0.3, 9.0]])
    mask = torch.tensor([[True, True, True, False]])
    advantages, returns = compute_gae(rewards, values, mask, gamma=0.9, lam=0.5)
    # t=2: delta = 1 - 0.3 = 0.7 (the episode ends here)
    # t=1: delta = 0.9 * 0.3 - 0.4 = -0.13; A = -0.13 + 0.9 * 0.5 * 0.7 = 0.185
    # t=0: delta = 0.9 * 0.4 - 0.5 = -0.14; A = -0.14 + 0.45 * 0.185 = -0.05675
    expected = torch.tensor([[-0.05675, 0.185, 0.7, 0.0]])
    torch.testing.assert_close(advantages, expected)
    torch.testing.assert_close(returns, torch.tensor([[0.44325, 0.585, 1.0, 0.0]]))


def test_gae_with_gamma_and_lambda_one_is_reward_to_go_minus_value() -> None:
    rewards = torch.tensor([[0.1, -0.2, 2.0], [1.0, 0.0, 0.0]])
    values = torch.tensor([[0.3, 0.2, 0.1], [0.5, 7.0, 7.0]])
    mask = torch.tensor([[True, True, True], [True, False, False]])
    advantages, returns = compute_gae(rewards, values, mask, gamma=1.0, lam=1.0)
    torch.testing.assert_close(returns, torch.tensor([[1.9, 1.8, 2.0], [1.0, 0.0, 0.0]]))
    torch.testing.assert_close(advantages, torch.tensor([[1.6, 1.6, 1.9], [0.5, 0.0, 0.0]]))


def test_clipped_policy_loss_and_clip_fraction_by_hand() -> None:
    ratios = torch.tensor([[1.5, 0.9, 0.5, 3.0]])
    old = torch.zeros(1, 4)
    new = ratios.log()
    advantages = torch.tensor([[1.0, -1.0, -2.0, 7.0]])
    mask = torch.tensor([[True, True, True, False]])
    loss, stats = clipped_policy_loss(new, old, advantages, mask, clip_range=0.2)
    # 1.5 with A=1: max(-1.5, -1.2) = -1.2 (clipped); 0.9 with A=-1: 0.9 (inside the range);
    # 0.5 with A=-2: max(1.0, 1.6) = 1.6 (clipped); the fourth position is masked out.
    assert float(loss) == pytest.approx((-1.2 + 0.9 + 1.6) / 3)
    assert float(stats["clipfrac"]) == pytest.approx(2 / 3)
    assert float(stats["approxkl"]) == pytest.approx(0.5 * sum(math.log(r) ** 2 for r in (1.5, 0.9, 0.5)) / 3)
    assert float(stats["ratio"]) == pytest.approx((1.5 + 0.9 + 0.5) / 3)


def test_clipped_value_loss_by_hand() -> None:
    old = torch.tensor([[1.0, 1.0, 1.0]])
    new = torch.tensor([[1.5, 0.9, 4.0]])
    returns = torch.tensor([[2.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, False]])
    loss, clipfrac = clipped_value_loss(new, old, returns, mask, clip_range_value=0.2)
    # 1.5 clips to 1.2: max(0.25, 0.64) = 0.64 (clipped wins); 0.9 is inside: 0.81.
    assert float(loss) == pytest.approx(0.5 * (0.64 + 0.81) / 2)
    assert float(clipfrac) == pytest.approx(0.5)


def test_adaptive_kl_controller() -> None:
    ctl = AdaptiveKLController(0.1, target=6.0, horizon=10000)
    ctl.update(12.0, n_steps=100)  # error +1 is clipped to +0.2
    assert ctl.value == pytest.approx(0.1 * 1.002)
    ctl.update(3.0, n_steps=100)  # error -0.5 is clipped to -0.2
    assert ctl.value == pytest.approx(0.1 * 1.002 * 0.998)
    ctl.update(6.6, n_steps=1000)  # error +0.1
    assert ctl.value == pytest.approx(0.1 * 1.002 * 0.998 * 1.01)


def test_response_mask_keeps_tokens_through_the_first_eos() -> None:
    responses = torch.tensor([[5, 2, 7, 2], [5, 6, 7, 8], [2, 0, 0, 0], [3, 9, 9, 9]])
    mask = response_mask(responses, {2, 9})
    assert mask.tolist() == [
        [True, True, False, False],
        [True, True, True, True],
        [True, False, False, False],
        [True, True, False, False],
    ]


def test_token_rewards_put_the_score_on_the_last_response_token() -> None:
    mask = torch.tensor([[True, True, False], [True, True, True]])
    logprobs = torch.tensor([[-1.0, -2.0, -9.0], [-1.0, -1.0, -1.0]])
    ref = torch.tensor([[-1.5, -1.0, 0.0], [-1.0, -1.0, -2.0]])
    rewards, non_score, kl = token_rewards(torch.tensor([3.0, -1.0]), logprobs, ref, mask, kl_coef=0.1)
    torch.testing.assert_close(kl, torch.tensor([[0.5, -1.0, 0.0], [0.0, 0.0, 1.0]]))
    torch.testing.assert_close(non_score, torch.tensor([[-0.05, 0.1, 0.0], [0.0, 0.0, -0.1]]))
    torch.testing.assert_close(rewards, torch.tensor([[-0.05, 3.1, 0.0], [0.0, 0.0, -1.1]]))


def test_masked_whiten_ignores_padding() -> None:
    values = torch.tensor([[1.0, 2.0, 100.0], [3.0, 4.0, -100.0]])
    mask = torch.tensor([[True, True, False], [True, True, False]])
    out = masked_whiten(values, mask)
    kept = out[mask]
    assert float(kept.mean()) == pytest.approx(0.0, abs=1e-6)
    assert float(kept.std()) == pytest.approx(1.0, abs=1e-4)
    assert out[~mask].tolist() == [0.0, 0.0]
    assert masked_whiten(values, mask, shift_mean=False)[mask].mean() == pytest.approx(2.5, abs=1e-5)


def test_texts_for_the_reward_fn(tiny_model_dir: Path) -> None:
    assert reward_prompt_text(PromptInput("t", text="The garden ")) == "The garden "
    chat = PromptInput("c", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
    assert reward_prompt_text(chat) == "system: Be brief.\n\nuser: Hi"  # a snapshot's `prompt` column
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    eos = int(tok.eos_token_id)
    tokens = [*tok(" Hello there", add_special_tokens=False)["input_ids"], eos, *tok(" junk")["input_ids"]]
    assert decode_response(tok, tokens, {eos}, chat=True) == "Hello there"
    assert decode_response(tok, tokens, {eos}, chat=False) == " Hello there"


# ------------------------------------------------------------------------------------ runs on the model


@dataclass
class Recorded:
    result: PpoResult
    metrics: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    samples: list[tuple[int, list[dict[str, object]]]] = field(default_factory=list)
    progress: list[tuple[int, int]] = field(default_factory=list)
    reward_calls: list[tuple[list[str], list[str]]] = field(default_factory=list)


def mean_letters(model_dir: Path) -> float:
    """Mean reward on held-out prompts, 8 samples each with a fixed seed."""
    loaded = load_model(model_dir, "cpu")
    params = GenerationParams(k=8, max_new_tokens=16, temperature=1.0, seed=123, batch_size=24, backend="transformers")
    texts = [t for batch in generate_candidates(loaded, HELD_OUT, params) for r in batch.results for t in r.texts]
    return sum(letter_count([], texts)) / len(texts)


@pytest.fixture(scope="module")
def learned(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """14 PPO steps of 8 rollouts toward more e's (about 3 s)."""
    out = tmp_path_factory.mktemp("ppo") / "policy"
    calls: list[tuple[list[str], list[str]]] = []

    def reward(prompts: list[str], responses: list[str]) -> list[float]:
        calls.append((prompts, responses))
        return letter_count(prompts, responses)

    metrics: list[tuple[int, dict[str, float]]] = []
    samples: list[tuple[int, list[dict[str, object]]]] = []
    progress: list[tuple[int, int]] = []
    cfg = small_config(tiny_model_dir, out, total_episodes=14 * 8 - 3, num_samples=3)
    result = train_ppo(
        cfg,
        PROMPTS,
        reward,
        on_metrics=lambda step, m: metrics.append((step, m)),
        on_samples=lambda step, s: samples.append((step, s)),
        on_progress=lambda done, total: progress.append((done, total)),
    )
    return Recorded(result, metrics, samples, progress, calls)


def test_ppo_raises_the_reward_on_held_out_prompts(learned: Recorded, tiny_model_dir: Path) -> None:
    before = mean_letters(tiny_model_dir)
    after = mean_letters(Path(learned.result.output_dir))
    assert after > before + 1.0, (before, after)
    scores = [m["objective/scores"] for _, m in learned.metrics]
    assert sum(scores[-3:]) / 3 > sum(scores[:2]) / 2
    assert learned.metrics[0][1]["objective/kl"] == pytest.approx(0.0, abs=1e-4)  # sampled from the reference
    assert 0 < learned.metrics[-1][1]["objective/kl"] < 100


def test_run_reports_every_metric_progress_and_samples(learned: Recorded) -> None:
    result = learned.result
    assert (result.steps, result.episodes, result.stopped) == (14, 109, False)
    assert [step for step, _ in learned.metrics] == list(range(1, 15))
    for _, metrics in learned.metrics:
        assert set(metrics) == set(METRIC_NAMES)
        assert all(math.isfinite(v) for v in metrics.values()), metrics
    assert result.final_metrics == learned.metrics[-1][1]
    assert learned.metrics[-1][1]["episode"] == 109
    # Linear decay: the last step of 14 runs at 1/14 of the peak.
    assert learned.metrics[-1][1]["lr"] == pytest.approx(3e-3 / 14)
    assert learned.progress == [(min(8 * s, 109), 109) for s in range(1, 15)]
    assert len(learned.reward_calls[-1][1]) == 5  # the last step takes only what is left
    assert [step for step, _ in learned.samples] == [1, 5, 10]
    for _, rows in learned.samples:
        assert len(rows) == 3
        for row in rows:
            assert set(row) == {"key", "prompt", "response", "score"}
            assert row["score"] == letter_count([], [str(row["response"])])[0]


def test_reward_fn_gets_prompt_texts_as_in_snapshots(learned: Recorded) -> None:
    expected = {reward_prompt_text(p) for p in PROMPTS}
    seen = {p for prompts, _ in learned.reward_calls for p in prompts}
    assert seen == expected  # every prompt used, in the snapshot's text form
    assert "user: Why is the sky blue?" in seen and "The garden was quiet" in seen
    chat_responses = [
        r for ps, rs in learned.reward_calls for p, r in zip(ps, rs, strict=True) if p.startswith("user:")
    ]
    assert all(r == r.strip() for r in chat_responses)
    assert all("<|eos|>" not in r and "<|pad|>" not in r for _, rs in learned.reward_calls for r in rs)


def test_saved_policy_loads_and_generates(learned: Recorded, tiny_model_dir: Path) -> None:
    out = Path(learned.result.output_dir)
    model = AutoModelForCausalLM.from_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    ids = tok("The garden", return_tensors="pt")
    generated = cast(Any, model).generate(**ids, max_new_tokens=4, do_sample=False)
    assert generated.shape[1] > ids["input_ids"].shape[1]
    before = AutoModelForCausalLM.from_pretrained(tiny_model_dir).state_dict()
    after = model.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    saved = json.loads((out / "ppo_config.json").read_text())
    assert saved["total_episodes"] == 109 and saved["resolved"]["device"] == "cpu"
    assert set(torch.load(out / "value_head.pt")) == {"linear.weight", "linear.bias"}
    assert not any("value" in k or "v_head" in k for k in after)


def test_lora_run_saves_a_merged_plain_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    cfg = small_config(tiny_model_dir, tmp_path / "lora", lora=True, lora_r=4, lora_dropout=0.1, learning_rate=1e-2)
    result = train_ppo(cfg, PROMPTS, letter_count)
    assert result.steps == 2
    out = Path(result.output_dir)
    assert not (out / "adapter_config.json").exists()
    before = AutoModelForCausalLM.from_pretrained(tiny_model_dir).state_dict()
    after = AutoModelForCausalLM.from_pretrained(out).state_dict()
    assert set(before) == set(after)  # no lora_A / lora_B left: merged into the base weights
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed and all("proj" in k for k in changed)  # only the adapted linear layers moved


def test_should_stop_after_the_first_step_still_saves(tiny_model_dir: Path, tmp_path: Path) -> None:
    asked: list[int] = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 1

    cfg = small_config(tiny_model_dir, tmp_path / "stopped", total_episodes=80)
    result = train_ppo(cfg, PROMPTS, letter_count, should_stop=stop)
    assert (result.stopped, result.steps, result.episodes) == (True, 1, 8)
    assert set(result.final_metrics) == set(METRIC_NAMES)
    assert AutoModelForCausalLM.from_pretrained(result.output_dir) is not None
    assert (Path(result.output_dir) / "ppo_config.json").exists()


def test_same_seed_same_run_and_the_optional_paths(tiny_model_dir: Path, tmp_path: Path) -> None:
    def run(name: str, seed: int) -> list[dict[str, float]]:
        seen: list[dict[str, float]] = []
        cfg = small_config(
            tiny_model_dir,
            tmp_path / name,
            seed=seed,
            top_p=0.9,
            adaptive_kl=True,
            target_kl=0.1,
            kl_horizon=10,
            whiten_rewards=True,
            missing_eos_penalty=2.0,
            response_length=6,
        )
        train_ppo(cfg, PROMPTS, lambda p, r: [0.0] * len(r), on_metrics=lambda s, m: seen.append(m))
        return seen

    first, again, other = run("a", 1), run("b", 1), run("c", 2)
    assert first == again
    assert first != other
    for m in first:  # every score is 0 minus the penalty where no EOS ended the response
        assert m["objective/scores"] == pytest.approx(-2.0 * (1 - m["response/eos_fraction"]))
    assert first[0]["kl_coef"] == 0.05 and first[1]["kl_coef"] != 0.05  # the adaptive controller moved


def test_bad_reward_fn_and_prompts_are_errors(tiny_model_dir: Path, tmp_path: Path) -> None:
    cfg = small_config(tiny_model_dir, tmp_path / "bad", total_episodes=8)
    with pytest.raises(ValueError, match="returned 1 scores for 8"):
        train_ppo(cfg, PROMPTS, lambda p, r: [1.0])
    with pytest.raises(ValueError, match="not finite"):
        train_ppo(cfg, PROMPTS, lambda p, r: [math.nan] * len(r))
    with pytest.raises(ValueError, match="no prompt fits"):
        train_ppo(cfg, [PromptInput("long", text="word " * 500)], letter_count)
    with pytest.raises(ValueError, match="top_p"):
        small_config(tiny_model_dir, tmp_path, top_p=0.0)


def test_command_line(tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(json.dumps({"key": "a", "text": "The garden"}) + "\n" + json.dumps({"key": "b", "text": "Hi"}))
    argv = ["--policy_model", str(tiny_model_dir), "--output_dir", str(tmp_path / "cli"), "--prompts", str(prompts)]
    argv += ["--reward", "length:3", "--total_episodes", "4", "--batch_size", "2", "--response_length", "4"]
    argv += ["--device", "cpu", "--num_threads", str(torch.get_num_threads())]  # keep the session's threads
    assert ppo.main(argv) == 0
    assert "2 steps, 4 episodes" in capsys.readouterr().out
    assert AutoModelForCausalLM.from_pretrained(tmp_path / "cli") is not None
    assert ppo.toy_reward("contains:ab")([], ["abab", "x"]) == [2.0, 0.0]
    with pytest.raises(ValueError, match="unknown reward"):
        ppo.toy_reward("nope")


def test_a_run_resumed_from_its_checkpoint_ends_as_an_uninterrupted_run(tiny_model_dir: Path, tmp_path: Path) -> None:
    def config(name: str, **overrides: Any) -> PpoConfig:
        return small_config(tiny_model_dir, tmp_path / name, total_episodes=40, response_length=6, **overrides)

    whole: list[dict[str, float]] = []
    train_ppo(config("whole"), PROMPTS, letter_count, on_metrics=lambda s, m: whole.append(m))

    # Killed after step 3: its checkpoint is from step 2 (checkpoint_steps 2), so step 3 is done again.
    checkpoints = tmp_path / "checkpoints"
    asked: list[int] = []
    first = train_ppo(
        config("first", checkpoint_dir=str(checkpoints), checkpoint_steps=2),
        PROMPTS,
        letter_count,
        should_stop=lambda: len(asked) >= 3 or bool(asked.append(1)),
    )
    assert (first.stopped, first.steps) == (True, 3)
    assert (checkpoints / ppo.CHECKPOINT_FILE).is_file() and not list(checkpoints.glob("*.partial"))

    resumed: list[tuple[int, dict[str, float]]] = []
    second = train_ppo(
        config("second", checkpoint_dir=str(checkpoints), checkpoint_steps=2),
        PROMPTS,
        letter_count,
        on_metrics=lambda s, m: resumed.append((s, m)),
    )
    assert (second.stopped, second.steps, second.episodes) == (False, 5, 40)
    assert resumed[0] == (2, {"resumed_from_step": 2.0})
    assert [s for s, _ in resumed[1:]] == [3, 4, 5]
    # Same weights, optimizer, KL coefficient, prompt order and RNG: steps 3-5 are those of the whole run.
    assert [m for _, m in resumed[1:]] == whole[2:]
    a = AutoModelForCausalLM.from_pretrained(tmp_path / "whole").state_dict()
    b = AutoModelForCausalLM.from_pretrained(tmp_path / "second").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)

    # A checkpoint from another setting is refused, not half loaded.
    with pytest.raises(ValueError, match="another model or LoRA setting"):
        train_ppo(config("lora", checkpoint_dir=str(checkpoints), lora=True), PROMPTS, letter_count)


def test_a_critic_started_from_the_reward_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(0)
    reward = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=1)
    reward.save_pretrained(tmp_path / "rm")
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(tmp_path / "rm")

    cfg = small_config(tiny_model_dir, tmp_path / "out", critic_from=str(tmp_path / "rm"), total_episodes=16)
    policy = ppo._load_policy(cfg, torch.device("cpu"), amp=False)
    assert policy.critic is not None and policy.critic is not policy.model
    assert torch.equal(policy.value_head.linear.weight, reward.score.weight)  # first values: the RM's scores
    assert all(p.requires_grad for p in policy.critic.parameters())

    seen: list[dict[str, float]] = []
    result = train_ppo(
        replace(cfg, checkpoint_dir=str(tmp_path / "ckpt"), checkpoint_steps=1),
        PROMPTS,
        letter_count,
        on_metrics=lambda s, m: seen.append(m),
    )
    assert result.steps == 2 and all(math.isfinite(m["loss/value_avg"]) for m in seen)
    state = torch.load(tmp_path / "ckpt" / ppo.CHECKPOINT_FILE, weights_only=True)
    assert state["critic"] is not None  # a resumed run gets its critic back too
    with pytest.raises(ValueError, match="another critic setting"):
        train_ppo(replace(cfg, output_dir=str(tmp_path / "x"), checkpoint_dir=str(tmp_path / "ckpt"), critic_from=None),
                  PROMPTS, letter_count)  # fmt: skip

    other = AutoTokenizer.from_pretrained(tiny_model_dir)
    other.add_tokens(["<not-in-the-policy>"])
    other.save_pretrained(tmp_path / "rm")
    with pytest.raises(ValueError, match="policy's vocabulary"):
        ppo._load_policy(cfg, torch.device("cpu"), amp=False)
