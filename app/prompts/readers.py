"""Read an import file one row at a time (JSON Lines, CSV, Parquet), never the whole file at once.

Readers only turn bytes into plain dicts with a row number; what a row may contain is checked by
``ImportRow``. Problems that belong to one row (a line that is not UTF-8 or not JSON) travel with that
row so the import can list them all; problems with the file as a whole raise ``InvalidInput``.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from app.errors import InvalidInput
from app.prompts.schemas import MAX_CANDIDATES_PER_ROW, ROW_FIELDS, ImportFormat

MAX_LINE_BYTES = 64 * 1024 * 1024
"""Longest line (or CSV physical line) read; a row with 64 long candidates fits with room to spare."""
PARQUET_BATCH_ROWS = 2048
PARQUET_BUFFER_BYTES = 1 << 20
"""Read column chunks through a buffer of this size instead of whole: a row group can hold millions of rows."""
JSON_CELLS = ("messages", "metadata", "candidates")
"""Columns that hold JSON text in the flat formats (CSV, and Parquet string columns)."""
_CANDIDATE_COLUMN = re.compile(r"candidate_([1-9][0-9]*)")
_BOM = b"\xef\xbb\xbf"

# A CSV cell may hold a JSON list of up to 64 candidates of 100k characters each; the csv module's
# default limit (128 KiB) would refuse it. Raising a limit is harmless for the rest of the process.
csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))


@dataclass(frozen=True, slots=True)
class RowProblem:
    field: str | None
    message: str


@dataclass(frozen=True, slots=True)
class RawRow:
    number: int
    """1-based: the line for JSON Lines, the record after the header for CSV, the row for Parquet."""
    data: dict[str, Any]
    problems: tuple[RowProblem, ...] = ()


def read_rows(binary: BinaryIO, fmt: ImportFormat) -> Iterator[RawRow]:
    if fmt == ImportFormat.jsonl:
        return read_jsonl(binary)
    if fmt == ImportFormat.csv:
        return read_csv(binary)
    return read_parquet(binary)


class _TextLines:
    """A binary file's lines decoded as UTF-8, one at a time.

    A line that is not UTF-8 is still yielded (with replacement characters, so CSV quoting stays in
    step) and remembered in ``bad``, for the reader to charge to the row that contains it.
    """

    def __init__(self, binary: BinaryIO) -> None:
        self._binary = binary
        self.number = 0
        self.bad: list[str] = []

    def __iter__(self) -> Iterator[str]:
        while raw := self._binary.readline(MAX_LINE_BYTES + 1):
            self.number += 1
            if len(raw) > MAX_LINE_BYTES:
                raise InvalidInput(f"Line {self.number} is longer than {MAX_LINE_BYTES // 2**20} MiB.", field="file")
            if self.number == 1:
                raw = raw.removeprefix(_BOM)
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.bad.append(f"not valid UTF-8 (byte {exc.start + 1} of line {self.number})")
                yield raw.decode("utf-8", "replace")

    def take_problems(self) -> tuple[RowProblem, ...]:
        problems = tuple(RowProblem(None, message) for message in self.bad)
        self.bad.clear()
        return problems


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# One decoder for all rows: ``json.loads`` with an option builds a new one per call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def _parse_json(text: str) -> Any:
    """Strict JSON: no NaN or Infinity, which no JSON column can store."""
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def read_jsonl(binary: BinaryIO) -> Iterator[RawRow]:
    lines = _TextLines(binary)
    seen_data = False
    for text in lines:
        number = lines.number
        problems = lines.take_problems()
        if problems:
            yield RawRow(number, {}, problems)
            continue
        if not text.strip():
            continue
        if not seen_data and text.lstrip().startswith("["):
            raise InvalidInput(
                "The file looks like a JSON array; an import reads JSON Lines (one object per line).", field="file"
            )
        seen_data = True
        yield _json_line(number, text)


def _json_line(number: int, text: str) -> RawRow:
    try:
        value = _parse_json(text)
    except ValueError as exc:
        return RawRow(number, {}, (RowProblem(None, f"not valid JSON: {exc}"),))
    if not isinstance(value, dict):
        return RawRow(number, {}, (RowProblem(None, f"must be a JSON object, not {type(value).__name__}"),))
    # null means "not given", as an empty cell does in CSV and a null in Parquet.
    return RawRow(number, {k: v for k, v in value.items() if v is not None})


def read_csv(binary: BinaryIO) -> Iterator[RawRow]:
    lines = _TextLines(binary)
    records = csv.reader(lines)
    number = 0
    try:
        header = next(records, None)
        if header is None:
            raise InvalidInput("The file is empty.", field="file")
        if lines.bad:
            raise InvalidInput(f"The header row is {lines.bad[0]}.", field="file")
        columns = _csv_columns(header)
        for cells in records:
            number += 1
            problems = lines.take_problems()
            if problems:
                yield RawRow(number, {}, problems)
            elif any(cell.strip() for cell in cells):
                yield _csv_record(number, columns, cells)
    except csv.Error as exc:
        raise InvalidInput(f"Malformed CSV near data row {number + 1}: {exc}.", field="file") from None


def _csv_columns(header: list[str]) -> list[str]:
    """Column names in order; '' for unnamed columns, which are ignored (a spreadsheet's or pandas' index)."""
    columns = [name.strip() for name in header]
    named = [name for name in columns if name]
    duplicates = sorted({name for name in named if named.count(name) > 1})
    if duplicates:
        raise InvalidInput(f"Columns appear more than once: {', '.join(duplicates)}.", field="file")
    check_columns(named)
    return columns


def check_columns(names: list[str]) -> None:
    """Refuse a flat file (CSV, Parquet) with columns an import would not read, naming them."""
    unknown = [name for name in names if name not in ROW_FIELDS and not _candidate_number(name)]
    if unknown:
        raise InvalidInput(
            f"Unknown columns: {', '.join(unknown)}. Allowed: {', '.join(ROW_FIELDS)}, "
            f"candidate_1 ... candidate_{MAX_CANDIDATES_PER_ROW}.",
            field="file",
        )


def _candidate_number(name: str) -> int | None:
    match = _CANDIDATE_COLUMN.fullmatch(name)
    if match is None or int(match.group(1)) > MAX_CANDIDATES_PER_ROW:
        return None
    return int(match.group(1))


def _csv_record(number: int, columns: list[str], cells: list[str]) -> RawRow:
    if any(cell.strip() for cell in cells[len(columns) :]):
        problem = RowProblem(None, f"has {len(cells)} cells but the header names {len(columns)} columns")
        return RawRow(number, {}, (problem,))
    # Cells past the end of a short record are empty; unnamed columns are ignored.
    return flat_row(number, {name: cell for name, cell in zip(columns, cells, strict=False) if name})


def flat_row(number: int, record: dict[str, Any]) -> RawRow:
    """A CSV or Parquet record as a row: empty cells dropped, JSON cells decoded, candidate_N columns gathered."""
    data: dict[str, Any] = {}
    numbered: list[tuple[int, Any]] = []
    problems: list[RowProblem] = []
    for name, value in record.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        position = _candidate_number(name)
        if position is not None:
            numbered.append((position, value))
        elif name in JSON_CELLS and isinstance(value, str):
            try:
                data[name] = _parse_json(value)
            except ValueError as exc:
                problems.append(RowProblem(name, f"not valid JSON: {exc}"))
        else:
            data[name] = value
    if numbered:
        listed = data.get("candidates", [])
        extra = [value for _, value in sorted(numbered, key=lambda pair: pair[0])]
        data["candidates"] = [*listed, *extra] if isinstance(listed, list) else listed
    return RawRow(number, data, tuple(problems))


def read_parquet(binary: BinaryIO) -> Iterator[RawRow]:
    try:
        parquet = pq.ParquetFile(binary, buffer_size=PARQUET_BUFFER_BYTES, pre_buffer=False)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InvalidInput(f"The file is not a readable Parquet file: {exc}", field="file") from None
    check_columns(list(parquet.schema_arrow.names))
    return _parquet_rows(parquet)


def _parquet_rows(parquet: pq.ParquetFile) -> Iterator[RawRow]:
    number = 0
    batches = parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS)
    while True:
        try:
            batch = next(batches, None)
            if batch is None:
                return
            # Map columns become dicts (metadata as a map<string, string> is common).
            records = batch.to_pylist(maps_as_pydicts="strict")
        except (pa.ArrowException, OSError, ValueError, KeyError) as exc:
            raise InvalidInput(f"Parquet rows after row {number} cannot be read: {exc}", field="file") from None
        for record in records:
            number += 1
            yield flat_row(number, record)
