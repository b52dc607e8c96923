"""painterly video: flow and warping, the reliability mask, PyAV in and out (audio, frame count and rate),
the temporal modes, resume, and every bad input as one line and exit 2. Tiny clips made with PyAV here."""

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")
cv2 = pytest.importorskip("cv2")

from painterly.cli import main  # noqa: E402
from painterly.images import demo_pair  # noqa: E402
from painterly.settings import Settings  # noqa: E402
from painterly.video import VideoJob, run_video  # noqa: E402
from painterly.video.flow import Flow, reliability, warp, warping_error  # noqa: E402

SHARED_VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "videos"
STYLE = demo_pair()[1]


def texture(width: int, height: int, seed: int = 0) -> np.ndarray:
    """Smooth random colour texture (uint8 RGB): something optical flow can follow."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0, 255, (height, width, 3)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(noise, (0, 0), 2.0) * 3 - 255, 0, 255).astype(np.uint8)


def moving_frames(count: int, width: int = 64, height: int = 48, step: int = 1) -> list[np.ndarray]:
    """A texture panning right by `step` pixels a frame."""
    wide = texture(width + count * step, height)
    return [np.ascontiguousarray(wide[:, (count - i) * step:(count - i) * step + width]) for i in range(count)]


def make_clip(path: Path, frames, fps: int = 12, audio_seconds: float | None = None, keyframes: int = 250):
    """Encode `frames` (uint8 RGB) as H.264 at `fps`, a keyframe every `keyframes` frames, with a
    sine-wave AAC track of `audio_seconds` if given."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps, options={"g": str(keyframes)})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = container.add_stream("aac", rate=16000, layout="mono") if audio_seconds else None
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        if sound is not None:
            samples = int(16000 * audio_seconds)
            wave = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / 16000)).astype(np.float32)
            for start in range(0, samples, 1024):
                chunk = wave[start:start + 1024][None]
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                frame.sample_rate, frame.pts = 16000, start
                for packet in sound.encode(frame):
                    container.mux(packet)
            for packet in sound.encode(None):
                container.mux(packet)
    return path


def read_video(path: Path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    return frames, rate


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]


