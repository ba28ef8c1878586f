"""A submit that fails says why and keeps what the annotator entered; the retry then succeeds."""

from __future__ import annotations

import json

from playwright.sync_api import Page, Route, expect
from sqlalchemy import select

from app.annotation.models import Label
from app.db import session_scope
from tests.factories import add_member, add_prompts, make_project, make_user

from .conftest import login, shot

LABEL_URL = "**/api/assignments/*/label"


def test_failed_submit_keeps_the_input_and_retry_succeeds(page: Page) -> None:
    user_id, _ = make_user(username="kim")
    project = make_project(name="Fail safe", task_kind="pairwise")
    add_prompts(project, n_prompts=2, candidates_per_prompt=2)
    add_member(project, user_id)
    # One route for the whole test, registered before the page loads, its answer switched per step: a
    # route added just before the keypress could miss the request on a loaded machine.
    mode = {"now": "pass"}

    def label_route(route: Route) -> None:
        if mode["now"] == "conflict":
            body = {"detail": "The lease on this item expired and the item has all its labels.", "code": "conflict"}
            route.fulfill(status=409, content_type="application/json", body=json.dumps(body))
        elif mode["now"] == "offline":
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route(LABEL_URL, label_route)
    login(page, "kim")
    page.goto(f"/projects/{project}/label")
    form_item = page.locator("form [data-item-id]")
    expect(form_item).to_be_visible()
    item = int(form_item.get_attribute("data-item-id") or "0")

    page.keyboard.press("b")
    page.keyboard.press("3")
    page.get_by_label("Rationale").fill("B answers the question; A does not.")
    page.keyboard.press("Escape")

    # 1. The server refuses (an expired lease): its own message is shown.
    mode["now"] = "conflict"
    page.keyboard.press("Enter")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Not saved: The lease on this item expired and the item has all its labels.")
    expect(page.get_by_role("button", name="Move on to the next item")).to_be_visible()
    shot(page, "05-submit-failed-409")

    # 2. The network fails.
    mode["now"] = "offline"
    page.get_by_role("button", name="Submit").click()
    expect(alert).to_contain_text("Could not reach the server")

    # Everything entered is still there.
    expect(page.get_by_role("radio", name="B is better")).to_be_checked()
    expect(page.get_by_role("radio", name="Much")).to_be_checked()
    expect(page.get_by_label("Rationale")).to_have_value("B answers the question; A does not.")
    assert int(form_item.get_attribute("data-item-id") or "0") == item

    # 3. Even a reload (or a new login after an expired session) keeps it: same item, same input.
    mode["now"] = "pass"
    page.reload()
    expect(page.get_by_label("Rationale")).to_have_value("B answers the question; A does not.")
    expect(page.get_by_role("radio", name="B is better")).to_be_checked()
    assert int(form_item.get_attribute("data-item-id") or "0") == item

    # 4. Back online: the same input is stored and the next item shows.
    page.keyboard.press("Enter")
    expect(form_item).not_to_have_attribute("data-item-id", str(item))
    expect(page.get_by_label("Rationale")).to_have_value("")
    with session_scope() as s:
        label = s.scalars(select(Label).where(Label.user_id == user_id)).one()
        assert label.item_id == item
        assert label.answer == {"choice": "b", "strength": 3}
        assert label.rationale == "B answers the question; A does not."
