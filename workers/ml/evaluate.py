"""Evaluation helpers: log-probabilities of sampled responses under a model, and win rates.

The KL between a policy and its parent is estimated by Monte Carlo on the policy's own samples:
KL(policy || parent) ~= mean over samples of log p_policy(y|x) - log p_parent(y|x), each term the sum over
the response's tokens. It is only unbiased when both terms score exactly what was sampled: the sampled
token ids themselves (decoding and re-tokenising can split " Thanks" into "Than"+"ks", a sequence the
policy never produced) under the distribution they were drawn from (logits divided by the sampling
temperature, as PPO's own KL term does).

    python -m workers.ml.evaluate --model ./policy --prompt "Say hello." --response "Hello!"
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import torch

from workers.ml.generate import LoadedModel, PromptInput, encode_prompt, load_model


def encode_response(loaded: LoadedModel, text: str) -> list[int]:
    """Token ids of a response given as text (for responses not sampled here; sampled ones keep their ids)."""
    return [int(i) for i in loaded.tokenizer(text, add_special_tokens=False)["input_ids"]]


def same_vocabulary(a: LoadedModel, b: LoadedModel) -> bool:
    """Whether token ids mean the same in both models (a fine-tuned policy and its parent: yes)."""
    return bool(a.tokenizer.get_vocab() == b.tokenizer.get_vocab())


@torch.no_grad()
def sequence_logprobs(
    loaded: LoadedModel,
    prompts: Sequence[PromptInput],
    responses: Sequence[Sequence[int]],
    *,
    temperature: float = 1.0,
    batch_size: int = 8,
) -> list[float]:
    """Sum of the response tokens' log-probabilities given the prompt, per (prompt, response token ids),
    under the model's softmax at ``temperature`` (the one the responses were sampled at)."""
    if len(prompts) != len(responses):
        raise ValueError("one response per prompt")
    if temperature <= 0:
        raise ValueError("log-probabilities need a temperature above 0 (greedy decoding has no distribution)")
    tok = loaded.tokenizer
    pad = int(tok.pad_token_id if tok.pad_token_id is not None else 0)
    out: list[float] = []
    for start in range(0, len(prompts), batch_size):
        rows, starts = [], []
        for prompt, response in zip(
            prompts[start : start + batch_size], responses[start : start + batch_size], strict=True
        ):
            p = encode_prompt(tok, prompt)
            rows.append(p + [int(i) for i in response])
            starts.append(len(p))
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):  # right padding: positions stay 0..n-1 for every row
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
        logits = loaded.model(input_ids=ids.to(loaded.device), attention_mask=mask.to(loaded.device)).logits.float()
        logp = (
            torch.log_softmax(logits[:, :-1] / temperature, dim=-1)
            .gather(-1, ids[:, 1:].to(loaded.device).unsqueeze(-1))
            .squeeze(-1)
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
    parser.add_argument("--temperature", type=float, default=1.0)
    args = parser.parse_args(argv)
    loaded = load_model(args.model)
    response = encode_response(loaded, args.response)
    print(
        sequence_logprobs(loaded, [PromptInput(key="0", text=args.prompt)], [response], temperature=args.temperature)[0]
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
