"""What the web page asks of the API beyond the jobs: the shelf of paintings (listed, as thumbnails, named in a
job's form instead of an upload), a job's photo for the before/after, the fast picture before the first step,
a cancel before the first step, and a video trimmed with start and duration."""

import io
import time

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi", reason='the web app needs pip install "painterly[web]"')
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from painterly.web.app import create_app  # noqa: E402
from painterly.web.forms import Limits  # noqa: E402
from painterly.web.jobs import Jobs  # noqa: E402
from tests.conftest import wait  # noqa: E402

shelf = pytest.importorskip("painterly.shelf", reason="the shelf (painterly/shelf.py) is not in this checkout")

TINY = {"size": "48", "iterations": "2", "model": "vgg16-hed", "save_every": "0"}
FINISHED = {"completed", "cancelled", "interrupted", "failed"}


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(tmp_path / "data", limits=Limits(styles=2))) as client:
        yield client


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_the_shelf_is_listed_without_server_paths_and_each_painting_has_a_thumbnail(client):
    listed = client.get("/api/paintings").json()
    assert [p["name"] for p in listed] == [p.name for p in shelf.paintings()]
    wave = next(p for p in listed if p["name"] == "great_wave")
    assert wave == {"name": "great_wave", "title": "The Great Wave off Kanagawa", "artist": "Katsushika Hokusai",
                    "year": "c. 1831", "image": "/api/paintings/great_wave/image"}
    assert "path" not in str(listed) and "/data/paintings" not in str(listed)
    response = client.get(wave["image"])
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    with Image.open(shelf.find("great_wave").path) as original:
        width, height = original.size
    thumbnail = decoded(response.content)
    assert max(thumbnail.size) == 256 and abs(thumbnail.size[0] / thumbnail.size[1] - width / height) < 0.02
    assert max(decoded(client.get(f"{wave['image']}?size=64").content).size) == 64
    small = client.get(f"{wave['image']}?size=4096")
    assert small.status_code == 400 and "size" in small.json()["detail"]


def test_a_name_not_on_the_shelf_gets_the_closest_names_and_a_path_is_never_read(client, tiny_pair):
    missing = client.get("/api/paintings/great_wav/image")
    assert missing.status_code == 404
    assert missing.json()["detail"] == ("no painting 'great_wav' on the shelf: did you mean great_wave? "
                                        "GET /api/paintings lists them (or upload the painting as a file)")
    content, style = tiny_pair
    for name in ("great_wav", str(style), "/etc/hostname", "../../../etc/hostname"):
        refused = client.post("/api/jobs", files=[("content", ("photo.png", content.read_bytes(), "image/png"))],
                              data={**TINY, "method": "fast", "style": name})
        assert refused.status_code == 400, (name, refused.text)
        assert refused.json()["detail"].startswith("no painting '"), refused.json()
    assert client.get("/api/jobs").json() == []


def test_a_job_names_a_painting_on_the_shelf_instead_of_uploading_it(client, tiny_pair, tmp_path):
    content, style = tiny_pair
    job = client.post("/api/jobs", files=[("content", ("photo.png", content.read_bytes(), "image/png")),
                                          ("style", ("mine.png", style.read_bytes(), "image/png"))],
                      data={"size": "48", "method": "fast", "style": "Great-Wave"}).json()
    # in the order the form sent them (httpx sends the text fields first)
    assert job["inputs"] == {"content": "photo.png", "styles": ["The Great Wave off Kanagawa", "mine.png"]}
    folder = tmp_path / "data" / "jobs" / job["id"]
    assert (folder / "style-1").read_bytes() == shelf.find("great_wave").path.read_bytes()
    done = wait(client, job["id"], FINISHED)
    assert done["state"] == "completed" and done["result"] and done["preview"], done
    # the photo as the run saw it, at the result's size: the page's before/after
    result, photo = (decoded(client.get(f"/api/jobs/{job['id']}/{name}").content) for name in ("result", "photo"))
    assert photo.size == result.size == (48, 32)
    expected = np.asarray(Image.open(content).convert("RGB"), dtype=float)
    assert np.abs(np.asarray(photo, dtype=float) - expected).mean() < 2  # content.png is 48×32 already


def test_the_fast_picture_is_the_preview_before_the_network_is_built_and_a_cancel_then_stops_it(tiny_pair, tmp_path):
    """A job asked to stop while it starts ends before its first step, with its fast picture shown meanwhile
    (the stop is asked before the worker starts, so the moment is not a race)."""
    from painterly import Settings

    content, style = tiny_pair
    jobs = Jobs(tmp_path / "data", workers=0)  # the worker's loop is run below, in this thread
    try:
        job = jobs.submit(Settings(size=48, iterations=2, model="vgg16-hed"), "default", ("photo.png", content),
                          [("starry.png", style)])
        jobs.start()  # no threads: the queued job's live view made afresh
        live = jobs._live[job["id"]]
        live.stop.set()  # as a cancel does while the job runs
        shown = []
        asked = live.stop.is_set

        def is_set():  # the first time the worker checks: the picture shown by then
            shown.append(live.image)
            return asked()
        live.stop.is_set = is_set
        jobs._queue.put(None)  # the worker's loop ends after the job
        jobs._work()
        done = jobs.status(job["id"])
        assert done["state"] == "cancelled" and done["message"] == "cancelled", done
        assert jobs.records(job["id"]) == []  # no step was made: it stopped before the network was built
        assert shown and shown[0] is not None and shown[0].shape == (32, 48, 3)  # the fast picture, 48×32
    finally:
        jobs.close()


