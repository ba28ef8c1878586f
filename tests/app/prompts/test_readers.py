"""Readers turn bytes into numbered rows without the database: numbering, CSV details, file-level errors."""

from __future__ import annotations

import io
import json

import pytest

from app.errors import InvalidInput
from app.prompts import readers
from app.prompts.readers import RawRow, RowProblem, read_csv, read_jsonl, read_parquet
from app.prompts.schemas import ImportFormat
from app.prompts.service import resolve_format
from tests.app.prompts.helpers import parquet


def _csv(text: bytes) -> list[RawRow]:
    return list(read_csv(io.BytesIO(text)))


def test_jsonl_rows_are_numbered_by_line_and_nulls_mean_absent() -> None:
    rows = list(read_jsonl(io.BytesIO(b'\xef\xbb\xbf{"prompt": "a"}\n\n  \n{"prompt": "b", "id": null}\r\n')))
    assert [(r.number, r.data) for r in rows] == [(1, {"prompt": "a"}), (4, {"prompt": "b"})]


def test_jsonl_without_a_final_newline_and_deep_nesting() -> None:
    deep = b'{"prompt": "x", "metadata": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    rows = list(read_jsonl(io.BytesIO(b'{"prompt": "a"}\n' + deep)))
    assert rows[0].data == {"prompt": "a"}
    assert rows[1].problems == (RowProblem(None, "not valid JSON: nested too deeply"),)


def test_csv_numbers_records_not_lines_and_handles_crlf_and_bom() -> None:
    content = b'\xef\xbb\xbfprompt,split\r\n"two\r\nlines",train\r\n\r\nlast,\r\n'
    rows = _csv(content)
    assert [(r.number, r.data) for r in rows] == [
        (1, {"prompt": "two\r\nlines", "split": "train"}),
        (3, {"prompt": "last"}),
    ]


def test_csv_candidate_columns_are_ordered_by_number_and_appended_to_a_json_list() -> None:
    content = b'prompt,candidate_10,candidate_2,candidates\nq,ten,two,"[""listed""]"\n'
    assert _csv(content)[0].data == {"prompt": "q", "candidates": ["listed", "two", "ten"]}


def test_csv_short_records_are_padded_and_long_ones_refused() -> None:
    rows = _csv(b"prompt,split,id\nq\nq,train,1,surplus\nq,train,1,,\n")
    assert rows[0].data == {"prompt": "q"}
    assert rows[1].problems and "header names 3 columns" in rows[1].problems[0].message
    assert rows[2].data == {"prompt": "q", "split": "train", "id": "1"}


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"prompt\nbad\rcarriage\n", "Malformed CSV near data row 1"),
        (b"prompt,candidate_65\nq,a\n", "Unknown columns: candidate_65"),
        (b"prompt,Prompt\nq,a\n", "Unknown columns: Prompt"),
    ],
)
def test_csv_file_level_problems(content: bytes, needle: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        _csv(content)
    assert needle in exc.value.detail


def test_a_line_over_the_limit_is_refused_without_reading_it_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "MAX_LINE_BYTES", 64)
    with pytest.raises(InvalidInput) as exc:
        list(read_jsonl(io.BytesIO(b'{"prompt": "a"}\n{"prompt": "' + b"x" * 100 + b'"}\n')))
    assert "Line 2 is longer than" in exc.value.detail


def test_parquet_rows_come_in_batches_with_json_string_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "PARQUET_BATCH_ROWS", 3)
    rows = [
        {"prompt": f"p{i}", "metadata": json.dumps({"i": i}), "candidate_1": "a" if i % 2 else None} for i in range(7)
    ]
    read = list(read_parquet(io.BytesIO(parquet(rows))))
    assert [r.number for r in read] == list(range(1, 8))
    assert read[1].data == {"prompt": "p1", "metadata": {"i": 1}, "candidates": ["a"]}
    assert read[2].data == {"prompt": "p2", "metadata": {"i": 2}}


@pytest.mark.parametrize(
    ("fmt", "name", "expected"),
    [
        (None, "data.JSONL", ImportFormat.jsonl),
        (None, "data.ndjson", ImportFormat.jsonl),
        (None, "data.json", ImportFormat.jsonl),
        (None, "dir.v2/data.csv", ImportFormat.csv),
        (None, "x.pq", ImportFormat.parquet),
        ("parquet", "data.csv", ImportFormat.parquet),
        (".CSV", None, ImportFormat.csv),
        ("json", None, ImportFormat.jsonl),
    ],
)
def test_format_from_the_name_or_the_field(fmt: str | None, name: str | None, expected: ImportFormat) -> None:
    assert resolve_format(fmt, name) == expected


@pytest.mark.parametrize(("fmt", "name"), [(None, "data"), (None, None), ("xlsx", "data.csv"), (None, "data.tsv")])
def test_unknown_formats_are_refused(fmt: str | None, name: str | None) -> None:
    with pytest.raises(InvalidInput) as exc:
        resolve_format(fmt, name)
    assert exc.value.field == "format"
