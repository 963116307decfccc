"""The rendered docs in a real browser: Debian's Chromium, headless, with the network cut off.

The page must stand alone: every operation's section present, visible and named, the nav linking to
each, nothing fetched beyond the document itself, no console error. At a desktop and a phone width
every table and every ``pre`` fits its column (measured one by one: a table may scroll inside its own
box without the page scrolling, so the page's width alone proves nothing), descriptions keep room to
read, and each sidebar entry keeps its method badge beside its name. Screenshots land in
``artifacts/docs/`` (git-ignored) for a human to look at.

Chromium is not optional here: ``.ci/run`` installs Debian's package when it is missing, and this
test fails (it does not skip) when it is still absent. Playwright drives it through the driver its
wheel ships; no ``playwright install``, no downloaded browser.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    Route,
    ViewportSize,
    WebSocket,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from tests.support import REPOSITORY
from validator import spec as spec_module
from validator.docs import write_docs

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPOSITORY / "artifacts" / "docs"
WIDE: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
NARROW: ViewportSize = {"width": 375, "height": 812}
#: A description column narrower than this reads a word or two per line (the issue's 1280 px symptom).
MIN_PROSE_PX = 200
TIMEOUT_MS = 15_000


@dataclass
class Visit:
    """One page load, with everything the page tried to do besides render."""

    page: Page
    url: str
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    websockets: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def assert_stood_alone(self) -> None:
        problems = [
            *(f"requested besides the document: {url}" for url in self.requests if url != self.url),
            *(f"blocked: {url}" for url in self.blocked),
            *(f"opened a websocket: {url}" for url in self.websockets),
            *(f"console error: {text}" for text in self.console_errors),
            *(f"uncaught exception: {text}" for text in self.page_errors),
        ]
        if self.requests.count(self.url) != 1:
            problems.append(f"the document itself was requested {self.requests.count(self.url)} times")
        assert not problems, "the page did not stand alone:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} not found: the docs browser test needs Debian's chromium package "
            "(.ci/run installs it when run as root; otherwise: apt-get install chromium)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except PlaywrightError as error:
            pytest.fail(f"{CHROMIUM} would not start under Playwright: {error.message}", pytrace=False)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def index_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_docs(tmp_path_factory.mktemp("docs")).index_html


@pytest.fixture(scope="module")
def operation_ids(spec: spec_module.Spec) -> list[str]:
    ids = list(spec.operations)
    assert ids, "the bundled spec has no operations"
    return ids


@pytest.fixture
def visit(browser: Browser, index_html: Path) -> Iterator[Visit]:
    # offline=True is the belt to the routing's braces: even a request the route missed goes nowhere.
    context = browser.new_context(viewport=WIDE, offline=True, service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    seen = Visit(page=page, url=index_html.as_uri())

    def route(route: Route) -> None:
        if route.request.url == seen.url:
            route.continue_()
        else:
            seen.blocked.append(route.request.url)
            route.abort("blockedbyclient")

    def on_request(request: Request) -> None:
        seen.requests.append(request.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            seen.console_errors.append(f"{message.text} ({message.location.get('url', '?')})")

    def on_page_error(error: PlaywrightError) -> None:
        seen.page_errors.append(f"{error.name}: {error.message}")

    def on_websocket(socket: WebSocket) -> None:
        seen.websockets.append(socket.url)

    page.route("**/*", route)
    page.on("request", on_request)
    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.on("websocket", on_websocket)
    try:
        page.goto(seen.url, wait_until="load")
        page.wait_for_load_state("networkidle")
        # Let timers and a frame or two run, so an inline script's late errors or fetches are seen.
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => setTimeout(done, 50)))")
        yield seen
    finally:
        context.close()


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / name, full_page=True)


def test_every_operation_has_a_visible_named_section_and_a_nav_link(
    visit: Visit, operation_ids: list[str]
) -> None:
    page = visit.page
    screenshot(page, "index.png")
    problems: list[str] = []
    for operation_id in operation_ids:
        section = page.locator(f"[id='{operation_id}']")
        count = section.count()
        if count != 1:
            problems.append(f"#{operation_id}: {count} elements with that id, expected 1")
            continue
        if not section.is_visible():
            problems.append(f"#{operation_id}: not visible")
        headings = [text.strip() for text in section.locator("h2").all_inner_texts()]
        if not any(operation_id in text for text in headings):
            problems.append(f"#{operation_id}: no <h2> naming it (h2s: {headings})")
        if page.locator(f"nav a[href='#{operation_id}']").count() == 0:
            problems.append(f"#{operation_id}: no link to it in <nav>")
    anchors = page.eval_on_selector_all("nav a[href^='#']", "links => links.map(a => a.getAttribute('href'))")
    for href in anchors:
        if page.locator(f"[id='{href[1:]}']").count() == 0:
            problems.append(f"nav link {href} points at nothing")
    assert not problems, "\n".join(problems)
    visit.assert_stood_alone()


def resize(page: Page, size: ViewportSize) -> None:
    page.set_viewport_size(size)
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


# Every table and pre of <main> against <main>'s content box; collapsed examples are opened first.
MEASURE_BLOCKS = """() => {
    document.querySelectorAll('details').forEach(d => { d.open = true; });
    const main = document.querySelector('main');
    const style = getComputedStyle(main);
    const box = main.getBoundingClientRect();
    const left = box.left + parseFloat(style.paddingLeft), right = box.right - parseFloat(style.paddingRight);
    const counts = {};
    return [...main.querySelectorAll('table, pre')].map(e => {
        const where = (e.closest('section[id]') || {id: '?'}).id;
        const kind = e.tagName.toLowerCase();
        const n = counts[where + kind] = (counts[where + kind] || 0) + 1;
        const r = e.getBoundingClientRect();
        const scroller = kind === 'table' ? (e.closest('.table') || e) : e;
        return {name: `${kind} ${n} of #${where}`, left: r.left, right: r.right, width: r.width,
                column: right - left, columnLeft: left, columnRight: right,
                scroll: scroller.scrollWidth, client: scroller.clientWidth};
    });
}"""


@pytest.mark.parametrize("size", [WIDE, PHONE], ids=["1280px", "390px"])
def test_every_table_and_pre_fits_its_column(visit: Visit, size: ViewportSize) -> None:
    page = visit.page
    resize(page, size)
    screenshot(page, f"index-{size['width']}.png")
    blocks = page.evaluate(MEASURE_BLOCKS)
    assert len(blocks) == page.locator("main table").count() + page.locator("main pre").count() > 0
    problems = [
        f"{b['name']}: {round(b['width'])}px wide, spans {round(b['left'])}..{round(b['right'])}px in a "
        f"{round(b['column'])}px column ({round(b['columnLeft'])}..{round(b['columnRight'])}px), "
        f"scrolls {b['scroll']}px in {b['client']}px"
        for b in blocks
        if b["left"] < b["columnLeft"] - 1
        or b["right"] > b["columnRight"] + 1
        or b["scroll"] > b["client"] + 1
    ]
    assert not problems, f"at {size['width']}px, {len(problems)} of {len(blocks)} blocks do not fit:\n" + (
        "\n".join(problems)
    )
    visit.assert_stood_alone()


def test_descriptions_keep_room_to_read_on_a_desktop(visit: Visit) -> None:
    narrow = visit.page.evaluate(
        """() => [...document.querySelectorAll('main td[data-label="description"]')]
            .map(td => ({text: td.innerText.slice(0, 40), width: td.getBoundingClientRect().width}))"""
    )
    assert narrow, "no description cells found"
    squeezed = [f"{round(c['width'])}px: {c['text']}" for c in narrow if c["width"] < MIN_PROSE_PX]
    assert not squeezed, f"description cells under {MIN_PROSE_PX}px at 1280px:\n" + "\n".join(squeezed)


@pytest.mark.parametrize("size", [WIDE, PHONE], ids=["1280px", "390px"])
def test_sidebar_entries_keep_the_badge_beside_the_name(visit: Visit, size: ViewportSize) -> None:
    page = visit.page
    resize(page, size)
    entries = page.evaluate(
        """() => [...document.querySelectorAll('nav a')].filter(a => a.querySelector('.method')).map(a => {
            const badge = a.querySelector('.method').getBoundingClientRect();
            const name = a.querySelector('.name');
            const first = name.getClientRects()[0];
            const lines = new Set([...name.getClientRects()].map(r => Math.round(r.top))).size;
            return {name: name.textContent, beside: first.left >= badge.right && first.top < badge.bottom
                    && first.bottom > badge.top, lines, visible: name.scrollWidth <= name.clientWidth + 1};
        })"""
    )
    assert [entry["name"] for entry in entries] == list(spec_module.bundled().operations)
    problems = [
        f"{e['name']}: "
        + ", ".join(
            what
            for what, bad in (
                ("name not beside its badge", not e["beside"]),
                (f"{e['lines']} lines", e["lines"] > 2),
                ("name cut off", not e["visible"]),
            )
            if bad
        )
        for e in entries
        if not e["beside"] or e["lines"] > 2 or not e["visible"]
    ]
    assert not problems, f"at {size['width']}px:\n" + "\n".join(problems)


def test_narrow_screen_has_no_horizontal_overflow(visit: Visit) -> None:
    page = visit.page
    resize(page, NARROW)
    screenshot(page, "index-narrow.png")
    widths = page.evaluate(
        """() => {
            const limit = window.innerWidth + 1;
            const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                + (e.classList.length ? '.' + [...e.classList].join('.') : '');
            const culprits = [...document.body.querySelectorAll('*')]
                .filter(e => e.getBoundingClientRect().right > limit)
                .slice(0, 5)
                .map(e => `${name(e)} (right edge ${Math.round(e.getBoundingClientRect().right)}px)`);
            return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth, culprits};
        }"""
    )
    assert widths["scroll"] <= widths["inner"] + 1, (
        f"at {NARROW['width']}px the page scrolls sideways: scrollWidth {widths['scroll']} > "
        f"innerWidth {widths['inner']}; widest elements: {widths['culprits']}"
    )
    visit.assert_stood_alone()
