"""The web app's video jobs in process (FastAPI's TestClient): a clip uploaded, painted frame by frame with the
fast method, each frame shown as it comes, the MP4 downloaded; clips over the limits and bad uploads refused
in one line; cancel and a server stop keep a playable video of the frames done. Tiny clips made with PyAV."""

import functools
import io
import json
import sqlite3
import time

import numpy as np
import pytest
from PIL import Image

av = pytest.importorskip("av")
cv2 = pytest.importorskip("cv2")
pytest.importorskip("fastapi", reason='the web app needs pip install "painterly[web]"')
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from painterly.web.app import create_app  # noqa: E402
from painterly.web.forms import Limits  # noqa: E402
from tests.conftest import decode, events, killed_server, wait  # noqa: E402

FAST = {"size": "32"}  # the fast method is a video's default: 64×48 frames painted at 32×24
LIMITS = Limits(upload_bytes=60_000, pixels=10_000, styles=2, video_bytes=40_000, video_seconds=21.0,
                video_frames=250, video_pixels=64 * 48)
FINISHED = {"completed", "cancelled", "interrupted", "failed"}


def texture(width: int, height: int) -> np.ndarray:
    noise = np.random.default_rng(0).uniform(0, 255, (height, width, 3)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(noise, (0, 0), 2.0) * 3 - 255, 0, 255).astype(np.uint8)


def make_clip(path, count: int, *, width: int = 64, height: int = 48, fps: int = 12, audio: bool = False,
              noise: bool = False):
    """`count` frames of a texture panning right a pixel a frame (or random noise: hard to compress), H.264;
    a 440 Hz AAC track as long as the video with `audio`."""
    wide = texture(width + count, height)
    rng = np.random.default_rng(1)
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = container.add_stream("aac", rate=16000, layout="mono") if audio else None
        for i in range(count):
            rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8) if noise else \
                np.ascontiguousarray(wide[:, count - i:count - i + width])
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        if sound is not None:
            samples = 16000 * count // fps
            wave = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / 16000)).astype(np.float32)
            for start in range(0, samples, 1024):
                frame = av.AudioFrame.from_ndarray(wave[None, start:start + 1024], format="fltp", layout="mono")
                frame.sample_rate, frame.pts = 16000, start
                for packet in sound.encode(frame):
                    container.mux(packet)
            for packet in sound.encode(None):
                container.mux(packet)
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    return {"short": make_clip(folder / "short.mp4", 8, audio=True),
            "long": make_clip(folder / "long.mp4", 240, fps=24),  # 10 s: time to cancel it mid-way
            "too long": make_clip(folder / "too_long.mp4", 264),  # 22 s at 12 frames/s
            "too many frames": make_clip(folder / "fast_rate.mp4", 260, fps=60),  # 4.3 s, 260 frames
            "too wide": make_clip(folder / "wide.mp4", 4, width=80, height=60),
            "too big": make_clip(folder / "noise.mp4", 40, noise=True)}


@pytest.fixture(scope="module")
def style(tmp_path_factory):
    from painterly.images import demo_pair

    path = tmp_path_factory.mktemp("style") / "starry.png"
    Image.open(demo_pair()[1]).convert("RGB").resize((48, 48)).save(path)
    return path


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(tmp_path / "data", limits=LIMITS)) as client:
        yield client


def upload(clip, style, name="clip.mp4"):
    data = clip.read_bytes() if hasattr(clip, "read_bytes") else clip
    return [("video", (name, data, "video/mp4")), ("style", ("starry.png", style.read_bytes(), "image/png"))]


wait = functools.partial(wait, seconds=60, poll=0.02)  # video jobs here are short


def decoded_video(data: bytes):
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        codec, audio = stream.codec_context.name, [s.codec_context.name for s in container.streams.audio]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    return frames, codec, audio


