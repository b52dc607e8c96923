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


def test_upload_watch_it_paint_and_download(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    content, style = shared_image("content", "tubingen.jpg"), shared_image("style", "starry_night.jpg")
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a picture")
    started = time.perf_counter()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(accept_downloads=True)
            page.goto(server)
            expect(page.locator("#field-size")).to_be_visible()

            # a refused input is told in the page, in one line
            page.set_input_files("#content", str(notes))
            page.set_input_files("#style", str(style))
            page.click("#start")
            expect(page.locator("#message")).to_contain_text("content photo 'notes.jpg' is not an image painterly can read")

            page.set_input_files("#content", str(content))
            page.fill("#field-size", "64")
            page.fill("#field-iterations", "5")
            page.select_option("#field-model", "vgg16-hed")
            page.evaluate("""() => {  // keep every status line the page shows
                window.seen = [];
                new MutationObserver(() => window.seen.push(document.getElementById('status').textContent))
                    .observe(document.getElementById('status'), {childList: true, characterData: true, subtree: true});
            }""")
            page.click("#start")
            expect(page.locator("#message")).to_have_text("")
            expect(page.locator("#download")).to_be_visible(timeout=120_000)
            expect(page.locator("#status")).to_contain_text("Done")

            seen = page.evaluate("window.seen")
            assert any(line.startswith("Step 2 of 5 (64×48)") for line in seen), seen  # it showed progress
            assert page.evaluate("points.length") == 6  # steps 0..5 on the chart
            assert page.evaluate("document.getElementById('live').naturalWidth") == 64
            with page.expect_download() as download:
                page.click("#download")
            saved = tmp_path / "downloaded.png"
            download.value.save_as(saved)
            with Image.open(saved) as image:
                image.load()
                assert image.size == (64, 48) and image.mode == "RGB"

            page.reload()  # the job is in the address, and its state survives the reload
            expect(page.locator("#job-inputs")).to_contain_text("completed")
            expect(page.locator("#job-title")).to_have_text("tubingen.jpg × starry_night.jpg")
            expect(page.locator("#jobs tbody tr")).to_have_count(1)

            page.check("#demo")  # the bundled pair, a long run, cancelled once it paints
            page.fill("#field-size", "64")
            page.fill("#field-iterations", "2000")
            page.select_option("#field-model", "vgg16-hed")
            page.click("#start")
            expect(page.locator("#job-title")).to_contain_text("demo photo (coffee)")
            expect(page.locator("#status")).to_contain_text(re.compile(r"Step \d+ of 2000"), timeout=60_000)
            page.click("#cancel")
            expect(page.locator("#status")).to_have_text("Cancelled: the best image so far is kept.", timeout=30_000)
            expect(page.locator("#download")).to_have_text("Download the best image so far")
            expect(page.locator("#jobs tbody tr")).to_have_count(2)
        finally:
            browser.close()
    print(f"browser test: {time.perf_counter() - started:.1f} s")


def test_a_video_clip_is_painted_frame_by_frame_and_played_in_the_page(server, tmp_path):
    import av
    from playwright.sync_api import expect, sync_playwright

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
            expect(page.locator("#video-limits")).to_contain_text("Up to 10 s, 600 frames")

            page.set_input_files("#video", str(clip))
            page.set_input_files("#style", str(style))
            page.fill("#field-size", "32")
            page.evaluate("""() => {
                window.seen = [];
                new MutationObserver(() => window.seen.push(document.getElementById('status').textContent))
                    .observe(document.getElementById('status'), {childList: true, characterData: true, subtree: true});
            }""")
            page.click("#start")
            expect(page.locator("#job-title")).to_have_text("pan.mp4 × starry_night.jpg")
            expect(page.locator("#clip")).to_be_visible(timeout=120_000)  # the MP4 plays in the page when done
            expect(page.locator("#status")).to_contain_text(re.compile(r"^Done: 12 frames · warping error \d"))
            expect(page.locator("#live")).to_be_hidden()
            seen = page.evaluate("window.seen")
            assert any(re.match(r"Frame \d+ of 12 \(32×24\) · [\d.]+ frames/s", line) for line in seen), seen
            assert page.evaluate("points.length") == 12  # every frame came as an event
            page.wait_for_function("document.getElementById('clip').readyState >= 1", timeout=30_000)
            assert page.evaluate("document.getElementById('clip').videoWidth") == 32
            assert abs(page.evaluate("document.getElementById('clip').duration") - 1.0) < 0.1
            expect(page.locator("#download")).to_have_text("Download the video (MP4)")
            with page.expect_download() as download:
                page.click("#download")
            saved = tmp_path / "downloaded.mp4"
            download.value.save_as(saved)
            with av.open(str(saved)) as container:
                assert sum(1 for _ in container.decode(video=0)) == 12 and container.streams.audio
            expect(page.locator("#jobs tbody tr")).to_have_count(1)
            expect(page.locator("#jobs tbody tr td").nth(4)).to_contain_text("12 frames · warping error")
        finally:
            browser.close()
