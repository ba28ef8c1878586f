"""Importing prompts and candidates over HTTP: formats, identity, items, all-or-nothing, limits, access."""

from __future__ import annotations

import json

import httpx
import pyarrow as pa
import pytest
from sqlalchemy import Engine, select

from app.auth.models import GlobalRole
from app.config import get_settings
from app.projects.models import ProjectRole
from app.prompts import service
from app.prompts.models import Prompt
from app.prompts.service import ROWS_PER_BATCH
from tests.app.prompts.helpers import counts, csv_bytes, jsonl, manager_project, parquet, upload
from tests.factories import add_member, auth, make_project, make_user


def _report(r: httpx.Response) -> dict:
    assert r.status_code == 200, r.text
    return r.json()


def _summary(r: httpx.Response) -> tuple[int, int, int, int, int]:
    """(rows, prompts_created, prompts_existing, candidates_created, items_created)"""
    report = _report(r)
    fields = ("rows", "prompts_created", "prompts_existing", "candidates_created", "items_created")
    return tuple(report[f] for f in fields)  # type: ignore[return-value]


def _prompts(client: httpx.Client, project_id: int, token: str) -> list[dict]:
    r = client.get(f"/api/projects/{project_id}/prompts", headers=auth(token))
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _detail(client: httpx.Client, project_id: int, prompt_id: int, token: str) -> dict:
    r = client.get(f"/api/projects/{project_id}/prompts/{prompt_id}", headers=auth(token))
    assert r.status_code == 200, r.text
    return r.json()


def test_jsonl_text_prompts_with_ids_metadata_and_candidates_build_pairs(app_client: httpx.Client) -> None:
    pid, token = manager_project(task_kind="pairwise")
    rows = [
        {
            "id": "q1",
            "prompt": "Why is the sky blue?",
            "metadata": {"source": "faq", "tags": ["physics"]},
            "split": "train",
            "candidates": [
                "Rayleigh scattering.",
                {"text": "Because of the sea.", "id": "c-sea", "metadata": {"model": "m1"}},
                "Blue light scatters more.",
            ],
        },
        {"id": 7, "prompt": "Name a prime.", "split": "test"},
    ]
    report = _report(upload(app_client, pid, token, "prompts.jsonl", jsonl(rows)))
    assert report == {
        "rows": 2,
        "prompts_created": 2,
        "prompts_existing": 0,
        "candidates_created": 3,
        "items_created": 3,  # pairwise, grouping 'all': 3 candidates -> 3 pairs
    }
    listed = _prompts(app_client, pid, token)
    assert [(p["external_id"], p["candidate_count"], p["split"]) for p in listed] == [
        ("q1", 3, "train"),
        ("7", 0, "test"),
    ]
    first = _detail(app_client, pid, listed[0]["id"], token)
    assert first["text"] == "Why is the sky blue?" and first["messages"] is None
    assert first["metadata"] == {"source": "faq", "tags": ["physics"]}
    by_text = {c["text"]: c for c in first["candidates"]}
    assert by_text["Because of the sea."]["external_id"] == "c-sea"
    assert by_text["Because of the sea."]["metadata"] == {"model": "m1"}
    assert by_text["Rayleigh scattering."]["external_id"] is None
    assert by_text["Rayleigh scattering."]["source"] == {"kind": "import"}


def test_chat_messages_and_rows_naming_the_same_prompt_again(app_client: httpx.Client, engine: Engine) -> None:
    pid, token = manager_project(task_kind="pairwise")
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hi."},
    ]
    rows = [
        {"external_id": "chat-1", "messages": messages, "candidates": ["Hi."]},
        {"prompt": "Other?", "candidates": ["x", "y"]},
        # The same prompt again (by id): only its new candidate is added; then a pair can be built.
        {"id": "chat-1", "messages": messages, "candidates": ["Hi.", "Hello!"]},
    ]
    report = _report(upload(app_client, pid, token, "chat.jsonl", jsonl(rows)))
    assert report["prompts_created"] == 2 and report["prompts_existing"] == 1
    assert report["candidates_created"] == 4 and report["items_created"] == 2
    assert counts(engine, pid) == (2, 4, 2)
    chat = next(p for p in _prompts(app_client, pid, token) if p["external_id"] == "chat-1")
    assert chat["messages"] == messages and chat["text"] is None and chat["candidate_count"] == 2
    # The unused one of text/messages is SQL NULL (not JSON 'null'), so queries can filter on it.
    with engine.connect() as conn:
        kinds = conn.execute(
            select(Prompt.text.is_(None), Prompt.messages.is_(None)).where(Prompt.project_id == pid).order_by(Prompt.id)
        ).all()
    assert [tuple(k) for k in kinds] == [(True, False), (False, True)]


