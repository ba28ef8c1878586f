"""Evaluation helpers: log-probabilities of given responses under a model, and win rates.

The KL between a policy and its parent is estimated by Monte Carlo on the policy's own samples:
KL(policy || parent) ~= mean over samples of log p_policy(y|x) - log p_parent(y|x), each term the sum of
token log-probabilities of the response (what the policy generated, re-tokenized the same way for both:
the prompt encoded as in generation, then the response text without special tokens).

    python -m workers.ml.evaluate --model ./policy --prompt "Say hello." --response "Hello!"
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import torch

from workers.ml.generate import LoadedModel, PromptInput, encode_prompt, load_model


@torch.no_grad()
def sequence_logprobs(
    loaded: LoadedModel, prompts: Sequence[PromptInput], responses: Sequence[str], *, batch_size: int = 8
) -> list[float]:
    """Sum of the response tokens' log-probabilities given the prompt, per (prompt, response)."""
    if len(prompts) != len(responses):
        raise ValueError("one response per prompt")
    tok = loaded.tokenizer
    pad = int(tok.pad_token_id if tok.pad_token_id is not None else 0)
    out: list[float] = []
    for start in range(0, len(prompts), batch_size):
        rows, starts = [], []
        for prompt, response in zip(
            prompts[start : start + batch_size], responses[start : start + batch_size], strict=True
        ):
            p = encode_prompt(tok, prompt)
            r = [int(i) for i in tok(response, add_special_tokens=False)["input_ids"]]
            rows.append(p + r)
            starts.append(len(p))
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):  # right padding: positions stay 0..n-1 for every row
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
        logits = loaded.model(input_ids=ids.to(loaded.device), attention_mask=mask.to(loaded.device)).logits.float()
        logp = (
            torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, ids[:, 1:].to(loaded.device).unsqueeze(-1)).squeeze(-1)
        )
        for i, row in enumerate(rows):
            # Token t is predicted at position t-1: the response tokens are rows[starts:], predicted from starts-1.
            out.append(float(logp[i, starts[i] - 1 : len(row) - 1].sum()))
    return out


def win_rate(a: Sequence[float], b: Sequence[float]) -> float:
    """Share of pairs where a beats b, ties counting half."""
    if not a or len(a) != len(b):
        raise ValueError("need equally many scores on both sides")
    return sum(1.0 if x > y else 0.5 if x == y else 0.0 for x, y in zip(a, b, strict=True)) / len(a)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--response", required=True)
    args = parser.parse_args(argv)
    loaded = load_model(args.model)
    print(sequence_logprobs(loaded, [PromptInput(key="0", text=args.prompt)], [args.response])[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