def run_cli(capsys, *argv):
    code = main(["video", *[str(a) for a in argv]])
    captured = capsys.readouterr()
    return code, captured.err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("painterly: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# -- flow, warping, mask, warping error


def test_warp_moves_a_picture_by_a_known_shift():
    image = texture(40, 30).astype(np.float32)
    shifted = np.roll(image, 3, axis=1)  # frame t: frame t−1 moved 3 px right
    backward = np.zeros((30, 40, 2), np.float32)
    backward[..., 0] = -3.0  # every pixel of frame t was 3 px to the left in frame t−1
    warped = warp(image, backward)
    np.testing.assert_allclose(warped[:, 3:], shifted[:, 3:], atol=1e-3)
    half = warp(image, backward / 2)  # 1.5 px: bilinear, the mean of the two pixels 1 and 2 to the left
    np.testing.assert_allclose(half[:, 2:], (image[:, :-2] + image[:, 1:-1]) / 2, atol=1e-3)


def test_dis_flow_finds_the_shift_and_the_warping_error_of_a_pan_is_small():
    frames = moving_frames(2, 96, 64, step=2)
    pair = Flow("medium").pair(frames[0], frames[1])
    inner = pair.backward[8:-8, 8:-8]
    assert abs(np.median(inner[..., 0]) + 2) < 0.2 and abs(np.median(inner[..., 1])) < 0.2
    assert pair.mask[8:-8, 8:-8].mean() > 0.95
    warped = warp(frames[0], pair.backward)
    assert warping_error(frames[1], warped, pair.mask) < 0.1 * warping_error(frames[1], frames[0], pair.mask)


def test_the_mask_marks_the_pixels_a_moving_square_uncovers():
    background = texture(80, 60, seed=1)
    square = texture(20, 20, seed=2)
    previous, current = background.copy(), background.copy()
    previous[20:40, 20:40] = square
    current[20:40, 26:46] = square  # moved 6 px right: x 20..25 are uncovered background in frame t
    pair = Flow("medium").pair(previous, current)
    uncovered = pair.mask[22:38, 20:26]
    still = pair.mask[5:15, 55:75]
    assert uncovered.mean() < 0.5, uncovered.mean()
    assert still.mean() > 0.95


def test_reliability_of_exact_flows():
    """The forward–backward check on flows given exactly: a uniform shift is reliable inside the frame;
    where the backward flow finds no consistent forward one, the pixel is occluded."""
    height, width = 30, 40
    backward = np.zeros((height, width, 2), np.float32)
    backward[..., 0] = -2
    forward = -backward
    mask = reliability(backward, forward)
    assert mask[:, 2:].min() == 1 and mask[:, :2].max() == 0  # pixels whose source is outside frame t−1
    forward[10:20, :] = 0  # no motion seen going forwards there: inconsistent
    mask = reliability(backward, forward)
    assert mask[12:18, 5:35].max() == 0 and mask[0:8, 5:35].min() == 1


# -- the fast method on video


@pytest.fixture(scope="module")
def network():
    from painterly import feedforward

    return feedforward.network()


def fast_job(clip, output, **changes):
    settings = Settings(method="fast", size=changes.pop("size", 64))
    return VideoJob(Path(clip), (STYLE,), settings, output=Path(output), **changes)


def test_audio_frame_count_and_rate_are_kept(tmp_path, network, capsys):
    clip = make_clip(tmp_path / "in.mp4", moving_frames(12), fps=12, audio_seconds=1.0)
    out = tmp_path / "out.mp4"
    code, err = run_cli(capsys, clip, STYLE, "-o", out, "--size", 64, "--quiet")
    assert code == 0, err
    frames, rate = read_video(out)
    assert len(frames) == 12 and rate == 12 and frames[0].shape == (48, 64, 3)
    assert audio_packets(out) == audio_packets(clip)  # remuxed, not re-encoded
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
        assert container.streams.video[0].codec_context.name == "h264"
    assert not (tmp_path / "out.mp4.work").exists()


def test_start_and_duration_cut_video_and_audio(tmp_path, network):
    clip = make_clip(tmp_path / "in.mp4", moving_frames(24), fps=12, audio_seconds=2.0)
    out = tmp_path / "cut.mp4"
    outcome = run_video(fast_job(clip, out, start=0.5, duration=1.0), network=network)
    assert outcome.frames == 12 and outcome.stopped == "completed"
    frames, rate = read_video(out)
    assert len(frames) == 12 and rate == 12
    with av.open(str(out)) as container:
        audio = container.streams.audio[0]
        times = [float(p.pts * audio.time_base) for p in container.demux(audio) if p.size]
    assert 0 <= min(times) < 0.1 and 0.85 < max(times) <= 1.0 + 1e-6  # the second half-second to 1.5 s


def test_identical_frames_give_identical_outputs_and_no_flicker(tmp_path, network):
    still = texture(64, 48)
    clip = make_clip(tmp_path / "still.mp4", [still] * 6, fps=6)
    outcome = run_video(fast_job(clip, tmp_path / "frames/", temporal="none"), network=network)
    painted = [np.asarray(__import__("PIL.Image").Image.open(p)) for p in sorted((tmp_path / "frames").glob("*.png"))]
    assert len(painted) == 6
    for frame in painted[1:]:
        np.testing.assert_array_equal(frame, painted[0])
    assert outcome.warping_error == 0.0


def test_flow_mode_flickers_less_than_frame_by_frame(tmp_path, network):
    clip = make_clip(tmp_path / "pan.mp4", moving_frames(10, 96, 64), fps=10)
    errors = {mode: run_video(fast_job(clip, tmp_path / f"{mode}.mp4", size=96, temporal=mode),
                              network=network).warping_error for mode in ("none", "flow")}
    assert errors["flow"] < 0.5 * errors["none"], errors


def read_folder(folder: Path) -> list[np.ndarray]:
    from PIL import Image

    return [np.asarray(Image.open(p)) for p in sorted(folder.glob("*.png"))]


def test_resume_gives_the_frames_of_an_uninterrupted_run(tmp_path, network):
    clip = make_clip(tmp_path / "pan.mp4", moving_frames(10), fps=10, audio_seconds=1.0)
    whole = run_video(fast_job(clip, tmp_path / "whole/"), network=network)
    assert whole.frames == 10
    stopped = run_video(fast_job(clip, tmp_path / "parts.mp4"), network=network,
                        listen=lambda frame: frame.index < 3)  # False after frame 3: stop there
    assert stopped.stopped == "cancelled" and stopped.frames == 4 and stopped.work is not None
    partial, _ = read_video(tmp_path / "parts.mp4")
    assert len(partial) == 4  # a playable video of the frames done
    resumed = run_video(fast_job(clip, tmp_path / "parts.mp4", resume=True, keep_work=True), network=network)
    assert resumed.stopped == "completed" and resumed.frames == 10
    done = read_folder(tmp_path / "parts.mp4.work" / "frames")
    expected = read_folder(tmp_path / "whole")
    assert len(done) == 10
    for a, b in zip(done, expected):
        np.testing.assert_array_equal(a, b)
    assert [r["warping_error"] for r in resumed.records] == pytest.approx([r["warping_error"] for r in whole.records])
    assert len(read_video(tmp_path / "parts.mp4")[0]) == 10


def test_frame_folder_in_and_out_and_odd_sizes(tmp_path, network, capsys):
    from PIL import Image

    folder = tmp_path / "in"
    folder.mkdir()
    for i, frame in enumerate(moving_frames(5, 65, 49)):
        Image.fromarray(frame).save(folder / f"f{i:03d}.png")
    out = tmp_path / "odd.mp4"
    code = main(["video", str(folder), str(STYLE), "-o", str(out), "--size", "65", "--fps", "5"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "cropped to 64×48" in err
    frames, rate = read_video(out)
    assert len(frames) == 5 and frames[0].shape == (48, 64, 3) and rate == 5


def test_report_has_warping_error_per_frame_and_a_contact_sheet(tmp_path, network):
    import json

    clip = make_clip(tmp_path / "pan.mp4", moving_frames(6), fps=6)
    outcome = run_video(fast_job(clip, tmp_path / "out.mp4", report=tmp_path / "report", report_every=2),
                        network=network)
    report = tmp_path / "report"
    assert outcome.report == report / "index.html"
    rows = json.loads((report / "frames.json").read_text())
    assert [r["index"] for r in rows] == list(range(6))
    assert rows[0]["warping_error"] is None and all(r["warping_error"] > 0 for r in rows[1:])
    assert [r["index"] for r in rows if r["style_loss"] is not None] == [0, 2, 4]
    summary = json.loads((report / "summary.json").read_text())
    assert summary["warping_error"] == pytest.approx(np.mean([r["warping_error"] for r in rows[1:]]))
    for name in ("warping_error.png", "style_loss.png", "contact_sheet.png", "frames.csv"):
        assert (report / name).stat().st_size > 0


# -- bad input: one line, exit 2


def test_not_a_video(tmp_path, capsys):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 20)
    code, err = run_cli(capsys, text, STYLE, "-o", tmp_path / "out.mp4")
    assert code == 2 and "is not a video FFmpeg can read" in one_error_line(err)


def test_no_video_stream(tmp_path, capsys):
    sound = tmp_path / "sound.m4a"
    with av.open(str(sound), "w") as container:
        stream = container.add_stream("aac", rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    code, err = run_cli(capsys, sound, STYLE, "-o", tmp_path / "out.mp4")
    assert code == 2 and "has no video stream (audio)" in one_error_line(err)


def test_zero_frames_in_range(tmp_path, capsys):
    clip = make_clip(tmp_path / "short.mp4", moving_frames(4), fps=4)
    code, err = run_cli(capsys, clip, STYLE, "-o", tmp_path / "out.mp4", "--start", "5")
    assert code == 2 and "no frames from 5 s" in one_error_line(err)
    empty = tmp_path / "empty"
    empty.mkdir()
    code, err = run_cli(capsys, empty, STYLE, "-o", tmp_path / "out.mp4")
    assert code == 2 and "holds no frames" in one_error_line(err)


def test_a_stream_cut_short_keeps_the_frames_done(tmp_path, network, capsys):
    clip = make_clip(tmp_path / "whole.mkv", moving_frames(40), fps=10, keyframes=4)
    data = clip.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[:len(data) // 2])
    out = tmp_path / "out.mp4"
    code, err = run_cli(capsys, cut, STYLE, "-o", out, "--size", 64, "--quiet")
    assert code == 2 and "ended after" in one_error_line(err)
    frames, _ = read_video(out)
    assert 0 < len(frames) < 40  # the frames before the cut, playable
    single = make_clip(tmp_path / "one_keyframe.mkv", moving_frames(40), fps=10)  # cut inside its only keyframe
    data = single.read_bytes()
    (tmp_path / "nothing.mkv").write_bytes(data[:len(data) // 2])
    code, err = run_cli(capsys, tmp_path / "nothing.mkv", STYLE, "-o", tmp_path / "none.mp4", "--size", 64)
    assert code == 2 and "gave no video frames" in one_error_line(err)
    assert not (tmp_path / "none.mp4").exists() and not (tmp_path / "none.mp4.work").exists()


def test_unwritable_or_existing_output(tmp_path, capsys):
    clip = make_clip(tmp_path / "in.mp4", moving_frames(3), fps=3)
    code, err = run_cli(capsys, clip, STYLE, "-o", tmp_path / "missing" / "out.mp4")
    assert code == 2 and "does not exist" in one_error_line(err)
    code, err = run_cli(capsys, clip, STYLE, "-o", tmp_path / "out.gif")
    assert code == 2 and "unknown video format" in one_error_line(err)
    code, err = run_cli(capsys, clip, STYLE, "-o", clip, "--overwrite")
    assert code == 2 and "never overwritten" in one_error_line(err)
    (tmp_path / "taken.mp4").write_bytes(b"mine")
    code, err = run_cli(capsys, clip, STYLE, "-o", tmp_path / "taken.mp4")
    assert code == 2 and "exists" in one_error_line(err)
    assert (tmp_path / "taken.mp4").read_bytes() == b"mine"


def test_resume_refuses_other_settings_and_nothing_to_resume(tmp_path, network, capsys):
    clip = make_clip(tmp_path / "in.mp4", moving_frames(6), fps=6)
    out = tmp_path / "out.mp4"
    code, err = run_cli(capsys, clip, STYLE, "-o", out, "--resume")
    assert code == 2 and "nothing to resume" in one_error_line(err)
    run_video(fast_job(clip, out), network=network, listen=lambda frame: frame.index < 1)
    code, err = run_cli(capsys, clip, STYLE, "-o", out, "--size", 32, "--resume")
    assert code == 2 and "had other settings, size" in one_error_line(err)
    code, err = run_cli(capsys, clip, STYLE, "-o", tmp_path / "other.mp4", "--size", 64, "--work",
                        tmp_path / "out.mp4.work")
    assert code == 2 and "--resume" in one_error_line(err)


# -- a real clip, when ../shared/videos is beside the checkout


def test_box_clip_keeps_its_mp3_audio_unchanged(tmp_path, network):
    box = SHARED_VIDEOS / "box.mp4"
    if not box.is_file():
        pytest.skip(f"{box} is not here (../shared/videos is beside the checkout in CI)")
    out = tmp_path / "box.mp4"
    outcome = run_video(fast_job(box, out, size=96, duration=1.0), network=network)
    assert outcome.frames == 30 and outcome.fps == Fraction(456000, 15217)
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.name.startswith("mp3")
        sent = [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]
    assert sent and all(packet in set(audio_packets(box)) for packet in sent)


def test_ctrl_c_keeps_a_playable_video_and_resume_finishes_it(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    clip = make_clip(tmp_path / "long.mp4", moving_frames(150, 96, 64), fps=25, audio_seconds=6.0)
    out = tmp_path / "out.mp4"
    command = [sys.executable, "-m", "painterly", "video", str(clip), str(STYLE), "-o", str(out), "--size", "96"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    frames = tmp_path / "out.mp4.work" / "frames"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(frames.glob("*.png"))) < 5:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "--resume" in err
    done, rate = read_video(out)
    assert 5 <= len(done) < 150 and rate == 25  # playable, the frames done
    with av.open(str(out)) as container:
        assert container.streams.audio  # with its sound, cut to its length
    resumed = subprocess.run(command + ["--resume"], stderr=subprocess.PIPE, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert len(read_video(out)[0]) == 150 and not (tmp_path / "out.mp4.work").exists()
    assert audio_packets(out) == audio_packets(clip)


# -- the optimisation on video (a random-weight VGG19 at 32 px, a few steps)


def test_the_temporal_term_is_zero_on_its_target_and_weighs_only_reliable_pixels():
    import tensorflow as tf

    from painterly.video.optimise import temporal_term

    target = texture(16, 12).astype(np.float32)
    mask = np.ones((12, 16), np.float32)
    mask[:, :8] = 0
    term = temporal_term(3.0, target, mask)
    assert float(term.value(term.sums({}, tf.constant(target), {}), (12, 16), {})) == 0.0
    moved = target.copy()
    moved[:, :8] += 50  # only unreliable pixels differ: still zero
    assert float(term.value(term.sums({}, tf.constant(moved), {}), (12, 16), {})) == 0.0
    moved[:, 8:] += 51  # reliable pixels 0.2 off in 0..1 units: 0.2² over half of the pixels
    value = float(term.value(term.sums({}, tf.constant(moved), {}), (12, 16), {}))
    assert value == pytest.approx(0.2**2 / 2, rel=1e-5) and term.name == "temporal"


def test_a_static_clip_starts_each_frame_on_the_last_with_a_zero_temporal_term(tmp_path, random_vgg19):
    from painterly.methods.optimise import Transfer
    from painterly.video.optimise import temporal_term

    still = texture(32, 24)
    pair = Flow("medium").pair(still, still)
    assert np.abs(pair.backward).max() < 1e-3 and pair.mask.min() == 1
    previous = texture(32, 24, seed=5)  # the previous output, whatever it is
    start = warp(previous, pair.backward, cubic=True)
    np.testing.assert_allclose(start, previous, atol=0.05)
    settings = Settings(size=32, iterations=2, multiscale="off", seed=0)
    run = Transfer(still, [texture(32, 32, seed=3)], settings, start=start, network=random_vgg19,
                   extra_terms=(temporal_term(100.0, start, pair.mask),))
    terms = run.objective((32, 24)).terms(np.asarray(start, np.float32)[None])
    assert set(terms) == {"content", "style", "tv", "temporal"} and float(terms["temporal"]) == 0.0


def test_optimise_video_runs_with_the_temporal_term_and_flickers_less(tmp_path, random_vgg19):
    clip = make_clip(tmp_path / "pan.mp4", moving_frames(3, 48, 32), fps=3)
    errors = {}
    for mode in ("none", "flow"):
        settings = Settings(size=48, iterations=4, seed=0)
        outcome = run_video(VideoJob(clip, (STYLE,), settings, output=tmp_path / f"{mode}/", temporal=mode,
                                     frame_iterations=2 if mode == "flow" else None), network=random_vgg19)
        assert outcome.frames == 3 and outcome.stopped == "completed"
        errors[mode] = outcome.warping_error
        names = [set(r["terms"]) for r in outcome.records]
        assert names[0] == {"content", "style", "tv"}
        assert all(("temporal" in n) == (mode == "flow") for n in names[1:])
    assert errors["flow"] < errors["none"], errors


def test_a_stop_asked_mid_frame_cancels_the_optimisation_without_waiting_for_the_frame(tmp_path, random_vgg19):
    """A web job's cancel: `stop` is asked between iterations, so a long frame ends within a step or two."""
    clip = make_clip(tmp_path / "pan.mp4", moving_frames(3, 48, 32), fps=3)
    asked = []

    def stop() -> bool:
        asked.append(None)
        return len(asked) > 3  # after three iterations of the first frame's 100000

    settings = Settings(size=48, iterations=100_000, seed=0, init="content")
    outcome = run_video(VideoJob(clip, (STYLE,), settings, output=tmp_path / "out.mp4", temporal="flow"),
                        network=random_vgg19, stop=stop)
    assert outcome.stopped == "cancelled" and outcome.frames == 0 and len(asked) == 4
    assert not (tmp_path / "out.mp4").exists() and not (tmp_path / "out.mp4.work").exists()


def test_a_frame_size_change_mid_stream_stops_with_the_frames_before_kept(tmp_path, network):
    import av

    path = tmp_path / "switch.ts"  # MPEG-TS: two streams of different sizes joined end to end
    with open(path, "wb") as joined:
        for i, (w, h, n) in enumerate(((64, 48, 4), (96, 64, 3))):
            part = make_clip(tmp_path / f"part{i}.ts", moving_frames(n, w, h), fps=12)
            joined.write(part.read_bytes())
    with av.open(str(path)) as container:
        sizes = [(f.width, f.height) for f in container.decode(video=0)]
    assert sizes[0] == (64, 48) and (96, 64) in sizes, sizes  # the file really switches
    outcome = run_video(fast_job(path, tmp_path / "out.mp4"),
                        network=network)
    assert outcome.stopped == "broken" and outcome.frames == sizes.index((96, 64))
    assert "changes its frame size from 64×48 to 96×64" in str(outcome.failure)
    assert len(read_video(tmp_path / "out.mp4")[0]) == outcome.frames


def test_frames_too_thin_for_the_flow_are_refused_in_one_line(tmp_path, capsys):
    clip = make_clip(tmp_path / "thin.mp4", moving_frames(2, 128, 8), fps=12)
    code = main(["video", str(clip), str(STYLE), "-o", str(tmp_path / "out.mp4"), "--method", "fast", "--size", "64"])
    line = one_error_line(capsys.readouterr().err)
    assert code == 2 and "would be painted at" in line and "at least 16 px a side" in line, line
    assert not (tmp_path / "out.mp4").exists()


def test_a_write_failing_mid_run_keeps_the_frames_done_in_a_playable_video(tmp_path, network, monkeypatch):
    from painterly.errors import OutputError
    from painterly.video import sink

    clip = make_clip(tmp_path / "pan.mp4", moving_frames(6), fps=12)
    real, written = sink.write_png, []

    def full_disk(path, frame, **options):
        if len(written) == 3:
            raise OutputError(f"frame '{path}' could not be written (No space left on device): free some space")
        written.append(path)
        real(path, frame, **options)

    monkeypatch.setattr(sink, "write_png", full_disk)
    outcome = run_video(fast_job(clip, tmp_path / "out.mp4"), network=network)
    assert outcome.stopped == "failed" and outcome.code == 2 and "No space left" in str(outcome.failure)
    assert outcome.frames == 3 and len(read_video(tmp_path / "out.mp4")[0]) == 3


def test_long_term_masks_keep_only_what_the_nearer_frames_cannot_vouch_for():
    from painterly.video.optimise import long_term_masks

    short = np.array([1, 0, 0, 1], np.float32)  # t−1 reliable at pixels 0 and 3
    two, four = long_term_masks(short, [np.array([1, 1, 0, 0], np.float32), np.array([1, 1, 1, 0], np.float32)])
    np.testing.assert_array_equal(two, [0, 1, 0, 0])  # t−2 only where t−1 is not
    np.testing.assert_array_equal(four, [0, 0, 1, 0])  # t−4 only where neither t−1 nor t−2 is
    np.testing.assert_array_equal(short, [1, 0, 0, 1])  # the input is left as it was


def test_long_term_terms_join_the_objective_as_their_frames_become_available(tmp_path, random_vgg19):
    clip = make_clip(tmp_path / "pan.mp4", moving_frames(6, 48, 32), fps=6)
    settings = Settings(method="optimise", size=48, iterations=3, seed=0, init="content")
    outcome = run_video(VideoJob(clip, (STYLE,), settings, output=tmp_path / "out/", long_term=(4, 2),
                                 frame_iterations=2), network=random_vgg19)
    assert outcome.stopped == "completed" and outcome.frames == 6
    names = [set(r["terms"]) - {"content", "style", "tv"} for r in outcome.records]
    assert names == [set(), {"temporal"}, {"temporal", "temporal_2"}, {"temporal", "temporal_2"},
                     {"temporal", "temporal_2", "temporal_4"}, {"temporal", "temporal_2", "temporal_4"}]
    assert outcome.metadata["painter"]["long_term"] == [4, 2]


@pytest.mark.parametrize("changes, message", [
    ({"settings": Settings(method="fast", size=48)}, "--long-term applies to --method optimise with --temporal flow"),
    ({"temporal": "none"}, "--long-term applies to --method optimise with --temporal flow"),
    ({"long_term": (1, 4)}, "give distinct frame distances from 2 to 16"),
    ({"long_term": (2, 2)}, "give distinct frame distances from 2 to 16"),
    ({"ray": "local"}, "--long-term is not offered with --ray"),
])
def test_long_term_refused_where_it_cannot_apply(tmp_path, changes, message):
    from painterly.errors import SettingsError

    clip = make_clip(tmp_path / "pan.mp4", moving_frames(2, 48, 32), fps=6)
    fields = {"settings": Settings(method="optimise", size=48), "output": tmp_path / "out.mp4", "long_term": (2,)}
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace("-", r"\-")):
        run_video(VideoJob(clip, (STYLE,), **{**fields, **changes}))


def test_one_flow_serves_several_threads_at_once():
    """The long-term pairs are measured on the run's thread pool beside the short one: one DIS object,
    used from two threads at once, crashed the process (a segfault) before the lock."""
    from concurrent.futures import ThreadPoolExecutor

    frames = moving_frames(9, 96, 64)
    flow = Flow("medium")
    expected = [flow.pair(a, b).backward for a, b in zip(frames, frames[1:])]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda ab: flow.pair(*ab).backward, list(zip(frames, frames[1:])) * 3))
    for i, backward in enumerate(got):
        np.testing.assert_array_equal(backward, expected[i % len(expected)])


# -- the honest flicker measure in the run, the last line and the report


def test_the_run_measures_flicker_with_an_independent_flow_and_reports_it(tmp_path, network, capsys):
    import json

    from PIL import Image

    from painterly.reports.video import FILES

    clip = make_clip(tmp_path / "pan.mp4", moving_frames(8, 96, 64), fps=8)
    code, err = run_cli(capsys, clip, STYLE, "-o", tmp_path / "out.mp4", "--size", 96, "--report",
                        tmp_path / "report")
    assert code == 0, err
    last = err.strip().splitlines()[-1]
    assert "with an independent flow (frame by frame" in last and "still-region flicker" in last, last
    assert "the painting's own flow says" in last and ("frames/s" in last or "s/frame" in last), last
    report = tmp_path / "report"
    assert sorted(p.name for p in report.iterdir()) == sorted(FILES)
    rows = json.loads((report / "frames.json").read_text())
    measured = rows[1:]
    assert all(r["independent_warping_error"] > 0 and r["frame_by_frame_warping_error"] > 0 for r in measured)
    assert all(0 < r["independent_reliable"] <= 1 for r in measured) and rows[0]["independent_warping_error"] is None
    summary = json.loads((report / "summary.json").read_text())["flicker"]
    assert summary["independent_warping_error"] == pytest.approx(
        np.mean([r["independent_warping_error"] for r in measured]))
    assert summary["independent_warping_error"] < summary["frame_by_frame_warping_error"]  # the mode helps
    with Image.open(report / "strip.png") as strip, Image.open(report / "contact_sheet.png") as sheet:
        assert strip.width > 6 * 96 and strip.height < 2 * 64 + 80  # six frames in one row
    page = (report / "index.html").read_text()
    assert "Reliable share per frame" in page and "Consecutive frames" in page


# -- the video asks the method, never its name


def test_every_method_paints_videos_and_a_method_without_a_painter_is_refused_in_one_line():
    from painterly import methods
    from painterly.errors import SettingsError
    from painterly.video.painters import PAINTERS, painter_class

    assert set(PAINTERS) == set(methods.NAMES)
    with pytest.raises(SettingsError) as refused:
        painter_class("watercolour")
    assert "--method watercolour does not paint videos" in str(refused.value) and "\n" not in str(refused.value)


def test_the_video_and_its_ray_actor_import_no_batch():
    import subprocess
    import sys

    code = ("import sys, painterly.video.run; from painterly.video.chunked import ChunkPainter; ChunkPainter(1); "
            "assert not [m for m in sys.modules if m.startswith('painterly.batch')], 'batch imported'")
    src = str(Path(__file__).resolve().parents[1] / "src")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
