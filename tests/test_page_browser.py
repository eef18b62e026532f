"""index.html in a real browser: headless Chromium (Debian's package) driven by Playwright.

Tapping a chapter seeks the audio there (seeking needs no sound device) and
the transcript highlights the sentence at that time.  A 375x812 screenshot
is saved under the test's tmp dir.  Without Chromium or Playwright the tests
are skipped with the reason (pytest's -rs, set in pyproject.toml, prints it).
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from pathlib import Path

import pytest

from digest.publish import list_episodes
from digest.serve import start_server
from digest_testing.show import HOSTILE_TITLES

CHROMIUM = Path("/usr/bin/chromium")


def _skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does it as root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"playwright is not installed ({exc}); pip install -e '.[test]'"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


@pytest.fixture(scope="module")
def site(published_show, tmp_path_factory):
    """The show served openly on 127.0.0.1 from a background thread: (origin, show_dir)."""
    source, _ = published_show
    show_dir = tmp_path_factory.mktemp("browser") / "show"
    shutil.copytree(source, show_dir)
    loop = asyncio.new_event_loop()
    holder: dict = {}
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        holder["server"] = loop.run_until_complete(start_server(show_dir, "127.0.0.1", 0, None))
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield f"http://127.0.0.1:{holder['server'].port}", show_dir
    asyncio.run_coroutine_threadsafe(holder["server"].stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--autoplay-policy=no-user-gesture-required", "--no-sandbox"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser, site):
    """A 375x812 touch page with the show open; records every URL the page requests."""
    origin, _ = site
    context = browser.new_context(
        viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{origin}/index.html")
    page.wait_for_function(
        "() => { const a = document.querySelector('article audio');"
        " return a && a.readyState >= 1 && a.textTracks.length && a.textTracks[0].cues"
        " && a.textTracks[0].cues.length > 0; }",
        timeout=15000,
    )
    yield page, requests, dialogs
    context.close()


def active_line(page) -> str:
    return page.locator("article").first.locator(".transcript span.active").inner_text()


def test_tapping_a_chapter_seeks_there_and_highlights_its_sentence(phone, site):
    page, _, _ = phone
    _, show_dir = site
    newest = list_episodes(show_dir)[0]
    article = page.locator("article").first
    third = newest.chapters[2]
    article.locator("ol.chapters button").nth(2).tap()
    page.evaluate("() => document.querySelector('article audio').pause()")
    current = page.evaluate("() => document.querySelector('article audio').currentTime")
    assert abs(current - third.start) < 0.3, (current, third.start)
    page.wait_for_function(
        "() => document.querySelector('article .transcript span.active') !== null"
    )
    assert active_line(page) == third.title  # the section's heading opens it
    second = newest.chapters[1]
    article.locator("ol.chapters button").nth(1).tap()
    page.evaluate("() => document.querySelector('article audio').pause()")
    page.wait_for_function(
        f"() => document.querySelector('article .transcript span.active')?.textContent === {second.title!r}"
    )
    current = page.evaluate("() => document.querySelector('article audio').currentTime")
    assert abs(current - second.start) < 0.3
    assert (
        page.locator("article")
        .first.locator("ol.chapters button.current")
        .inner_text()
        .endswith(second.title)
    )


def test_page_shows_hostile_titles_as_text_and_makes_no_outside_requests(phone, site):
    page, requests, dialogs = phone
    origin, _ = site
    titles = page.locator("article h2").all_inner_texts()
    assert titles[2] == HOSTILE_TITLES[0]  # the oldest: markup shown as text, never run
    assert dialogs == []
    assert requests and all(url.startswith(origin + "/") for url in requests)


def test_phone_screenshot_is_readable(phone, tmp_path):
    page, _, _ = phone
    # nothing may be wider than the screen (no sideways scrolling on a phone)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    font = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('.transcript')).fontSize)"
    )
    assert font >= 16
    page.locator("article").first.locator("ol.chapters button").nth(2).tap()
    page.evaluate("() => document.querySelector('article audio').pause()")
    page.wait_for_function("() => document.querySelector('article .transcript span.active')")
    path = tmp_path / "phone-375x812.png"
    page.screenshot(path=str(path))
    from PIL import Image

    with Image.open(path) as shot:
        assert shot.size == (375, 812)
    print(f"screenshot: {path}")
