"""A video job run (`VideoRun`): frames decoded, flow measured, painted, made consistent, kept in a work folder,
then encoded with the input's audio. `run.run_video` makes one (or, with `--ray`, a `chunked.ChunkedRun`).

    run = VideoRun(job, notice=print)          # checked and planned: source opened, work folder claimed
    outcome = run.execute(lambda frame: print(frame.index, frame.warping_error))

Frames stream through: one input frame, the previous one and the previous output are held, never the
video. Each painted frame goes to the work folder (`<output>.work/frames/000000.png`, written atomically,
with its record appended to `frames.jsonl`) before the next is started, so at any stop the frames done are
on disk: Ctrl-C or SIGTERM (or a listener returning False, or an input that breaks mid-way) stops after the
current frame and the frames done are encoded into a playable output of that length, and
`VideoJob(resume=True)` continues from the work folder with exactly the frames an uninterrupted run would
have given (the chain runs on the saved 8-bit frames either way). When every frame is done the work folder
is removed (`keep_work` keeps it). The work folder is painterly's own (`video.work`, `files.claim`): one
painterly did not make is refused unless empty, one another run holds is refused, and clearing it removes only
the files painterly wrote. A resumed run must have the same input (`source.identity`) and settings.

The warping error (see `flow`) of every frame against the previous output is measured with the input's
flow as the frames are made; `VideoOutcome.warping_error` is their mean. That flow built the output, so it
flatters the modes that follow it: the honest flicker measures (`measure.Flicker`: the warping error with
a flow the painting did not use, the frame-by-frame baseline, the still-region flicker) go beside it in
each record, and their means in the metadata's "flicker".
"""

from __future__ import annotations

import collections
import dataclasses
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import numpy as np

from .. import files, images, methods
from ..errors import OutputError, PainterlyError, SettingsError
from ..interrupts import EXIT_OK, Cancelled, Terminated, deferred_stop, exit_code
from ..settings import check_video_options
from ..version import __version__
from . import sink as sinks
from .flow import Flow
from .job import MAX_LONG_TERM, MIN_SIDE, MODES, FrameDone, Listener, VideoJob, VideoOutcome
from .measure import Flicker, summarise
from .painters import make_painter, paint_frame, painter_class, resized
from .sink import read_frame
from .source import BrokenStream, open_source
from .work import RECORDS, append_record, clear, read_records, read_state, write_records, write_text


