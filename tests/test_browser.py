"""Real browser: Debian's Chromium through Playwright against `streamlit run explorer/app.py`.

Opens every page, moves its T and β sliders with the keyboard, checks the chart changed and
no exception is shown, and saves screenshots to screenshots/browser/ (git-ignored).
"""
from pathlib import Path

import pytest

from bench.live import CHROMIUM, FIGURE, app_and_browser, move_slider, slider_input, wait_idle

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (.ci/run installs it)")]
SHOTS = Path(__file__).resolve().parents[1] / "screenshots" / "browser"

# page path -> sliders to move (label, keys, index of the figure that must change, in page order
# of charts and pictures); T and β where the page has them (the overview's first picture is the
# chain diagram, its teaser's pictures are 1 and 2; the images page shows pictures first)
MOVES = {
    "": [("Noise level", ["ArrowRight"] * 5, 1)],
    "forward": [("Number of steps T", ["PageDown"], 0), ("β_end", ["ArrowRight"], 0)],
    "schedules": [("Number of steps T", ["PageDown"], 0), ("β (constant, geometric)", ["ArrowRight"], 0)],
    "reverse": [("Number of steps T", ["PageDown"], 0), ("β_end", ["ArrowLeft"], 0)],
    "score": [("Number of steps T", ["PageDown"], 0), ("β_end", ["ArrowLeft"], 0)],
    "images": [("t", ["ArrowRight"] * 3, 0), ("Number of steps T", ["PageDown"], 0)],
    "train": [("Optimiser steps", ["ArrowRight"], None)],
    "tradeoffs?view=alpha": [("t (noise level)", ["ArrowRight"] * 3, 0)],
    "guidance": [("Guidance scale w", ["ArrowRight"], None), ("t (noise level)", ["ArrowRight"] * 5, 2)],
    "flows": [("DDIM's η (0: the ODE, 1: as noisy as DDPM)", ["ArrowRight"] * 5, 1)],
}


@pytest.fixture(scope="module")
def live():
    with app_and_browser(SHOTS) as served:
        yield served


@pytest.fixture
def browser_page(live):
    """A fresh browser page, hence a fresh Streamlit session: no state leaks between tests."""
    url, browser = live
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    yield url, page
    page.close()


@pytest.mark.parametrize("path", list(MOVES))
def test_page_reacts_to_sliders(browser_page, path):
    url, page = browser_page
    page.goto(f"{url}/{path}")
    page.wait_for_selector(FIGURE, timeout=120_000)
    wait_idle(page, 120_000)
    assert page.locator("[data-testid=stException]").count() == 0
    for label, keys, chart in MOVES[path]:
        before = slider_input(page, label).input_value()
        if chart is None:  # a setting that changes no figure until it is used
            slider_input(page, label).focus()
            for k in keys:
                page.keyboard.press(k)
        else:
            move_slider(page, label, keys, chart_index=chart, timeout_ms=120_000)
        wait_idle(page, 120_000)
        assert slider_input(page, label).input_value() != before
        assert page.locator("[data-testid=stException]").count() == 0, f"{path}: exception after moving {label}"
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stImage] img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)", timeout=60_000)
    page.wait_for_timeout(500)  # a replaced picture keeps the old one on screen until the new one is decoded
    page.screenshot(path=str(SHOTS / f"{(path or 'overview').replace('?', '_').replace('=', '')}.png"), full_page=True)


def test_url_opens_the_same_view(browser_page):
    url, page = browser_page
    page.goto(f"{url}/forward?kind=cosine&T=250&t=100")
    page.wait_for_selector(FIGURE, timeout=120_000)
    wait_idle(page)
    assert slider_input(page, "Number of steps T").input_value() == "250"
    title = page.evaluate("() => document.querySelector('.js-plotly-plot').layout.title.text")
    assert "cosine, T = 250" in title