def test_csv_with_candidate_columns_json_cells_and_an_unnamed_index_column(
    app_client: httpx.Client, engine: Engine
) -> None:
    pid, token = manager_project(task_kind="rating")
    messages = json.dumps([{"role": "user", "content": "Translate 'chat'."}])
    content = csv_bytes(
        ["", "id", "prompt", "messages", "metadata", "split", "candidate_1", "candidate_2", "candidate_10"],
        [
            ["0", "a", 'Hello, "world"\nsecond line', "", '{"lang": "en"}', "train", "one", "two", ""],
            ["1", "b", "", messages, "", "", "cat", "", "chat (fr)"],
            ["2", "", "No id, no candidates", "", "", "", "", "", ""],
        ],
    )
    report = _report(upload(app_client, pid, token, "data.csv", content))
    # Rating: one item per candidate.
    assert report == {
        "rows": 3,
        "prompts_created": 3,
        "prompts_existing": 0,
        "candidates_created": 4,
        "items_created": 4,
    }
    listed = _prompts(app_client, pid, token)
    assert listed[0]["text"] == 'Hello, "world"\nsecond line' and listed[0]["metadata"] == {"lang": "en"}
    assert listed[1]["messages"] == [{"role": "user", "content": "Translate 'chat'."}]
    assert listed[2]["external_id"].startswith("sha256:") and listed[2]["split"] is None
    assert [c["text"] for c in _detail(app_client, pid, listed[1]["id"], token)["candidates"]] == ["cat", "chat (fr)"]
    assert counts(engine, pid) == (3, 4, 4)


def test_parquet_with_struct_candidates_and_map_metadata(app_client: httpx.Client, engine: Engine) -> None:
    pid, token = manager_project(task_kind="ranking", candidates_per_item=3)
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("prompt", pa.string()),
            ("metadata", pa.map_(pa.string(), pa.string())),
            (
                "candidates",
                pa.list_(pa.struct([("text", pa.string()), ("id", pa.string())])),
            ),
        ]
    )
    rows = [
        {
            "id": 1,
            "prompt": "Rank these.",
            "metadata": [("origin", "parquet")],
            "candidates": [{"text": "a", "id": "x"}, {"text": "b", "id": None}, {"text": "c", "id": "z"}],
        },
        {"id": 2, "prompt": "No candidates.", "metadata": None, "candidates": None},
    ]
    assert _summary(upload(app_client, pid, token, "data.parquet", parquet(rows, schema))) == (2, 2, 0, 3, 1)
    listed = _prompts(app_client, pid, token)
    assert [p["external_id"] for p in listed] == ["1", "2"]
    assert listed[0]["metadata"] == {"origin": "parquet"}
    # The same file again changes nothing.
    again = _report(upload(app_client, pid, token, "data.parquet", parquet(rows, schema)))
    assert again["prompts_existing"] == 2 and again["candidates_created"] == again["items_created"] == 0
    assert counts(engine, pid) == (2, 3, 1)


def test_format_field_overrides_the_file_name(app_client: httpx.Client) -> None:
    pid, token = manager_project()
    report = _report(upload(app_client, pid, token, "export.txt", jsonl([{"prompt": "p"}]), fmt="jsonl"))
    assert report["prompts_created"] == 1
    r = upload(app_client, pid, token, "export.txt", jsonl([{"prompt": "p"}]))
    assert r.status_code == 422 and r.json()["field"] == "format"
    r = upload(app_client, pid, token, "export.jsonl", jsonl([{"prompt": "p"}]), fmt="xml")
    assert r.status_code == 422


