"""Evaluation math: log-probabilities of what was sampled, and the Monte-Carlo KL against the exact one."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from workers.ml.evaluate import encode_response, same_vocabulary, sequence_logprobs, win_rate
from workers.ml.generate import GenerationParams, LoadedModel, PromptInput, encode_prompt, generate_candidates

PROMPT = "The garden was quiet"


def _perturbed(loaded: LoadedModel, scale: float) -> LoadedModel:
    """A copy whose output layer is nudged by seeded noise: a stand-in for a fine-tuned policy."""
    other = copy.deepcopy(loaded)
    head = other.model.get_output_embeddings()
    assert head is not None
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad():
        head.weight.add_(scale * torch.randn(head.weight.shape, generator=gen))
    return other


def _next_token_logprobs(loaded: LoadedModel, temperature: float) -> torch.Tensor:
    ids = torch.tensor([encode_prompt(loaded.tokenizer, PromptInput("p", text=PROMPT))])
    with torch.no_grad():
        logits = loaded.model(input_ids=ids).logits[0, -1].float()
    return torch.log_softmax(logits / temperature, dim=-1)


def test_logprob_of_sampled_ids_matches_the_step_by_step_distribution(tiny_loaded: LoadedModel) -> None:
    params = GenerationParams(k=3, temperature=0.7, max_new_tokens=6, seed=3)
    prompt = PromptInput("p", text=PROMPT)
    result = next(iter(generate_candidates(tiny_loaded, [prompt], params))).results[0]
    assert [len(ids) for ids in result.token_ids] == result.num_tokens
    assert [tiny_loaded.tokenizer.decode(ids, skip_special_tokens=True) for ids in result.token_ids] == result.texts

    scored = sequence_logprobs(tiny_loaded, [prompt] * 3, result.token_ids, temperature=0.7)
    context = encode_prompt(tiny_loaded.tokenizer, prompt)
    for ids, total in zip(result.token_ids, scored, strict=True):
        expected = 0.0
        for i, tok in enumerate(ids):  # one forward pass per token: the definition, no batching or padding
            with torch.no_grad():
                logits = tiny_loaded.model(input_ids=torch.tensor([context + ids[:i]])).logits[0, -1].float()
            expected += float(torch.log_softmax(logits / 0.7, dim=-1)[tok])
        assert total == pytest.approx(expected, abs=1e-4)


def test_monte_carlo_kl_on_sampled_ids_estimates_the_exact_kl(tiny_loaded: LoadedModel) -> None:
    # One-token responses, so the exact KL is a sum over the vocabulary; 400 samples of the policy.
    temperature = 0.8
    policy = _perturbed(tiny_loaded, 0.05)
    p = _next_token_logprobs(policy, temperature)
    q = _next_token_logprobs(tiny_loaded, temperature)
    exact = float((p.exp() * (p - q)).sum())
    assert exact > 0.05  # the perturbation moved the distribution measurably

    prompts = [PromptInput(str(i), text=PROMPT) for i in range(400)]
    params = GenerationParams(k=1, temperature=temperature, max_new_tokens=1, seed=0, batch_size=100)
    ids = [r.token_ids[0] for batch in generate_candidates(policy, prompts, params) for r in batch.results]
    new = sequence_logprobs(policy, prompts, ids, temperature=temperature, batch_size=100)
    old = sequence_logprobs(tiny_loaded, prompts, ids, temperature=temperature, batch_size=100)
    diffs = [a - b for a, b in zip(new, old, strict=True)]
    mean = sum(diffs) / len(diffs)
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1))
    assert abs(mean - exact) < 4 * sd / math.sqrt(len(diffs)), (mean, exact, sd)

    # Scoring at temperature 1 what was sampled at 0.8 measures another pair of distributions.
    wrong = [
        a - b
        for a, b in zip(
            sequence_logprobs(policy, prompts, ids, batch_size=100),
            sequence_logprobs(tiny_loaded, prompts, ids, batch_size=100),
            strict=True,
        )
    ]
    assert sum(wrong) / len(wrong) != pytest.approx(mean, rel=1e-3)


def test_a_model_against_itself_has_zero_kl_and_the_same_vocabulary(tiny_loaded: LoadedModel) -> None:
    prompts = [PromptInput("a", text=PROMPT), PromptInput("b", text="Once upon a time")]
    ids = [encode_response(tiny_loaded, " the cat sat"), encode_response(tiny_loaded, " and then")]
    a = sequence_logprobs(tiny_loaded, prompts, ids, temperature=0.7)
    b = sequence_logprobs(copy.deepcopy(tiny_loaded), prompts, ids, temperature=0.7)
    assert a == pytest.approx(b, abs=1e-5)
    assert all(v < 0 for v in a)
    assert same_vocabulary(tiny_loaded, _perturbed(tiny_loaded, 0.01))


def test_greedy_has_no_distribution_to_score(tiny_loaded: LoadedModel) -> None:
    with pytest.raises(ValueError, match="temperature above 0"):
        sequence_logprobs(tiny_loaded, [PromptInput("a", text=PROMPT)], [[1]], temperature=0)


def test_win_rate_counts_ties_as_half() -> None:
    assert win_rate([1.0, 2.0, 3.0, 0.0], [0.0, 2.0, 4.0, -1.0]) == pytest.approx(0.625)
    with pytest.raises(ValueError):
        win_rate([], [])
