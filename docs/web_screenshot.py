"""Takes the web page's screenshots in docs/web/: before, during and after a job, at a phone's width (390 px)
and a desktop's (1280×900), in headless Chromium (Debian's, driven by Playwright).

    python docs/web_screenshot.py          # from the repository root, with ../shared/images beside it

It serves the app on a free local port from a temporary data folder. A desktop page chooses Tübingen and
The Great Wave off Kanagawa from the shelf (before), paints it at the defaults (512 px, balanced: the fast
picture at once, then 40 steps), and a phone-sized page watches the same job: the fast picture before the first
step, step 10 (during), and the result with its before/after line at the middle (after). Each shot's file name
says which. It prints the seconds from Paint to the fast picture, to the first step and to the end.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT.parent / "shared" / "images"
OUT = ROOT / "docs" / "web"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SIZES = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}


def serve(folder: Path):
    import uvicorn

    from painterly.web.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(folder), host="127.0.0.1", port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


def until(page, script: str, seconds: float = 60) -> None:
    """Wait until `script` is true in the page (evaluated from outside: the page's policy allows no eval, which
    Playwright's wait_for_function uses)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(script):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true after {seconds} s: {script}")
        time.sleep(0.2)


def shoot(page, path: Path, **options) -> None:
    """The page from its top (a desktop's picture is kept in view beside the form; a phone's comes first)."""
    page.evaluate("window.scrollTo(0, 0)")
    page.mouse.move(0, 0)  # no hover left where the last click was
    page.screenshot(path=str(path), **options)


def main(size: str = "512") -> None:
    from playwright.sync_api import expect, sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        server, address = serve(Path(folder))
        from painterly import feedforward

        while not feedforward._SHARED:  # the server warms up when it starts (TensorFlow, the fast network), as
            time.sleep(0.1)             # it has long done by the time someone uses it; its stderr is off meanwhile
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pages = {name: browser.new_page(viewport=viewport) for name, viewport in SIZES.items()}
        for name, page in pages.items():
            page.goto(address)
            expect(page.locator(".painting").first).to_be_visible()
            until(page, "[...document.querySelectorAll('.painting img')].every((i) => i.naturalWidth)")  # the shelf
            page.set_input_files("#content", str(IMAGES / "content" / "tubingen.jpg"))
            page.click(".painting[data-name=great_wave]")
            expect(page.locator("#content-thumb")).to_be_visible()
            shoot(page, OUT / f"before_{name}.png")
        page = pages["1280"]
        page.select_option("#size", size)
        clicked = time.perf_counter()
        page.click("#start")
        expect(page.locator("#job-title")).to_contain_text("tubingen.jpg × The Great Wave", timeout=60_000)
        job = page.evaluate("location.hash")
        phone = pages["390"]
        phone.goto(f"{address}/{job}")
        expect(page.locator("#live")).to_be_visible(timeout=600_000)
        fast = time.perf_counter() - clicked
        if page.get_attribute("#chart", "data-points") == "0":  # the fast picture, before the first step
            for name, shot in pages.items():
                expect(shot.locator("#live")).to_be_visible(timeout=60_000)
                shoot(shot, OUT / f"during_fast_picture_{name}.png")
        expect(page.locator("#status")).to_contain_text("Step 1 of", timeout=600_000)
        first = time.perf_counter() - clicked
        expect(page.locator("#status")).to_contain_text("Step 10 of", timeout=600_000)
        for name, shot in pages.items():
            expect(shot.locator("#status")).to_contain_text("Step", timeout=60_000)
            shoot(shot, OUT / f"during_{name}.png")
        expect(page.locator("#status")).to_contain_text("Done", timeout=1_800_000)
        done = time.perf_counter() - clicked
        for name, shot in pages.items():
            expect(shot.locator("#compare")).to_be_visible(timeout=60_000)
            shoot(shot, OUT / f"after_{name}.png")
        phone.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # the cards' thumbnails load when near
        until(phone, "[...document.querySelectorAll('#jobs img')].every((i) => i.naturalWidth)")
        phone.screenshot(path=str(OUT / "after_390_full.png"), full_page=True)  # from the bottom: the Paint bar
        # then sits at the form's foot, not over the page where the top of the screen would leave it
        print(f"{size} px: the fast picture {fast:.1f} s after Paint, step 1 at {first:.1f} s, done at {done:.1f} s")
        browser.close()
        server.should_exit = True


if __name__ == "__main__":
    main(*sys.argv[1:])
