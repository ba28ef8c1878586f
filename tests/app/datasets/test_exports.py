"""Snapshot exports without a database: every layout in every format, read back and compared exactly.

``write_snapshot`` builds a small snapshot folder (also used by tests/workers/ml/test_trl_formats.py).
"""

from __future__ import annotations

import csv
import io
import json
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.datasets import exports
from app.datasets.exports import content_type_for, file_name_for, iter_export, iter_tar, write_datasets_dir
from app.datasets.schema import PAIRS, RAW, SFT, SPLITS
from app.errors import InvalidInput, NotFound

Row = dict[str, Any]

# Quotes, backslashes, newlines, tabs, non-Latin scripts, an emoji, U+2028 and HTML: what breaks encoders.
TEXTS = [
    'Say "hi"\nplease',
    "Ünïcödé — 日本語 ✓",
    "back\\slash\ttab",
    "emoji 😀 </script>",
    "line\r\nbreak\u2028sep",
    "a plain answer",
]
T0 = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def _messages(i: int, question: str) -> list[dict[str, str]]:
    user = {"role": "user", "content": question}
    return [{"role": "system", "content": "You are terse."}, user] if i % 2 == 0 else [user]


def make_rows(per_split: dict[str, int]) -> dict[str, list[Row]]:
    """Rows of pairs, sft and raw: ``per_split`` rows per split, ordered by split then prompt.

    The second train pair is a tie; even-numbered prompts are chats with a system and a user message.
    """
    pairs: list[Row] = []
    sft: list[Row] = []
    raw: list[Row] = []
    n = 0
    for split in SPLITS:
        for i in range(per_split.get(split, 0)):
            n += 1
            question = f"Q{n}: {TEXTS[n % len(TEXTS)]}"
            messages = _messages(n, question)
            flat = "\n".join(f"{m['role']}: {m['content']}" for m in messages) if len(messages) > 1 else question
            tie = split == "train" and i == 1
            common = {"prompt_id": n, "prompt_external_id": f"ext-{n}" if n % 3 else None, "prompt": flat}
            common["prompt_messages"] = json.dumps(messages)
            pairs.append(
                {"pair_id": f"{n}:{2 * n}>{2 * n + 1}", "split": split, **common}
                | {"chosen": f"good {TEXTS[(n + 1) % len(TEXTS)]}", "rejected": f"bad {TEXTS[(n + 2) % len(TEXTS)]}"}
                | {"margin": 0.0 if tie else 0.25 * n, "tie": tie, "source": "pairwise", "item_id": 100 + n}
                | {"chosen_candidate_id": 2 * n, "rejected_candidate_id": 2 * n + 1}
                | {"chosen_model_version_id": 1, "rejected_model_version_id": None, "annotator_id": None}
                | {"n_annotators": 2, "agreement": None if n % 2 else 0.5, "adjudicated": n % 4 == 0}
            )
            sft.append(
                {"row_id": str(500 + n), "split": split, **common, "completion": f"fixed {TEXTS[n % len(TEXTS)]}"}
                | {"item_id": 100 + n, "label_id": 500 + n, "annotator_id": 7, "original_candidate_id": None}
            )
            raw.append(
                {"label_id": 500 + n, "split": split, "item_id": 100 + n, "prompt_id": n, "annotator_id": 7}
                | {"is_gold": False, "task_kind": "pairwise", "candidate_ids": json.dumps([2 * n, 2 * n + 1])}
                | {"answer": None if n % 5 == 0 else json.dumps({"choice": 2 * n}), "flags": "[]"}
                | {"rationale": TEXTS[n % len(TEXTS)], "rewrite": None, "time_spent_ms": 1000 * n}
                | {"created_at": T0 + timedelta(minutes=n), "updated_at": T0 + timedelta(minutes=n, seconds=1)}
            )
    return {"pairs": pairs, "sft": sft, "raw": raw}


