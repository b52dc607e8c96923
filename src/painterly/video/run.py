"""Run one video job: `run_video` paints it in this process (`runner.VideoRun`) or, with `job.ray`, in chunks on
Ray actors (`chunked.ChunkedRun`); either way the outcome is a `VideoOutcome`.

    job = VideoJob(Path("clip.mp4"), (Path("starry.jpg"),), Settings(method="fast", size=384),
                   output=Path("painted.mp4"))
    outcome = run_video(job, listen=lambda frame: print(frame.index, frame.warping_error))

The job's types are in `job`, the run in one process in `runner`, the frame painters in `painters`.
"""

from __future__ import annotations

from typing import Callable

from .chunked import ChunkedRun
from .job import MODES, FrameDone, Listener, VideoJob, VideoOutcome
from .runner import VideoRun

__all__ = ["MODES", "FrameDone", "VideoJob", "VideoOutcome", "VideoRun", "run_video"]


def run_video(job: VideoJob, *, listen: Listener | None = None, notice: Callable[[str], None] | None = None,
              on_start: Callable[[VideoRun], None] | None = None, network=None,
              stop: Callable[[], bool] | None = None) -> VideoOutcome:
    """Run `job`; raises `PainterlyError` for anything refused before the first frame. With `job.ray` the
    frames are painted in chunks on Ray actors (`video.chunked`), else here, one after another. `network`:
    the method's network to paint with (None: built for the job). `stop`, asked between the optimisation's
    iterations, cancels in the middle of a frame (that frame is not kept); `listen` returning False cancels
    after a frame."""
    if job.chunked:
        run = ChunkedRun(job, notice=notice)
    else:
        run = VideoRun(job, notice=notice, network=network, stop=stop)
    if on_start is not None:
        on_start(run)
    return run.execute(listen)
