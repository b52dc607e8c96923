"""The one terminal progress adapter: the still's bar per scale, the batch's bar over items, the video's over
frames — their fields, their final lines as printed, and the lines said without a bar."""

import re

from painterly.events import Iterate, TileProgress
from painterly.progress import FRAMES, ITEMS, STEPS, Progress, clock, speed
from painterly.video.run import FrameDone


def _steps(scales=2):
    """A still's records: a tile of each scale's first evaluation, then its steps."""
    for scale, steps in enumerate((3, 2)[:scales]):
        size = (32 * (scale + 1), 21 * (scale + 1))
        yield TileProgress(done=1, total=4, size=size, scale=scale, scales=scales)
        for step in range(steps + 1):
            yield Iterate(step=step, steps=steps, loss=10.0 - step, terms={}, elapsed=float(step),
                          evaluations=step + 1, size=size, scale=scale, scales=scales)


def _frame(index, error):
    return FrameDone(index=index, total=5, seconds=0.1, cpu_seconds=0.1, elapsed=0.1 * index, warping_error=error,
                     reliable=None)


ENTRIES = [{"name": "a.png", "state": "skipped"}, {"name": "b.png", "state": "done", "seconds": 1.25},
           {"name": "c.png", "state": "failed", "reason": "broken"}]


def test_speeds_read_as_seconds_a_step_when_slow():
    assert speed(33.2) == "33 s/it" and speed(2.5) == "2.5 s/it" and speed(0.4) == "2.5 it/s"
    assert clock(75) == "1:15" and clock(3725) == "1:02:05" and clock(-3) == "0:00"


def test_the_bar_shows_speed_and_time_left_from_the_first_step():
    progress = Progress(STEPS, enabled=True)
    with progress:
        for step in range(3):
            progress.update(Iterate(step=step, steps=40, loss=10.0 - step, terms={}, elapsed=float(step),
                                    evaluations=step + 1, size=(32, 21)))
            fields = progress.bar.tasks[0].fields
            if step == 0:
                assert fields["rate"] == "" and fields["left"] == ""  # nothing measured yet
            else:
                assert fields["rate"].endswith(("s/it", "it/s")) and fields["left"].endswith(" left")
                assert "-:--:--" not in fields["left"]


def test_the_progress_bar_counts_items_and_leaves_out_the_skipped(capsys):
    progress = Progress(ITEMS, enabled=True, say=print, total=4)
    with progress:
        progress.update({"name": "a.png", "state": "skipped"})
        progress.update({"name": "b.png", "state": "done", "seconds": 1.0})
        progress.update({"name": "c.png", "state": "failed", "reason": "broken"})
        assert progress.bar.tasks[0].total == 3 and progress.bar.tasks[0].completed == 2
        assert progress.bar.tasks[0].fields["counts"] == "1 done, 1 failed"
    lines = []
    plain = Progress(ITEMS, enabled=False, say=lines.append, total=2)
    plain.update({"name": "b.png", "state": "done", "seconds": 1.25})
    plain.update({"name": "c.png", "state": "failed", "reason": "broken"})
    assert lines == ["painterly: 1/2 done b.png in 1.2 s", "painterly: 2/2 failed c.png: broken"]


def test_a_still_gets_a_bar_per_scale_named_by_its_size_on_stderr(capsys):
    with Progress(STEPS, enabled=True, say=print) as progress:
        for record in _steps():
            progress.update(record)
        progress.say("painterly: a notice")
    out, err = capsys.readouterr()
    assert out == ""  # the bar is drawn where the CLI looked for a terminal, with its other lines
    notice, first, second = err.splitlines()  # without a terminal rich draws the bars once, at the end
    first, second = (" ".join(line.split()) for line in (first, second))  # rich pads columns to the widest row
    assert re.fullmatch(r"32×21 \(1/2\) ━+ 3/3 loss 7 [\d.]+ it/s 0:00 left tile 1/4", first), first
    assert re.fullmatch(r"64×42 \(2/2\) ━+ 2/2 loss 8 [\d.]+ it/s 0:00 left tile 1/4", second), second
    assert notice == "painterly: a notice"


def test_a_single_scale_bar_is_named_by_its_size_alone(capsys):
    with Progress(STEPS, enabled=True) as progress:
        for record in _steps(scales=1):
            progress.update(record)
    assert capsys.readouterr().err.startswith("32×21 ━")


def test_a_batch_bar_counts_done_and_failed_with_the_time_left(capsys):
    with Progress(ITEMS, enabled=True, say=print, total=4) as progress:
        for entry in ENTRIES:
            progress.update(entry)
    out, err = capsys.readouterr()
    assert out == ""
    assert re.fullmatch(r"batch ━+╸? +2/3 1 done, 1 failed left \d:\d\d:\d\d", err.strip()), err


def test_a_video_bar_counts_frames_from_those_kept_with_pace_and_warping_error(capsys):
    progress = Progress(FRAMES, enabled=True)
    progress.open(None, total=5, completed=1)  # a resumed run: one frame done before
    for index in range(1, 4):
        progress.update(_frame(index, None if index == 1 else 0.0123))
    assert progress.bar.tasks[0].completed == 4
    progress.close()
    out, err = capsys.readouterr()
    assert out == ""
    assert re.fullmatch(r"frame ━+╸? +4/5 [\d.]+ frames/s \(\d+/min\) \d:\d\d:\d\d warping error 0\.012", err.strip()), err


def test_without_a_terminal_a_still_and_a_video_say_nothing_of_their_steps(capsys):
    said = []
    with Progress(STEPS, enabled=False, say=said.append) as progress:  # no run: no estimate to say
        for record in _steps():
            progress.update(record)
    frames = Progress(FRAMES, enabled=False, say=said.append)
    frames.open(None, total=5)
    frames.update(_frame(0, None))
    frames.close()
    assert said == [] and capsys.readouterr() == ("", "")


def test_a_looks_fields_are_the_ones_its_columns_show():
    assert STEPS.fields == ("loss", "rate", "left", "tiles")
    assert ITEMS.fields == ("counts",) and FRAMES.fields == ("rate", "error")
