"""What the terminal shows while a job runs: one rich progress bar for the still, `painterly batch` and
`painterly video`.

    progress = Progress(STEPS, enabled=sys.stderr.isatty(), say=say)   # or ITEMS (a batch), FRAMES (a video)
    progress.open(run)                  # the bar appears (a look with a fixed name begins its one bar here)
    progress.update(event)              # each event of the job: an Iterate or TileProgress, a batch entry, a frame
    progress.say(line)                  # a line above the bar, or through `say` when there is no bar
    progress.close()                    # or: with progress: ...

What differs between the three is data, a `Look`: the columns after the bar's name, bar and i/N, and how one
event of its job moves the bar (`STEPS`: a bar per scale with the loss, speed, time left and the tile being
evaluated, and above it the still's time estimate; `ITEMS`: one bar over a batch's items, done and failed,
and a line per item when the bar is off; `FRAMES`: one bar over a video's frames, their pace and warping
error). The bar is rich's, on stderr with every other line; without a terminal (`enabled=False`) only the
lines are said.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

from .events import TileProgress

TIME_LEFT = "time left"  # a column of `Look.columns`: rich's own estimate of the time left
FAST_HINT_AFTER_S = 60  # an optimisation estimated longer than this gets a line about --method fast


@dataclass(frozen=True)
class Look:
    """What one kind of job shows on its bar."""

    columns: tuple[str, ...]  # after the name, the bar and i/N: rich TextColumn formats, or TIME_LEFT
    read: Callable[["Progress", Any], None]  # how one event of the job moves the bar and what it says
    name: str | None = None  # the one bar's name, begun by `open`; None: `read` begins a bar of its own

    @property
    def fields(self) -> tuple[str, ...]:
        """The names of the bar's fields its columns show (each starts empty)."""
        return tuple(dict.fromkeys(re.findall(r"task\.fields\[(\w+)\]", " ".join(self.columns))))


class Progress:
    """The bar of a job's `Look` (rich), the lines above it, and what its reading needs to remember: the run,
    the bar's total and count, the events since it began, the previous event, counts by kind."""

    def __init__(self, look: Look, *, enabled: bool, say: Callable[[str], None] = lambda message: None,
                 total: int | None = None):
        self.look, self.enabled, self.said = look, enabled, say
        self.bar = self.task = None
        self.run = self.previous = self.key = None
        self.total, self.completed, self.first, self.made = total, 0, 0, 0
        self.counts: Counter = Counter()
        self.started = time.perf_counter()

    @property
    def shown(self) -> bool:
        """Whether a bar is on the terminal."""
        return self.bar is not None

    @property
    def elapsed(self) -> float:
        """Seconds since the current bar began."""
        return time.perf_counter() - self.started

    def open(self, run=None, *, total: int | None = None, completed: int = 0) -> Progress:
        """Show the bar (when enabled) for `run`; a look with a fixed name begins its bar at `completed` of `total`."""
        self.run = run
        if total is not None:
            self.total = total
        if self.enabled and self.bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeRemainingColumn

            self.bar = Bar(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                           *(TimeRemainingColumn() if column == TIME_LEFT else TextColumn(column)
                             for column in self.look.columns),
                           console=Console(stderr=True))  # on stderr: where `enabled` looked for a terminal
            self.bar.__enter__()
        if self.look.name is not None:
            self.begin(self.look.name, self.total, completed)
        return self

    def begin(self, label: str, total: int | None, completed: int = 0, key=None) -> None:
        """A new bar named `label` (`key`: what it is of, e.g. the scale); its clock and count start again."""
        self.key, self.total, self.completed, self.first, self.made = key, total, completed, completed, 0
        self.started = time.perf_counter()
        if self.bar is not None:
            self.task = self.bar.add_task(label, total=total, completed=completed,
                                          **{name: "" for name in self.look.fields})

    def update(self, event) -> None:
        """One event of the job (called from the job's threads too, which rich allows)."""
        self.look.read(self, event)

    def move(self, *, completed: int | None = None, total: int | None = None, **fields: str) -> None:
        """The current bar at `completed` of `total` (None: as it was), with these fields."""
        self.completed = self.completed if completed is None else completed
        self.total = self.total if total is None else total
        if self.bar is not None and self.task is not None:
            given = {k: v for k, v in (("completed", completed), ("total", total)) if v is not None}
            self.bar.update(self.task, **given, **fields)

    def say(self, line: str) -> None:
        """A line above the bar, or through `say` when there is none."""
        if self.bar is not None:
            self.bar.console.print(line, markup=False, highlight=False)
        else:
            self.said(line)

    def plain(self, line: str) -> None:
        """A line said only when there is no bar (the bar shows the same)."""
        if self.bar is None:
            self.said(line)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def __enter__(self) -> Progress:
        return self.open()

    def __exit__(self, *exc) -> bool:
        self.close()
        return False


