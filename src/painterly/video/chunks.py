"""A long video cut into chunks that can be painted apart: where each begins and ends, and where the scene cuts.

    cuts = scene_cuts(frames)                       # indices of frames that start a new shot
    for chunk in plan(total, 150, 16, cuts):        # Chunk(index, start, stop, lead)
        ...paint frames chunk.first .. chunk.stop − 1, keep chunk.start .. chunk.stop − 1

A chunk keeps at most `frames` frames; a scene cut always starts a new one. Every chunk that does not
start the video or a shot begins `overlap` frames early: those warm-up frames are painted along the flow
like any other and then thrown away, so the chunk's temporal state (the previous output carried along
the flow) has settled by its first kept frame. With the fast method that state forgets where it started
as aᵏ where the flow is reliable, so the join's excess warping error falls as a²ᵏ (a = 0.8: 0.028 after
8 frames, 0.0008 after 16). Measured (bench/video_ray.py, docs/PERFORMANCE.md *Video on Ray*, box.mp4
and vtest.avi at 384 px): the joins' warping error is 19–24× the inside's with no warm-up, 3.2–3.3× with
4 frames, 1.4× with 8 and 0.97–1.05× with 16, the default. Fading the previous chunk's last frames into
the warm-up instead did better with 2–4 frames and worse with 8–16. A warm-up never reaches back across
a cut: nothing is consistent there anyway.

The cut detector compares consecutive frames shrunk to 32×24 grey: a mean absolute difference above
CUT_THRESHOLD (of 255) is a cut. Over the whole of OpenCV's box.mp4 and vtest.avi the largest difference
between consecutive frames is 9.5 and 2.9 (no cut in either); box.mp4 spliced to vtest.avi gives 63.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from ..errors import SettingsError

CHUNK_FRAMES = 300  # frames a chunk keeps: 12 s at 25 frames/s (the warm-up adds 20 % to the painting)
# warm-up frames before each chunk's own. The steady carry (`temporal.STILL_WEIGHT`, 0.95) holds a still
# pixel's previous output: two chains that start apart differ there by 0.95^K after K frames, so the
# warm-up is as long as it takes that to fall to 5 % (16 frames, enough for the old flow mode, left the
# joins 22× the inside's warping error in tests/test_video_ray.py)
OVERLAP = 59
CUT_THRESHOLD = 20.0  # mean absolute difference of 32×24 grey thumbnails, 0..255, that counts as a cut
THUMBNAIL = (32, 24)


@dataclass(frozen=True)
class Chunk:
    """Frames `start` .. `stop` − 1 kept, after `lead` warm-up frames painted and thrown away."""

    index: int
    start: int
    stop: int
    lead: int

    @property
    def first(self) -> int:
        """The first frame the chunk paints (a warm-up frame if `lead`)."""
        return self.start - self.lead

    def __len__(self) -> int:
        return self.stop - self.start


def plan(total: int, frames: int = CHUNK_FRAMES, overlap: int = OVERLAP, cuts: Iterable[int] = ()) -> list[Chunk]:
    """The chunks of a video of `total` frames: at most `frames` kept each, a new one at every cut (a frame
    index that starts a shot), each warmed up by `overlap` frames unless it starts the video or a shot."""
    if frames < 1:
        raise SettingsError(f"--chunk-frames {frames} must be at least 1")
    if overlap < 0:
        raise SettingsError(f"--chunk-overlap {overlap} must be 0 or more")
    shots = sorted({0, *(c for c in cuts if 0 < c < total)})
    chunks: list[Chunk] = []
    for shot, end in zip(shots, [*shots[1:], total]):
        for start in range(shot, end, frames):
            lead = min(overlap, start - shot)
            chunks.append(Chunk(len(chunks), start, min(start + frames, end), lead))
    return chunks


class CutDetector:
    """Feed it the frames in order; `cuts` gathers the indices of the frames that start a new shot."""

    def __init__(self, threshold: float = CUT_THRESHOLD):
        self.threshold, self.cuts, self.count = threshold, [], 0
        self._previous: np.ndarray | None = None

    def add(self, frame: np.ndarray) -> float | None:
        """The frame's difference from the previous one (None for the first)."""
        import cv2

        grey = cv2.cvtColor(np.ascontiguousarray(frame, np.uint8), cv2.COLOR_RGB2GRAY)
        thumbnail = cv2.resize(grey, THUMBNAIL, interpolation=cv2.INTER_AREA).astype(np.float32)
        difference = None
        if self._previous is not None:
            difference = float(np.abs(thumbnail - self._previous).mean())
            if difference > self.threshold:
                self.cuts.append(self.count)
        self._previous, self.count = thumbnail, self.count + 1
        return difference


def scene_cuts(frames: Iterable[np.ndarray], threshold: float = CUT_THRESHOLD) -> list[int]:
    """The indices of the frames (uint8 RGB, in order) that start a new shot."""
    detector = CutDetector(threshold)
    for frame in frames:
        detector.add(frame)
    return detector.cuts