def one_line(response, status: int, text: str) -> str:
    assert response.status_code == status, (response.status_code, response.text[:300])
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and text in detail, detail
    assert "Traceback" not in detail and "/data/" not in detail, detail  # no traceback, no server path
    return detail


def nothing_left(client, tmp_path):
    assert client.get("/api/jobs").json() == []
    assert list((tmp_path / "data" / "jobs").iterdir()) == []
    assert [p.name for p in (tmp_path / "data").iterdir() if p.name.startswith(".")] == []


def test_a_video_job_shows_each_frame_and_gives_an_mp4_with_the_audio(client, clips, style, tmp_path):
    response = client.post("/api/videos", files=upload(clips["short"], style, name="../../holiday.mp4"), data=FAST)
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["kind"] == "video" and job["inputs"] == {"content": "holiday.mp4", "styles": ["starry.png"]}
    assert job["settings"]["method"] == "fast" and job["settings"]["size"] == 32
    assert job["video"]["clip"] == {"frames": 8, "seconds": 0.667, "size": [64, 48], "fps": 12.0, "audio": True}
    assert job["video"]["temporal"] == "flow"

    stream = events(client, job["id"])
    frames = [data for kind, data in stream if kind == "progress"]
    assert [f["frame"] for f in frames] == list(range(8)) and {f["frames"] for f in frames} == {8}
    assert all(f["size"] == [32, 24] and f["fps"] > 0 for f in frames)
    assert frames[0]["warping_error"] is None and all(f["warping_error"] >= 0 for f in frames[1:])
    later = [f["warping_error"] for f in frames[1:]]
    assert frames[-1]["mean_warping_error"] == pytest.approx(sum(later) / len(later)) and frames[-1]["eta"] == 0
    assert [data["state"] for kind, data in stream if kind == "state"][-1] == "completed"

    done = client.get(f"/api/jobs/{job['id']}").json()
    assert done["state"] == "completed" and done["result"] and done["progress"]["frame"] == 7
    result = client.get(f"/api/jobs/{job['id']}/result")
    assert result.headers["content-type"] == "video/mp4"
    assert result.headers["content-disposition"] == f'attachment; filename="painterly-{job["id"][:8]}.mp4"'
    painted, codec, audio = decoded_video(result.content)
    assert len(painted) == 8 and painted[0].shape == (24, 32, 3) and codec == "h264" and audio == ["aac"]
    with Image.open(io.BytesIO(client.get(f"/api/jobs/{job['id']}/preview").content)) as last:
        assert last.size == (32, 24)
    ranged = client.get(f"/api/jobs/{job['id']}/result", headers={"Range": "bytes=0-99"})  # a <video> seeks so
    assert ranged.status_code == 206 and len(ranged.content) == 100

    # the job's folder holds our names only, the frames done are gone with the job, nothing was written elsewhere
    data = tmp_path / "data"
    assert sorted(p.name for p in (data / "jobs" / job["id"]).iterdir()) == ["content", "preview.png", "result.mp4",
                                                                            "style-1"]
    assert sorted(p.name for p in data.iterdir()) == ["jobs", "jobs.lock", "jobs.sqlite", "jobs.sqlite-shm",
                                                      "jobs.sqlite-wal"]
    assert not (tmp_path / "holiday.mp4").exists()


@pytest.mark.parametrize("case, status, text", [
    ("too long", 400, "video 'clip.mp4' is 22.0 s long, over this server's limit of 21 s per video: cut it shorter"),
    ("too many frames", 400, "video 'clip.mp4' has 260 frames, over this server's limit of 250 frames per video"),
    ("too wide", 400, "video 'clip.mp4' has 80×60 frames (4,800 pixels), over this server's limit of 3,072 pixels "
                      "per frame: downscale it"),
    ("too big", 413, "KB, over the video upload limit of 39 KB: cut it shorter or downscale it"),
])
def test_clips_over_the_limits_are_refused_with_the_limit_named(client, clips, style, tmp_path, case, status, text):
    if case == "too big":
        assert clips[case].stat().st_size > LIMITS.video_bytes  # random noise does not compress
    one_line(client.post("/api/videos", files=upload(clips[case], style), data=FAST), status, text)
    nothing_left(client, tmp_path)