def write_snapshot(directory: Path, per_split: dict[str, int] | None = None) -> dict[str, list[Row]]:
    """Write a snapshot folder (small row groups, so split pruning is exercised); returns its rows."""
    rows = make_rows(per_split or {"train": 5, "validation": 2, "test": 2})
    directory.mkdir(parents=True, exist_ok=True)
    for name, schema in (("pairs", PAIRS), ("sft", SFT), ("raw", RAW)):
        pq.write_table(pa.Table.from_pylist(rows[name], schema=schema), directory / f"{name}.parquet", row_group_size=2)
    (directory / "manifest.json").write_text(json.dumps({"content_hash": "x"}))
    return rows


def expected(rows: dict[str, list[Row]], layout: str, **opts: Any) -> list[Row]:
    """What an export must hold, computed straight from the rows."""
    split, with_margin, include_ties = opts.get("split"), opts.get("with_margin"), opts.get("include_ties")
    source = "sft" if layout.startswith("sft") else "raw" if layout == "raw" else "pairs"
    selected = [r for r in rows[source] if split is None or r["split"] == split]
    if layout in ("pairs", "raw"):
        return selected
    conversational = layout.endswith("conversational")

    def answer(text: str) -> Any:
        return [{"role": "assistant", "content": text}] if conversational else text

    out = []
    for r in selected:
        if source == "pairs" and r["tie"] and not include_ties:
            continue
        row = {"prompt": json.loads(r["prompt_messages"]) if conversational else r["prompt"]}
        row |= {"completion": answer(r["completion"])} if source == "sft" else {}
        row |= {"chosen": answer(r["chosen"]), "rejected": answer(r["rejected"])} if source == "pairs" else {}
        row |= {"margin": 0.0 if r["tie"] else r["margin"]} if with_margin else {}
        out.append(row | ({"split": r["split"]} if split is None else {}))
    return out


def _from_text(text: Any, like: Any) -> Any:
    """A JSON or CSV value read back as the Python type of the expected one."""
    if isinstance(like, datetime):
        return datetime.fromisoformat(text)
    if not isinstance(text, str) or isinstance(like, str):  # JSON already typed it
        return text
    if like is None:
        return None if text == "" else text
    if isinstance(like, bool):
        return {"true": True, "false": False}[text]
    if isinstance(like, (int, float)):
        return type(like)(text)
    return json.loads(text)  # chat messages: JSON text in CSV


def read_back(fmt: str, data: bytes, want: list[Row]) -> list[Row]:
    if fmt == "parquet":
        table: list[Row] = pq.read_table(io.BytesIO(data)).to_pylist()
        return table
    if fmt == "jsonl":
        assert data == b"" or data.endswith(b"\n")
        parsed = [json.loads(line) for line in data.split(b"\n")[:-1]]
    else:
        parsed = list(csv.DictReader(io.StringIO(data.decode(), newline="")))
    assert len(parsed) == len(want)
    return [{k: _from_text(v, w.get(k)) for k, v in p.items()} for p, w in zip(parsed, want, strict=True)]


def export(snapshot: Path, layout: str, fmt: str, **opts: Any) -> bytes:
    return b"".join(iter_export(snapshot, layout, fmt, **opts))


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[Row]]]:
    directory = tmp_path_factory.mktemp("snapshot")
    return directory, write_snapshot(directory)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
@pytest.mark.parametrize("layout", exports.LAYOUTS)
@pytest.mark.parametrize("split", [None, "train", "validation"])
def test_every_layout_and_format_round_trips(
    snapshot: tuple[Path, dict[str, list[Row]]], layout: str, fmt: str, split: str | None
) -> None:
    directory, rows = snapshot
    want = expected(rows, layout, split=split)
    data = export(directory, layout, fmt, split=split)
    got = read_back(fmt, data, want)
    assert got == want
    assert fmt != "jsonl" or data.isascii()  # non-ASCII is escaped, so U+2028 cannot split a line anywhere
    assert all(list(g) == list(w) for g, w in zip(got, want, strict=True))  # column order too
    assert want, "every case exports some rows"


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
@pytest.mark.parametrize("layout", ["preference", "preference_conversational"])
def test_ties_are_dropped_unless_asked_and_margin_only_when_asked(
    snapshot: tuple[Path, dict[str, list[Row]]], layout: str, fmt: str
) -> None:
    directory, rows = snapshot
    plain = read_back(fmt, export(directory, layout, fmt, split="train"), expected(rows, layout, split="train"))
    assert len(plain) == 4 and all("margin" not in r for r in plain)  # 5 train pairs, one a tie
    opts: dict[str, Any] = {"split": "train", "with_margin": True, "include_ties": True}
    want = expected(rows, layout, **opts)
    got = read_back(fmt, export(directory, layout, fmt, **opts), want)
    assert got == want and len(got) == 5
    assert got[1]["margin"] == 0.0 and [r["margin"] for r in got[2:]] == [0.75, 1.0, 1.25]
    assert all(type(r["margin"]) is float for r in got)  # 1.0, not 1: a JSON reader must not infer int64