def test_train_on_an_uploaded_csv_in_the_browser(browser_page, tmp_path):
    """Upload points, train briefly, see the samples and the loss curve; nothing errors."""
    url, page = browser_page
    csv = tmp_path / "ring.csv"
    import math
    csv.write_text("x,y\n" + "\n".join(f"{5 * math.cos(k / 50):.4f},{5 * math.sin(k / 50):.4f}" for k in range(315)))
    page.goto(f"{url}/train?tr_source=csv&tr_steps=300")
    page.wait_for_selector("[data-testid=stFileUploader]", timeout=120_000)
    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(str(csv))
    page.get_by_text("315 points", exact=False).first.wait_for(timeout=120_000)
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Your network is ready", exact=False).wait_for(timeout=180_000)
    wait_idle(page, 120_000)
    assert page.locator("[data-testid=stException]").count() == 0
    titles = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')].map(e => e.layout.title.text)")
    assert any("Samples from the network after 300 steps" in t for t in titles), titles
    assert any("Training loss" in t for t in titles), titles
    page.screenshot(path=str(SHOTS / "train_csv.png"), full_page=True)


def test_a_drawing_uploaded_to_sketch_to_digit(browser_page, tmp_path):
    """A dark stroke on white paper becomes a white-on-black 8 × 8 sketch (the page says it inverted it) and is
    denoised into digits; a file that is not an image gives a message and the built-in sketch."""
    from PIL import Image, ImageDraw
    url, page = browser_page
    drawing = Image.new("L", (120, 160), 255)
    ImageDraw.Draw(drawing).line([(30, 20), (90, 20), (50, 140)], fill=0, width=14)  # a 7 in pen
    png = tmp_path / "seven.png"
    drawing.save(png)
    page.goto(f"{url}/images?view=sketch&T=100")
    page.wait_for_selector("[data-testid=stFileUploader]", timeout=120_000)
    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(str(png))
    page.get_by_text("Mostly light: inverted", exact=False).first.wait_for(timeout=120_000)
    wait_idle(page, 120_000)
    assert page.locator("[data-testid=stException]").count() == 0
    page.get_by_text("seven.png", exact=False).first.wait_for(timeout=10_000)
    page.screenshot(path=str(SHOTS / "sketch_upload.png"), full_page=True)
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"not an image at all")
    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(str(bad))
    page.get_by_text("Cannot use notes.png", exact=False).first.wait_for(timeout=120_000)
    wait_idle(page, 120_000)
    assert page.locator("[data-testid=stException]").count() == 0


