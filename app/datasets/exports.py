"""Exports of a snapshot folder (see ``schema.py``) in the formats trainers read, streamed batch by batch.

Layouts (which columns come out):

    preference                 prompt, chosen, rejected strings (+ margin): TRL's standard preference format
    preference_conversational  prompt = chat messages, chosen/rejected = [one assistant message] (+ margin)
    sft                        prompt, completion strings: TRL's prompt-completion format
    sft_conversational         prompt = chat messages, completion = [one assistant message]
    pairs, raw                 every column of pairs.parquet / raw.parquet, for analysis

Formats: ``jsonl``, ``csv`` and ``parquet`` stream as bytes from :func:`iter_export`; ``datasets`` is a
Hugging Face ``save_to_disk`` directory written by :func:`write_datasets_dir` (without importing
``datasets``: the API must not depend on the ML stack) and sent as a tar by :func:`iter_tar`.
Source Parquet is read with ``iter_batches``, so memory stays flat however many rows a snapshot holds.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from app.datasets.memory import use_returning_pool
from app.datasets.schema import PAIRS, RAW, SPLITS
from app.errors import InvalidInput, NotFound

use_returning_pool()

LAYOUTS = ("preference", "preference_conversational", "sft", "sft_conversational", "pairs", "raw")
FORMATS = ("jsonl", "csv", "parquet", "datasets")
# Rows per batch: small enough that a batch of long completions stays a few tens of MB.
BATCH_ROWS = 8192

MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
Kind = Literal["plain", "messages", "assistant"]  # as stored | JSON messages text | text -> [assistant msg]


@dataclass(frozen=True)
class Column:
    """One output column: its name, the source column it comes from, and how it is shaped."""

    name: str
    source: str
    kind: Kind = "plain"


def _plain(*names: str) -> list[Column]:
    return [Column(n, n) for n in names]


_PREFERENCE = {
    "preference": _plain("prompt", "chosen", "rejected"),
    "preference_conversational": [
        Column("prompt", "prompt_messages", "messages"),
        Column("chosen", "chosen", "assistant"),
        Column("rejected", "rejected", "assistant"),
    ],
}
_SFT = {
    "sft": _plain("prompt", "completion"),
    "sft_conversational": [
        Column("prompt", "prompt_messages", "messages"),
        Column("completion", "completion", "assistant"),
    ],
}
_ALL = {"pairs": _plain(*PAIRS.names), "raw": _plain(*RAW.names)}


def check_options(
    layout: str, fmt: str, *, split: str | None = None, with_margin: bool = False, include_ties: bool = False
) -> None:
    """Raise InvalidInput (naming the field) unless these export arguments fit together."""
    if layout not in LAYOUTS:
        raise InvalidInput(f"Unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}.", field="layout")
    if fmt not in FORMATS:
        raise InvalidInput(f"Unknown format {fmt!r}; expected one of {', '.join(FORMATS)}.", field="format")
    if split is not None and split not in SPLITS:
        raise InvalidInput(f"Unknown split {split!r}; expected one of {', '.join(SPLITS)}.", field="split")
    # Margins and ties exist only in pairs.parquet; silently ignoring the flags would hide a mistake.
    if with_margin and layout not in _PREFERENCE:
        raise InvalidInput(f"with_margin applies to the preference layouts, not {layout!r}.", field="with_margin")
    if include_ties and layout not in _PREFERENCE:
        raise InvalidInput(f"include_ties applies to the preference layouts, not {layout!r}.", field="include_ties")


def _columns(layout: str, *, with_margin: bool, split_column: bool) -> list[Column]:
    if layout in _ALL:
        return _ALL[layout]  # `split` is already one of them
    cols = list(_PREFERENCE.get(layout) or _SFT[layout])
    cols += _plain("margin") if with_margin else []
    return cols + (_plain("split") if split_column else [])


def _open_source(snapshot_dir: Path, layout: str) -> pq.ParquetFile:
    name = "sft" if layout in _SFT else "raw" if layout == "raw" else "pairs"
    path = Path(snapshot_dir) / f"{name}.parquet"
    if not path.is_file():
        raise NotFound(f"The snapshot has no {name}.parquet.")
    # pyarrow's defaults (pre_buffer, unbuffered reads) keep every column chunk read so far until the
    # file is closed: memory grew with the file. These keep it flat at about one batch.
    return pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)


def _row_groups(pf: pq.ParquetFile, split: str | None) -> list[int]:
    """Row groups that may hold ``split``: rows are ordered by split, so statistics skip most of the file."""
    groups = list(range(pf.num_row_groups))
    if split is None:
        return groups
    index = pf.schema_arrow.get_field_index("split")
    kept = []
    for i in groups:
        stats = pf.metadata.row_group(i).column(index).statistics
        if stats is None or not stats.has_min_max or stats.min <= split <= stats.max:
            kept.append(i)
    return kept


def _batches(
    pf: pq.ParquetFile, layout: str, columns: list[Column], split: str | None, include_ties: bool
) -> Iterator[pa.RecordBatch]:
    """Source batches with only the needed columns, filtered to ``split`` and (maybe) without ties."""
    ties = layout in _PREFERENCE  # a tie is no preference: left out, or kept with margin 0
    needed = {c.source for c in columns} | {"split"} | ({"tie"} if ties else set())
    names = [n for n in pf.schema_arrow.names if n in needed]
    for batch in pf.iter_batches(batch_size=BATCH_ROWS, row_groups=_row_groups(pf, split), columns=names):
        mask = pc.equal(batch["split"], split) if split is not None else None
        if ties and not include_ties:
            mask = pc.invert(batch["tie"]) if mask is None else pc.and_(mask, pc.invert(batch["tie"]))
        if mask is not None:
            batch = batch.filter(mask)
        if ties and include_ties and "margin" in names:
            margin = pc.if_else(batch["tie"], 0.0, batch["margin"])
            batch = batch.set_column(names.index("margin"), "margin", margin)
        if batch.num_rows:
            yield batch


# ------------------------------------------------------------------------------------------------ JSONL

_enc = encode_basestring_ascii  # C encoder: escapes one string ~10x faster than json.dumps of a dict per row


def _null_as_json(text: pa.Array) -> list[str]:
    values: list[str] = pc.fill_null(text, "null").to_pylist()
    return values


def _json_floats(arr: pa.Array) -> list[str]:
    """Floats as JSON numbers, vectorised: Arrow prints the shortest round-trip text, 4x faster than repr."""
    text = pc.cast(arr, pa.string())
    # "1" would read back as an integer (and make a whole column int64 in datasets' JSON loader): "1.0".
    text = pc.if_else(pc.match_substring_regex(text, "[.en]"), text, pc.binary_join_element_wise(text, ".0", ""))
    return _null_as_json(pc.if_else(pc.is_finite(arr), text, None))  # NaN and infinities have no JSON


def _json_values(arr: pa.Array, kind: Kind) -> Iterable[str]:
    """The JSON text of every value of ``arr`` (one column of a batch, converted to Python once)."""
    t = arr.type
    if kind == "messages":
        # Written by json.dumps, so embedded as it is; re-encoded only if it spans lines (not one JSONL line).
        return [v if "\n" not in v and "\r" not in v else json.dumps(json.loads(v)) for v in arr.to_pylist()]
    if pa.types.is_string(t):
        values = arr.to_pylist()
        return map(_enc, values) if arr.null_count == 0 else [_enc(v) if v is not None else "null" for v in values]
    if pa.types.is_floating(t):
        return _json_floats(arr)
    if pa.types.is_integer(t) or pa.types.is_boolean(t):
        return _null_as_json(pc.cast(arr, pa.string()))  # Arrow prints them as JSON does
    if pa.types.is_timestamp(t):
        return ["null" if v is None else f'"{v.isoformat()}"' for v in arr.to_pylist()]
    raise TypeError(f"no JSON encoding for column type {t}")


def _jsonl_template(columns: list[Column]) -> Callable[..., str]:
    """``str.format`` of one line; an assistant column's message wrapper is part of the template."""
    parts = []
    for c in columns:
        value = '[{{"role":"assistant","content":{}}}]' if c.kind == "assistant" else "{}"
        parts.append(json.dumps(c.name) + ":" + value)
    return ("{{" + ",".join(parts) + "}}\n").format