def test_reimport_creates_nothing_new_and_adds_only_new_candidates(app_client: httpx.Client, engine: Engine) -> None:
    pid, token = manager_project(task_kind="pairwise")
    rows = [
        {"id": "p1", "prompt": "One?", "candidates": ["a", "b"]},
        {"prompt": "Two, without an id?", "candidates": ["c", {"text": "d", "id": "d1"}]},
        {"messages": [{"role": "user", "content": "Three?"}], "candidates": ["e", "f"]},
    ]
    assert _summary(upload(app_client, pid, token, "f.jsonl", jsonl(rows))) == (3, 3, 0, 6, 3)
    before = counts(engine, pid)
    assert _summary(upload(app_client, pid, token, "f.jsonl", jsonl(rows))) == (3, 0, 3, 0, 0)
    assert counts(engine, pid) == before == (3, 6, 3)
    # Same prompts, one new candidate text, one known id with changed text (still the same candidate).
    more = [
        {"id": "p1", "prompt": "One?", "candidates": ["a", "b", "g"]},
        {"prompt": "Two, without an id?", "candidates": [{"text": "d, edited", "id": "d1"}]},
    ]
    third = _report(upload(app_client, pid, token, "more.jsonl", jsonl(more)))
    assert third["prompts_created"] == 0 and third["candidates_created"] == 1
    assert third["items_created"] == 2  # g against a and b
    assert counts(engine, pid) == (3, 7, 5)


def test_one_bad_row_after_a_written_batch_changes_nothing(app_client: httpx.Client, engine: Engine) -> None:
    pid, token = manager_project(task_kind="pairwise")
    seed = jsonl([{"id": "keep", "prompt": "k", "candidates": ["1", "2"]}])
    assert _summary(upload(app_client, pid, token, "seed.jsonl", seed)) == (1, 1, 0, 2, 1)
    before = counts(engine, pid)
    bad_row = ROWS_PER_BATCH + 500  # past the first batch, so some rows were already written
    rows = [{"id": f"r{i}", "prompt": f"Prompt {i}", "candidates": ["x", "y"]} for i in range(1, ROWS_PER_BATCH + 1001)]
    rows[bad_row - 1] = {"id": f"r{bad_row}", "prompt": f"Prompt {bad_row}", "candidates": "not a list"}
    r = upload(app_client, pid, token, "big.jsonl", jsonl(rows))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "invalid" and "Nothing was imported" in body["detail"]
    assert body["errors"] == [{"row": bad_row, "field": "candidates", "message": "Input should be a valid list"}]
    assert counts(engine, pid) == before


