"""painterly video's flicker measures on synthetic clips with known answers, and the steady temporal mode
(still stays still, moving stays sharp) against plain blending and the old flow blend."""

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from painterly.video.flow import Flow, FlowPair, warp, warping_error  # noqa: E402
from painterly.video.measure import Flicker, pace, still_flicker, still_pixels, summarise  # noqa: E402
from painterly.video.temporal import TEMPORAL, carry, flow_blend  # noqa: E402


def texture(width: int, height: int, seed: int = 0) -> np.ndarray:
    """Smooth random colour texture (uint8 RGB): something optical flow can follow."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0, 255, (height, width, 3)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(noise, (0, 0), 2.0) * 3 - 255, 0, 255).astype(np.uint8)


def equivariant(frame: np.ndarray) -> np.ndarray:
    """A translation-equivariant "painting": a per-pixel colour curve (channels swapped, one inverted)."""
    rgb = np.asarray(frame, np.float32)
    return np.stack([255 - rgb[..., 2], rgb[..., 0], np.sqrt(rgb[..., 1] * 255)], axis=-1)


def measured(frames, outputs, painted=None, preset="medium") -> dict:
    meter = Flicker(preset)
    records = [meter.add(f, o, None if painted is None else painted[i]) for i, (f, o) in
               enumerate(zip(frames, outputs))]
    assert all(value is None for value in records[0].values())  # nothing to compare the first frame with
    return summarise(records)


def test_a_static_clip_painted_the_same_each_frame_scores_zero():
    still = texture(64, 48)
    frames = [still] * 5
    outputs = [equivariant(still)] * 5
    result = measured(frames, outputs, painted=outputs)
    assert result["independent_warping_error"] == 0.0
    assert result["frame_by_frame_warping_error"] == 0.0
    assert result["still_flicker"] == 0.0
    assert result["independent_reliable"] == 1.0


@pytest.mark.parametrize("preset", ["medium", "fast", "ultrafast"])
def test_a_pan_painted_by_a_translation_equivariant_filter_scores_about_zero_with_any_flow(preset):
    wide = texture(96 + 7 * 2, 64, seed=4)
    frames = [np.ascontiguousarray(wide[:, (7 - i) * 2:(7 - i) * 2 + 96]) for i in range(8)]  # 2 px right a frame
    outputs = [equivariant(f) for f in frames]
    rng = np.random.default_rng(1)
    flickering = [np.clip(o + rng.normal(0, 12, o.shape), 0, 255) for o in outputs]  # repainted each frame
    result = measured(frames, outputs, painted=flickering, preset=preset)
    assert result["independent_warping_error"] < 0.03 * result["frame_by_frame_warping_error"], result
    assert result["independent_warping_error"] < 2e-4
    # and with the exact flow: every pixel of frame t was 2 px to the left in frame t−1
    backward = np.zeros((64, 96, 2), np.float32)
    backward[..., 0] = -2
    mask = np.ones((64, 96), np.float32)
    mask[:, :2] = 0  # entered the frame
    assert warping_error(outputs[3], warp(outputs[2], backward), mask) < 1e-9


def test_still_region_flicker_is_the_noise_added_where_the_input_does_not_change():
    """Independent noise of σ grey levels on each frame's output: the mean squared change between two
    frames is 2σ²; where the input moves, nothing counts."""
    background, square = texture(80, 60, seed=1), texture(16, 16, seed=2)
    rng = np.random.default_rng(3)
    rows = np.arange(60)[:, None]
    band = (rows >= 38) & (rows < 56) & (np.arange(80) >= 10)[None]  # where each output gets fresh noise
    frames, outputs = [], []
    for t in range(6):
        frame = background.copy()
        frame[20:36, 10 + 4 * t:26 + 4 * t] = square
        frames.append(frame)
        noisy = frame.astype(np.float32) + rng.normal(0, 6.0, frame.shape)
        outputs.append(np.where(band[..., None], noisy, frame).astype(np.float32))
    still = still_pixels(frames[2], frames[3])
    assert still[:, 50:].all() and still[22:34, 20:36].mean() < 0.2  # the square moved: (nearly) all changed
    assert still_flicker(outputs[2], outputs[3], np.zeros_like(still)) is None
    assert still_flicker(outputs[2], outputs[3], still & band) == pytest.approx(2 * 36 / 255**2, rel=0.15)
    assert still_flicker(outputs[2], outputs[3], still & (rows < 16)) == 0.0  # above the square: no noise


def test_pace_says_seconds_per_frame_below_one_frame_a_second():
    assert pace(0.1) == "10.0 frames/s"
    assert pace(0.9) == "1.1 frames/s"
    assert pace(4.25) == "4.2 s/frame"
    assert pace(1.0) == "1.0 frames/s"
    assert pace(None) == "" and pace(0) == ""


# -- the steady mode


def wall_clip(count: int = 14, width: int = 96, height: int = 72, seed: int = 0):
    """A tripod shot of a blank wall (a soft gradient, a little sensor noise) with a textured card moving
    right across it, 4 px a frame."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    wall = np.stack([230 - 0.1 * xs, 226 - 0.1 * ys, 215 - 0.05 * (xs + ys)], -1)
    card = texture(20, 16, seed=9).astype(np.float32)
    frames = []
    for t in range(count):
        frame = wall + rng.normal(0, 1.0, wall.shape)
        x = 4 + 4 * t
        frame[28:44, x:x + 20] = card[:, :max(0, min(20, width - x))]
        frames.append(np.clip(np.rint(frame), 0, 255).astype(np.uint8))
    return frames


