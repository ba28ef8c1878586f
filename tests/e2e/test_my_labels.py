"""My labels: an annotator reads back and edits their labels; the lease clock extends on request and by itself."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app.annotation.models import Assignment, Item, Label
from app.db import session_scope, utcnow
from tests.factories import add_member, add_prompts, make_project, make_user

from .conftest import login, shot

FORM_ITEM = "form [data-item-id]"


def _item_id(page: Page) -> int:
    return int(page.locator(FORM_ITEM).get_attribute("data-item-id") or "0")


def _wait_for_next(page: Page, previous: int) -> None:
    page.wait_for_function(
        "prev => { const el = document.querySelector('form [data-item-id]');"
        " return !el || el.getAttribute('data-item-id') !== String(prev); }",
        arg=previous,
    )


def _answer_of(user_id: int, item_id: int) -> object:
    with session_scope() as s:
        return s.scalars(select(Label.answer).where(Label.user_id == user_id, Label.item_id == item_id)).one()


def test_annotator_edits_a_label_from_my_labels(page: Page) -> None:
    user_id, _ = make_user(username="mel")
    # Two annotators per item: one label leaves the item open, so it can still be edited.
    project = make_project(name="Edit me", task_kind="pairwise", overlap=2)
    add_prompts(project, n_prompts=2, candidates_per_prompt=2)
    add_member(project, user_id)

    login(page, "mel", keyboard_only=True)
    card = page.get_by_role("list", name="Projects").get_by_role("listitem").filter(has_text="Edit me")
    expect(card.get_by_role("link", name="My labels")).to_be_visible()
    shot(page, "40-my-projects-card")

    # Label both items with the keyboard: A slightly better, then B much better.
    page.goto(f"/projects/{project}/label")
    expect(page.locator(FORM_ITEM)).to_be_visible()
    first = _item_id(page)
    page.keyboard.press("a")
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    _wait_for_next(page, first)
    second = _item_id(page)
    page.keyboard.press("b")
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="All done here")).to_be_visible()
    assert _answer_of(user_id, first) == {"choice": "a", "strength": 1}

    # The labeling screen's header leads to My labels.
    page.get_by_role("link", name="My labels").click()
    expect(page.get_by_role("heading", name="My labels", level=1)).to_be_visible()
    entries = page.get_by_role("list", name="My labels").locator("article")
    expect(entries).to_have_count(2)
    entry1 = page.locator(f'article[data-item-id="{first}"]')
    entry2 = page.locator(f'article[data-item-id="{second}"]')
    expect(entry1.get_by_test_id("my-answer")).to_have_text("A is better · slightly")
    expect(entry2.get_by_test_id("my-answer")).to_have_text("B is better · much")
    expect(entry1).to_contain_text("Prompt")
    expect(entry1).to_contain_text("Response A")
    expect(entry1).to_contain_text("Response B")
    shot(page, "41-my-labels")

    # j/k move through the list; e edits the selected label in the labeling form, prefilled.
    page.keyboard.press("j")
    expect(entry2).to_be_focused()
    page.keyboard.press("k")
    expect(entry1).to_be_focused()
    page.keyboard.press("e")
    expect(page.get_by_role("heading", name="Edit my label")).to_be_visible()
    expect(page.locator(FORM_ITEM)).to_have_attribute("data-item-id", str(first))
    expect(page.get_by_role("radio", name="A is better")).to_be_checked()
    expect(page.get_by_role("radio", name="Slightly")).to_be_checked()
    page.keyboard.press("b")
    expect(page.get_by_role("radio", name="B is better")).to_be_checked()
    shot(page, "42-edit-label")
    page.keyboard.press("Enter")

    # Back on the list, the entry shows the new answer and keeps focus; the database has it.
    expect(page.get_by_role("status").filter(has_text="Saved your new answer")).to_be_visible()
    expect(entry1.get_by_test_id("my-answer")).to_have_text("B is better · slightly")
    expect(entry1).to_be_focused()
    shot(page, "43-label-edited")
    assert _answer_of(user_id, first) == {"choice": "b", "strength": 1}
    assert _answer_of(user_id, second) == {"choice": "b", "strength": 3}

    # Once an item has all its labels, its labels are final: the form says so and stays.
    with session_scope() as s:
        item = s.get(Item, second)
        assert item is not None
        item.labels_done = item.overlap
    page.keyboard.press("j")
    expect(entry2).to_be_focused()
    page.keyboard.press("e")
    expect(page.get_by_role("radio", name="B is better")).to_be_checked()
    page.keyboard.press("a")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("This item is complete; its labels are final.")
    expect(page.get_by_role("heading", name="Edit my label")).to_be_visible()
    expect(page.get_by_role("radio", name="A is better")).to_be_checked()
    shot(page, "44-edit-item-complete")
    page.keyboard.press("Escape")
    expect(entry2.get_by_test_id("my-answer")).to_have_text("B is better · much")
    assert _answer_of(user_id, second) == {"choice": "b", "strength": 3}


def _seconds_shown(page: Page) -> int:
    text = page.get_by_test_id("time-left").inner_text()
    match = re.fullmatch(r"(\d+):(\d\d)", text)
    assert match, text
    return int(match[1]) * 60 + int(match[2])


def _wait_for_time_left_above(page: Page, seconds: int) -> None:
    page.wait_for_function(
        "min => { const t = document.querySelector('[data-testid=time-left]')?.textContent ?? '';"
        " const m = /^(\\d+):(\\d\\d)$/.exec(t); return !!m && Number(m[1]) * 60 + Number(m[2]) > min; }",
        arg=seconds,
    )


def _expire_in(user_id: int, item_id: int, seconds: float) -> None:
    with session_scope() as s:
        assignment = s.scalars(
            select(Assignment).where(Assignment.user_id == user_id, Assignment.item_id == item_id)
        ).one()
        assignment.expires_at = utcnow() + timedelta(seconds=seconds)


def _expires_in(user_id: int, item_id: int) -> float:
    with session_scope() as s:
        expires = s.scalars(
            select(Assignment.expires_at).where(Assignment.user_id == user_id, Assignment.item_id == item_id)
        ).one()
        return (expires - utcnow()).total_seconds()


def _wait_for_leases(user_id: int, n: int) -> None:
    """The screen prefetches a second item; wait for it, so a reload hands back the oldest lease."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with session_scope() as s:
            if s.scalar(select(func.count()).select_from(Assignment).where(Assignment.user_id == user_id)) >= n:
                return
        time.sleep(0.05)
    raise AssertionError(f"expected {n} leases")


