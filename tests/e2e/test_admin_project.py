"""An admin sets up a project in the UI, imports data (a bad row first), adds an annotator and watches
progress move as labels come in over the API."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app.auth.models import GlobalRole
from app.db import session_scope
from app.prompts.models import Prompt
from tests.factories import auth, make_user

from .conftest import login, shot

GOOD_ROWS = [
    {
        "prompt": f"Explain recursion to a {who}.",
        "candidates": [f"Answer one for the {who}.", f"Answer two for the {who}."],
    }
    for who in ("child", "student", "programmer")
]


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _prompt_count(project_id: int) -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(Prompt).where(Prompt.project_id == project_id)) or 0)


def test_admin_creates_project_imports_and_watches_progress(page: Page, server: str, tmp_path: Path) -> None:
    _, admin_token = make_user(GlobalRole.admin, username="boss")
    _, annotator_token = make_user(username="lee")
    login(page, "boss")
    expect(page.get_by_role("link", name="Users")).to_be_visible()
    shot(page, "11-admin-no-projects")

    # Create a project; look at the rating rubric editor and the guidelines preview on the way.
    page.get_by_role("link", name="New project").click()
    page.get_by_label("Name").fill("Chatbot compare")
    page.get_by_role("radio", name="Rating: rubric scores").check()
    expect(page.get_by_role("group", name="Rubric criteria")).to_be_visible()
    page.get_by_role("button", name="Add a criterion").click()
    page.get_by_label("Name", exact=True).nth(2).fill("concise")
    page.get_by_label("Point names, low to high (optional, comma-separated)").nth(1).fill(
        "rambling, ok, tight, crisp, perfect"
    )
    shot(page, "12a-new-rating-project-rubric")
    page.get_by_role("radio", name="Pairwise: A or B").check()
    page.get_by_label("Overlap").fill("2")
    page.get_by_label("Guidelines (Markdown)").fill(
        "# Compare\n\nPick the **more helpful** answer.\n\n- Be fair\n- Be quick"
    )
    page.get_by_role("tab", name="Preview").click()
    expect(page.get_by_role("tabpanel").get_by_role("heading", name="Compare")).to_be_visible()
    shot(page, "12-new-project")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Chatbot compare")).to_be_visible()
    project_id = int(page.url.rstrip("/").split("/")[-2])
    assert page.url.endswith(f"/projects/{project_id}/data")

    # An import with one bad row: the row is named, nothing is imported.
    bad = _write_jsonl(tmp_path / "bad.jsonl", [GOOD_ROWS[0], {"prompt": "", "candidates": ["x", "y"]}, GOOD_ROWS[2]])
    page.get_by_label("File (JSONL, CSV or Parquet)").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    errors = page.get_by_role("table", name="Rows with errors")
    expect(errors).to_be_visible()
    expect(errors.get_by_role("row")).to_have_count(2)  # header + the bad row
    expect(errors.get_by_role("cell").first).to_have_text("2")
    expect(page.get_by_text("bad.jsonl was not imported.")).to_be_visible()
    shot(page, "13-import-row-error")
    assert _prompt_count(project_id) == 0

    # Fixed: all rows go in.
    good = _write_jsonl(tmp_path / "good.jsonl", GOOD_ROWS)
    page.get_by_label("File (JSONL, CSV or Parquet)").set_input_files(str(good))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Imported good.jsonl.")).to_be_visible()
    expect(page.get_by_test_id("report-prompts_created")).to_have_text("3")
    expect(page.get_by_test_id("report-items_created")).to_have_text("3")
    expect(errors).to_be_hidden()
    shot(page, "14-import-done")
    assert _prompt_count(project_id) == 3

    # Add the annotator through the members page.
    page.get_by_role("link", name="Members").click()
    page.get_by_label("Username").fill("lee")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("table").get_by_role("row").filter(has_text="lee")).to_have_count(1)
    shot(page, "15-members")

    # The overview starts at 0% and moves when labels arrive.
    page.get_by_role("link", name="Overview").click()
    completion = page.get_by_test_id("completion")
    expect(completion).to_contain_text("0%")
    with httpx.Client(base_url=server, headers=auth(annotator_token)) as api:
        for _ in range(3):
            lease = api.post(f"/api/projects/{project_id}/next")
            assert lease.status_code == 200, lease.text
            r = api.post(
                f"/api/assignments/{lease.json()['id']}/label", json={"answer": {"choice": "a", "strength": 2}}
            )
            assert r.status_code == 201, r.text
    page.get_by_role("button", name="Refresh").click()
    expect(completion).to_contain_text("50%")  # 3 of 3 items x overlap 2
    annotators = page.get_by_role("table", name="Annotators")
    expect(annotators.get_by_role("row", name="lee")).to_contain_text("3")
    expect(page.locator(".recharts-bar-rectangle").first).to_be_visible()
    shot(page, "16-dashboard")

    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_label("Overlap")).to_have_value("2")
    shot(page, "17-settings")

    page.get_by_role("link", name="Users").click()
    page.get_by_label("Username").fill("newbie")
    page.get_by_label("Password (8+ characters)").fill("long-enough-pw")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_text("Created newbie.")).to_be_visible()
    shot(page, "18-users")

    # Jobs: one queued smoke job (no worker runs here), cancelled from the list.
    with httpx.Client(base_url=server, headers=auth(admin_token)) as api:
        r = api.post("/api/jobs", json={"kind": "smoke", "project_id": project_id, "params": {"steps": 3}})
        assert r.status_code == 201, r.text
    page.get_by_role("link", name="Jobs").click()
    jobs = page.get_by_role("table", name="Jobs")
    expect(jobs.get_by_text("queued")).to_be_visible()
    shot(page, "19-jobs")
    jobs.get_by_role("button", name="Cancel").click()
    expect(jobs.get_by_text("cancelled")).to_be_visible()

    page.get_by_role("link", name="Models").click()
    expect(page.get_by_role("heading", name="Models")).to_be_visible()
    shot(page, "20-models")
