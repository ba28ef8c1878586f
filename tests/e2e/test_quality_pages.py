"""Quality, review and snapshots in the browser: three annotators label pairwise items over the API, a
manager reads the agreement report and the annotator table (tightens the flag thresholds, pauses one),
decides a disagreement through the review form, sends low-agreement items back, and makes a snapshot
whose job then runs (in this process, as a worker would run it) until its downloads appear."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from app.auth.models import GlobalRole
from app.projects.models import ProjectRole
from tests.factories import add_member, add_prompts, auth, make_project, make_user
from workers.tasks.snapshots import snapshot as snapshot_task

from .conftest import login, shot

# Which response each annotator prefers, per prompt: "0" = "Answer i.0", "1" = "Answer i.1", or a tie.
PREFERS: dict[str, list[str]] = {
    "ann": ["0", "0", "0", "0"],
    "bob": ["1", "1", "0", "0"],
    "cat": ["tie", "0", "0", "0"],
}


def _label_everything(server: str, token: str, username: str, pid: int) -> int:
    n = 0
    with httpx.Client(base_url=server, headers=auth(token)) as api:
        while (r := api.post(f"/api/projects/{pid}/next")).status_code == 200:
            lease = r.json()
            texts = [c["text"] for c in lease["item"]["candidates"]]
            prompt = int(texts[0].split()[1].split(".")[0])
            want = PREFERS[username][prompt]
            answer = (
                {"choice": "tie"}
                if want == "tie"
                else {"choice": "a" if texts[0].endswith(f".{want}") else "b", "strength": 2}
            )
            body: dict[str, Any] = {
                "answer": answer,
                # cat answers in a hurry; bob explains himself.
                "time_spent_ms": 900 if username == "cat" else 6000,
                "rationale": "The second answer is more complete." if username == "bob" else None,
            }
            r = api.post(f"/api/assignments/{lease['id']}/label", json=body)
            assert r.status_code == 201, r.text
            n += 1
        assert r.status_code == 204, r.text
    return n


def test_manager_reads_quality_reviews_a_disagreement_and_builds_a_snapshot(page: Page, server: str) -> None:
    pid = make_project(name="Helpfulness A/B", task_kind="pairwise", overlap=3)
    add_prompts(pid, 4, 2)
    manager_id, _ = make_user(username="mia")
    add_member(pid, manager_id, ProjectRole.manager)
    for name in PREFERS:
        uid, token = make_user(username=name)
        add_member(pid, uid)
        assert _label_everything(server, token, name, pid) == 4

    # Quality: metric cards, charts, and the annotator table.
    login(page, "mia")
    page.goto(f"/projects/{pid}/quality")
    cards = page.get_by_test_id("metric-card")
    expect(cards).to_have_count(4)  # pairwise: percent agreement, Fleiss, Cohen, Krippendorff
    expect(cards.filter(has_text="Percent agreement")).to_contain_text("n = 4")
    expect(cards.filter(has_text="Percent agreement")).to_contain_text(re.compile(r"0\.\d{3}"))
    expect(page.get_by_role("heading", name="Items by agreement")).to_be_visible()
    expect(page.locator(".recharts-bar-rectangle").first).to_be_visible()
    table = page.get_by_role("table", name="Annotator quality")
    for name in PREFERS:
        expect(table.get_by_role("row", name=re.compile(rf"^{name}\b"))).to_be_visible()
    expect(table.get_by_text("Too fast")).to_have_count(0)  # 4 labels each: too few to flag by default

    # With flags raised on little evidence, cat is too fast and bob agrees too little: both come first.
    page.get_by_text("Flag thresholds").click()
    page.get_by_label("Judgements before flagging").fill("1")
    page.get_by_label("Consensus agreement at least").fill("0.55")
    page.get_by_role("button", name="Apply").click()
    expect(table.locator('tr[data-user="cat"]').get_by_text("Too fast")).to_be_visible()
    expect(table.locator('tr[data-user="bob"]').get_by_text("Low agreement")).to_be_visible()
    expect(table.locator("tbody tr").last).to_have_attribute("data-user", "ann")
    page.get_by_role("button", name="Pause bob").click()
    expect(page.get_by_role("button", name="Resume bob")).to_be_visible()
    expect(table.locator('tr[data-user="bob"]').get_by_text("paused")).to_be_visible()
    shot(page, "21-quality")

    # Review: the disagreements (prompts 0 and 1), one decided through the form.
    page.get_by_role("link", name="Review").click()
    queue = page.get_by_role("list", name="Items to review")
    expect(queue.get_by_role("button")).to_have_count(2)
    queue.get_by_role("button").first.click()
    detail = page.locator("article[data-item-id]")
    expect(detail.get_by_role("heading", name=re.compile(r"Item #\d+"))).to_be_focused()
    answers = page.get_by_role("list", name="Annotators\N{RIGHT SINGLE QUOTATION MARK} answers")
    expect(answers.get_by_role("listitem")).to_have_count(3)
    expect(answers.locator('[data-label-user="cat"]')).to_contain_text("Tie")
    expect(answers.locator('[data-label-user="bob"]')).to_contain_text(re.compile(r"[AB], strength 2"))
    expect(answers.locator('[data-label-user="bob"]')).to_contain_text("The second answer is more complete.")
    expect(detail.get_by_role("heading", name="Prompt")).to_be_visible()
    shot(page, "22-review")
    page.set_viewport_size({"width": 420, "height": 900})
    shot(page, "22a-review-narrow")
    page.set_viewport_size({"width": 1360, "height": 900})

    page.get_by_role("button", name="Use this answer (bob)").click()
    bob_choice = page.get_by_role("radio", name="A is better")
    expected = "A" if bob_choice.is_checked() else "B"
    page.get_by_role("radio", name="Much").check()
    page.get_by_label("Note (optional)").fill("Bob is right: .1 is better.")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_text("Decision saved.")).to_be_visible()
    expect(page.get_by_test_id("current-decision")).to_contain_text(f"{expected}, strength 3")
    expect(queue.get_by_role("button")).to_have_count(1)  # decided items leave the queue
    expect(page.get_by_role("button", name="Withdraw decision")).to_be_visible()
    shot(page, "23-review-decided")

    # The one undecided disagreement goes back to the annotators for two more labels; then it is next.
    page.get_by_label("More labels per item").fill("2")
    page.get_by_role("button", name="Send back").click()
    expect(page.get_by_test_id("requeue-result")).to_have_text("Sent 1 item back for more labels.")
    page.get_by_role("button", name="Next item →").click()
    expect(queue.get_by_role("button").first).to_have_attribute("aria-current", "true")
    expect(answers.get_by_role("listitem")).to_have_count(3)

    # Snapshots: no worker runs here, so the new snapshot is building until its job runs; the page polls.
    page.get_by_role("link", name="Snapshots").click()
    page.get_by_label("Name").fill("round-1")
    page.get_by_label("Minimum annotators").fill("2")
    page.get_by_label("Validation").fill("20")
    page.get_by_role("button", name="Create snapshot").click()
    expect(page.get_by_role("alert")).to_have_text("The split shares must be 0 or more and add up to 100%.")
    page.get_by_label("Train").fill("70")
    page.get_by_role("button", name="Create snapshot").click()
    snapshot = page.get_by_role("list", name="Snapshots").get_by_role("listitem").filter(has_text="round-1")
    expect(snapshot.get_by_test_id("snapshot-status")).to_have_text("building")
    job_link = snapshot.get_by_role("link", name=re.compile(r"job #\d+"))
    expect(job_link).to_be_visible()
    shot(page, "24-snapshot-building")

    snapshot_task(int(job_link.inner_text().removeprefix("job #")))  # the job's body, as a worker runs it
    expect(snapshot.get_by_test_id("snapshot-status")).to_have_text("ready", timeout=15_000)
    expect(snapshot.get_by_role("table", name="Rows in round-1")).to_be_visible()
    snapshot.get_by_text("Downloads").click()
    link = snapshot.get_by_role("link", name="Download Preference as JSONL")
    href = link.get_attribute("href")
    assert href is not None and "layout=preference" in href and "format=jsonl" in href
    expect(snapshot.get_by_role("link", name="Download Pairs as datasets (.tar)")).to_be_visible()
    rows = page.request.get(href)
    assert rows.ok, rows.text()
    assert rows.text().count("\n") == 4  # prompt 0 as decided, 1-3 by majority of ann and cat (bob: paused)
    shot(page, "25-snapshot-ready")

    # An admin's Datasets page lists every project with its latest snapshot.
    make_user(GlobalRole.admin, username="boss")
    page.get_by_role("button", name="Log out").click()
    login(page, "boss")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Datasets").click()
    projects = page.get_by_role("table", name="Projects and their snapshots")
    row = projects.get_by_role("row", name=re.compile("Helpfulness"))
    expect(row).to_contain_text("round-1")
    expect(row.get_by_test_id("snapshot-status")).to_have_text("ready")
    shot(page, "26-datasets")
    row.get_by_role("link", name="Helpfulness A/B").click()
    expect(page.get_by_role("heading", name="New snapshot")).to_be_visible()
