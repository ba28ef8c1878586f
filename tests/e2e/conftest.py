"""Browser tests: the built UI served by a real uvicorn (``live_server``), driven by headless Chromium.

The UI is built once per session when ``app/static/index.html`` is missing. Screenshots of every screen
go to ``test-artifacts/screenshots/`` (gitignored) for people to look at.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from app.annotation.items import build_items
from app.db import session_scope
from app.projects.models import Project
from app.prompts.models import Candidate, Prompt
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
STATIC_INDEX = ROOT / "app" / "static" / "index.html"
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

expect.set_options(timeout=5_000)


def _ui_is_stale() -> bool:
    if not STATIC_INDEX.exists():
        return True
    built = STATIC_INDEX.stat().st_mtime
    sources = [FRONTEND / "index.html", FRONTEND / "package-lock.json", *(FRONTEND / "src").rglob("*")]
    return any(p.is_file() and p.stat().st_mtime > built for p in sources)


@pytest.fixture(scope="session")
def built_ui() -> Path:
    """The production build of frontend/ in app/static, built here when missing or older than its sources."""
    if _ui_is_stale():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("app/static/index.html is missing or stale and npm is not installed to build it")
        if not STATIC_INDEX.exists() or not (FRONTEND / "node_modules").is_dir():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
        subprocess.run([npm, "run", "build"], cwd=FRONTEND, check=True)
    return STATIC_INDEX


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("chromium is not installed")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(built_ui: Path, live_server: str) -> str:
    """Base URL of a real server that serves the built UI and the API on the test database."""
    return live_server


@pytest.fixture
def context(chromium: Browser, server: str) -> Iterator[BrowserContext]:
    ctx = chromium.new_context(base_url=server, viewport={"width": 1360, "height": 900}, color_scheme="light")
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    """Save a screenshot of the current screen as test-artifacts/screenshots/<name>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    if full_page:  # sticky bars would be painted mid-page otherwise
        page.evaluate("window.scrollTo(0, 0)")
    # Playwright's animations="disabled" does not reach pseudo-elements (a progress bar's fill would be
    # caught mid-transition); the UI turns every transition off for users who ask for reduced motion.
    page.emulate_media(reduced_motion="reduce")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page, animations="disabled", caret="initial")
    page.emulate_media(reduced_motion="no-preference")


def login(page: Page, username: str, password: str = PASSWORD, *, keyboard_only: bool = False) -> None:
    page.goto("/login")
    if keyboard_only:
        expect(page.get_by_label("Username")).to_be_focused()
        page.keyboard.type(username)
        page.keyboard.press("Tab")
        page.keyboard.type(password)
        page.keyboard.press("Enter")
    else:
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def add_rich_prompts(project_id: int, rows: list[dict[str, Any]]) -> None:
    """Prompts (text or chat messages) with the given candidate texts, then items, as an import makes them."""
    with session_scope() as s:
        project = s.get(Project, project_id)
        assert project is not None
        ids = []
        for i, row in enumerate(rows):
            prompt = Prompt(
                project_id=project_id,
                external_id=f"rich{i}",
                text=row.get("text"),
                messages=row.get("messages"),
                meta={},
            )
            s.add(prompt)
            s.flush()
            ids.append(prompt.id)
            for text in row["candidates"]:
                s.add(Candidate(project_id=project_id, prompt_id=prompt.id, text=text, source={}, meta={}))
        s.flush()
        build_items(s, project, ids)
