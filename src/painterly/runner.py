"""One job, one function that runs it: the CLI, `painterly gallery` and the web worker all call `run_job`.

    job = Job(content=Path("photo.jpg"), styles=(Path("starry.jpg"),), settings=Settings(),
              output=Path("out.png"), report=Path("report/"))
    outcome = run_job(job, listen=lambda record, run: print(record.step, record.loss))

A `Job` is paths and settings only, so it pickles (for a process pool, or Ray). `run_job` checks the
outputs before any network is built (an existing file is never replaced without `overwrite`, an input
never), prepares the run of `settings.method`, streams its `Iterate` records to `listen`, and at the
end writes the best image atomically (to a rescue path when the write fails) and the report.
Ctrl-C and SIGTERM (inside `interrupts.terminate_as_interrupt`) stop the run and keep the best image
so far; a second signal while the result is being written waits for the write.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import images, methods
from .errors import OutputError, PainterlyError, SettingsError
from .events import Iterate, Result, ending
from .interrupts import EXIT_INTERRUPTED, EXIT_OK, Terminated, deferred_stop, exit_code
from .settings import INITS, LEARNING_RATES, Settings


@dataclass(frozen=True)
class Job:
    """What to paint and where to put it."""

    content: Path
    styles: tuple[Path, ...]
    settings: Settings = dataclasses.field(default_factory=Settings)
    output: Path | None = None  # None: the result is only returned
    report: Path | None = None  # a report folder (see `reports.Report`)
    overwrite: bool = False  # replace an existing output or report (inputs never)
    preview: Path | None = None  # rewritten with the latest image every `preview_every` steps
    preview_every: int = 10
    report_paths: bool = True  # False: the report's metadata names files, not server paths (the web app)


@dataclass(frozen=True)
class Outcome:
    """What `run_job` did."""

    result: Result | None  # None: stopped before the first step, nothing to save
    output: Path | None  # the job's output, as checked
    written: Path | None  # where the image went (the output, or the rescue path when that write failed)
    report: Path | None  # the report's index.html
    code: int  # the exit code: 0, 130 (Ctrl-C), 143 (SIGTERM) or the failure's
    failure: PainterlyError | None  # what went wrong after the run had a best image (it was kept)

    @property
    def ending(self) -> str:
        """done, stopped or failed (`events.ending`: the same words as a video's outcome)."""
        return ending(self.result.stopped if self.result is not None else None, self.failure)


Listener = Callable[[Iterate, object], "bool | None"]  # (record, run) -> False to stop the run here


def run_job(job: Job, *, listen: Listener | None = None, on_start: Callable[[object], None] | None = None,
            notice: Callable[[str], None] | None = None, on_tile=None, network=None,
            stop: Callable[[], bool] | None = None) -> Outcome:
    """Run `job`; raises `PainterlyError` for anything refused before the first step. `network`: a network the
    method paints with, to reuse (`networks.Networks`); None: the run makes its own. `stop`, asked after every
    step as `video.run_video` asks it, or `listen` returning False: the run ends there ("cancelled"), the best
    image kept."""

    settings = job.settings
    method = methods.get(settings.method)
    inputs = [job.content, *job.styles]
    output = images.check_output(job.output, overwrite=job.overwrite, inputs=inputs) if job.output else None
    preview = None
    if job.preview is not None:
        if job.preview_every < 1:
            raise SettingsError(f"--preview-every {job.preview_every} must be at least 1")
        preview = images.check_output(job.preview, overwrite=job.overwrite, inputs=[*inputs, output])
    # every input file and number is checked here, before TensorFlow is imported and the network built
    run = method.prepare(job.content, list(job.styles), settings, network=network, notice=notice, on_tile=on_tile)
    report = None  # its folder checked and made once the inputs are (a mistyped input leaves no folder behind)
    if job.report is not None:
        from .reports import Report

        init = [Path(settings.init)] if settings.init not in INITS else []
        every = settings.save_every if method.iterative else 0  # one picture: no snapshots
        report = Report(job.report, save_every=every, overwrite=job.overwrite, styles=len(job.styles),
                        inputs=[*inputs, *init])
    images.check_space(_planned_bytes(run, output, preview, report))
    method.load_libraries()
    if on_start is not None:
        on_start(run)
    code, failure = EXIT_OK, None
    try:
        for record in run:
            if preview is not None and record.step % job.preview_every == 0:
                images.save_image(preview, record.image, run.alpha)
            if report is not None:
                report.add(record)
            if (listen is not None and listen(record, run) is False) or (stop is not None and stop()):
                run.stopped = "cancelled"
                break
    except KeyboardInterrupt as stop:
        code = exit_code(stop)
        run.stopped = "terminated" if isinstance(stop, Terminated) else "interrupted"
    except PainterlyError as error:  # e.g. a NaN loss: keep the best image so far, then report
        if run.best is None:
            raise
        failure = error
    if run.best is None:  # stopped before the first step: nothing to save
        return Outcome(None, output, None, None, code if code != EXIT_OK else EXIT_INTERRUPTED, None)
    written = index = None
    with deferred_stop() as stops:  # a second signal must not cut the saving short
        result = run.result()
        if output is not None:
            written = images.save_or_rescue(output, result.image, result.alpha)
            if written != output:
                failure = failure or OutputError(f"output '{output}' could not be written: the result was saved to "
                                                 f"'{written}' instead; free some space or choose another folder")
        if report is not None:
            from .reports import without_paths

            shown = result if job.report_paths else dataclasses.replace(result,
                                                                        metadata=without_paths(result.metadata))
            try:
                index = report.finish(shown, run.inputs())  # as the run used them, not at their original size
            except OutputError as error:
                failure = failure or error
    if stops:
        code = exit_code(stops[0])
    if failure is None and result.stopped == "unchanged":
        start = result.history[0].loss
        failure = SettingsError(f"no step lowered the loss from the starting image's ({start:.4g}), so the "
                                f"output is the starting image: {_unchanged_hint(settings)}")
    return Outcome(result, output, written, index, failure.exit_code if failure is not None else code, failure)


def _unchanged_hint(settings: Settings) -> str:
    if settings.optimizer in ("adam", "sgd") and settings.learning_rate is not None:
        default = LEARNING_RATES[settings.optimizer]
        return (f"--learning-rate {settings.learning_rate:g} overshoots: try the default ({default:g}) "
                f"or a smaller one")
    return "raise --style-weight, or start from another --init"


def _planned_bytes(run, output: Path | None, preview: Path | None, report) -> list[tuple[Path, int]]:
    """(folder, bytes) each output needs at most: uncompressed RGBA for every image it will hold."""
    width, height = run.size
    image = width * height * 4 + 65536
    needed = [(path.parent, image) for path in (output, preview) if path is not None]
    if report is not None:
        snapshots = run.planned_steps // report.save_every + len(run.scales) if report.save_every else 0
        needed.append((report.directory, image * (3 + len(run.styles) + snapshots) + 2**20))
    return needed
