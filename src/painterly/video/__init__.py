"""Video without flicker: every frame painted, then made consistent with the previous output along the
input's optical flow.

    from painterly.video import VideoJob, run_video
    outcome = run_video(VideoJob(Path("clip.mp4"), (Path("starry.jpg"),), Settings(method="fast", size=384),
                                 output=Path("painted.mp4")))
    outcome.warping_error      # the flicker measured (Lai et al. 2018), mean over frames

`painterly video IN STYLE… -o OUT` (`video.cli`) is the command over it. The modules, data flowing one way:

* `source`: frames in (PyAV: any video FFmpeg reads; or a folder of images), streamed;
* `sink`: frames out (H.264 MP4 by default, the audio remuxed unchanged; or PNG frames);
* `flow`: DIS optical flow, warping, Ruder et al.'s reliability mask, Lai et al.'s warping error;
* `temporal`: the fast method per frame and its temporal modes (flow, blend, none);
* `optimise`: the optimisation per frame, started from the warped previous output, with a temporal term;
* `measure`: the style loss a frame has, the same yardstick for every mode;
* `painters`: the frame painters, one per method (`PAINTERS`), and one link of the chain (`paint_frame`);
* `job`: a job's types (`VideoJob`, `FrameDone`, `VideoOutcome`); `runner`: a job run in this process
  (`VideoRun`: checks, work folder, Ctrl-C and resume, encoding); `chunked`: in chunks on Ray actors;
* `run`: `run_video`, which runs a job one way or the other; `cli`: the command (its report: `reports.video`).
"""

from .run import FrameDone, VideoJob, VideoOutcome, run_video

__all__ = ["FrameDone", "VideoJob", "VideoOutcome", "run_video"]
