"""'Labels today' counts from midnight in the caller's time zone (``?tz=``), not from UTC's midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select, update

from app.annotation.models import Label
from app.annotation.progress import start_of_day
from app.db import session_scope, utcnow
from app.projects.models import ProjectRole
from tests.factories import add_member, add_prompts, auth, make_project, make_user


def test_start_of_day_is_local_midnight_in_utc() -> None:
    los_angeles, berlin = ZoneInfo("America/Los_Angeles"), ZoneInfo("Europe/Berlin")
    # 03:00 UTC is still the evening before in Los Angeles (UTC-8 in November).
    assert start_of_day(datetime(2026, 11, 23, 3, tzinfo=UTC), los_angeles) == datetime(2026, 11, 22, 8, tzinfo=UTC)
    assert start_of_day(datetime(2026, 11, 23, 3, tzinfo=UTC), ZoneInfo("UTC")) == datetime(2026, 11, 23, tzinfo=UTC)
    # The day clocks go forward in Berlin began at 00:00 CET (UTC+1), though it is CEST (UTC+2) by noon.
    assert start_of_day(datetime(2026, 3, 29, 12, tzinfo=UTC), berlin) == datetime(2026, 3, 28, 23, tzinfo=UTC)


def test_labels_today_follow_the_time_zone_asked_for(app_client: httpx.Client) -> None:
    project_id = make_project(task_kind="pairwise")
    add_prompts(project_id, n_prompts=2, candidates_per_prompt=2)
    user_id, token = make_user()
    add_member(project_id, user_id)
    manager_id, manager = make_user()
    add_member(project_id, manager_id, ProjectRole.manager)
    for _ in range(2):
        lease = app_client.post(f"/api/projects/{project_id}/next", headers=auth(token)).json()
        r = app_client.post(
            f"/api/assignments/{lease['id']}/label", json={"answer": {"choice": "a"}}, headers=auth(token)
        )
        assert r.status_code == 201, r.text

    zone = "Pacific/Kiritimati"  # UTC+14: its midnight is never UTC's
    midnight = start_of_day(utcnow(), ZoneInfo(zone))
    with session_scope() as s:
        first, second = s.scalars(select(Label.id).where(Label.user_id == user_id).order_by(Label.id)).all()
        s.execute(update(Label).where(Label.id == first).values(created_at=midnight - timedelta(seconds=1)))
        s.execute(update(Label).where(Label.id == second).values(created_at=midnight))

    def today(tz: str | None, as_token: str = token) -> int:
        params = {"tz": tz} if tz else {}
        mine = app_client.get(f"/api/projects/{project_id}/progress/me", params=params, headers=auth(as_token))
        assert mine.status_code == 200, mine.text
        return int(mine.json()["labels_today"])

    assert today(zone) == 1  # the first label was yesterday there
    utc_midnight = start_of_day(utcnow(), ZoneInfo("UTC"))
    assert today(None) == today("UTC") == sum(t >= utc_midnight for t in (midnight - timedelta(seconds=1), midnight))
    rows = app_client.get(
        f"/api/projects/{project_id}/progress/annotators", params={"tz": zone}, headers=auth(manager)
    ).json()
    assert [(row["user_id"], row["labels"], row["labels_today"]) for row in rows] == [(user_id, 2, 1)]

    for bad in ("Mars/Olympus_Mons", "../../etc/passwd", "x" * 65):
        r = app_client.get(f"/api/projects/{project_id}/progress/me", params={"tz": bad}, headers=auth(token))
        assert r.status_code == 422 and "tz" in r.text, r.text
