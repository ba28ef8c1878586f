"""Build a snapshot: walk the project's labels prompt by prompt, apply the pair rules, write Parquet.

Memory stays bounded by one chunk of prompts: rows go to one Parquet file per (table, split) as they
are made, and are joined in split order at the end, hashing every row on the way. The hash covers the
spec and the rows in their final order, so the same spec over the same labels gives the same hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.annotation.models import Item
from app.datasets import pairs as rules
from app.datasets.memory import use_returning_pool
from app.datasets.models import Snapshot
from app.datasets.schema import SPLITS, TABLES, prompt_text
from app.datasets.spec import Aggregation, SnapshotSpec
from app.projects.models import Project, TaskKind
from app.prompts.models import Candidate, Prompt
from app.quality.annotators import estimate_weights
from app.quality.judgments import Rubric
from app.quality.repository import ItemGroup, LabelFilter, iter_prompt_groups, paused_annotators

use_returning_pool()

FORMAT = "prefloop.snapshot/1"
PROMPT_CHUNK = 500
WRITE_BATCH = 20_000


@dataclass(frozen=True, slots=True)
class BuildResult:
    content_hash: str
    counts: dict[str, dict[str, int]]
    manifest: dict[str, Any]


def label_filter(session: Session, project_id: int, spec: SnapshotSpec) -> LabelFilter:
    excluded = set(spec.exclude_annotator_ids)
    if spec.exclude_paused:
        excluded.update(paused_annotators(session, project_id))
    return LabelFilter(spec.since, spec.until, spec.annotator_ids, sorted(excluded))


def split_of(prompt_id: int, imported: str | None, spec: SnapshotSpec) -> str:
    """By prompt, never by pair: a stable hash of (seed, prompt id) against the ratios."""
    if spec.use_prompt_split and imported in SPLITS:
        return str(imported)
    digest = hashlib.sha256(f"{spec.seed}:{prompt_id}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < spec.splits.train:
        return "train"
    return "validation" if u < spec.splits.train + spec.splits.validation else "test"


def build_snapshot(
    session: Session,
    snapshot: Snapshot,
    out_dir: Path,
    *,
    progress: Callable[[int, int], None] = lambda done, total: None,
    check_cancel: Callable[[], None] = lambda: None,
) -> BuildResult:
    """Write pairs/sft/raw Parquet and manifest.json for ``snapshot`` into ``out_dir``."""
    project = session.get(Project, snapshot.project_id)
    assert project is not None
    spec = SnapshotSpec.model_validate(snapshot.spec)
    kind = TaskKind(project.task_kind)
    rubric = Rubric.from_criteria(project.criteria) if kind == TaskKind.rating else None
    if spec.rating_criterion is not None and (rubric is None or spec.rating_criterion not in rubric.scales):
        raise ValueError(f"rating_criterion {spec.rating_criterion!r} is not a criterion of this project")
    flt = label_filter(session, project.id, spec)
    total = session.scalar(select(func.count()).select_from(Item).where(Item.project_id == project.id)) or 0

    weights: dict[int, float] = {}
    if spec.aggregation == Aggregation.weighted:
        weights = estimate_weights(
            kind, lambda: (item for _, items in iter_prompt_groups(session, project.id, flt) for item in items), rubric
        )

    parts = _PartWriters(out_dir)
    done = 0
    labels_until: datetime | None = None
    for chunk in _chunks(iter_prompt_groups(session, project.id, flt), PROMPT_CHUNK):
        check_cancel()
        texts = _Texts.load(session, [pid for pid, _ in chunk])
        for prompt_id, items in chunk:
            split = split_of(prompt_id, texts.split(prompt_id), spec)
            judged = rules.judged_items(kind, items, spec, rubric, weights)
            drafts = rules.prompt_pairs(kind, judged, spec, rubric)
            sft, rewrite_pairs = rules.rewrites(kind, items, spec)
            for d in [*drafts, *rewrite_pairs]:
                parts.add("pairs", split, texts.pair_row(d, prompt_id, split))
            for s in sft:
                parts.add("sft", split, texts.sft_row(s, prompt_id, split))
            for item in items:
                for lab in item.labels:
                    parts.add("raw", split, _raw_row(kind, item, lab, split))
                    labels_until = max(labels_until or lab.created_at, lab.created_at)
            done += len(items)
        progress(done, total)

    digest = hashlib.sha256(json.dumps(spec.model_dump(mode="json"), sort_keys=True).encode())
    counts = {table: parts.join(table, digest) for table in TABLES}
    content_hash = digest.hexdigest()
    manifest = {
        "format": FORMAT,
        "snapshot_id": snapshot.id,
        "project_id": project.id,
        "name": snapshot.name,
        "task_kind": kind.value,
        "spec": spec.model_dump(mode="json"),
        "counts": counts,
        "hash": content_hash,
        "labels_until": labels_until.isoformat() if labels_until else None,
        "weights": {str(k): round(v, 6) for k, v in sorted(weights.items())},
        "schema": {
            t: [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in s] for t, s in TABLES.items()
        },
        "files": {t: f"{t}.parquet" for t in TABLES},
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return BuildResult(content_hash, counts, manifest)


def _chunks(it: Iterator[tuple[int, list[ItemGroup]]], n: int) -> Iterator[list[tuple[int, list[ItemGroup]]]]:
    chunk: list[tuple[int, list[ItemGroup]]] = []
    for entry in it:
        chunk.append(entry)
        if len(chunk) >= n:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Texts:
    """Prompt and candidate texts for one chunk of prompts (two queries per chunk)."""

    def __init__(self, prompts: dict[int, Any], candidates: dict[int, Any]) -> None:
        self.prompts = prompts
        self.candidates = candidates

    @classmethod
    def load(cls, session: Session, prompt_ids: Sequence[int]) -> _Texts:
        prompts = {
            r.id: r
            for r in session.execute(
                select(Prompt.id, Prompt.external_id, Prompt.text, Prompt.messages, Prompt.split).where(
                    Prompt.id.in_(prompt_ids)
                )
            )
        }
        candidates = {
            r.id: r
            for r in session.execute(
                select(Candidate.id, Candidate.text, Candidate.model_version_id).where(
                    Candidate.prompt_id.in_(prompt_ids)
                )
            )
        }
        return cls(prompts, candidates)

    def split(self, prompt_id: int) -> str | None:
        return self.prompts[prompt_id].split  # type: ignore[no-any-return]

    def _prompt(self, prompt_id: int) -> dict[str, Any]:
        p = self.prompts[prompt_id]
        messages = p.messages or [{"role": "user", "content": p.text or ""}]
        text = prompt_text(p.text, messages)
        return {
            "prompt_id": prompt_id,
            "prompt_external_id": p.external_id,
            "prompt": text,
            "prompt_messages": json.dumps(messages),
        }

    def pair_row(self, d: rules.PairDraft, prompt_id: int, split: str) -> dict[str, Any]:
        chosen = self.candidates[d.chosen] if d.chosen is not None else None
        rejected = self.candidates[d.rejected]
        suffix = f"@{d.annotator_id}" if d.annotator_id is not None else ""
        chosen_key = d.chosen if d.chosen is not None else "rewrite"
        return {
            "pair_id": f"{d.item_id}:{chosen_key}>{d.rejected}{suffix}",
            "split": split,
            **self._prompt(prompt_id),
            "chosen": chosen.text if chosen is not None else d.rewrite,
            "rejected": rejected.text,
            "margin": d.margin,
            "tie": d.tie,
            "source": d.source.value,
            "item_id": d.item_id,
            "chosen_candidate_id": d.chosen,
            "rejected_candidate_id": d.rejected,
            "chosen_model_version_id": chosen.model_version_id if chosen is not None else None,
            "rejected_model_version_id": rejected.model_version_id,
            "annotator_id": d.annotator_id,
            "n_annotators": d.n_annotators,
            "agreement": d.agreement,
            "adjudicated": d.adjudicated,
        }

    def sft_row(self, s: rules.SftDraft, prompt_id: int, split: str) -> dict[str, Any]:
        return {
            "row_id": str(s.label_id),
            "split": split,
            **self._prompt(prompt_id),
            "completion": s.completion,
            "item_id": s.item_id,
            "label_id": s.label_id,
            "annotator_id": s.annotator_id,
            "original_candidate_id": s.original_candidate_id,
        }


def _raw_row(kind: TaskKind, item: ItemGroup, lab: Any, split: str) -> dict[str, Any]:
    return {
        "label_id": lab.label_id,
        "split": split,
        "item_id": item.item_id,
        "prompt_id": item.prompt_id,
        "annotator_id": lab.user_id,
        "is_gold": item.is_gold,
        "task_kind": kind.value,
        "candidate_ids": json.dumps(item.candidate_ids),
        "answer": json.dumps(lab.answer, sort_keys=True) if lab.answer is not None else None,
        "flags": json.dumps(lab.flags),
        "rationale": lab.rationale,
        "rewrite": lab.rewrite,
        "time_spent_ms": lab.time_spent_ms,
        "created_at": lab.created_at,
        "updated_at": lab.updated_at,
    }


class _PartWriters:
    """One Parquet file per (table, split) while building; joined in split order at the end."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.writers: dict[tuple[str, str], pq.ParquetWriter] = {}
        self.counts: dict[tuple[str, str], int] = {}

    def add(self, table: str, split: str, row: dict[str, Any]) -> None:
        key = (table, split)
        buf = self.rows.setdefault(key, [])
        buf.append(row)
        if len(buf) >= WRITE_BATCH:
            self._flush(key)

    def _flush(self, key: tuple[str, str]) -> None:
        buf = self.rows.get(key)
        if not buf:
            return
        if key not in self.writers:
            self.writers[key] = pq.ParquetWriter(self._part(key), TABLES[key[0]])
        self.writers[key].write_batch(pa.RecordBatch.from_pylist(buf, schema=TABLES[key[0]]))
        self.counts[key] = self.counts.get(key, 0) + len(buf)
        self.rows[key] = []

    def _part(self, key: tuple[str, str]) -> Path:
        return self.out_dir / f".{key[0]}.{key[1]}.parquet"

    def join(self, table: str, digest: Any) -> dict[str, int]:
        """Write ``<table>.parquet`` from the split parts in order, hashing each row; return counts per split."""
        schema = TABLES[table]
        digest.update(f"\n#table {table}\n".encode())
        with pq.ParquetWriter(self.out_dir / f"{table}.parquet", schema) as out:
            for split in SPLITS:
                key = (table, split)
                self._flush(key)
                if key not in self.writers:
                    continue
                self.writers.pop(key).close()
                # Without these, pyarrow keeps every column chunk it read until close: memory grows with the file.
                part = pq.ParquetFile(self._part(key), pre_buffer=False, buffer_size=1 << 20)
                for batch in part.iter_batches(batch_size=WRITE_BATCH):
                    out.write_batch(batch)
                    for row in batch.to_pylist():
                        digest.update(json.dumps(row, sort_keys=True, default=str).encode())
                        digest.update(b"\n")
                part.close()
                self._part(key).unlink()
        return {split: self.counts.get((table, split), 0) for split in SPLITS}
