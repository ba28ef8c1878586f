"""The sampler behind generation: same support as transformers' warpers, right frequencies."""

from __future__ import annotations

import pytest
import torch
from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from workers.ml import sampling
from workers.ml.sampling import SampleLogitsProcessor, nucleus, sample_next_tokens


def hf_support(logits: torch.Tensor, temperature: float, top_k: int, top_p: float) -> torch.Tensor:
    ids = torch.zeros((logits.shape[0], 1), dtype=torch.long)
    scores = TemperatureLogitsWarper(temperature)(ids, logits.clone())
    if top_k:
        scores = TopKLogitsWarper(top_k)(ids, scores)
    if top_p < 1:
        scores = TopPLogitsWarper(top_p)(ids, scores)
    return torch.isfinite(scores)


def our_support(logits: torch.Tensor, temperature: float, top_k: int, top_p: float) -> torch.Tensor:
    mask = torch.zeros_like(logits, dtype=torch.bool)
    for group in nucleus(logits / temperature, top_k, top_p):
        mask[group.rows.unsqueeze(-1).expand_as(group.ids), group.ids] = group.probs > 0
    return mask


@pytest.mark.parametrize(
    ("temperature", "top_k", "top_p"), [(1.0, 0, 0.9), (0.7, 0, 0.5), (1.3, 20, 0.95), (1.0, 5, 1.0)]
)
def test_support_matches_transformers_warpers(temperature: float, top_k: int, top_p: float) -> None:
    gen = torch.Generator().manual_seed(0)
    vocab = 1000
    # Peaked rows (nucleus inside the first candidates) and flat rows (nucleus wider: the full-sort path).
    logits = torch.cat([torch.randn(8, vocab, generator=gen) * 6, torch.randn(8, vocab, generator=gen) * 0.3])
    ours, theirs = our_support(logits, temperature, top_k, top_p), hf_support(logits, temperature, top_k, top_p)
    assert torch.equal(ours, theirs)
    if top_k == 0:
        widths = theirs.sum(dim=-1)
        assert widths[:8].max() < sampling.FIRST_CANDIDATES < widths[8:].min()  # both paths were exercised


def test_samples_follow_the_truncated_distribution() -> None:
    torch.manual_seed(0)
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    logits = probs.log().expand(20000, 4)
    counts = torch.bincount(sample_next_tokens(logits, top_p=0.9), minlength=4).float()
    expected = torch.tensor([0.5, 0.3, 0.15, 0.0]) / 0.95  # 0.05 falls outside the 0.9 nucleus
    assert torch.allclose(counts / counts.sum(), expected, atol=0.015)
    counts = torch.bincount(sample_next_tokens(logits), minlength=4).float()
    assert torch.allclose(counts / counts.sum(), probs, atol=0.015)
    assert torch.equal(sample_next_tokens(logits[:3], temperature=0), torch.zeros(3, dtype=torch.long))


def test_processor_keeps_one_token_and_skips_finished_rows() -> None:
    eos = 2
    processor = SampleLogitsProcessor(1.0, top_p=0.9, eos_ids={eos})
    prompt = torch.tensor([[5, 6], [5, 7], [5, 8]])
    scores = torch.randn(3, 10)
    first = processor(prompt, scores)
    assert ((first == 0).sum(dim=-1) == 1).all() and (torch.isinf(first).sum(dim=-1) == 9).all()
    later = torch.cat([prompt, torch.tensor([[eos], [4], [3]])], dim=1)
    out = processor(later, scores)
    assert torch.isfinite(out).sum(dim=-1).tolist() == [1, 1, 1]
    assert out[0, 0] == 0  # finished row: a placeholder generate overwrites with padding
    with pytest.raises(ValueError):
        SampleLogitsProcessor(0.0)