def flickering_painter(seed: int = 0):
    """A stand-in network that repaints its picture each frame: the frame's colours inverted plus fresh
    blotchy noise (what a feed-forward network does to a blank wall)."""
    rng = np.random.default_rng(seed)

    def paint(frame):
        rgb = np.asarray(frame, np.float32)
        blotches = cv2.GaussianBlur(rng.normal(0, 40, rgb.shape).astype(np.float32), (0, 0), 2.0)
        return np.clip(255 - rgb + blotches, 0, 255)
    return paint


def run_mode(frames, combine, paint):
    flow, previous_frame, previous, outputs, painted = Flow("medium"), None, None, [], []
    for frame in frames:
        new = paint(frame)
        pair = flow.pair(previous_frame, frame) if previous_frame is not None else None
        out = np.clip(np.rint(combine(new, previous, pair)), 0, 255).astype(np.uint8)
        outputs.append(out)
        painted.append(new)
        previous_frame, previous = frame, out.astype(np.float32)
    return outputs, painted


def test_steady_mode_keeps_a_blank_wall_as_calm_as_blending_and_the_card_without_a_trail():
    frames = wall_clip()
    runs = {name: run_mode(frames, combine, flickering_painter())
            for name, combine in (("none", TEMPORAL["none"](0)), ("blend", TEMPORAL["blend"](0.8)),
                                  ("old flow", flow_blend(0.8)), ("steady", TEMPORAL["flow"](0.9)))}
    scores = {name: measured(frames, outputs, painted) for name, (outputs, painted) in runs.items()}
    still = {name: score["still_flicker"] for name, score in scores.items()}
    assert still["steady"] <= 3 * still["blend"], still
    assert still["steady"] < 0.2 * still["old flow"] and still["steady"] < 0.05 * still["none"], still
    independent = {name: score["independent_warping_error"] for name, score in scores.items()}
    assert independent["steady"] <= independent["blend"], independent
    # no trail: where the card was 3 frames ago and is not now, the steady output is the painting of the
    # wall, as frame by frame has it (the card's painting is far from it); blending keeps a ghost there
    last = len(frames) - 1
    behind = (slice(30, 42), slice(4 + 4 * (last - 3), 4 + 4 * last - 2))
    wall_paint = runs["none"][0][last][behind].astype(np.float32).mean((0, 1))
    card_paint = runs["none"][0][last - 3][behind].astype(np.float32).mean((0, 1))
    gap = np.abs(card_paint - wall_paint).mean()
    steady_off = np.abs(runs["steady"][0][last][behind].astype(np.float32).mean((0, 1)) - wall_paint).mean()
    blend_off = np.abs(runs["blend"][0][last][behind].astype(np.float32).mean((0, 1)) - wall_paint).mean()
    assert gap > 20 and steady_off < 0.1 * gap and steady_off < 0.5 * blend_off, (steady_off, blend_off, gap)


def test_carry_holds_unchanged_pixels_in_place_and_follows_the_flow_elsewhere():
    frames = wall_clip(count=3)
    pair = Flow("medium").pair(frames[1], frames[2])
    carried = carry(pair, 0.9)
    assert np.abs(carried.flow[:, 70:]).max() == 0.0  # far from the card: still, zero flow, held
    assert carried.share[:, 80:].min() > 0.9 and carried.still[:, 80:].min() == 1.0
    card = (slice(30, 42), slice(14, 26))  # inside the card in both frames: it moved 4 px right
    assert abs(np.median(carried.flow[card][..., 0]) + 4) < 0.5
    assert carried.share[card].max() <= 0.9 + 1e-6
    for name in ("flow", "confidence", "share", "still"):
        assert getattr(carried, name).dtype == np.float32


def test_the_steady_mode_without_the_frames_falls_back_to_the_mask():
    frames = wall_clip(count=2)
    pair = Flow("medium").pair(frames[0], frames[1])
    bare = FlowPair(pair.backward, pair.forward, pair.mask)
    new, previous = np.full((72, 96, 3), 10.0, np.float32), np.full((72, 96, 3), 200.0, np.float32)
    np.testing.assert_allclose(TEMPORAL["flow"](0.5)(new, previous, bare), flow_blend(0.5)(new, previous, bare))


# -- the report draws without pyplot (its global state is not safe in the web server's threads)


def test_the_video_report_draws_without_pyplot():
    code = ("import sys; from painterly.reports import video as report; "
            "png = report._plot([(0, 1.0), (1, 2.0)], 'x', '#000000'); "
            "assert png[:8] == b'\\x89PNG\\r\\n\\x1a\\n'; "
            "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'")
    src = str(Path(__file__).resolve().parents[1] / "src")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]


def test_report_plots_drawn_from_threads_at_once_are_each_whole():
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    from painterly.reports import video as report

    def draw(k):
        return report._plot([(i, float((i * k) % 7)) for i in range(50)], f"series {k}", "#c0392b")

    with ThreadPoolExecutor(8) as pool:
        pngs = list(pool.map(draw, range(16)))
    assert {Image.open(io.BytesIO(png)).size for png in pngs} == {(800, 300)}


def test_a_chunks_warm_up_outlasts_the_steady_carrys_memory():
    """Ray chunks start apart: the warm-up must let the held still pixels of two chains meet (to 5 %)."""
    from painterly.video.chunks import CHUNK_FRAMES, OVERLAP
    from painterly.video.temporal import STILL_WEIGHT

    assert STILL_WEIGHT ** OVERLAP <= 0.05 < STILL_WEIGHT ** (OVERLAP - 1)
    assert OVERLAP <= CHUNK_FRAMES / 4  # the warm-up costs at most a quarter of a chunk's painting
