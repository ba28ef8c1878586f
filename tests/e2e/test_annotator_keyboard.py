"""An annotator labels pairwise and ranking items with the keyboard only; the stored labels match."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.annotation.models import Label
from app.db import session_scope
from tests.factories import add_member, add_prompts, make_project, make_user

from .conftest import login, shot

# Measures, in the page, the time from the Enter that submits to the next item being on screen.
TIMING_PROBE = """
() => {
  window.__swaps = [];
  let pressed = null;
  window.addEventListener('keydown', (e) => { if (e.key === 'Enter') pressed = performance.now(); }, true);
  const seen = () => document.querySelector('[data-item-id]')?.getAttribute('data-item-id');
  let last = seen();
  new MutationObserver(() => {
    const now = seen();
    if (now && now !== last && pressed !== null) { window.__swaps.push(performance.now() - pressed); pressed = null; }
    last = now;
  }).observe(document.body, { subtree: true, childList: true, attributes: true });
}
"""


def _item_id(page: Page) -> int:
    return int(page.locator("form [data-item-id]").get_attribute("data-item-id") or "0")


def _wait_for_next(page: Page, previous: int) -> None:
    page.wait_for_function(
        "prev => { const el = document.querySelector('form [data-item-id]');"
        " return !el || el.getAttribute('data-item-id') !== String(prev); }",
        arg=previous,
    )


def _displayed_candidates(page: Page) -> list[int]:
    """Candidate ids in on-screen order (ranking cards)."""
    ids = page.locator("[data-position]").evaluate_all(
        "els => els.sort((a, b) => a.dataset.position - b.dataset.position).map(e => Number(e.dataset.candidateId))"
    )
    return [int(i) for i in ids]


def _labels_of(user_id: int) -> dict[int, dict[str, Any]]:
    with session_scope() as s:
        rows = s.scalars(select(Label).where(Label.user_id == user_id)).all()
        return {r.item_id: {"answer": r.answer, "flags": r.flags, "rationale": r.rationale} for r in rows}


def test_annotator_labels_pairwise_and_ranking_with_the_keyboard_only(page: Page) -> None:
    user_id, _ = make_user(username="ann")
    pairwise = make_project(name="Helpfulness A/B", task_kind="pairwise", guidelines="# Pick the more helpful answer")
    ranking = make_project(name="Rank answers", task_kind="ranking", candidates_per_item=3)
    add_prompts(pairwise, n_prompts=5, candidates_per_prompt=2)
    add_prompts(ranking, n_prompts=3, candidates_per_prompt=3)
    add_member(pairwise, user_id)
    add_member(ranking, user_id)

    login(page, "ann", keyboard_only=True)
    expect(page.get_by_role("heading", name="My projects")).to_be_visible()
    expect(page.get_by_role("link", name="Helpfulness A/B")).to_be_visible()
    shot(page, "01-my-projects")

    # --- pairwise: five items; (keys pressed, expected answer, expected flags, rationale)
    page.goto(f"/projects/{pairwise}/label")
    expect(page.locator("form [data-item-id]")).to_be_visible()
    page.evaluate(TIMING_PROBE)
    plan: list[tuple[list[str], dict[str, Any] | None, list[str], str | None]] = [
        (["a", "1"], {"choice": "a", "strength": 1}, [], None),
        (["b", "3"], {"choice": "b", "strength": 3}, [], "B is clearer"),
        (["t"], {"choice": "tie", "strength": 0}, [], None),
        (["ArrowLeft", "2"], {"choice": "a", "strength": 2}, ["unsafe"], None),
        (["u"], None, ["unusable"], None),  # flagged: no answer needed
    ]
    expected: dict[int, dict[str, Any]] = {}
    for n, (keys, answer, flags, rationale) in enumerate(plan):
        item = _item_id(page)
        for key in keys:
            page.keyboard.press(key)
        if "unsafe" in flags:
            page.keyboard.press("x")
        if rationale:
            page.keyboard.press("r")
            expect(page.get_by_label("Rationale")).to_be_focused()
            page.keyboard.type(rationale)
            page.keyboard.press("Escape")
        if n == 1:
            expect(page.get_by_role("radio", name="B is better")).to_be_checked()
            shot(page, "02-pairwise")
        page.keyboard.press("Enter")
        _wait_for_next(page, item)
        expected[item] = {"answer": answer, "flags": flags, "rationale": rationale}

    expect(page.get_by_role("heading", name="All done here")).to_be_visible()
    expect(page.get_by_test_id("count-today")).to_have_text("5")
    shot(page, "03-all-done")
    swaps = page.evaluate("window.__swaps")
    assert len(swaps) == 4, swaps  # the fifth submit leads to "all done"
    print(f"\nsubmit -> next item shown (ms): {[round(s) for s in swaps]}")
    assert max(swaps) < 1000, swaps

    # --- ranking: three items of three responses
    page.goto(f"/projects/{ranking}/label")
    expect(page.locator("form [data-item-id]")).to_be_visible()
    for n in range(3):
        item = _item_id(page)
        c0, c1, c2 = _displayed_candidates(page)
        expect(page.locator('[data-position="1"]')).to_be_focused()  # the first card has focus
        if n == 0:
            page.keyboard.press("j")  # c0 down: c1, c0, c2
            page.keyboard.press("t")  # c0 ties with c1 above
            order = [[c1, c0], [c2]]
        elif n == 1:
            page.keyboard.press("3")  # focus the third card (c2)
            page.keyboard.press("k")
            page.keyboard.press("ArrowUp")  # c2 to the top: c2, c0, c1
            order = [[c2], [c0], [c1]]
        else:
            page.keyboard.press("ArrowDown")
            page.keyboard.press("ArrowDown")  # c0 to the bottom: c1, c2, c0
            page.keyboard.press("2")  # focus c2, tie it with c1
            page.keyboard.press("t")
            order = [[c1, c2], [c0]]
        assert _displayed_candidates(page) == [c for tier in order for c in tier]
        if n == 0:
            expect(page.get_by_text("Tie", exact=True)).to_be_visible()
            shot(page, "04-ranking-with-tie")
        page.keyboard.press("Enter")
        _wait_for_next(page, item)
        expected[item] = {"answer": {"order": order}, "flags": [], "rationale": None}
    expect(page.get_by_role("heading", name="All done here")).to_be_visible()

    assert _labels_of(user_id) == expected
