"""The labeling screen with real content (Markdown, code, chat turns, a rubric), its dialogs and a narrow
window: checked for the essentials and saved as screenshots for people to look at."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.annotation.models import Label
from app.db import session_scope
from tests.factories import add_member, make_project, make_user

from .conftest import add_rich_prompts, login, shot

GUIDELINES = """# How to judge

Prefer the response that **answers the question** correctly and completely.

1. Correctness first: wrong code or facts lose.
2. Then clarity: short, direct, well formatted.
3. Flag anything unsafe with `x`.

| Situation | What to do |
|-----------|------------|
| Both wrong | Tie, and say why |
| Prompt unclear | Flag *prompt problem* |
"""

CODE_A = """Use a **list comprehension**:

```python
def squares(n: int) -> list[int]:
    # squares of 0..n-1
    return [i * i for i in range(n)]
```

It runs in *O(n)* time."""

CODE_B = """You can loop:

```python
result = []
for i in range(n):
    result.append(i ** 2)
```

- simple
- but longer"""


def test_labeling_screens_render_markdown_chat_and_rubric(page: Page) -> None:
    user_id, _ = make_user(username="rita")
    pair = make_project(name="Python answers", task_kind="pairwise", guidelines=GUIDELINES)
    add_rich_prompts(
        pair, [{"text": "How do I get the squares of `0..n-1` in Python?", "candidates": [CODE_A, CODE_B]}]
    )
    rating = make_project(
        name="Support replies",
        task_kind="rating",
        criteria=[
            {
                "name": "helpfulness",
                "description": "Does it solve the user's problem?",
                "min": 1,
                "max": 5,
                "labels": ["useless", "weak", "okay", "good", "excellent"],
            },
            {
                "name": "harmless",
                "description": "Free of unsafe or offensive content (0 = no, 1 = yes).",
                "min": 0,
                "max": 1,
            },
        ],
    )
    add_rich_prompts(
        rating,
        [
            {
                "messages": [
                    {"role": "system", "content": "You are a helpful support agent for Acme Cloud."},
                    {"role": "user", "content": "My deploy fails with `exit code 137`. Why?"},
                    {"role": "assistant", "content": "Which plan are you on?"},
                    {"role": "user", "content": "The free one."},
                ],
                "candidates": [
                    "Exit code **137** means the process was killed for using too much memory.\n\n"
                    "On the free plan the limit is 512 MB. Either:\n\n1. lower memory use, or\n2. upgrade."
                ],
            }
        ],
    )
    add_member(pair, user_id)
    add_member(rating, user_id)

    page.goto("/login")
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill("wrong password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password.")
    shot(page, "00-login-error")
    login(page, "rita")

    page.goto(f"/projects/{pair}/label")
    expect(page.locator("pre code", has_text="def squares")).to_be_visible()
    expect(page.locator("pre code .hljs-keyword").first).to_be_visible()  # highlighted
    page.keyboard.press("a")
    page.keyboard.press("2")
    shot(page, "06-pairwise-markdown-code", full_page=False)
    page.emulate_media(color_scheme="dark")
    shot(page, "06b-pairwise-dark", full_page=False)
    page.emulate_media(color_scheme="light")

    page.keyboard.press("g")
    guidelines = page.get_by_role("complementary", name="Guidelines")
    expect(guidelines).to_be_visible()
    expect(guidelines.get_by_role("heading", name="How to judge")).to_be_visible()
    shot(page, "07-guidelines", full_page=False)
    page.keyboard.press("g")
    expect(guidelines).to_be_hidden()

    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Response A is better")
    shot(page, "08-shortcuts", full_page=False)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # A narrow window stacks the two responses.
    page.set_viewport_size({"width": 420, "height": 860})
    boxes = [page.get_by_role("article", name=f"Response {x}").bounding_box() for x in "AB"]
    assert boxes[0] and boxes[1] and boxes[1]["y"] > boxes[0]["y"] + boxes[0]["height"] - 1
    shot(page, "09-pairwise-narrow", full_page=False)
    page.set_viewport_size({"width": 1360, "height": 900})

    # Rating: chat turns, the rubric with descriptions, digits score the highlighted criterion.
    page.goto(f"/projects/{rating}/label")
    conversation = page.get_by_role("list", name="Conversation")
    expect(conversation.get_by_role("listitem")).to_have_count(4)
    expect(page.get_by_text("Does it solve the user's problem?")).to_be_visible()
    page.keyboard.press("4")  # helpfulness = 4, then harmless becomes active
    page.keyboard.press("1")  # harmless = 1
    expect(page.get_by_role("radio", name="4 · good")).to_be_checked()
    shot(page, "10-rating-chat-rubric", full_page=False)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="All done here")).to_be_visible()
    with session_scope() as s:
        answers = [lab.answer for lab in s.scalars(select(Label).where(Label.project_id == rating))]
    assert answers == [{"scores": {"helpfulness": 4, "harmless": 1}}]
