"""Presenter mode in a real browser, on every page, at a projector's 1280×720 and 1920×1080.

What a teacher in a lecture hall needs (issue 26, items 1–4), against the Streamlit that pip installs
(pyproject.toml pins the tested range):
- the way to the other pages stays visible (the » button that opens the folded sidebar) and works;
- "Leave presenter mode" is on the page itself and gives the normal layout back;
- the page's key figure starts in the first 75 % of the screen, nothing is wider than the screen, and no chart
  text runs into another;
- every chart's text is ≥ 16 px and the body text ≥ 19 px;
- no Deploy button;
- and axe-core finds no serious or critical accessibility violation (tests/test_a11y.py: the normal layout).
"""
import json
from pathlib import Path

import pytest

from axe_scan import report, scan
from bench.live import CHROMIUM, FIGURE, app_and_browser, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (.ci/run installs it)")]
ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "screenshots" / "presenter"
PAGES = [p["file"].removesuffix(".py") for p in json.loads((ROOT / "pages" / "index.json").read_text())]
PATHS = ["" if i == 0 else name for i, name in enumerate(PAGES)] + ["lessons?mode=break"]
SIZES = [(1280, 720), (1920, 1080)]
FOLD = 0.75  # the key figure's top within this share of the screen's height
CHART_PX, BODY_PX = 16, 19
# The figure a page is about, in FIGURE order (page order of charts and pictures): the overview's first
# picture is the chain diagram, its teaser (data dissolving beside samples condensing) comes next.
KEY_FIGURE = {"": 1}
TEASER_TEXT_PX, TEASER_WIDTH_PX = 14, 480  # pages/overview.py: the teaser's tick labels in its own pixels

TEXT_SIZES_JS = """() => {
    const shown = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
    const px = e => parseFloat(getComputedStyle(e).fontSize);
    const chart = [...document.querySelectorAll('.js-plotly-plot svg text')]
        .filter(t => t.textContent.trim() && shown(t)).map(t => [px(t), t.textContent.slice(0, 30)]);
    const body = [...document.querySelectorAll('[data-testid=stMain] [data-testid=stMarkdownContainer] p')]
        .filter(shown).map(p => [px(p), p.textContent.slice(0, 30)]);
    const low = list => list.reduce((a, b) => (b[0] < a[0] ? b : a), [Infinity, '']);
    return {chart: low(chart), body: low(body), charts: chart.length};
}"""

# Pairs of chart texts whose boxes meet: the legend over a tick label or an axis title, a title over a
# tick label... (tick labels of one axis are not compared with each other: Plotly spaces those itself).
OVERLAPS_JS = """() => {
    const hits = [], box = e => e.getBoundingClientRect();
    const meet = (a, b) => a.width > 0 && b.width > 0 && a.left < b.right - 1 && b.left < a.right - 1
        && a.top < b.bottom - 1 && b.top < a.bottom - 1;
    document.querySelectorAll('.js-plotly-plot').forEach((plot, i) => {
        const texts = [...plot.querySelectorAll('.g-xtitle text, .g-ytitle text, .xtick text, .ytick text, '
            + '.gtitle, .annotation-text, .colorbar text')].filter(t => t.textContent.trim());
        const legend = plot.querySelector('g.legend');
        if (legend) for (const t of texts) if (meet(box(legend), box(t)))
            hits.push(`figure ${i}: the legend over "${t.textContent.slice(0, 20)}"`);
        for (let a = 0; a < texts.length; a++) for (let b = a + 1; b < texts.length; b++) {
            const A = texts[a], B = texts[b];
            if ((A.closest('.xtick') && B.closest('.xtick')) || (A.closest('.ytick') && B.closest('.ytick'))) continue;
            if (meet(box(A), box(B))) hits.push(`figure ${i}: "${A.textContent.slice(0, 20)}" over "${B.textContent.slice(0, 20)}"`);
        }
    });
    return hits.slice(0, 10);
}"""


@pytest.fixture(scope="module")
def live():
    with app_and_browser(SHOTS) as served:
        yield served


def open_presenting(browser, url: str, path: str, width: int, height: int):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{url}/{path}{'&' if '?' in path else '?'}present=1")
    page.wait_for_selector(FIGURE, timeout=180_000)
    wait_idle(page, 180_000)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stImage] img')]"
                           ".every(i => i.complete)", timeout=60_000)
    return page