def draw(page, canvas, strokes) -> None:
    """Draw strokes (lists of points as fractions of the canvas's side) with the mouse on a drawable canvas."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    for stroke in strokes:
        (x, y), rest = stroke[0], stroke[1:]
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=8)
        page.mouse.up()


def test_a_digit_drawn_with_the_mouse_becomes_mnist_digits(browser_page):
    """Sketch to digit on MNIST with "your drawing": the blank canvas says so; a 7 drawn with the mouse is reduced to
    28 × 28, read as a 7 by the classifier, and denoised into digits that are mostly 7s."""
    import re
    url, page = browser_page
    page.goto(f"{url}/images?view=sketch&T=100&sk_name=your+drawing&sk_t0=30")
    page.get_by_text("The canvas is blank", exact=False).first.wait_for(timeout=120_000)
    wait_idle(page, 120_000)
    canvas = page.locator("canvas").last  # Fabric's upper canvas takes the pointer
    draw(page, canvas, [[(0.22, 0.2), (0.78, 0.2), (0.45, 0.85)]])  # a 7: the bar, then the stem
    page.get_by_text("your drawing (28 × 28)", exact=False).first.wait_for(timeout=120_000)
    wait_idle(page, 120_000)
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.get_by_text("The canvas is blank", exact=False).count() == 0
    caption = page.get_by_text("The sketch itself lies", exact=False).first.inner_text()
    assert re.search(r"is read as a 7 \(", caption), caption
    classes = re.search(r"classes (.*?)\.", caption).group(1)
    sevens = len(re.findall(r"\b7 \(", classes))
    assert sevens >= 5, classes  # of the 8 digits denoised from t₀ = 30 of 100
    page.screenshot(path=str(SHOTS / "sketch_drawn.png"), full_page=True)


def test_an_inpainting_mask_painted_with_the_mouse(browser_page):
    """Inpainting on MNIST with a drawn mask: paint over the left half of the first digit; the page says how many of
    the 784 pixels are hidden and keeps the known ones exactly."""
    import re
    url, page = browser_page
    page.goto(f"{url}/images?view=inpaint&T=100&img_mask=drawn")
    page.get_by_text("Paint over the part of the digit", exact=False).first.wait_for(timeout=120_000)
    wait_idle(page, 120_000)
    canvas = page.locator("canvas").last
    draw(page, canvas, [[(0.1, y), (0.45, y)] for y in (0.1, 0.25, 0.4, 0.55, 0.7, 0.85)])
    page.get_by_text("Known pixels: largest change at t = 0", exact=False).first.wait_for(timeout=120_000)
    wait_idle(page, 120_000)
    assert page.locator("[data-testid=stException]").count() == 0
    hidden = int(re.search(r"the mask: (\d+) of 784 pixels hidden", page.locator("body").inner_text()).group(1))
    assert 150 < hidden < 500, hidden  # the left part, not nothing and not everything
    assert page.get_by_text("0 (exact)", exact=True).count() == 1
    page.screenshot(path=str(SHOTS / "inpaint_drawn.png"), full_page=True)


def test_points_picked_with_a_box_are_inverted(browser_page):
    """A box dragged over the Flows page's picker chart selects data points; the page inverts exactly those."""
    url, page = browser_page
    page.goto(f"{url}/flows?view=inversion&T=200&inv_steps=20")
    page.get_by_text("Inverting the first 50 points", exact=False).first.wait_for(timeout=120_000)
    wait_idle(page, 120_000)
    plot = page.locator(".js-plotly-plot").first
    plot.scroll_into_view_if_needed()
    area = plot.locator(".nsewdrag").first.bounding_box()  # the plotting area inside the axes
    x0, y0 = area["x"] + 0.55 * area["width"], area["y"] + 0.05 * area["height"]  # upper right: two of the 8 bumps
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 0.4 * area["width"], y0 + 0.45 * area["height"], steps=12)
    page.mouse.up()
    page.get_by_text("points you picked", exact=False).first.wait_for(timeout=120_000)
    wait_idle(page, 120_000)
    assert page.locator("[data-testid=stException]").count() == 0
    note = page.get_by_text("points you picked", exact=False).first.inner_text()
    picked = int(note.split("the ")[1].split(" points")[0])
    assert 5 <= picked <= 200, note
    assert f"these {picked} points" in page.get_by_text("mean error of these", exact=False).first.inner_text()
    page.screenshot(path=str(SHOTS / "flows_picked.png"), full_page=True)


def test_lesson_link_opens_the_full_page_with_the_steps_settings(browser_page):
    url, page = browser_page
    page.goto(f"{url}/reverse")  # a page visited before keeps no stale value against the link
    page.wait_for_selector(FIGURE, timeout=120_000)
    wait_idle(page, 120_000)
    page.goto(f"{url}/lessons?lesson=4&step=5")  # DDIM, 50 steps
    page.wait_for_selector(FIGURE, timeout=120_000)
    wait_idle(page, 120_000)
    page.get_by_text("Open this in the full page").click()
    page.wait_for_url("**/reverse?**", timeout=60_000)
    page.wait_for_selector(FIGURE, timeout=120_000)
    wait_idle(page, 120_000)
    assert "sampler=ddim" in page.url and "steps=50" in page.url
    assert slider_input(page, "Sampling steps (≤ T)").input_value() == "50"
    assert page.locator("[data-testid=stException]").count() == 0
