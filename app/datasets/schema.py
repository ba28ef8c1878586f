"""The columns of a snapshot's tables, as written to Parquet and read back by every export.

A snapshot is three tables, one Parquet file each, inside the snapshot job's artifact folder:

    snapshot/pairs.parquet   preference pairs (aggregated or per annotator, per the spec)
    snapshot/sft.parquet     supervised rows from annotators' rewrites
    snapshot/raw.parquet     every label that passed the filter, one row per annotator judgement
    snapshot/manifest.json   spec, counts per table and split, content hash, these schemas

Rows are ordered by split (train, validation, test), then prompt, then item, so an export of one split
reads one contiguous run. Prompts are stored both as text and as chat messages (JSON), so both of TRL's
layouts (standard strings, conversational messages) come from the same row without a lookup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa

SPLITS = ("train", "validation", "test")


def prompt_text(text: str | None, messages: Sequence[Mapping[str, str]] | None) -> str:
    """A prompt as the ``prompt`` column holds it (and reward models are trained on it): its text, or
    for a chat prompt its messages as "role: content" blocks."""
    if text is not None:
        return text
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in messages or [])


PAIRS = pa.schema(
    [
        pa.field("pair_id", pa.string(), nullable=False),  # "<item>:<chosen candidate>><rejected candidate>[@user]"
        pa.field("split", pa.string(), nullable=False),
        pa.field("prompt_id", pa.int64(), nullable=False),
        pa.field("prompt_external_id", pa.string()),
        pa.field("prompt", pa.string(), nullable=False),  # plain text; chat prompts flattened "role: content"
        pa.field("prompt_messages", pa.string(), nullable=False),  # JSON list of {role, content}
        pa.field("chosen", pa.string(), nullable=False),
        pa.field("rejected", pa.string(), nullable=False),
        pa.field("margin", pa.float64(), nullable=False),  # >= 0; 0 for a kept tie
        pa.field("tie", pa.bool_(), nullable=False),
        pa.field("source", pa.string(), nullable=False),  # pairwise | ranking | rating | rewrite
        pa.field("item_id", pa.int64(), nullable=False),
        pa.field("chosen_candidate_id", pa.int64()),  # null for a rewrite (it is not a candidate)
        pa.field("rejected_candidate_id", pa.int64(), nullable=False),
        pa.field("chosen_model_version_id", pa.int64()),
        pa.field("rejected_model_version_id", pa.int64()),
        pa.field("annotator_id", pa.int64()),  # null when aggregated across annotators
        pa.field("n_annotators", pa.int32(), nullable=False),
        pa.field("agreement", pa.float64()),  # the item's agreement; null with a single annotator
        pa.field("adjudicated", pa.bool_(), nullable=False),
    ]
)

SFT = pa.schema(
    [
        pa.field("row_id", pa.string(), nullable=False),  # "<label id>"
        pa.field("split", pa.string(), nullable=False),
        pa.field("prompt_id", pa.int64(), nullable=False),
        pa.field("prompt_external_id", pa.string()),
        pa.field("prompt", pa.string(), nullable=False),
        pa.field("prompt_messages", pa.string(), nullable=False),
        pa.field("completion", pa.string(), nullable=False),
        pa.field("item_id", pa.int64(), nullable=False),
        pa.field("label_id", pa.int64(), nullable=False),
        pa.field("annotator_id", pa.int64(), nullable=False),
        pa.field("original_candidate_id", pa.int64()),
    ]
)

RAW = pa.schema(
    [
        pa.field("label_id", pa.int64(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        pa.field("item_id", pa.int64(), nullable=False),
        pa.field("prompt_id", pa.int64(), nullable=False),
        pa.field("annotator_id", pa.int64(), nullable=False),
        pa.field("is_gold", pa.bool_(), nullable=False),
        pa.field("task_kind", pa.string(), nullable=False),
        pa.field("candidate_ids", pa.string(), nullable=False),  # JSON list, in display order
        pa.field("answer", pa.string()),  # JSON, as validated at submit; null for a flag-only label
        pa.field("flags", pa.string(), nullable=False),  # JSON list
        pa.field("rationale", pa.string()),
        pa.field("rewrite", pa.string()),
        pa.field("time_spent_ms", pa.int64()),
        pa.field("created_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("updated_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)

TABLES: dict[str, pa.Schema] = {"pairs": PAIRS, "sft": SFT, "raw": RAW}