def test_lease_extends_on_request_and_while_working_and_says_when_it_expired(page: Page) -> None:
    user_id, _ = make_user(username="lee")
    project = make_project(name="Short leases", task_kind="pairwise", lease_seconds=120)
    add_prompts(project, n_prompts=3, candidates_per_prompt=2)
    add_member(project, user_id)
    login(page, "lee")
    page.goto(f"/projects/{project}/label")
    expect(page.locator(FORM_ITEM)).to_be_visible()
    item = _item_id(page)
    _wait_for_leases(user_id, 2)

    # The shortcut is listed with the others.
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_contain_text("Extend the reservation")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # 1. Little time left and no one at work: a hint, no automatic extension; the button extends.
    _expire_in(user_id, item, 20)
    page.reload()
    expect(page.locator(FORM_ITEM)).to_have_attribute("data-item-id", str(item))
    expect(page.get_by_test_id("lease-notice")).to_contain_text("Little time left on this item")
    assert 10 <= _seconds_shown(page) <= 20
    shot(page, "45-lease-low")
    extend = page.get_by_role("button", name="Extend")
    box_before = extend.bounding_box()
    extend.click()
    _wait_for_time_left_above(page, 100)
    expect(page.get_by_test_id("lease-notice")).to_be_empty()
    assert _expires_in(user_id, item) > 100
    assert extend.bounding_box() == box_before  # nothing in the header moved

    # 2. Working on the item (a choice) with under a minute left: extended on its own, input intact.
    _expire_in(user_id, item, 25)
    page.reload()
    expect(page.locator(FORM_ITEM)).to_have_attribute("data-item-id", str(item))
    assert _seconds_shown(page) <= 25
    page.keyboard.press("b")
    _wait_for_time_left_above(page, 100)
    assert _expires_in(user_id, item) > 100
    expect(page.get_by_role("radio", name="B is better")).to_be_checked()

    # 3. Left alone until the lease runs out: said plainly, the input stays, and a submit still counts.
    _expire_in(user_id, item, 5)
    page.reload()
    expect(page.get_by_role("radio", name="B is better")).to_be_checked()  # the draft survived the reload
    notice = page.get_by_test_id("lease-notice")
    expect(notice).to_contain_text(
        "Your reservation expired; you can still submit while the item has room", timeout=10_000
    )
    expect(page.get_by_test_id("time-left")).to_have_text("expired")
    expect(page.get_by_role("button", name="Extend")).to_be_disabled()
    expect(page.get_by_role("radio", name="B is better")).to_be_checked()
    assert extend.bounding_box() == box_before
    shot(page, "46-lease-expired")
    page.keyboard.press("Enter")
    _wait_for_next(page, item)
    assert _answer_of(user_id, item) == {"choice": "b", "strength": 2}