def test_every_bad_row_is_listed_with_its_field_up_to_the_limit(
    app_client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid, token = manager_project()
    lines = [
        {"prompt": "fine"},
        {"prompt": "x", "colour": "red"},
        {"messages": [{"role": "robot", "content": "hi"}]},
        {"prompt": "x", "messages": [{"role": "user", "content": "hi"}]},
        {"prompt": "x", "candidates": [str(i) for i in range(65)]},
        {"prompt": "x" * 100_001},
        {"prompt": "x", "id": "i" * 257},
        {"prompt": "x", "candidates": [{"text": "t", "score": 1}]},
        {"prompt": "x", "metadata": {"note": "nul\u0000"}},
        {"prompt": "x", "metadata": ["not", "an", "object"]},
        {"prompt": "x", "id": "a", "external_id": "b"},
        {},
    ]
    r = upload(app_client, pid, token, "bad.jsonl", jsonl(lines))
    assert r.status_code == 422
    errors = {e["row"]: (e["field"], e["message"]) for e in r.json()["errors"]}
    assert 1 not in errors
    assert errors[2][0] == "colour" and "unknown field" in errors[2][1] and "prompt" in errors[2][1]
    assert errors[3][0] == "messages[0].role" and "'assistant'" in errors[3][1]
    assert errors[4] == ("prompt", "give either 'prompt' (text) or 'messages' (chat), not both")
    assert errors[5][0] == "candidates" and "64" in errors[5][1]
    assert errors[6][0] == "prompt" and "100000" in errors[6][1]
    assert errors[7][0] == "id" and "256" in errors[7][1]
    assert errors[8][0] == "candidates[0].score" and "text" in errors[8][1]
    assert errors[9][0] == "metadata" and "NUL" in errors[9][1]
    assert errors[10][0] == "metadata"
    assert errors[11] == ("external_id", "'id' and 'external_id' differ; give one of them")
    assert errors[12][0] == "prompt" and "neither" in errors[12][1]

    monkeypatch.setattr(get_settings(), "import_error_limit", 3)
    r = upload(app_client, pid, token, "bad.jsonl", jsonl(lines))
    assert [e["row"] for e in r.json()["errors"]] == [2, 3, 4]
    assert "stopped after the first 3" in r.json()["detail"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bad.jsonl", b'{"prompt": "ok"}\n{"prompt": "caf\xe9"}\n', {"row": 2, "field": None}),
        ("bad.jsonl", b'{"prompt": "ok"}\n\n{"prompt": "unterminated\n', {"row": 3, "field": None}),
        ("bad.jsonl", b'{"prompt": "ok"}\n["a list"]\n', {"row": 2, "field": None}),
        ("bad.jsonl", b'{"prompt": "ok", "metadata": {"x": NaN}}\n', {"row": 1, "field": None}),
        ("bad.csv", b'prompt,metadata\nok,\n"caf\xe9",\n', {"row": 2, "field": None}),
        ("bad.csv", b"prompt,metadata\nok,{not json}\n", {"row": 1, "field": "metadata"}),
    ],
)
def test_unreadable_rows_are_listed(
    app_client: httpx.Client, engine: Engine, name: str, content: bytes, expected: dict
) -> None:
    pid, token = manager_project()
    r = upload(app_client, pid, token, name, content)
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert len(errors) == 1 and {k: errors[0][k] for k in expected} == expected
    assert errors[0]["message"].startswith(("not valid", "must be a JSON object"))
    assert counts(engine, pid) == (0, 0, 0)


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("x.parquet", b"PAR1 this is not parquet", "not a readable Parquet file"),
        ("x.parquet", b"", "not a readable Parquet file"),
        ("x.jsonl", b'[{"prompt": "a"}]\n', "JSON array"),
        ("x.jsonl", b"", "no rows"),
        ("x.jsonl", b"\n\n", "no rows"),
        ("x.csv", b"", "empty"),
        ("x.csv", b"prompt,answer,score\nq,a,1\n", "Unknown columns: answer, score"),
        ("x.csv", b"prompt,prompt\nq,q\n", "more than once"),
        ("x.csv", b"pr\xf6mpt\nq\n", "UTF-8"),
        ("x.parquet", None, "Unknown columns: answer"),
    ],
)
def test_unreadable_files_give_422(app_client: httpx.Client, name: str, content: bytes | None, needle: str) -> None:
    pid, token = manager_project()
    data = content if content is not None else parquet([{"prompt": "q", "answer": "a"}])
    r = upload(app_client, pid, token, name, data)
    assert r.status_code == 422, r.text
    assert needle in r.json()["detail"]


