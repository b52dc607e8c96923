"""The web page end to end in a real headless Chromium (Debian's, driven by Playwright; never downloaded)."""

import re
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from conftest import shared_image

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"{CHROMIUM} is not installed "
                                "(apt-get install chromium; .ci/run installs it)")


@pytest.fixture
def server(tmp_path):
    """The app served by uvicorn on a free local port, in a thread of this process."""
    import uvicorn

    from painterly.web.app import create_app

    config = uvicorn.Config(create_app(tmp_path / "data"), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)


def until(page, script: str, seconds: float = 60) -> None:
    """Wait until `script` is true in the page, evaluated from outside (the page's policy allows no eval,
    which Playwright's wait_for_function uses when its first try is false)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"not true after {seconds} s: {script}"
        time.sleep(0.1)


def watch_status(page):
    """Keep every status line the page shows, in window.seen."""
    page.evaluate("""() => {
        window.seen = [];
        new MutationObserver(() => window.seen.push(document.getElementById('status').textContent))
            .observe(document.getElementById('status'), {childList: true, characterData: true, subtree: true});
    }""")


def unlabelled(page) -> list[str]:
    """The visible form controls with no accessible name (label, aria-label or aria-labelledby)."""
    return page.evaluate("""() => [...document.querySelectorAll('input, select, button, textarea')]
        .filter((e) => e.offsetParent !== null && e.type !== 'hidden')
        .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                       && !e.getAttribute('aria-labelledby') && !(e.tagName === 'BUTTON' && e.textContent.trim()))
        .map((e) => e.id || e.outerHTML.slice(0, 60))""")


def more_settings(page, **values):
    page.click("#more summary")
    for name, value in values.items():
        if page.locator(f"#field-{name}").evaluate("e => e.tagName") == "SELECT":
            page.select_option(f"#field-{name}", value)
        else:
            page.fill(f"#field-{name}", value)
        page.locator(f"#field-{name}").dispatch_event("change")
    page.click("#more summary")


def test_upload_watch_it_paint_compare_and_download(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)  # a busy CI machine: every wait on the page is generous (issue 23 item 23)

    content, style = shared_image("content", "tubingen.jpg"), shared_image("style", "starry_night.jpg")
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a picture")
    started = time.perf_counter()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(accept_downloads=True, viewport={"width": 1280, "height": 900})
            page.goto(server)
            expect(page.locator(".painting").first).to_be_visible()
            assert unlabelled(page) == []

            # a refused input is told in the page, in one line; the chosen files show as thumbnails
            page.set_input_files("#content", str(notes))
            page.set_input_files("#style", str(style))
            expect(page.locator("#style-thumbs canvas")).to_have_count(1)
            expect(page.locator("#style-thumbs canvas")).to_be_visible()
            expect(page.locator("#content-files")).to_have_text("notes.jpg (no preview)")
            expect(page.locator(".painting[aria-pressed=true]")).to_have_count(0)  # the own painting replaces it
            page.click("#start")
            expect(page.locator("#message")).to_contain_text("content photo 'notes.jpg' is not an image painterly can read")

            page.set_input_files("#content", str(content))
            expect(page.locator("#content-thumb")).to_be_visible()
            assert page.evaluate("document.getElementById('content-thumb').width") == 240  # 1024×768 drawn at 240 px
            page.click("#quality-balanced")
            more_settings(page, size="64", iterations="5", model="vgg16-hed")
            expect(page.locator("#quality-help")).to_contain_text("Custom")  # 5 steps: not one of the three
            watch_status(page)
            page.click("#start")
            expect(page.locator("#message")).to_have_text("")
            expect(page.locator("#status")).to_contain_text("Done", timeout=120_000)
            expect(page.locator("#download")).to_have_text("Download")
            expect(page.locator("#job-inputs")).to_contain_text("model vgg16-hed")

            seen = page.evaluate("window.seen")
            assert any(line.startswith("Step 2 of 5 (64×48)") for line in seen), seen  # it showed progress
            assert page.get_attribute("#chart", "data-points") == "6"  # steps 0..5 on the chart
            # the result at its own size, never enlarged; the photo over it left of the line, moved by keyboard
            assert page.evaluate("[live.naturalWidth, live.clientWidth, live.clientHeight]") == [64, 64, 48]
            expect(page.locator("#compare")).to_be_visible()
            expect(page.locator("#size-note")).to_have_text("64×48 px, shown at its own size.")
            alpha = "(x) => document.getElementById('before').getContext('2d').getImageData(x, 24, 1, 1).data[3]"
            assert page.evaluate(f"[({alpha})(10), ({alpha})(54)]") == [255, 0]  # the line at the middle
            page.focus("#split")
            page.keyboard.press("End")
            assert page.evaluate(f"({alpha})(54)") == 255  # all photo
            page.keyboard.press("Home")
            assert page.evaluate(f"({alpha})(10)") == 0  # all painting
            with page.expect_download() as download:
                page.click("#download")
            saved = tmp_path / "downloaded.png"
            download.value.save_as(saved)
            with Image.open(saved) as image:
                image.load()
                assert image.size == (64, 48) and image.mode == "RGB"
            page.screenshot(path=str(tmp_path / "done_1280.png"))

            page.reload()  # the job is in the address, and its state survives the reload
            expect(page.locator("#job-inputs")).to_contain_text("completed")
            expect(page.locator("#job-title")).to_have_text("tubingen.jpg × starry_night.jpg")
            expect(page.locator("#jobs .card")).to_have_count(1)
            expect(page.locator("#jobs .card img")).to_be_visible()  # its thumbnail

            page.check("#demo")  # the bundled pair, a long run, cancelled once it paints
            more_settings(page, size="64", iterations="2000", model="vgg16-hed")
            page.click("#start")
            expect(page.locator("#job-title")).to_contain_text("demo photo (coffee)")
            expect(page.locator("#status")).to_contain_text(re.compile(r"Step \d+ of 2000"), timeout=60_000)
            expect(page.locator("#cancel")).to_be_in_viewport()  # beside the picture, not below the fold
            page.click("#cancel")
            expect(page.locator("#status")).to_have_text("Cancelled: the best image so far is kept.", timeout=30_000)
            expect(page.locator("#download")).to_have_text("Download the best image so far")
            expect(page.locator("#jobs .card")).to_have_count(2)
        finally:
            browser.close()
    print(f"browser test: {time.perf_counter() - started:.1f} s")


def test_a_shelf_painting_picked_by_keyboard_at_a_phones_width(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)  # a busy CI machine: every wait on the page is generous (issue 23 item 23)

    content = shared_image("content", "tubingen.jpg")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(server)
            expect(page.locator(".painting")).to_have_count(7)
            expect(page.locator(".painting[data-name=starry_night]")).to_have_attribute("aria-pressed", "true")
            page.set_input_files("#content", str(content))
            page.focus(".painting[data-name=great_wave]")
            page.keyboard.press("Enter")
            expect(page.locator(".painting[aria-pressed=true]")).to_have_count(1)
            expect(page.locator("#chosen")).to_have_text("Painting: The Great Wave off Kanagawa (Katsushika Hokusai)")
            page.focus("#quality-fast")
            page.keyboard.press("Space")
            expect(page.locator("#field-method")).to_have_value("fast")
            page.focus("#strength")  # how much of the painting: the fast picture's style strength
            for _ in range(4):
                page.keyboard.press("ArrowLeft")
            expect(page.locator("#strength-value")).to_have_text("80%")
            expect(page.locator("#field-style_strength")).to_have_value("0.8")
            page.check("#keep-colours")
            expect(page.locator("#field-preserve_color")).to_have_value("luminance")
            more_settings(page, size="64")
            expect(page.locator("#size")).to_have_value("64")
            assert unlabelled(page) == []
            assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
            page.screenshot(path=str(tmp_path / "before_390.png"), full_page=True)
            page.focus("#start")
            page.keyboard.press("Enter")
            expect(page.locator("#job-title")).to_have_text("tubingen.jpg × The Great Wave off Kanagawa")
            expect(page.locator("#status")).to_contain_text("Done", timeout=120_000)
            expect(page.locator("#job-inputs")).to_contain_text("64 px · fast · completed")
            expect(page.locator("#compare")).to_be_visible()
            assert page.evaluate("[live.naturalWidth, live.naturalHeight]") == [64, 48]
            expect(page.locator("#job")).to_be_in_viewport()  # the page went to the picture
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(tmp_path / "after_390.png"), full_page=True)
            expect(page.locator("#jobs .card .title")).to_have_text("tubingen.jpg × The Great Wave off Kanagawa")
        finally:
            browser.close()


def test_a_video_clip_is_painted_frame_by_frame_and_played_in_the_page(server, tmp_path):
    import av
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)  # a busy CI machine: every wait on the page is generous (issue 23 item 23)

    from test_web_video import make_clip

    clip = make_clip(tmp_path / "pan.mp4", 12, audio=True)  # 64×48, 1 s at 12 frames/s
    style = shared_image("style", "starry_night.jpg")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(accept_downloads=True)
            page.goto(server)
            page.check("#kind-video")  # the clip instead of the photo, no demo pair, the fast method
            expect(page.locator("#video-drop")).to_be_visible()
            expect(page.locator("#content-drop")).to_be_hidden()
            expect(page.locator("#demo")).to_be_hidden()
            expect(page.locator("#field-method")).to_have_value("fast")
            expect(page.locator("#field-temporal")).to_have_value("flow")
            expect(page.locator("#video-limits")).to_contain_text("This server paints up to 10 s of a clip (600 frames")
            expect(page.locator("#field-duration")).to_have_value("10")  # a longer clip: its first 10 s
            expect(page.locator("#field-start")).to_be_visible()

            page.set_input_files("#video", str(clip))
            page.set_input_files("#style", str(style))
            more_settings(page, size="32")
            page.evaluate("""() => {
                window.seen = [];
                new MutationObserver(() => window.seen.push(document.getElementById('status').textContent))
                    .observe(document.getElementById('status'), {childList: true, characterData: true, subtree: true});
            }""")
            page.click("#start")
            expect(page.locator("#job-title")).to_have_text("pan.mp4 × starry_night.jpg")
            expect(page.locator("#clip")).to_be_visible(timeout=120_000)  # the MP4 plays in the page when done
            expect(page.locator("#status")).to_contain_text(re.compile(r"^Done in [\d.]+ s: 12 frames · warping error \d"))
            expect(page.locator("#live")).to_be_hidden()
            seen = page.evaluate("window.seen")
            assert any(re.match(r"Frame \d+ of 12 \(32×24\) · [\d.]+ frames/s", line) for line in seen), seen
            assert page.get_attribute("#chart", "data-points") == "12"  # every frame came as an event
            until(page, "document.getElementById('clip').readyState >= 1")
            assert page.evaluate("document.getElementById('clip').videoWidth") == 32
            assert abs(page.evaluate("document.getElementById('clip').duration") - 1.0) < 0.1
            expect(page.locator("#download")).to_have_text("Download the video (MP4)")
            with page.expect_download() as download:
                page.click("#download")
            saved = tmp_path / "downloaded.mp4"
            download.value.save_as(saved)
            with av.open(str(saved)) as container:
                assert sum(1 for _ in container.decode(video=0)) == 12 and container.streams.audio
            expect(page.locator("#jobs .card")).to_have_count(1)
            expect(page.locator("#jobs .card .meta")).to_contain_text("12 frames · warping error")
        finally:
            browser.close()
