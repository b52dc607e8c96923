"""A job's outcome in the same words for a still and a video (done, stopped, failed), and one stop signal."""

import numpy as np
import pytest

from painterly import Settings
from painterly.events import ENDINGS, ending
from painterly.runner import Job, run_job

from conftest import decode


def test_the_ending_rule_by_hand():
    assert [ending(s, None) for s in ("completed", "converged", "unchanged")] == ["done"] * 3
    assert [ending(s, None) for s in ("cancelled", "interrupted", "terminated", None)] == ["stopped"] * 4
    assert [ending(s, None) for s in ("broken", "failed")] == ["failed"] * 2
    assert ending("completed", RuntimeError("disk full")) == "failed" and set(ENDINGS) == {"done", "stopped", "failed"}


def test_a_still_stopped_from_outside_keeps_its_best_image_and_says_stopped(tiny_pair, tmp_path, random_vgg19):
    content, style = tiny_pair
    settings = Settings(size=48, iterations=6, multiscale="off", model="vgg19", seed=0)
    steps = []
    done = run_job(Job(content, (style,), settings, output=tmp_path / "whole.png"), network=random_vgg19)
    stopped = run_job(Job(content, (style,), settings, output=tmp_path / "stopped.png"), network=random_vgg19,
                      listen=lambda record, run: steps.append(record.step), stop=lambda: len(steps) >= 3)
    assert done.ending == "done" and stopped.ending == "stopped" and stopped.result.stopped == "cancelled"
    assert steps == [0, 1, 2] and decode(tmp_path / "stopped.png").shape == (32, 48, 3)
    assert not np.array_equal(decode(tmp_path / "stopped.png"), decode(tmp_path / "whole.png"))


def test_a_video_ends_in_the_same_words(tmp_path):
    pytest.importorskip("av")
    from painterly.video import VideoJob, run_video
    from test_video import STYLE, make_clip, moving_frames

    clip = make_clip(tmp_path / "pan.mp4", moving_frames(4, 48, 32), fps=4)
    settings = Settings(method="fast", size=48)
    whole = run_video(VideoJob(clip, (STYLE,), settings, output=tmp_path / "whole"))
    frames = []
    stopped = run_video(VideoJob(clip, (STYLE,), settings, output=tmp_path / "stopped"),
                        listen=lambda frame: frames.append(frame.index) or len(frames) < 2)
    assert whole.ending == "done" and whole.frames == 4
    assert stopped.ending == "stopped" and stopped.stopped == "cancelled" and stopped.frames == 2