def overflow(page) -> list[str]:
    """What runs past the screen's right edge: the document itself (a sideways scroll bar) or one of the page's
    blocks. Inside a block, a wide formula scrolls in its own box and a chart clips its drawing, so the blocks
    are what a viewer sees cut off."""
    return page.evaluate("""() => {
        const w = window.innerWidth, out = [];
        if (document.documentElement.scrollWidth > w) out.push('document ' + document.documentElement.scrollWidth);
        for (const el of document.querySelectorAll('[data-testid=stMain] [data-testid=stElementContainer], '
                                                   + '[data-testid=stMain] [data-testid=stHorizontalBlock]')) {
            const r = el.getBoundingClientRect();
            if (r.width > 0 && r.right > w + 1 && getComputedStyle(el).visibility !== 'hidden')
                out.push((el.getAttribute('data-testid') || el.tagName) + ' ' + Math.round(r.right));
        }
        return out.slice(0, 10);
    }""")


def root_px(page) -> float:
    return page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")


@pytest.mark.parametrize("path", PATHS)
def test_presenter_mode_in_a_lecture_hall(live, path):
    url, browser = live
    for width, height in SIZES:
        where = f"/{path} at {width}×{height}"
        page = open_presenting(browser, url, path, width, height)
        name = (path or "overview").replace("?", "_").replace("=", "")
        page.screenshot(path=str(SHOTS / f"{name}_{width}x{height}.png"))
        assert page.locator("[data-testid=stException]").count() == 0, where
        assert page.locator("[data-testid=stAppDeployButton]").count() == 0, f"{where}: a Deploy button"
        assert root_px(page) == 22, f"{where}: presenter type not applied"
        assert overflow(page) == [], f"{where}: wider than the screen"

        # 2. the key figure above the fold, no chart text over another
        figures = page.locator(FIGURE)
        top = figures.nth(KEY_FIGURE.get(path, 0)).bounding_box()["y"]
        assert top <= FOLD * height, f"{where}: the key figure starts at y = {top:.0f}"
        assert page.evaluate(OVERLAPS_JS) == [], where

        # 3. readable from the back row
        sizes = page.evaluate(TEXT_SIZES_JS)
        assert sizes["chart"][0] >= CHART_PX or sizes["charts"] == 0, f"{where}: chart text {sizes['chart']}"
        assert sizes["body"][0] >= BODY_PX, f"{where}: body text {sizes['body']}"
        if path == "":  # the teaser is two server-drawn pictures: their tick labels scale with the picture
            shown = page.locator(FIGURE).nth(1).bounding_box()["width"]
            assert TEASER_TEXT_PX * shown / TEASER_WIDTH_PX >= CHART_PX, f"{where}: teaser {shown:.0f} px wide"

        if (width, height) == SIZES[-1]:
            found = scan(page)
            assert not found, f"{where}: axe-core found\n{report(found)}"

        # 1. the way out and the way to other pages stay on the page
        leave = page.get_by_role("button", name="Leave presenter mode")
        assert leave.is_visible(), where
        assert leave.bounding_box()["y"] + leave.bounding_box()["height"] <= height, where
        expand = page.locator("[data-testid=stExpandSidebarButton]")
        assert expand.is_visible(), f"{where}: no way to open the sidebar"
        expand.click()
        nav = page.locator("[data-testid=stSidebarNav] a")
        nav.first.wait_for(state="visible", timeout=10_000)
        assert nav.count() == len(PAGES), where
        assert all(nav.nth(i).is_visible() for i in range(nav.count())), where
        if (width, height) == SIZES[-1]:
            leave.click()
            page.wait_for_function("() => parseFloat(getComputedStyle(document.documentElement).fontSize) < 20",
                                   timeout=60_000)
            wait_idle(page, 120_000)
            assert "present=0" in page.url, f"{where}: {page.url}"
            assert page.get_by_role("button", name="Leave presenter mode").count() == 0, where
            assert page.locator("[data-testid=stException]").count() == 0, where
        page.close()


def test_presenter_mode_follows_the_teacher_to_another_page(live):
    """From Reverse sampling in presenter mode, open the sidebar and go to Forward noising: still presenting."""
    url, browser = live
    page = open_presenting(browser, url, "reverse", 1280, 720)
    page.locator("[data-testid=stExpandSidebarButton]").click()
    page.locator("[data-testid=stSidebarNav] a").filter(has_text="Forward noising").click()
    page.wait_for_url("**/forward**", timeout=60_000)
    page.wait_for_selector(FIGURE, timeout=180_000)
    wait_idle(page, 180_000)
    assert root_px(page) == 22
    assert page.get_by_role("button", name="Leave presenter mode").is_visible()
    page.close()


def test_no_deploy_button_outside_presenter_mode(live):
    url, browser = live
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{url}/forward")
    page.wait_for_selector(FIGURE, timeout=180_000)
    wait_idle(page, 120_000)
    assert page.locator("[data-testid=stAppDeployButton]").count() == 0
    assert page.locator("[data-testid=stMainMenu]").count() == 1  # the viewer's menu stays
    page.close()
