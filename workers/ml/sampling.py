"""Temperature / top-k / top-p sampling without sorting the whole vocabulary.

transformers' top-p warper sorts every row's full vocabulary at every step and then draws with
``torch.multinomial`` over the full vocabulary. On CPU that is most of a small model's decoding time
(profiled: 1.0 s of 2.3 s for 128 rows x 64 steps of the tiny model, sort alone). Here a ``topk``
over a few candidates finds the nucleus whenever those candidates already hold ``top_p`` of the
probability mass (checked per batch; the candidate set grows until they do, up to the whole
vocabulary), so the kept tokens are exactly those transformers keeps: the smallest set of most
likely tokens whose mass reaches ``top_p``, after temperature and top-k, as in its warper order.

:class:`SampleLogitsProcessor` plugs this into ``model.generate``: it draws the next token itself and
returns logits that are ``-inf`` everywhere but there, so ``generate`` runs in greedy mode and its
argmax picks the drawn token.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import torch
from transformers import LogitsProcessor

# Candidates looked at first. Rows whose nucleus is wider (flat distributions) are sorted in full.
FIRST_CANDIDATES = 128


@dataclass
class Candidates:
    """Some rows' candidate tokens, most likely first, with probabilities zeroed outside the nucleus."""

    rows: torch.Tensor
    """Row indices into the batch, ``[r]``."""
    probs: torch.Tensor
    """Unnormalised probabilities, ``[r, c]``."""
    ids: torch.Tensor
    """Token ids, ``[r, c]``."""


def nucleus(logits: torch.Tensor, top_k: int = 0, top_p: float = 1.0) -> list[Candidates]:
    """The tokens that temperature-scaled ``logits`` (``[rows, vocab]``) may sample, in row groups.

    Same support as transformers' top-k then top-p warpers: the ``top_k`` most likely tokens (0 = all),
    then of those the smallest most-likely set whose renormalised mass reaches ``top_p``. With
    ``top_k == 0 and top_p == 1`` the one group is the whole vocabulary in vocabulary order.
    """
    logits = logits.float()
    batch, vocab = logits.shape
    every_row = torch.arange(batch, device=logits.device)
    if top_k <= 0 and top_p >= 1.0:
        ids = torch.arange(vocab, device=logits.device).expand(batch, vocab)
        return [Candidates(every_row, torch.softmax(logits, dim=-1), ids)]
    if top_k > 0:
        values, ids = logits.topk(min(vocab, top_k), dim=-1)
        groups = [Candidates(every_row, torch.softmax(values, dim=-1), ids)]
    else:
        log_z = torch.logsumexp(logits, dim=-1, keepdim=True)
        values, ids = logits.topk(min(vocab, FIRST_CANDIDATES), dim=-1)
        probs = (values - log_z).exp()
        short = probs.sum(dim=-1) < top_p  # nucleus extends past the candidates
        if ids.shape[-1] == vocab or not bool(short.any()):
            groups = [Candidates(every_row, probs, ids)]
        else:
            wide = short.nonzero().squeeze(-1)
            narrow = (~short).nonzero().squeeze(-1)
            full_values, full_ids = logits[wide].sort(dim=-1, descending=True)
            groups = [
                Candidates(narrow, probs[narrow], ids[narrow]),
                Candidates(wide, (full_values - log_z[wide]).exp(), full_ids),
            ]
    if top_p < 1.0:
        for g in groups:
            mass_before = g.probs.cumsum(dim=-1) - g.probs  # mass of the more likely candidates
            g.probs = g.probs.masked_fill(mass_before >= top_p * g.probs.sum(dim=-1, keepdim=True), 0.0)
    return groups


def _draw(probs: torch.Tensor) -> torch.Tensor:
    # Inverse CDF: one uniform per row and a binary search; ~5x faster than torch.multinomial on CPU for
    # a 2k vocabulary. right=True never lands on a zero-probability entry.
    cdf = probs.cumsum(dim=-1)
    u = torch.rand((probs.shape[0], 1), device=probs.device, dtype=cdf.dtype) * cdf[:, -1:]
    return torch.searchsorted(cdf, u, right=True).clamp_(max=probs.shape[-1] - 1)


def sample_next_tokens(
    logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0
) -> torch.Tensor:
    """One token id per row of ``[rows, vocab]`` logits; ``temperature == 0`` means argmax."""
    if temperature == 0:
        return logits.argmax(dim=-1)
    tokens = torch.empty(logits.shape[0], dtype=torch.long, device=logits.device)
    for g in nucleus(logits.float() / temperature, top_k, top_p):
        tokens[g.rows] = g.ids.gather(-1, _draw(g.probs)).squeeze(-1)
    return tokens


class SampleLogitsProcessor(LogitsProcessor):
    """Draws the next token (see :func:`sample_next_tokens`) and leaves only it finite.

    Use with ``do_sample=False`` and no other warpers: greedy decoding then returns the draw. It must
    run last (transformers appends custom processors after its own), so penalties from the model's
    generation config still apply before the draw. Rows that already produced one of ``eos_ids`` are
    not sampled (``generate`` pads them anyway), which matters when most of a batch has finished.
    Keeps the prompt width of its first call: use one instance per ``generate`` call.
    """

    def __init__(self, temperature: float, top_k: int = 0, top_p: float = 1.0, eos_ids: Collection[int] = ()) -> None:
        if temperature <= 0:
            raise ValueError("temperature must be positive; use plain greedy decoding for 0")
        self.temperature, self.top_k, self.top_p = temperature, top_k, top_p
        self.eos_ids = torch.tensor(sorted(eos_ids), dtype=torch.long)
        self.prompt_width: int | None = None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor) -> torch.Tensor:
        if self.prompt_width is None:
            self.prompt_width = input_ids.shape[1]
        out = torch.full_like(scores, float("-inf"))
        live = None
        if self.eos_ids.numel() and input_ids.shape[1] > self.prompt_width:
            generated = input_ids[:, self.prompt_width :]
            done = torch.isin(generated, self.eos_ids.to(generated.device)).any(dim=-1)
            if bool(done.any()):
                live = (~done).nonzero().squeeze(-1)
                out[done, 0] = 0.0  # any finite token: generate replaces it with padding
        if live is None:
            tokens = sample_next_tokens(scores, self.temperature, self.top_k, self.top_p)
            return out.scatter_(-1, tokens.unsqueeze(-1), 0.0)
        tokens = sample_next_tokens(scores[live], self.temperature, self.top_k, self.top_p)
        out[live, tokens] = 0.0
        return out