class VideoRun:
    """A video job, checked and planned: the source opened, sizes worked out, the work folder ready."""

    work_copies = 1  # frames the work folder keeps per video frame (the painted one)

    def __init__(self, job: VideoJob, *, notice=None, network=None, stop=None):
        self.job, self.notice = job, notice or (lambda message: None)
        if job.output is None:
            raise SettingsError("a video run needs an output (-o OUT.mp4 or a folder)")
        if job.temporal not in MODES:
            raise SettingsError(f"unknown --temporal '{job.temporal}': choose one of {', '.join(MODES)}")
        check_video_options(job.settings, job.temporal, job.temporal_weight, job.frame_iterations)
        if job.frames is not None and job.frames < 1:
            raise SettingsError(f"--frames {job.frames} must be at least 1")
        check_long_term(job)
        if not job.styles:
            raise SettingsError("give at least one STYLE image")
        self.styles = [images.load_image(path, role="style image" if len(job.styles) == 1 else
                                         f"style image {i + 1}") for i, path in enumerate(job.styles)]
        if job.settings.style_blend is not None and len(job.settings.style_blend) != len(self.styles):
            raise SettingsError(f"{len(job.settings.style_blend)} style weights for {len(self.styles)} style "
                                f"images: give one per style image")
        self.source = open_source(job.input, start=job.start, duration=job.duration, fps=job.fps,
                                  max_frames=job.frames)
        info = self.info = self.source.info
        self.work = job.work_folder()
        state = read_state(self.work) if files.owned(self.work) else None  # checked again once it is claimed
        resuming_output = state is not None and state.get("output") == str(Path(job.output).resolve())
        self.output = sinks.check_output_path(job.output, overwrite=job.overwrite or (job.resume and resuming_output),
                                              inputs=[job.input, *job.styles])
        settings = job.settings
        self.size = info.display_size if settings.size == "auto" else images.output_size(
            info.display_size, settings.size, settings.size_edge)
        if min(self.size) < MIN_SIDE:
            raise SettingsError(f"'{info.path.name}' would be painted at {self.size[0]}×{self.size[1]}: the optical "
                                f"flow needs at least {MIN_SIDE} px a side; give a larger --size, or a video less "
                                f"thin (its frames are {info.display_size[0]}×{info.display_size[1]} as shown)")
        self.encoded = sinks.encoded_size(self.size, self.output)
        if self.encoded != self.size:
            self.notice(f"H.264 needs even sides: the {self.size[0]}×{self.size[1]} frames are cropped to "
                        f"{self.encoded[0]}×{self.encoded[1]} (the last column or row) in {self.output.name}; "
                        f"a folder output keeps them whole")
        self.report_dir = None
        if job.report is not None:
            from ..reports.video import check_report

            self.report_dir = check_report(job.report, overwrite=job.overwrite or job.resume,
                                           inputs=[job.input, *job.styles, self.output])
        self.weight = job.temporal_weight
        for other, what in ((self.output, "the output"), (self.report_dir, "the report folder"),
                            (job.input, "the input")):
            if other is not None and files.same_file(self.work, other):
                raise SettingsError(f"--work '{self.work}' is {what}, whose files a work folder's clean-up would "
                                    f"remove: give --work a folder of its own")
        self.claim = files.claim(self.work, what="work folder", flag="--work")  # refused if not ours, or in use
        self.work_dropped = False
        try:
            self.painter = make_painter(job, self.styles, self.size, network=network, notice=self.notice, stop=stop)
            self.description = self._describe()
            self._check_space()
            self.done = self._prepare_work(read_state(self.work))
        except BaseException:
            if self.claim.created:  # the folder held nothing of painterly's before: leave none of it
                self._drop_work()
            self.claim.release()
            raise
        self.records: list[dict] = self.done_records
        self.stopped = "not started"

    # -- the work folder

    def _key(self) -> dict:
        """What decides the frames: a resumed run must match it."""
        job = self.job
        return {"input": str(Path(job.input).resolve()), "styles": [str(Path(p).resolve()) for p in job.styles],
                "settings": job.settings.to_dict(), "start": job.start, "duration": job.duration,
                "frames": job.frames, "fps": job.fps, "temporal": job.temporal, "temporal_weight": job.temporal_weight,
                "flow": job.flow_preset, "frame_iterations": job.frame_iterations, "size": list(self.size),
                "input_identity": self.source.identity,
                **({"long_term": list(job.long_term)} if job.long_term else {})}

    def _prepare_work(self, state: dict | None) -> int:
        """Make (or, resuming, check) the work folder; the number of frames already done."""
        job, frames = self.job, self.work / "frames"
        self.done_records = []
        if state is not None and not job.resume:
            if not job.overwrite:
                raise OutputError(f"work folder '{self.work}' holds an earlier run of this output: pass --resume "
                                  f"to continue it, or --overwrite to start over")
            clear(self.work)
            state = None
        if job.resume and state is None:
            raise OutputError(f"nothing to resume: '{self.work}' holds no interrupted run (run without --resume)")
        if state is not None:
            key = self._key()
            differ = [name for name in key if state.get("key", {}).get(name) != key[name]]
            if "input_identity" in differ:
                raise SettingsError(f"--resume: '{job.input}' is not the input the run in '{self.work}' was "
                                    f"painting (its size, length or first frames differ): give that input again, "
                                    f"or pass --overwrite to start over")
            if differ:
                raise SettingsError(f"--resume: the run in '{self.work}' had other {', '.join(differ)}: give "
                                    f"the same arguments as the interrupted run, or --overwrite to start over")
            records = read_records(self.work / RECORDS)
            done = 0
            while done < len(records) and (frames / f"{done:06d}.png").is_file():
                done += 1
            self.done_records = records[:done]
            write_records(self.work / RECORDS, self.done_records)
            return done
        try:
            frames.mkdir(exist_ok=True)
        except OSError as error:
            raise OutputError(f"work folder '{self.work}' could not be made ({error.strerror}): choose another "
                              f"with --work") from None
        meta = {"painterly": __version__, "output": str(self.output), "key": self._key(),
                "source": self.info.describe()}
        write_text(self.work / "job.json", json.dumps(meta, indent=1))
        write_records(self.work / RECORDS, [])
        return 0

    def _drop_work(self) -> None:
        """Clear the work folder of painterly's files and give it up; say what stays, and why."""
        left = clear(self.work)
        gone = self.claim.discard()
        self.work_dropped = True
        if left:
            self.notice(f"left '{self.work}': it holds {', '.join(left[:3])}{' …' if len(left) > 3 else ''}, "
                        f"which painterly did not write")
        elif self.claim.made and not gone:
            self.notice(f"left '{self.work}': it holds files painterly did not write")

    def _check_space(self) -> None:
        """Refuse at once a run whose frames would not fit on the disk (PNG frames in the work folder take
        about 2 bytes a pixel; the video far less, counted as a tenth of that; a frame folder as PNGs)."""
        frames = self.info.frames
        if frames is None:
            return
        pixels = self.size[0] * self.size[1]
        output = pixels * 2 if sinks.is_folder_output(self.output) else pixels // 5
        images.check_space([(self.work.parent if not self.work.exists() else self.work,
                             self.work_copies * frames * pixels * 2),
                            (self.output.parent, frames * output + 2**20)])

    def _describe(self) -> str:
        info, job = self.info, self.job
        frames = f"{info.frames} frames" if info.frames is not None else "frames"
        mode = {"flow": "consistent along the optical flow", "blend": "blended with the previous frame",
                "none": "frame by frame"}[job.temporal]
        method = methods.get(job.settings.method).title
        return (f"painterly: {frames} of {info.path.name} ({info.size[0]}×{info.size[1]}, {float(info.fps):.3g} "
                f"frames/s) at {self.size[0]}×{self.size[1]} with {method}, {mode}")

    # -- the run

    @property
    def frames_kept(self) -> int:
        """Frames in the work folder that a resumed run would not paint again (here: the first `done`)."""
        return self.done

    def frame_path(self, index: int) -> Path:
        return self.work / "frames" / f"{index:06d}.png"

    def execute(self, listen: Listener | None) -> VideoOutcome:
        try:
            return self._execute(listen)
        finally:
            self.claim.release()  # the work folder is free for the next run (a resumed one)

    def _execute(self, listen: Listener | None) -> VideoOutcome:
        code, failure = EXIT_OK, None
        self.stopped = "interrupted"
        frames = self._frames()
        try:
            try:
                for frame in frames:
                    if listen is not None and listen(frame) is False:
                        self.stopped = "cancelled"
                        break
                else:
                    self.stopped = "completed"
            finally:
                frames.close()  # however it stopped, the last PNG reaches the disk before anything is encoded
        except KeyboardInterrupt as stop:
            code = exit_code(stop)
            self.stopped = "terminated" if isinstance(stop, Terminated) else "interrupted"
        except Cancelled:
            self.stopped = "cancelled"
        except BrokenStream as error:
            self.stopped, failure = "broken", error
        except PainterlyError as error:
            if self.frames_kept == 0:  # refused at the first frame: nothing to keep
                if not self.job.resume:  # nothing painted: leave no work folder behind
                    self._drop_work()
                raise
            self.stopped, failure = "failed", error  # mid-run (e.g. the disk filled): the frames done are encoded
        if self.frames_kept == 0 and not self.job.resume:
            self._drop_work()
        with deferred_stop() as stops:  # a second Ctrl-C must not cut the encoding short
            outcome = self._finish(code, failure)
        if stops and outcome.code == EXIT_OK:
            outcome = dataclasses.replace(outcome, code=exit_code(stops[0]))
        return outcome

    def _frames(self) -> Iterator[FrameDone]:
        """Paint the frames not done yet, each saved before the next is started."""
        flow, meter = Flow(self.job.flow_preset), Flicker(self.job.flow_preset)
        started = time.perf_counter()
        writing = None
        history = collections.deque(maxlen=max(self.job.long_term, default=1))  # (input, output) of t−1, t−2 …
        # Two helper threads keep both cores busy: the flow of frame t is measured while the network
        # paints it, and frame t's PNG is compressed while frame t+1 is painted (OpenCV, onnxruntime and
        # zlib all release the GIL). At most one PNG is in flight; the stop waits for it (`execute`).
        pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="painterly-video")
        try:
            for index, (at, raw) in enumerate(self.source.timed()):
                frame = resized(raw, self.size)
                if index < self.done:  # resuming: the last frames done are the chain's start
                    if index >= self.done - history.maxlen:
                        history.append((frame, read_frame(self.frame_path(index))))
                    if index == self.done - 1:
                        meter.add(raw, history[-1][1])
                    self.painter.seen(frame)
                    continue
                began, began_cpu = time.perf_counter(), time.process_time()
                previous_input, previous_output = history[-1] if history else (None, None)
                earlier = [(k, history[-k][1], pool.submit(flow.pair, history[-k][0], frame))
                           for k in sorted(self.job.long_term) if len(history) >= k]
                image, error, reliable, terms = paint_frame(self.painter, flow, pool, index, frame, previous_input,
                                                            previous_output, earlier)
                if writing is not None:
                    writing.result()  # the previous frame is on disk (or its error is raised here)
                writing, writing_index = pool.submit(sinks.write_png, self.frame_path(index), image), index
                flicker = meter.add(raw, image, getattr(self.painter, "painted", None))
                now = time.perf_counter()
                record = FrameDone(index, self.info.frames, now - began, time.process_time() - began_cpu,
                                   now - started, error, reliable, terms, image=image, time=at, flicker=flicker)
                # a record whose PNG never arrived is dropped on --resume (`_prepare_work`): written first is safe
                append_record(self.work / RECORDS, record.record())
                self.records.append(record.record())
                self.done = index + 1
                history.append((frame, image))
                yield record
            if writing is not None:
                writing.result()
        finally:
            pool.shutdown(wait=True)  # the frame in flight reaches the disk before anything is encoded
            if writing is not None and writing.exception() is not None:  # that frame never reached the disk
                self.done = min(self.done, writing_index)
                del self.records[writing_index:]
        if self.done == 0:
            raise PainterlyError(f"'{self.info.path}' gave no frames: nothing to paint")

    def _finish(self, code: int, failure: PainterlyError | None) -> VideoOutcome:
        """Encode the frames done (all of them, or those before a stop) and write the report."""
        done, info = self.done, self.info
        output = report = None
        if done:
            complete = self.stopped == "completed"
            audio = None
            if info.audio and not info.folder:
                end = None if complete and self.job.duration is None and self.job.frames is None else \
                    info.start_time + self._seconds(done)
                audio = sinks.AudioSource(info.path, info.start_time, end, lead=info.first == 0)
            try:
                output = self._encode(audio)
            except OutputError as error:
                failure = failure or error
        errors = [r["warping_error"] for r in self.records if r["warping_error"] is not None]
        mean_error = float(np.mean(errors)) if errors else None
        metadata = self.metadata(mean_error)
        if self.report_dir is not None and done:
            from ..reports.video import write_report

            try:
                report = write_report(self.report_dir, self, metadata)
            except OutputError as error:
                failure = failure or error
        kept = self.work if self.work.is_dir() and not self.work_dropped else None
        if self.stopped == "completed" and output is not None and not self.job.keep_work and failure is None:
            self._drop_work()
            kept = None
        if failure is not None and code == EXIT_OK:
            code = failure.exit_code
        return VideoOutcome(output, done, self.stopped, code, failure, mean_error, tuple(self.records), kept, report,
                            self.size, info.fps, metadata)

    def _times(self) -> list[float | None]:
        """Each frame's time in the output (None where a record does not say)."""
        return [r.get("time") for r in self.records[:self.done]]

    def _seconds(self, frames: int) -> float:
        """The output's length with its first `frames` frames: to the end of the last, which lasts 1/fps."""
        times = sinks.variable_times(self._times()[:frames], self.info.fps)
        return frames / float(self.info.fps) if times is None else times[-1] + float(1 / self.info.fps)

    def _encode(self, audio) -> Path:
        with sinks.open_sink(self.output, size=self.size, fps=self.info.fps, audio=audio, notice=self.notice,
                             times=self._times()) as out:
            if isinstance(out, sinks.FolderSink) and self.job.overwrite:
                for old in out.folder.glob("[0-9]" * 6 + ".png"):
                    old.unlink()
            for index in range(self.done):
                out.write(read_frame(self.frame_path(index)))
        return self.output

    def metadata(self, mean_error: float | None) -> dict:
        job = self.job
        seconds = [r["seconds"] for r in self.records]
        return {
            "painterly": __version__, "method": job.settings.method, "temporal": job.temporal,
            "temporal_weight": self.painter.weight, "flow": f"DIS ({job.flow_preset})",
            "settings": job.settings.to_dict(), "input": self.info.describe(),
            "styles": [str(p) for p in job.styles], "output": str(self.output), "size": list(self.size),
            "encoded_size": list(self.encoded), "frames": self.done, "seconds": self._seconds(self.done),
            "stopped": self.stopped,
            "warping_error": mean_error, "seconds_per_frame": float(np.mean(seconds)) if seconds else None,
            "flicker": summarise(self.records),
            "painter": self.painter.describe(),
        }


def check_long_term(job: VideoJob) -> None:
    """`long_term` (t−k for each k) needs a painter with long-term terms (the optimisation) along the flow, in
    one process."""
    if not job.long_term:
        return
    if not painter_class(job.settings.method).long_term or job.temporal != "flow":
        raise SettingsError("--long-term applies to --method optimise with --temporal flow: leave it out here")
    if job.chunked:
        raise SettingsError("--long-term is not offered with --ray (a piece carries one frame of the chain): "
                            "leave one of them out")
    if any(k < 2 or k > MAX_LONG_TERM for k in job.long_term) or len(set(job.long_term)) != len(job.long_term):
        raise SettingsError(f"--long-term {' '.join(map(str, job.long_term))}: give distinct frame distances from "
                            f"2 to {MAX_LONG_TERM} (t−1 is the temporal term itself), e.g. 2 4")
