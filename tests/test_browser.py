"""The review pack's page in a real browser: headless Chromium from the system's packages, driven by Playwright
(no browser of Playwright's own is downloaded). The page opens with no console error and fetches nothing; every
SVG renders at a non-zero size; every link inside the page leads to an element of it; it prints; and its first
screen looks like the committed reference, within a tolerance.

CI installs Chromium with apt-get and sets TRACKPROOF_REQUIRE_BROWSER, which turns a missing browser into a failure
instead of a skip. To renew the reference after an intended change of the page's first screen:
TRACKPROOF_UPDATE_REFERENCE=1 pytest tests/test_browser.py.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT

REFERENCE = ROOT / "tests" / "browser" / "forum-report-first-screen.png"
VIEWPORT = {"width": 1280, "height": 720}  # a projector
#: Flags that work on a machine with no display, no GPU and no network; the profile is a fresh folder each run.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: The screens are compared in grey, each averaged over cells of 32x32 pixels, as the mean absolute difference per
#: cell (0 to 255). Measured here against the reference: another sans-serif font (Liberation Sans for DejaVu Sans)
#: 3.0, letters 0.3 px wider 4.2, type 1 px larger 4.0, the page 2 px lower 1.3; a serif font 10.6, the page
#: without its style 13.6, the next screen down 14.9, the contents list gone 8.9. So the tolerance lets fonts
#: differ between machines and catches a broken layout or style; it does not see a table row removed (2.7) or
#: a colour changed (under 2): the golden Markdown and the content tests (test_report.py) catch those.
TOLERANCE = 5.0
CELL = 32


def _chromium() -> str | None:
    for name in (os.environ.get("TRACKPROOF_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name) if name else None
        if found:
            return found
    return None


def _playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    return sync_playwright


REQUIRED = bool(os.environ.get("TRACKPROOF_REQUIRE_BROWSER"))
MISSING = [what for what, found in (("chromium", _chromium()), ("playwright", _playwright())) if found is None]
pytestmark = pytest.mark.skipif(bool(MISSING) and not REQUIRED,
                                reason=f"no {' and '.join(MISSING)} here (CI installs them and sets "
                                       "TRACKPROOF_REQUIRE_BROWSER)")


@pytest.fixture(scope="module")
def page_file(forum_pack: Path) -> Path:
    return forum_pack / "report.html"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    assert not MISSING, f"TRACKPROOF_REQUIRE_BROWSER is set but there is no {' and '.join(MISSING)}"
    with _playwright()() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")), executable_path=_chromium(), args=FLAGS, headless=True,
            viewport=VIEWPORT, device_scale_factor=1, locale="en-GB", timezone_id="UTC")
        try:
            yield context
        finally:
            context.close()


class Opened:
    """A page opened on the pack, with what it said and what it tried to fetch."""

    def __init__(self, context: Any, path: Path) -> None:
        self.errors: list[str] = []
        self.fetched: list[str] = []
        self.page = context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", self._request)
        self.page.goto(path.as_uri(), wait_until="load")

    def _request(self, route: Any) -> None:
        url = route.request.url
        if url.startswith("file://"):
            route.continue_()
        else:
            self.fetched.append(url)
            route.abort()


@pytest.fixture(scope="module")
def opened(browser: Any, page_file: Path) -> Iterator[Opened]:
    o = Opened(browser, page_file)
    yield o
    o.page.close()


def test_opens_with_no_console_error_and_fetches_nothing(opened: Opened, page_file: Path) -> None:
    assert opened.errors == []
    assert opened.fetched == []
    assert opened.page.title().startswith("Review pack")


def test_every_svg_renders(opened: Opened) -> None:
    opened.page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    sizes = opened.page.evaluate("""[...document.querySelectorAll('svg')].map(s => {
        const r = s.getBoundingClientRect();
        const shapes = [...s.querySelectorAll('g.node')].filter(n => n.getBBox().width > 0).length;
        return [s.getAttribute('aria-label'), r.width, r.height, shapes];
    })""")
    assert len(sizes) >= 8
    empty = [label for label, width, height, shapes in sizes if width <= 0 or height <= 0 or shapes == 0]
    assert not empty, f"SVG drawn at no size, or with no visible state: {empty}"
    opened.page.evaluate("document.querySelectorAll('details').forEach(d => d.open = false)")


def test_every_link_inside_the_page_resolves(opened: Opened) -> None:
    links = opened.page.evaluate("""[...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))""")
    inside = [h for h in links if not h.startswith(("http://", "https://"))]
    assert len(inside) > 20
    broken = opened.page.evaluate("""hrefs => hrefs.filter(h => !h.startsWith('#')
        || document.getElementById(decodeURIComponent(h.slice(1))) === null)""", inside)
    assert broken == []


def test_it_prints(opened: Opened) -> None:
    pdf = opened.page.pdf(format="A4", print_background=False)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") > 5


def _grey_cells(png: bytes) -> list[float]:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.size == (VIEWPORT["width"], VIEWPORT["height"])
    small = image.reduce(CELL)  # each pixel the mean of a CELLxCELL block
    return [float(v) for v in small.tobytes()]


def difference(a: bytes, b: bytes) -> float:
    """Mean absolute difference per pixel of two screenshots, in grey, over CELLxCELL cells (0 to 255)."""
    ca, cb = _grey_cells(a), _grey_cells(b)
    return sum(abs(x - y) for x, y in zip(ca, cb, strict=True)) / len(ca)


def _first_screen(opened: Opened) -> bytes:
    opened.page.evaluate("window.scrollTo(0, 0)")
    shot: bytes = opened.page.screenshot(full_page=False, animations="disabled", caret="hide")
    return shot


def test_first_screen_looks_like_the_reference(opened: Opened) -> None:
    shot = _first_screen(opened)
    if os.environ.get("TRACKPROOF_UPDATE_REFERENCE"):
        REFERENCE.parent.mkdir(exist_ok=True)
        REFERENCE.write_bytes(shot)
    assert REFERENCE.is_file(), "no reference: TRACKPROOF_UPDATE_REFERENCE=1 pytest tests/test_browser.py"
    found = difference(shot, REFERENCE.read_bytes())
    assert found <= TOLERANCE, (f"the first screen differs from {REFERENCE.name} by {found:.1f} (tolerance "
                                f"{TOLERANCE}); if the change is intended: TRACKPROOF_UPDATE_REFERENCE=1")


def test_the_comparison_tells_pages_apart(opened: Opened) -> None:
    """The metric is not blind: the next screen down, or the page without its style, is far outside the
    tolerance."""
    first = _first_screen(opened)
    opened.page.evaluate("window.scrollTo(0, 720)")
    lower: bytes = opened.page.screenshot(full_page=False)
    opened.page.evaluate("document.querySelector('style').disabled = true; window.scrollTo(0, 0)")
    plain: bytes = opened.page.screenshot(full_page=False)
    opened.page.evaluate("document.querySelector('style').disabled = false; window.scrollTo(0, 0)")
    assert difference(first, lower) > 2 * TOLERANCE
    assert difference(first, plain) > 2 * TOLERANCE
