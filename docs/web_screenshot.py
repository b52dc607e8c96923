"""Takes docs/web.png: the web app mid-run, in headless Chromium (Debian's, driven by Playwright).

    python docs/web_screenshot.py          # from the repository root, with ../shared/images beside it

It serves the app on a free local port from a temporary data folder, paints the demo pair at 128 px
(so "Earlier results" has a finished job), then Tübingen × The Starry Night at 256 px with vgg16-hed,
and takes the page at step 20 of 40 (the default: from the fast picture).
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT.parent / "shared" / "images"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def serve(folder: Path):
    import uvicorn

    from painterly.web.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(folder), host="127.0.0.1", port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        server, address = serve(Path(folder))
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1040, "height": 1166})
        page.goto(address)
        page.check("#demo")
        page.fill("#field-size", "128")
        page.fill("#field-iterations", "20")
        page.select_option("#field-model", "vgg16-hed")
        page.click("#start")
        expect(page.locator("#status")).to_contain_text("Done", timeout=600_000)
        page.uncheck("#demo")
        page.set_input_files("#content", str(IMAGES / "content" / "tubingen.jpg"))
        page.set_input_files("#style", str(IMAGES / "style" / "starry_night.jpg"))
        page.fill("#field-size", "256")
        page.fill("#field-iterations", "40")
        page.click("#start")
        expect(page.locator("#status")).to_contain_text("Step 20 of 40", timeout=600_000)
        page.wait_for_timeout(500)  # the live picture of that step
        page.screenshot(path=str(ROOT / "docs" / "web.png"), full_page=True)
        page.click("#cancel")
        browser.close()
        server.should_exit = True


if __name__ == "__main__":
    main()