def test_parquet_types_and_conversational_shape(snapshot: tuple[Path, dict[str, list[Row]]]) -> None:
    directory, _ = snapshot
    table = pq.read_table(io.BytesIO(export(directory, "preference_conversational", "parquet", with_margin=True)))
    messages = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
    assert table.schema.types == [messages, messages, messages, pa.float64(), pa.string()]
    prompts = table.column("prompt").to_pylist()
    assert [len(p) for p in prompts] == [1, 1, 2, 1, 2, 1, 2, 1]  # ties left out; chats are system + user
    assert prompts[2][0] == {"role": "system", "content": "You are terse."}
    raw = pq.read_table(io.BytesIO(export(directory, "raw", "parquet")))
    assert raw.schema.types == RAW.types


def test_streams_batch_by_batch(snapshot: tuple[Path, dict[str, list[Row]]], monkeypatch: pytest.MonkeyPatch) -> None:
    directory, rows = snapshot
    monkeypatch.setattr(exports, "BATCH_ROWS", 2)
    chunks = list(iter_export(directory, "preference", "jsonl"))
    assert len(chunks) > 3 and all(c.count(b"\n") <= 2 for c in chunks)
    parquet_chunks = list(iter_export(directory, "sft", "parquet"))
    assert len(parquet_chunks) > 3
    assert pq.read_table(io.BytesIO(b"".join(parquet_chunks))).num_rows == len(rows["sft"])
    assert pq.ParquetFile(io.BytesIO(b"".join(parquet_chunks))).num_row_groups == 5  # one per batch


def test_empty_selection_still_gives_a_valid_file(tmp_path: Path) -> None:
    write_snapshot(tmp_path, {"train": 3})
    assert export(tmp_path, "preference", "jsonl", split="test") == b""
    assert export(tmp_path, "sft", "csv", split="test") == b'"prompt","completion"\n'
    assert pq.read_table(io.BytesIO(export(tmp_path, "pairs", "parquet", split="test"))).schema.names == PAIRS.names


def _datasets_split(folder: Path) -> tuple[list[Row], dict[str, Any], dict[str, Any]]:
    with pa.ipc.open_stream(folder / "data-00000-of-00001.arrow") as reader:
        table = reader.read_all()
    info = json.loads((folder / "dataset_info.json").read_text())
    state = json.loads((folder / "state.json").read_text())
    assert state["_data_files"] == [{"filename": "data-00000-of-00001.arrow"}]
    assert json.loads(table.schema.metadata[b"huggingface"])["info"]["features"] == info["features"]
    return table.to_pylist(), info, state


def test_datasets_dir_one_split_and_dict(snapshot: tuple[Path, dict[str, list[Row]]], tmp_path: Path) -> None:
    directory, rows = snapshot
    write_datasets_dir(directory, "preference_conversational", tmp_path / "one", split="train", with_margin=True)
    got, info, state = _datasets_split(tmp_path / "one")
    assert got == expected(rows, "preference_conversational", split="train", with_margin=True)
    assert state["_split"] == "train" and not (tmp_path / "one" / "dataset_dict.json").exists()
    message = {"role": {"dtype": "string", "_type": "Value"}, "content": {"dtype": "string", "_type": "Value"}}
    assert info["features"]["prompt"] == {"feature": message, "_type": "List"}
    assert info["features"]["margin"] == {"dtype": "float64", "_type": "Value"}

    write_datasets_dir(directory, "sft", tmp_path / "all")
    assert json.loads((tmp_path / "all" / "dataset_dict.json").read_text()) == {"splits": list(SPLITS)}
    for split in SPLITS:
        got, info, state = _datasets_split(tmp_path / "all" / split)
        assert got == [{k: v for k, v in r.items() if k != "split"} for r in expected(rows, "sft", split=split)]
        assert state["_split"] == split and list(info["features"]) == ["prompt", "completion"]