def test_upload_over_the_limit_gets_413(app_client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    pid, token = manager_project()
    monkeypatch.setattr(get_settings(), "max_upload_mb", 1)
    big = jsonl([{"prompt": "x" * 1000} for _ in range(1100)])
    r = upload(app_client, pid, token, "big.jsonl", big)
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    assert _report(upload(app_client, pid, token, "small.jsonl", big[:500_000].rsplit(b"\n", 1)[0]))["rows"] > 0

    # A chunked upload declares no length: the spooled file's size is checked instead.
    encoded = httpx.Request("POST", "/", files={"file": ("big.jsonl", big, "application/octet-stream")})
    body = encoded.read()
    r = app_client.post(
        f"/api/projects/{pid}/imports",
        content=iter([body[:1000], body[1000:]]),
        headers={**auth(token), "Content-Type": encoded.headers["Content-Type"]},
    )
    assert r.request.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in r.request.headers
    assert r.status_code == 413 and r.json()["code"] == "too_large"


def test_a_file_over_the_row_limit_gets_413_and_changes_nothing(
    app_client: httpx.Client, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid, token = manager_project(task_kind="pairwise")
    monkeypatch.setattr(get_settings(), "max_import_rows", ROWS_PER_BATCH + 10)
    rows = [{"id": f"r{i}", "prompt": f"Prompt {i}", "candidates": ["x", "y"]} for i in range(ROWS_PER_BATCH + 11)]
    r = upload(app_client, pid, token, "long.jsonl", jsonl(rows))  # one batch is written before the limit shows
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "too_large" and f"more than {ROWS_PER_BATCH + 10} rows" in r.json()["detail"]
    assert counts(engine, pid) == (0, 0, 0)
    assert upload(app_client, pid, token, "ok.jsonl", jsonl(rows[:-1])).status_code == 200


def test_who_may_import_and_read_prompts(app_client: httpx.Client) -> None:
    pid = make_project()
    annotator_id, annotator = make_user()
    add_member(pid, annotator_id, ProjectRole.annotator)
    _, stranger = make_user()
    _, admin = make_user(GlobalRole.admin)
    body = jsonl([{"prompt": "p"}])
    assert upload(app_client, pid, annotator, "p.jsonl", body).status_code == 403
    assert upload(app_client, pid, stranger, "p.jsonl", body).status_code == 404
    assert app_client.get(f"/api/projects/{pid}/prompts", headers=auth(annotator)).status_code == 403
    assert app_client.get(f"/api/projects/{pid}/prompts", headers=auth(stranger)).status_code == 404
    assert _report(upload(app_client, pid, admin, "p.jsonl", body))["prompts_created"] == 1
    prompt_id = _prompts(app_client, pid, admin)[0]["id"]
    assert app_client.get(f"/api/projects/{pid}/prompts/{prompt_id}", headers=auth(annotator)).status_code == 403
    other = make_project()
    assert app_client.get(f"/api/projects/{other}/prompts/{prompt_id}", headers=auth(admin)).status_code == 404


def test_archived_project_refuses_imports(app_client: httpx.Client) -> None:
    pid, token = manager_project()
    assert app_client.patch(f"/api/projects/{pid}", json={"archived": True}, headers=auth(token)).status_code == 200
    r = upload(app_client, pid, token, "p.jsonl", jsonl([{"prompt": "p"}]))
    assert r.status_code == 409


def test_prompt_pages_follow_the_cursor(app_client: httpx.Client) -> None:
    pid, token = manager_project()
    _report(upload(app_client, pid, token, "p.jsonl", jsonl([{"id": f"p{i}", "prompt": f"{i}"} for i in range(5)])))
    seen: list[str] = []
    after = 0
    while True:
        r = app_client.get(f"/api/projects/{pid}/prompts", params={"after": after, "limit": 2}, headers=auth(token))
        page = r.json()
        seen += [p["external_id"] for p in page["items"]]
        if page["next_cursor"] is None:
            break
        after = page["next_cursor"]
    assert seen == [f"p{i}" for i in range(5)]


def test_planner_statistics_are_refreshed_inside_the_import(
    app_client: httpx.Client, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL this runs ANALYZE after every batch inside the import's transaction (a no-op on SQLite).
    monkeypatch.setattr(service._PlannerStats, "FIRST_AT", 1)
    monkeypatch.setattr(service, "ROWS_PER_BATCH", 2)
    pid, token = manager_project(task_kind="pairwise")
    rows = [{"id": f"p{i % 3}", "prompt": f"{i % 3}", "candidates": [f"a{i}", "b"]} for i in range(7)]
    assert _summary(upload(app_client, pid, token, "p.jsonl", jsonl(rows))) == (7, 3, 4, 10, 12)  # pairs: 6 + 3 + 3
    assert counts(engine, pid) == (3, 10, 12)
