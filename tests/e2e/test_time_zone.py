"""'Today' on the annotator's screens starts at the browser's own midnight, not at UTC's."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Browser, expect
from sqlalchemy import select, update

from app.annotation.models import Label
from app.annotation.progress import start_of_day
from app.db import session_scope, utcnow
from tests.factories import add_member, add_prompts, auth, make_project, make_user

from .conftest import login, shot

ZONE = "Pacific/Kiritimati"  # UTC+14: its midnight is never UTC's


def test_labels_today_count_from_the_browsers_midnight(chromium: Browser, server: str) -> None:
    user_id, token = make_user(username="kiri")
    project_id = make_project(name="Far east", task_kind="pairwise")
    add_prompts(project_id, n_prompts=2, candidates_per_prompt=2)
    add_member(project_id, user_id)
    with httpx.Client(base_url=server, headers=auth(token)) as api:
        for _ in range(2):
            lease = api.post(f"/api/projects/{project_id}/next").json()
            label = api.post(f"/api/assignments/{lease['id']}/label", json={"answer": {"choice": "a"}})
            assert label.status_code == 201, label.text
    # One label just before midnight in Kiritimati, one at it: "today" there is 1, while UTC's today holds
    # both or neither (UTC's midnight is never between the two).
    midnight = start_of_day(utcnow(), ZoneInfo(ZONE))
    created = [midnight - timedelta(seconds=1), midnight]
    with session_scope() as s:
        ids = s.scalars(select(Label.id).where(Label.user_id == user_id).order_by(Label.id)).all()
        for label_id, at in zip(ids, created, strict=True):
            s.execute(update(Label).where(Label.id == label_id).values(created_at=at))
    assert sum(at >= start_of_day(utcnow(), ZoneInfo("UTC")) for at in created) in (0, 2)

    context = chromium.new_context(base_url=server, timezone_id=ZONE, viewport={"width": 1360, "height": 900})
    try:
        page = context.new_page()
        login(page, "kiri")
        card_today = page.locator("dt", has_text="Today").locator("xpath=following-sibling::dd")
        expect(card_today).to_have_text("1")
        shot(page, "time-zone-my-projects")
        page.get_by_role("link", name="Start labeling").click()
        expect(page.get_by_test_id("count-today")).to_have_text("1")
    finally:
        context.close()