def _jsonl_chunks(batches: Iterator[pa.RecordBatch], columns: list[Column]) -> Iterator[bytes]:
    line = _jsonl_template(columns)
    for batch in batches:
        values = [_json_values(batch[c.source], c.kind) for c in columns]
        yield "".join(map(line, *values)).encode()


# -------------------------------------------------------------------------------------- Arrow-based


def _arrow_array(arr: pa.Array, kind: Kind, nested: bool) -> pa.Array:
    """One output column as Arrow: chat messages nested (Parquet, datasets) or as JSON text (CSV)."""
    if kind == "messages":
        return pa.array([json.loads(v) for v in arr.to_pylist()], type=MESSAGES) if nested else arr
    if kind == "assistant":
        if not nested:
            return pa.array([f'[{{"role": "assistant", "content": {v}}}]' for v in map(_enc, arr.to_pylist())])
        message = pa.StructArray.from_arrays([pa.repeat("assistant", len(arr)), arr], names=["role", "content"])
        return pa.ListArray.from_arrays(pa.array(range(len(arr) + 1), pa.int32()), message)
    return arr


def _arrow_schema(pf: pq.ParquetFile, columns: list[Column], nested: bool) -> pa.Schema:
    source = pf.schema_arrow
    fields = []
    for c in columns:
        type_ = source.field(c.source).type if c.kind == "plain" else MESSAGES if nested else pa.string()
        fields.append(pa.field(c.name, type_))  # nullable, as datasets writes them
    return pa.schema(fields)