def test_a_request_body_over_the_video_routes_bound_is_cut_off(client, style, tmp_path):
    huge = np.random.default_rng(2).bytes(LIMITS.video_bytes + 2 * LIMITS.upload_bytes + 2**20)  # past the clip's
    detail = one_line(client.post("/api/videos", files=upload(huge, style)), 413, "over the upload limit of 39 KB per "
                      "video and 59 KB per image: choose smaller files")
    assert "1.2 MB" in detail  # the bound of this route: a clip and the paintings
    nothing_left(client, tmp_path)


def test_bad_uploads_get_painterlys_own_one_line_errors(client, clips, style, tmp_path):
    short = clips["short"].read_bytes()
    audio_only = tmp_path / "sound.m4a"
    with av.open(str(audio_only), "w") as container:
        sound = container.add_stream("aac", rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        for packet in [*sound.encode(frame), *sound.encode(None)]:
            container.mux(packet)
    whole = make_clip(tmp_path / "one_keyframe.mkv", 40).read_bytes()  # cut inside its keyframe: no frame decodes
    cases = [
        (upload(b"this is a shopping list, not a video\n" * 20, style, "list.mp4"), {}, 400,
         "'list.mp4' is not a video FFmpeg can read"),
        (upload(audio_only, style, "sound.m4a"), {}, 400, "'sound.m4a' has no video stream (audio)"),
        (upload(whole[:len(whole) // 2], style, "cut.mkv"), {}, 400, "'cut.mkv' gave no video frames"),
        (upload(b"", style, "empty.mp4"), {}, 400, "'empty.mp4' is not a video FFmpeg can read"),
        (upload(style, style, "photo.png"), {}, 400, "'photo.png' is a still image, not a video: paint it as a photo"),
        ([("style", ("starry.png", style.read_bytes(), "image/png"))], {}, 400, "no video: pick the clip"),
        ([upload(short, style)[0]], {}, 400, "no style image: pick at least one painting"),
        (upload(short, style) * 2, {}, 400, "several videos: pick one clip"),
        (upload(short, style) + [("content", ("photo.png", style.read_bytes(), "image/png"))], {}, 400,
         "a video job paints a video: send the clip as 'video' and no photo"),
        (upload(short, style), {"temporal": "sideways"}, 400, "temporal mode 'sideways' is not one of flow, blend"),
        (upload(short, style), {"temporal_weight": "2"}, 400, "temporal weight 2 is out of range: give 0 to 1"),
        (upload(short, style), {"frame_iterations": "5"}, 400,
         "frame iterations apply to the optimise method along the flow only"),
        (upload(short, style), {"method": "optimise", "temporal": "none", "frame_iterations": "5"}, 400,
         "frame iterations apply to the optimise method along the flow only"),
        (upload(short, style), {"method": "optimise", "temporal": "blend", "temporal_weight": "5"}, 400,
         "temporal weight 5 is out of range: give 0 to 1 (the previous output's share)"),
        # frame by frame every frame is a still: its iterations count for every frame, not the frame iterations
        (upload(clips["long"], style), {"method": "optimise", "size": "1024", "temporal": "none", "iterations": "100"},
         400, "pixel-iterations (240 frames, 100 steps a frame after the first, at 1024 px), over this server's"),
        (upload(short, style), {"size": "4096"}, 400, "size 4096 is over this server's limit"),
        (upload(clips["long"], style), {"method": "optimise", "size": "1024", "frame_iterations": "500"}, 400,
         "pixel-iterations (240 frames, 500 steps a frame after the first, at 1024 px), over this server's limit"),
    ]
    for files, data, status, text in cases:
        detail = one_line(client.post("/api/videos", files=files, data=data), status, text)
        assert "/content" not in detail and "folder of frames" not in detail, detail  # the user's name, not ours
        assert "use the demo pair" not in detail, detail  # a video job has no demo pair
        nothing_left(client, tmp_path)
    one_line(client.post("/api/jobs", files=upload(short, style)), 400, "a video job is made by POST /api/videos")
    nothing_left(client, tmp_path)


def test_cancel_stops_after_the_current_frame_and_keeps_a_playable_video(client, clips, style, tmp_path):
    job = client.post("/api/videos", files=upload(clips["long"], style), data={"size": "64"}).json()
    jobs = client.app.state.jobs
    deadline = time.monotonic() + 60
    while len(jobs.records(job["id"])) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert client.post(f"/api/jobs/{job['id']}/cancel").json()["stopping"]
    stopped = wait(client, job["id"], FINISHED)
    records = [data for kind, data in events(client, job["id"]) if kind == "progress"]
    done = len(records)
    assert stopped["state"] == "cancelled" and 2 <= done < 240, (stopped, done)
    assert stopped["message"] == f"cancelled: the {done} frames done are kept in the video"
    painted, codec, _ = decoded_video(client.get(f"/api/jobs/{job['id']}/result").content)
    assert len(painted) == done and painted[0].shape == (48, 64, 3) and codec == "h264"
    assert sorted(p.name for p in jobs.job_folder(job["id"]).iterdir()) == ["content", "preview.png", "result.mp4",
                                                                           "style-1"]
    again = client.post(f"/api/jobs/{job['id']}/cancel")
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]


def test_a_server_stop_mid_video_keeps_the_frames_done_for_the_next_server(clips, style, tmp_path):
    with TestClient(create_app(tmp_path / "data", limits=LIMITS)) as client:
        job = client.post("/api/videos", files=upload(clips["long"], style), data={"size": "64"}).json()
        wait(client, job["id"], {"running"}, until=lambda j: j["progress"] is not None or
             len(client.app.state.jobs.records(job["id"])) >= 2)
    with TestClient(create_app(tmp_path / "data", limits=LIMITS)) as client:  # the first one closed: a restart
        stopped = client.get(f"/api/jobs/{job['id']}").json()
        assert stopped["state"] == "interrupted" and stopped["result"], stopped
        painted, _, _ = decoded_video(client.get(f"/api/jobs/{job['id']}/result").content)
        assert 2 <= len(painted) < 240
        assert stopped["message"] == f"the server stopped: the {len(painted)} frames done are kept in the video"
        assert [d["state"] for kind, d in events(client, job["id"])] == ["interrupted"]


def test_the_form_and_the_api_document_describe_video_jobs(client, tmp_path):
    described = client.get("/api/settings").json()
    assert [o["name"] for o in described["video"]] == ["temporal", "temporal_weight", "frame_iterations"]
    assert described["video"][0]["choices"] == ["flow", "blend", "none"]
    assert {k: described["limits"][k] for k in ("video_bytes", "video_seconds", "video_frames", "video_pixels")} == \
        {"video_bytes": 40_000, "video_seconds": 21.0, "video_frames": 250, "video_pixels": 3072}
    form = client.get("/api/openapi.json").json()["paths"]["/api/videos"]["post"]["requestBody"]["content"]
    properties = form["multipart/form-data"]["schema"]["properties"]
    assert {"video", "style", "temporal", "size", "method"} <= set(properties) and "content" not in properties
    assert "media-src 'self'" in client.get("/").headers["content-security-policy"]  # the page may play the MP4


def test_the_video_options_are_the_video_commands_flags(client):
    """The form's video fields say what `painterly video --help` says of the same flags, and default alike."""
    from painterly.video.cli import build_parser

    parser = build_parser()
    shown = " ".join(parser.format_help().split())
    defaults = vars(parser.parse_args(["clip.mp4", "starry.png", "-o", "out.mp4"]))
    described = client.get("/api/settings").json()
    for option in described["video"] + described["trim"]:
        assert f"{option['flag']} " in shown and " ".join(option["help"].split()) in shown, option
        assert option["default"] == defaults[option["name"]], option
        if option["type"] != "str":
            given = vars(parser.parse_args(["clip.mp4", "starry.png", "-o", "out.mp4", option["flag"], "3"]))
            assert type(given[option["name"]]).__name__ == option["type"], option


def test_a_jobs_file_from_before_video_jobs_opens(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    with sqlite3.connect(data / "jobs.sqlite") as db:
        db.execute("CREATE TABLE jobs (id TEXT PRIMARY KEY, created REAL NOT NULL, state TEXT NOT NULL, preset TEXT "
                   "NOT NULL, settings TEXT NOT NULL, inputs TEXT NOT NULL, started REAL, finished REAL, message TEXT, "
                   "progress TEXT)")
        db.execute("INSERT INTO jobs VALUES (?, 1.0, 'failed', 'default', '{}', ?, NULL, 2.0, 'old', NULL)",
                   ("a" * 32, json.dumps({"content": "c.png", "styles": ["s.png"]})))
    with TestClient(create_app(data)) as client:
        assert [(j["id"], j["kind"], j["video"]) for j in client.get("/api/jobs").json()] == [("a" * 32, "image", None)]


def test_a_server_killed_mid_video_keeps_the_frames_done(clips, style, tmp_path):
    """A real `painterly serve` killed (SIGKILL) while it paints a clip: the next server writes the frames it had
    painted into the job's video and marks the job interrupted, as a still keeps its best image."""
    data = tmp_path / "data"
    with killed_server(data) as http:
        job = http.post("/api/videos", files=upload(clips["long"], style), data={"size": "64"}).json()
        frames = data / "jobs" / job["id"] / "work" / "frames"
        deadline = time.monotonic() + 300
        while len(list(frames.glob("[0-9]*.png"))) < 3:
            assert time.monotonic() < deadline and http.get(f"/api/jobs/{job['id']}").json()["state"] != "failed"
            time.sleep(0.05)
    painted = sorted(frames.glob("[0-9]*.png"))  # the server is dead: these are all it painted
    assert 3 <= len(painted) < 240
    last = decode(painted[-1])
    with TestClient(create_app(data, limits=LIMITS)) as client:
        cut = client.get(f"/api/jobs/{job['id']}").json()
        assert cut["state"] == "interrupted" and cut["result"], cut
        assert cut["message"] == f"the server stopped while this job ran: the {len(painted)} frames done are kept " \
                                 f"in the video"
        video, codec, _ = decoded_video(client.get(f"/api/jobs/{job['id']}/result").content)
        assert len(video) == len(painted) and codec == "h264" and video[0].shape == (48, 64, 3)
        assert np.abs(video[-1].astype(int) - last.astype(int)).mean() < 8  # the last frame painted, H.264-coded
        assert decode(io.BytesIO(client.get(f"/api/jobs/{job['id']}/preview").content)).shape == (48, 64, 3)
        assert sorted(p.name for p in (data / "jobs" / job["id"]).iterdir()) == ["content", "preview.png",
                                                                                "result.mp4", "style-1"]


def test_a_small_style_scale_cannot_paint_a_video_past_the_size_limit(client, clips, style, tmp_path):
    """The fast network paints at size / style scale: 64 px at scale 0.05 would be 1280 px a frame."""
    response = client.post("/api/videos", files=upload(clips["short"], style), data={"size": "64", "style_scale": "0.05"})
    detail = one_line(response, 400, "the fast network paints at 1280 px")
    assert "over this server's limit of 1024 px" in detail
    nothing_left(client, tmp_path)
