"""One video job as data: what to paint (`VideoJob`), each frame as it is done (`FrameDone`) and what came of
it all (`VideoOutcome`). Paths and plain values only, so a job pickles (a Ray chunk carries it).

    job = VideoJob(Path("clip.mp4"), (Path("starry.jpg"),), Settings(method="fast", size=384),
                   output=Path("painted.mp4"))

`run.run_video` runs one; `runner.VideoRun` is how.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import PainterlyError
from ..events import ending
from ..settings import Settings

WORK_SUFFIX = ".work"
MODES = ("flow", "blend", "none")
MAX_LONG_TERM = 16  # the farthest long-term frame (each one costs a flow pair and a term per frame)
MIN_SIDE = 16  # the smallest painted side: OpenCV's DIS flow refuses frames under 12 px


@dataclass(frozen=True)
class VideoJob:
    """What to paint and where to put it; paths and plain values only, so it pickles."""

    input: Path  # a video file or a folder of frames
    styles: tuple[Path, ...]
    settings: Settings = dataclasses.field(default_factory=lambda: Settings(method="fast"))
    output: Path | None = None  # a video (.mp4 …) or a folder of PNG frames
    start: float = 0.0  # seconds into the input
    duration: float | None = None  # seconds (None: to the end)
    frames: int | None = None  # at most this many frames
    fps: float | None = None  # frame rate of a folder of frames (a video keeps its own)
    temporal: str = "flow"  # see `MODES`: flow (warped along the flow where reliable), blend, none
    temporal_weight: float | None = None  # fast: the share a of the previous output; optimise: the term's weight
    flow_preset: str = "medium"  # DIS flow: ultrafast, fast, medium
    work: Path | None = None  # the work folder (default: the output's name + .work)
    resume: bool = False  # continue the run whose frames are in the work folder
    overwrite: bool = False  # replace an existing output, report or work folder (inputs never)
    keep_work: bool = False  # keep the work folder's frames after a finished run
    report: Path | None = None  # a report folder (see `reports.video`)
    report_every: int | None = None  # the contact sheet's k: every k-th frame (default: about 12 frames)
    frame_iterations: int | None = None  # optimise: steps for each frame after the first (default 10)
    long_term: tuple[int, ...] = ()  # optimise along the flow: also temporal terms to the outputs t−k (e.g. 2, 4)
    ray: str | None = None  # None or "off": this process, as always; "local" or an address: chunks on Ray actors
    chunk_frames: int | None = None  # Ray: frames a chunk keeps (default `chunks.CHUNK_FRAMES`)
    chunk_overlap: int | None = None  # Ray: warm-up frames each chunk paints before its own (`chunks.OVERLAP`)
    scene_cuts: bool = True  # Ray: a scene cut starts a chunk, without warm-up
    workers: int | None = None  # Ray: actors (default: one per CPU of the cluster, at most one per chunk)

    @property
    def chunked(self) -> bool:
        return self.ray not in (None, "off")

    def work_folder(self) -> Path:
        if self.work is not None:
            return Path(self.work)
        output = Path(str(self.output).rstrip("/" + os.sep))
        return output.with_name(output.name + WORK_SUFFIX)


@dataclass(frozen=True)
class FrameDone:
    """One frame painted, as the run gives it to whoever listens."""

    index: int  # 0 .. frames − 1 within the range
    total: int | None  # frames the range holds (None: the container did not say)
    seconds: float  # this frame's time: flow, painting and consistency (its PNG is written during the next)
    cpu_seconds: float  # the process's CPU time in that (all threads): what it costs on idle cores
    elapsed: float  # seconds since the run (or this resumed part of it) started
    warping_error: float | None  # against the previous output, with the input's flow (None for the first)
    reliable: float | None  # share of this frame's pixels where the flow is reliable
    terms: dict = dataclasses.field(default_factory=dict)  # the optimisation's weighted loss terms, if any
    image: np.ndarray | None = dataclasses.field(default=None, repr=False, compare=False)  # uint8 RGB
    time: float | None = None  # the frame's timestamp in the input, seconds after the first frame's (None: none)
    flicker: dict = dataclasses.field(default_factory=dict)  # `measure.Flicker`'s measures of this frame

    def record(self) -> dict:
        return {"index": self.index, "seconds": self.seconds, "cpu_seconds": self.cpu_seconds,
                "warping_error": self.warping_error,
                "reliable": self.reliable, "terms": dict(self.terms), "time": self.time, **self.flicker}


@dataclass(frozen=True)
class VideoOutcome:
    output: Path | None  # where the video (or folder) went
    frames: int  # frames in it
    stopped: str  # one of `events.STOPS`: completed, interrupted, terminated, cancelled, broken, failed
    code: int  # exit code: 0, 130, 143 or the failure's
    failure: PainterlyError | None
    warping_error: float | None  # the mean over the frames (from the second on)
    records: tuple[dict, ...]  # one per frame (see `FrameDone.record`)
    work: Path | None  # the work folder, when it was kept
    report: Path | None  # the report's index.html
    size: tuple[int, int]  # the painted frames' (width, height)
    fps: Fraction
    metadata: dict

    @property
    def ending(self) -> str:
        """done, stopped or failed (`events.ending`: the same words as a still's outcome)."""
        return ending(self.stopped, self.failure)


Listener = Callable[[FrameDone], "bool | None"]