def _arrow_batches(
    batches: Iterator[pa.RecordBatch], columns: list[Column], schema: pa.Schema, nested: bool
) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        arrays = [_arrow_array(batch[c.source], c.kind, nested) for c in columns]
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


class _Sink:
    """A write-only file that keeps what was written until drained, so Arrow writers can stream."""

    closed = False

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: Any) -> int:
        self._chunks.append(bytes(data))
        return len(self._chunks[-1])

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data, self._chunks = b"".join(self._chunks), []
        return data


def _writer_chunks(batches: Iterator[pa.RecordBatch], schema: pa.Schema, fmt: str) -> Iterator[bytes]:
    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema) if fmt == "parquet" else pcsv.CSVWriter(sink, schema)
    for batch in batches:
        writer.write_batch(batch)
        if chunk := sink.drain():
            yield chunk
    writer.close()  # Parquet's footer (or the CSV header of an empty export)
    yield sink.drain()


# ------------------------------------------------------------------------------------------ public API


def iter_export(
    snapshot_dir: Path,
    layout: str,
    fmt: str,
    *,
    split: str | None = None,
    with_margin: bool = False,
    include_ties: bool = False,
) -> Iterator[bytes]:
    """Stream one layout of a snapshot as ``jsonl``, ``csv`` or ``parquet`` bytes.

    ``split`` picks train/validation/test; None exports all rows with a ``split`` column. Ties are left
    out of the preference layouts unless ``include_ties`` (then with margin 0). Arguments are checked
    (InvalidInput, NotFound) when called, before the first chunk, so a caller can still answer an error.
    """
    check_options(layout, fmt, split=split, with_margin=with_margin, include_ties=include_ties)
    if fmt == "datasets":
        raise InvalidInput("The datasets format is a directory: use write_datasets_dir.", field="format")
    columns = _columns(layout, with_margin=with_margin, split_column=split is None)
    pf = _open_source(snapshot_dir, layout)  # opened now, so a missing file fails before streaming starts
    batches = _batches(pf, layout, columns, split, include_ties)
    if fmt == "jsonl":
        return _jsonl_chunks(batches, columns)
    nested = fmt == "parquet"  # CSV has no nested values: chat messages go out as JSON text
    schema = _arrow_schema(pf, columns, nested)
    return _writer_chunks(_arrow_batches(batches, columns, schema, nested), schema, fmt)


def _feature(t: pa.DataType) -> Any:
    """The ``datasets`` feature (as in dataset_info.json) of an Arrow type."""
    if pa.types.is_list(t):
        return {"feature": _feature(t.value_type), "_type": "List"}
    if pa.types.is_struct(t):
        return {t.field(i).name: _feature(t.field(i).type) for i in range(t.num_fields)}
    # datasets names types as Arrow does, except floats ("double" is "float64"); see _arrow_to_datasets_dtype.
    dtype = {"double": "float64", "float": "float32", "halffloat": "float16"}.get(str(t), str(t))
    return {"dtype": dtype, "_type": "Value"}


def _fingerprint(snapshot_dir: Path, *args: object) -> str:
    # Deterministic, so re-exporting the same snapshot the same way gives identical files.
    manifest = Path(snapshot_dir) / "manifest.json"
    digest = hashlib.sha256(manifest.read_bytes() if manifest.is_file() else str(snapshot_dir).encode())
    digest.update(json.dumps(args).encode())
    return digest.hexdigest()[:16]