def test_datasets_dict_leaves_out_empty_splits(tmp_path: Path) -> None:
    write_snapshot(tmp_path / "snap", {"train": 3, "test": 1})
    write_datasets_dir(tmp_path / "snap", "raw", tmp_path / "out")
    assert json.loads((tmp_path / "out" / "dataset_dict.json").read_text()) == {"splits": ["train", "test"]}
    assert not (tmp_path / "out" / "validation").exists()
    _, info, _ = _datasets_split(tmp_path / "out" / "train")
    assert info["features"]["created_at"] == {"dtype": "timestamp[us, tz=UTC]", "_type": "Value"}
    assert info["features"]["is_gold"] == {"dtype": "bool", "_type": "Value"}
    write_datasets_dir(tmp_path / "snap", "preference", tmp_path / "empty", split="validation")
    assert _datasets_split(tmp_path / "empty")[0] == []


def test_tar_streams_the_directory(snapshot: tuple[Path, dict[str, list[Row]]], tmp_path: Path) -> None:
    directory, _ = snapshot
    write_datasets_dir(directory, "preference", tmp_path / "ds")
    data = b"".join(iter_tar(tmp_path / "ds", "snapshot-3-preference"))
    assert len(data) % tarfile.RECORDSIZE == 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        names = tar.getnames()
        assert "snapshot-3-preference/dataset_dict.json" in names
        assert "snapshot-3-preference/train/data-00000-of-00001.arrow" in names
        member = tar.extractfile("snapshot-3-preference/train/state.json")
        assert member is not None and member.read() == (tmp_path / "ds" / "train" / "state.json").read_bytes()


@pytest.mark.parametrize(
    ("layout", "fmt", "opts", "field"),
    [
        ("prefs", "jsonl", {}, "layout"),
        ("preference", "xml", {}, "format"),
        ("preference", "datasets", {}, "format"),
        ("preference", "jsonl", {"split": "dev"}, "split"),
        ("sft", "jsonl", {"with_margin": True}, "with_margin"),
        ("raw", "csv", {"include_ties": True}, "include_ties"),
    ],
)
def test_bad_arguments_fail_before_streaming(
    snapshot: tuple[Path, dict[str, list[Row]]], layout: str, fmt: str, opts: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        iter_export(snapshot[0], layout, fmt, **opts)  # no next(): raised at the call
    assert caught.value.field == field and field.split("_")[0] in caught.value.detail.lower()


def test_check_options_is_what_the_api_calls_first() -> None:
    exports.check_options("preference", "datasets", split="train", with_margin=True, include_ties=True)
    exports.check_options("pairs", "csv")
    with pytest.raises(InvalidInput) as caught:
        exports.check_options("sft_conversational", "parquet", include_ties=True)
    assert caught.value.field == "include_ties"


def test_missing_table_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        iter_export(tmp_path, "sft", "jsonl")
    with pytest.raises(InvalidInput):
        write_datasets_dir(tmp_path, "preference", tmp_path / "out", split="nope")


def test_download_names_and_types() -> None:
    assert file_name_for(12, "preference", "jsonl", "train") == "snapshot-12-preference-train.jsonl"
    assert file_name_for(12, "sft", "datasets", None) == "snapshot-12-sft.tar"
    assert content_type_for("parquet") == "application/vnd.apache.parquet"
    assert content_type_for("datasets") == "application/x-tar"
    with pytest.raises(InvalidInput):
        content_type_for("zip")