def clock(seconds: float) -> str:
    """h:mm:ss, or m:ss under an hour."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def speed(seconds_per_step: float) -> str:
    """`33 s/it` for slow steps, `2.5 it/s` for fast ones."""
    if seconds_per_step >= 1:
        return f"{seconds_per_step:.0f} s/it" if seconds_per_step >= 10 else f"{seconds_per_step:.1f} s/it"
    return f"{1 / seconds_per_step:.1f} it/s"


def planned_evaluations(run, scale: int = 0, done: int = 0) -> float:
    """The evaluations the optimisation has left after `done` steps of `scale`, each priced in evaluations of
    the first scale's size (one per step: L-BFGS took 20 evaluations for 20 steps at 128 px and 3 for 3 at
    512 px; and one to measure each scale's starting image)."""
    first = run.scales[0][0] * run.scales[0][1]
    steps = lambda i, w, h: run.settings.scale_iterations(i, max(w, h)) - (done if i == scale else 0) + (i > scale)
    return sum(steps(i, w, h) * (w * h / first) for i, (w, h) in enumerate(run.scales) if i >= scale)


def estimate_lines(run, record, previous=None) -> list[str]:
    """What to say of the optimisation's time at `record` (`previous`: the record before it).

    At the starting image's record, before the first step: at most the planned evaluations times the one just
    measured, which includes building the network's graph (at 512 px 24 s against 8 s for a later step), and
    when that is over a minute, the fast method. At the second step, the first one free of that: the time in
    all, measured."""
    if not run.planned_steps or record.scale != 0:
        return []
    if record.step == 0:
        measured = record.elapsed - getattr(run, "timings", {}).get("fast_start_s", 0.0)
        seconds = planned_evaluations(run) * measured / max(1, record.evaluations)
        lines = [f"painterly: at most {clock(seconds)} for {run.planned_steps} steps (from the first evaluation, "
                 f"{measured:.1f} s, which includes building the network's graph; later ones are quicker)"]
        if seconds > FAST_HINT_AFTER_S:
            lines.append("painterly: --method fast paints a similar picture in about a second")
        return lines
    if record.step == 2 and previous is not None and record.evaluations > previous.evaluations:
        per_evaluation = (record.elapsed - previous.elapsed) / (record.evaluations - previous.evaluations)
        seconds = record.elapsed + planned_evaluations(run, done=2) * per_evaluation
        return [f"painterly: about {clock(seconds)} in all ({per_evaluation:.1f} s an evaluation, measured)"]
    return []


def read_step(progress: Progress, record) -> None:
    """A still's record: an `Iterate` moves the scale's bar (step, loss, speed, time left in the scale) and may
    say the time estimate; a `TileProgress` shows the tile being evaluated. A scale's first record begins
    its bar, named by its size (and which scale of how many)."""
    if not isinstance(record, TileProgress):
        if progress.run is not None:
            for line in estimate_lines(progress.run, record, progress.previous):
                progress.say(line)
        progress.previous = record
    if not progress.shown:
        return
    if record.scale != progress.key:  # a tiled scale's first evaluation comes before its first step
        width, height = record.size
        label = f"{width}×{height}" + (f" ({record.scale + 1}/{record.scales})" if record.scales > 1 else "")
        progress.begin(label, getattr(record, "steps", None), key=record.scale)
    if isinstance(record, TileProgress):
        progress.move(tiles=f"tile {record.done}/{record.total}")
        return
    seconds, rate, left = progress.elapsed, "", ""
    if record.step and seconds > 0:
        per_step = seconds / record.step
        rate, left = speed(per_step), f"{clock(per_step * (record.steps - record.step))} left"
    progress.move(total=record.steps, completed=record.step, loss=f"{record.loss:.4g}", rate=rate, left=left)


def read_item(progress: Progress, entry: dict) -> None:
    """A batch's record entry: a skipped item (done before) leaves the bar and its time left; a done or failed
    one is counted, on the bar or in a line of its own."""
    if entry["state"] == "skipped":
        progress.move(total=progress.total - 1)
        return
    progress.counts[entry["state"]] += 1
    done = sum(progress.counts.values())
    progress.move(completed=done, counts=f"{progress.counts['done']} done, {progress.counts['failed']} failed")
    took = f" in {entry['seconds']:.1f} s" if "seconds" in entry else ""
    progress.plain(f"painterly: {done}/{progress.total} {entry['state']} {entry['name']}{took}"
                   + (f": {entry['reason']}" if entry["state"] != "done" else ""))


def read_frame(progress: Progress, frame) -> None:
    """A video's painted frame: the count (frames may come out of order from chunks on Ray: counted, not read
    off the index), frames per second and per minute, the frame's warping error; nothing without a bar."""
    from .video.measure import pace

    if not progress.shown:
        return
    progress.made += 1
    made, seconds = progress.made, progress.elapsed
    rate = f"{pace(seconds / made)} ({60 * made / seconds:.0f}/min)" if seconds > 0 else ""
    error = f"warping error {frame.warping_error:.2g}" if frame.warping_error is not None else ""
    progress.move(completed=progress.first + made, rate=rate, error=error)


STEPS = Look(("loss {task.fields[loss]}", "{task.fields[rate]}", "{task.fields[left]}", "{task.fields[tiles]}"),
             read_step)
ITEMS = Look(("{task.fields[counts]}", "left", TIME_LEFT), read_item, name="batch")
FRAMES = Look(("{task.fields[rate]}", TIME_LEFT, "{task.fields[error]}"), read_frame, name="frame")