def write_datasets_dir(
    snapshot_dir: Path,
    layout: str,
    out_dir: Path,
    *,
    split: str | None = None,
    with_margin: bool = False,
    include_ties: bool = False,
) -> None:
    """Write a Hugging Face ``load_from_disk`` directory into ``out_dir`` (new or empty).

    One split gives a ``Dataset``; ``split=None`` a ``DatasetDict`` of the splits that have rows, one
    sub-folder each (no ``split`` column: the splits are the dict's keys). Files are those of
    ``save_to_disk``: one Arrow IPC stream shard, ``dataset_info.json`` and ``state.json`` per split.
    """
    check_options(layout, "datasets", split=split, with_margin=with_margin, include_ties=include_ties)
    pf = _open_source(snapshot_dir, layout)
    columns = _columns(layout, with_margin=with_margin, split_column=False)
    schema = _arrow_schema(pf, columns, nested=True)
    features = {f.name: _feature(f.type) for f in schema}
    # datasets keeps the features in the Arrow schema's metadata too, as its ArrowWriter does.
    schema = schema.with_metadata({"huggingface": json.dumps({"info": {"features": features}})})
    out_dir = Path(out_dir)
    written = []
    for name in [split] if split is not None else SPLITS:
        # One pass per split: rows are ordered by split, so row-group statistics skip the others.
        folder = out_dir if split is not None else out_dir / name
        batches = _arrow_batches(_batches(pf, layout, columns, name, include_ties), columns, schema, nested=True)
        first = next(batches, None)
        if first is None and split is None:
            continue  # an empty split would only trip trainers; it is left out of the DatasetDict
        folder.mkdir(parents=True, exist_ok=True)
        with pa.ipc.new_stream(str(folder / _SHARD), schema) as writer:
            for batch in itertools.chain([first] if first is not None else [], batches):
                writer.write_batch(batch)
        _write_json(folder / "dataset_info.json", {"citation": "", "description": "", "features": features})
        fingerprint = _fingerprint(snapshot_dir, layout, name, with_margin, include_ties)
        _write_json(folder / "state.json", _state(name, fingerprint))
        written.append(name)
    if split is None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "dataset_dict.json").write_text(json.dumps({"splits": written}), encoding="utf-8")


_SHARD = "data-00000-of-00001.arrow"


def _state(split: str, fingerprint: str) -> dict[str, Any]:
    """``state.json`` as ``Dataset.save_to_disk`` writes it (no format set, one shard)."""
    return {
        "_data_files": [{"filename": _SHARD}],
        "_fingerprint": fingerprint,
        "_format_columns": None,
        "_format_kwargs": {},
        "_format_type": None,
        "_output_all_columns": False,
        "_split": split,
    }


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def iter_tar(directory: Path, arcname: str | None = None) -> Iterator[bytes]:
    """An uncompressed tar of ``directory`` (entries under ``arcname``, default its name), streamed.

    tarfile's ``w|`` mode would hold each whole file between yields; here tarfile writes each header
    and the body is copied in 1 MiB chunks, so memory stays flat for multi-GB Arrow shards.
    """
    root = Path(directory)
    base = arcname or root.name
    size = 0
    for path in [root, *sorted(root.rglob("*"))]:
        stat = path.stat()
        info = tarfile.TarInfo("/".join([base, *path.relative_to(root).parts]))
        info.mtime = int(stat.st_mtime)
        if path.is_dir():
            info.type, info.mode = tarfile.DIRTYPE, 0o755
        else:
            info.size, info.mode = stat.st_size, 0o644
        header = info.tobuf(tarfile.PAX_FORMAT)
        yield header
        size += len(header) + info.size + (-info.size % tarfile.BLOCKSIZE)
        if info.isfile():
            with path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    yield chunk
            yield tarfile.NUL * (-info.size % tarfile.BLOCKSIZE)
    # End of archive: two zero blocks, then padding to a whole record, as tarfile.close() writes.
    size += 2 * tarfile.BLOCKSIZE
    yield tarfile.NUL * (2 * tarfile.BLOCKSIZE + (-size % tarfile.RECORDSIZE))


def content_type_for(fmt: str) -> str:
    """The HTTP Content-Type of an export in ``fmt`` (``datasets`` is sent as a tar)."""
    types = {
        "jsonl": "application/x-ndjson",
        "csv": "text/csv; charset=utf-8",
        "parquet": "application/vnd.apache.parquet",
        "datasets": "application/x-tar",
    }
    if fmt not in types:
        raise InvalidInput(f"Unknown format {fmt!r}; expected one of {', '.join(FORMATS)}.", field="format")
    return types[fmt]


def file_name_for(snapshot_id: int | str, layout: str, fmt: str, split: str | None) -> str:
    """Download file name, e.g. ``snapshot-12-preference-train.jsonl`` or ``snapshot-12-sft.tar``."""
    extension = "tar" if fmt == "datasets" else fmt
    return f"snapshot-{snapshot_id}-{layout}{f'-{split}' if split else ''}.{extension}"