def test_a_running_job_shows_its_fast_picture_and_says_which_model_auto_chose(client, tiny_pair):
    content, style = tiny_pair
    job = client.post("/api/jobs", files=[("content", ("photo.png", content.read_bytes(), "image/png")),
                                          ("style", ("starry.png", style.read_bytes(), "image/png"))],
                      data=TINY).json()
    done = wait(client, job["id"], FINISHED)
    assert done["state"] == "completed" and done["progress"]["model"] == "vgg16-hed", done


def test_a_video_is_trimmed_with_start_and_duration_and_a_long_one_is_told_how(client, tmp_path):
    av = pytest.importorskip("av")
    from tests.test_web_video import make_clip

    clip = make_clip(tmp_path / "long.mp4", 36).read_bytes()  # 3 s at 12 frames/s
    style = ("starry.png", decoded_png(), "image/png")
    small = TestClient(create_app(tmp_path / "small", limits=Limits(video_seconds=2.0)))
    with small:
        refused = small.post("/api/videos", files=[("video", ("long.mp4", clip, "video/mp4")), ("style", style)],
                             data={"size": "32"})
        assert refused.status_code == 400
        detail = refused.json()["detail"]
        assert detail.startswith("video 'long.mp4' is 3.0 s long, over this server's limit of 2 s per video: cut it "
                                 "shorter with a duration of at most 2 s") and "ffmpeg" not in detail, detail
        job = small.post("/api/videos", files=[("video", ("long.mp4", clip, "video/mp4")), ("style", style)],
                         data={"size": "32", "start": "0.5", "duration": "1"}).json()
        assert job["video"]["clip"]["frames"] == 12 and (job["video"]["start"], job["video"]["duration"]) == (0.5, 1)
        done = wait(small, job["id"], FINISHED)
        assert done["state"] == "completed" and done["progress"]["frame"] == 11, done
        with av.open(io.BytesIO(small.get(f"/api/jobs/{job['id']}/result").content)) as container:
            assert sum(1 for _ in container.decode(video=0)) == 12
        for data, text in (({"start": "-1"}, "start -1 s is before the clip"),
                           ({"duration": "0"}, "duration 0 s is empty"),
                           ({"start": "5"}, "'long.mp4' has no frames from 5 s")):
            bad = small.post("/api/videos", files=[("video", ("long.mp4", clip, "video/mp4")), ("style", style)],
                             data={"size": "32", **data})
            assert bad.status_code == 400 and text in bad.json()["detail"], bad.json()
        assert [o["name"] for o in small.get("/api/settings").json()["trim"]] == ["start", "duration"]


def decoded_png() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_duration_of_the_limit_is_taken_at_any_frame_rate(tmp_path):
    """29.97 frames/s: 1 s is 30 frames, 1.001 s; the page's duration (the limit) must not be refused for it."""
    from fractions import Fraction

    pytest.importorskip("av")
    from tests.test_web_video import make_clip

    clip = make_clip(tmp_path / "ntsc.mp4", 45, fps=Fraction(30000, 1001)).read_bytes()  # 1.5 s
    style = ("starry.png", decoded_png(), "image/png")
    with TestClient(create_app(tmp_path / "data", limits=Limits(video_seconds=1.0))) as client:
        job = client.post("/api/videos", files=[("video", ("ntsc.mp4", clip, "video/mp4")), ("style", style)],
                          data={"size": "32", "duration": "1"})
        assert job.status_code == 201, job.json()
        assert job.json()["video"]["clip"]["frames"] == 30
        wait(client, job.json()["id"], FINISHED)


def test_every_script_of_the_page_needs_nothing_the_policy_forbids():
    """test_web_security checks app.js; the page's other modules are held to the same."""
    from pathlib import Path

    static = Path(__file__).resolve().parents[1] / "src" / "painterly" / "web" / "static"
    scripts = sorted(static.glob("*.js"))
    assert {p.name for p in scripts} >= {"app.js", "form.js", "job.js", "util.js"}
    for path in scripts:
        text = path.read_text()
        for forbidden in ("eval(", "new Function", "innerHTML", ".style.", "setAttribute(\"style", "javascript:"):
            assert forbidden not in text, (path.name, forbidden)
        assert len(text.splitlines()) < 500, path.name
