"""The web app's jobs: records in SQLite, results in files, worker threads running `runner.run_job` (a photo)
or `video.run_video` (a clip, see `videos`), each worker reusing its last network (`networks.Networks`).

    jobs = Jobs(data_dir)      # opens data_dir/jobs.sqlite; jobs a crash cut off become "interrupted"
    jobs.start()               # the worker threads (one by default: the work is CPU bound)
    job = jobs.submit(settings, "default", content, styles)   # inputs: (display name, file) pairs
    jobs.submit(settings, "default", clip, styles, video={"temporal": "flow", ..., "clip": {...}})  # a video
    jobs.status(id); jobs.records(id, since); jobs.cancel(id); jobs.close()

A job's folder `data_dir/jobs/<id>/` holds its inputs under fixed names (`content`, `style-1`, ...),
`result.png` (rewritten with the best image so far every few seconds while it runs, so a crash
leaves it) and `report/`; a video job's `content` is the clip and its result `result.mp4` (see `videos`).
User file names are kept for display only, never used as paths.
No FastAPI here: this module is the Python side, `app` and its route modules the HTTP side.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import math
import queue
import shutil
import threading
import time
import uuid
from pathlib import Path

import numpy as np

from .. import methods
from ..errors import OutputError, PainterlyError
from ..networks import Networks
from ..settings import Settings
from . import videos
from .store import JSON_COLUMNS, Store, StoreError, storage_error

STATES = ("queued", "running", "completed", "cancelled", "interrupted", "failed")
FINISHED = frozenset(STATES[2:])
SAVE_SECONDS = 2.0  # a running job's best image so far is written at most this often
RETRY_SECONDS = 2.0  # how often an idle worker tries again to write the records jobs.sqlite refused
RESULTS = {"image": "result.png", "video": videos.RESULT}  # a job's result file, by its kind
_LOG = logging.getLogger("painterly.web")

class JobStateError(PainterlyError):
    """The job is not in a state that allows the request (e.g. cancelling a finished job)."""


class QueueFull(PainterlyError):
    """As many jobs as allowed are already waiting (HTTP 503)."""


@dataclasses.dataclass
class _Live:
    """What a job running in this process shows beyond its record: every step, the latest image."""

    records: list = dataclasses.field(default_factory=list)  # one progress dict per step
    image: np.ndarray | None = None  # the latest step's image (float32 RGB 0..255; a video's frame: uint8)
    tile: dict | None = None  # a tiled run: tiles done in the evaluation under way, {"done", "total"}
    stop: threading.Event = dataclasses.field(default_factory=threading.Event)
    stop_as: str = "cancelled"  # the state a stopped job ends in: "cancelled" or "interrupted"


class Jobs:
    """The job queue: submit, watch, cancel. Jobs run one at a time per worker thread.

    A record jobs.sqlite refuses (held by another program past WAIT_SECONDS, a full disk) is kept in memory,
    shown by the API with a note, and written as soon as the file takes it; the worker goes on."""

    def __init__(self, folder: str | Path, *, workers: int = 1):
        self.folder = Path(folder)
        try:
            (self.folder / "jobs").mkdir(parents=True, exist_ok=True)
        except OSError as error:
            why = "is not a folder" if isinstance(error, FileExistsError) else f"cannot be made ({error.strerror})"
            raise OutputError(f"{self.folder / 'jobs'} {why}: choose another --data-dir") from None
        self._lockfile = _lock(self.folder / "jobs.lock")  # one server per data folder
        try:
            self.store = Store(self.folder / "jobs.sqlite")
            self._interrupted()
        except BaseException:
            self._lockfile.close()
            raise
        self.store.shown = self.store.path.name  # from now on a message may reach a browser: no server paths
        self.workers = workers
        self._queue: queue.Queue = queue.Queue()
        self._live: dict[str, _Live] = {}  # jobs queued or running in this process; dropped when they end
        self._ran: set[str] = set()  # jobs this process ran: it streams their step records (from jobs.sqlite)
        self._lock = threading.Lock()  # state transitions: queued -> running / cancelled
        self._unsaved: dict[str, dict] = {}  # record fields jobs.sqlite refused, by job: shown, written later
        self._unsaved_lock = threading.Lock()
        self._refusal = ""  # why jobs.sqlite refused the last write
        self._threads: list[threading.Thread] = []
        self._closing = False

    def _interrupted(self) -> None:
        """The jobs a crash or a restart cut off: interrupted, with what they made kept (a still's best image,
        a video's frames done, as a video: see `videos.salvage`)."""
        for job in self.store.all("running"):
            folder = self.job_folder(job["id"])
            if job["video"]:
                kept = videos.salvage(folder)
            else:
                kept = ": the best image so far is kept" if (folder / "result.png").is_file() else ""
            self.store.update(job["id"], state="interrupted", finished=time.time(),
                              message=f"the server stopped while this job ran{kept}")

    # -- the queue ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the workers; jobs left queued by a previous server run go first, in order."""
        for job in self.store.all("queued"):
            self._live[job["id"]] = _Live()
            self._queue.put(job["id"])
        for n in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"painterly-job-{n + 1}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self, timeout: float = 30.0) -> None:
        """Stop the running jobs (kept as interrupted, with their best image and report) and the workers;
        queued jobs stay queued for the next start."""
        self._closing = True
        for live in list(self._live.values()):
            live.stop_as = "interrupted"
            live.stop.set()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        self._flush()
        if self._unsaved:
            _LOG.error("jobs.sqlite did not take the records of %d jobs: %s", len(self._unsaved), self._refusal)
        self.store.close()
        self._lockfile.close()

    def submit(self, settings: Settings, preset: str, content: tuple[str, Path],
               styles: list[tuple[str, Path]], *, limit: int | None = None, video: dict | None = None) -> dict:
        """Queue a job. content, styles: (display name, checked image file); the files are moved in.
        limit: the most jobs that may wait; past it, QueueFull (checked and inserted under one lock, so
        parallel submissions cannot all pass the check). video: a video job's options and clip (see `videos`):
        content is then the checked clip. A record or a file the server cannot write: StoreError, and no
        job folder is left."""
        job_id = uuid.uuid4().hex
        folder = self.job_folder(job_id)
        inputs = {"content": content[0], "styles": [name for name, _ in styles]}
        with self._lock:  # the lock of every state change: no job is queued or leaves the queue meanwhile
            if limit is not None and self.store.count("queued") >= limit:
                raise QueueFull(f"{limit} jobs are already waiting: try again when one has finished")
            try:
                folder.mkdir()
                shutil.move(content[1], folder / "content")
                for i, (_, path) in enumerate(styles, 1):
                    shutil.move(path, folder / f"style-{i}")
                self.store.add(id=job_id, created=time.time(), state="queued", preset=preset,
                               settings=json.dumps(settings.to_dict()), inputs=json.dumps(inputs),
                               video=json.dumps(video) if video is not None else None)
            except (OSError, StoreError) as error:
                shutil.rmtree(folder, ignore_errors=True)
                if isinstance(error, OSError):
                    raise storage_error(error) from None
                raise
            self._live[job_id] = _Live()
        self._queue.put(job_id)
        return self.status(job_id)

    def waiting(self) -> int:
        return self.store.count("queued")

    def cancel(self, job_id: str) -> dict:
        """Cancel a queued job at once, or ask a running one to stop after its current step."""
        with self._lock:
            job = self._get(job_id)
            if job["state"] == "queued":
                self.store.update(job_id, state="cancelled", finished=time.time(),
                                  message="cancelled before it started")
                self._live.pop(job_id, None)
            elif job["state"] == "running" and job_id in self._live:
                self._live[job_id].stop.set()
            else:
                raise JobStateError(f"job {job_id} is already {job['state']}: only queued or running jobs can be "
                                    f"cancelled")
        return self.status(job_id)

    # -- the records jobs.sqlite refused --------------------------------------------------------

    def _record(self, job_id: str, *, now: bool = True, **fields) -> None:
        """Write fields of a job's record. If jobs.sqlite refuses (StoreError), they are kept, shown by
        `status` and written by a later try; now=False (progress): kept without waiting on the file while
        it refuses."""
        with self._unsaved_lock:
            refusing = bool(self._unsaved)
            pending = {**self._unsaved.get(job_id, {}), **fields}
            if job_id in self._unsaved or (refusing and not now):  # shown meanwhile
                self._unsaved[job_id] = pending
            if refusing and not now:  # the file refuses: no writer waits on it for a progress record
                return
            try:
                self.store.update(job_id, **pending)
            except StoreError as error:
                self._unsaved[job_id] = pending
                if str(error) != self._refusal:
                    _LOG.error("job %s: %s; its record is kept in memory until the file takes it", job_id, error)
                self._refusal = str(error)
                return
            self._unsaved.pop(job_id, None)

    def _flush(self) -> None:
        """Write the records jobs.sqlite refused, oldest first, until it refuses again."""
        for job_id in list(self._unsaved):
            self._record(job_id)
            if job_id in self._unsaved:
                return

    # -- reading ------------------------------------------------------------------------------

    def job_folder(self, job_id: str) -> Path:
        return self.folder / "jobs" / job_id

    def status(self, job_id: str) -> dict:
        """The job's record, plus: its kind, queue position, whether a stop was asked, which files exist."""
        job = self._get(job_id)
        job["kind"] = "video" if job["video"] else "image"
        folder = self.job_folder(job_id)
        live = self._live.get(job_id)
        job["stopping"] = bool(live and live.stop.is_set() and job["state"] == "running")
        job["tile"] = live.tile if live and job["state"] == "running" else None
        job["position"] = None
        if job["state"] == "queued":
            queued = [j["id"] for j in self.store.all("queued") if j["id"] not in self._unsaved]
            job["position"] = queued.index(job_id) + 1 if job_id in queued else None
        job["result"] = (folder / RESULTS[job["kind"]]).is_file()
        job["preview"] = bool(live and live.image is not None) or (  # whether GET .../preview has an image now
            folder / ("result.png" if job["kind"] == "image" else videos.PREVIEW)).is_file()
        job["report"] = (folder / "report" / "index.html").is_file()
        return job

    def list(self, limit: int = 100) -> list[dict]:
        return [self.status(job["id"]) for job in self.store.all(limit=limit)]

    def records(self, job_id: str, since: int = 0) -> list[dict]:
        """The progress records of a job run by this server process, from index `since` on: in memory while
        it runs, then from jobs.sqlite."""
        live = self._live.get(job_id)
        if live is not None:
            return live.records[since:]
        if job_id not in self._ran:
            return []
        pending = self._unsaved.get(job_id, {})
        return (json.loads(pending["steps"]) if "steps" in pending else self.store.steps(job_id))[since:]

    def latest_image(self, job_id: str) -> np.ndarray | None:
        live = self._live.get(job_id)
        return live.image if live else None

    def _get(self, job_id: str) -> dict:
        """The job's record, with the fields jobs.sqlite has not taken yet (and a note saying so)."""
        job = self.store.get(job_id)
        if job is None:
            raise KeyError(job_id)
        pending = self._unsaved.get(job_id)
        if pending:
            shown = {name: value for name, value in pending.items() if name != "steps"}
            job.update({k: json.loads(v) if k in JSON_COLUMNS and v else v for k, v in shown.items()})
            note = f"not saved yet: {self._refusal}"
            job["message"] = f"{job['message']}; {note}" if job["message"] else note
        return job

    # -- the worker ---------------------------------------------------------------------------

    def _work(self) -> None:
        networks = Networks(keep=1)  # this worker's last network, reused while jobs ask for exactly the same one
        try:
            from .. import engine, feedforward  # noqa: F401
            from ..backbones import import_tensorflow_quietly

            import_tensorflow_quietly()  # TensorFlow now (10 s on two busy cores), not when the first job waits on it
            feedforward.network()  # the fast network too: the first job's fast picture then comes in about a second
        except Exception:  # a broken install: each job then fails with the import's error
            pass
        while True:
            try:
                job_id = self._queue.get(timeout=RETRY_SECONDS if self._unsaved else None)
            except queue.Empty:  # idle: the records jobs.sqlite refused, tried again
                self._flush()
                continue
            if job_id is None or self._closing:
                return
            try:
                self._flush()
                self._take(job_id, networks)
            except Exception:  # a bug or a storage error must not kill the worker; the job says what happened
                _LOG.exception("job %s failed", job_id)
                try:
                    self._record(job_id, state="failed", finished=time.time(),
                                 message="internal error: the server's log has the details")
                except Exception:
                    _LOG.exception("job %s: its failure could not be recorded", job_id)
            finally:
                try:
                    self._finished(job_id)
                except Exception:
                    _LOG.exception("job %s: its step records could not be put away", job_id)

    def _take(self, job_id: str, networks: Networks) -> None:
        """Run one job from the queue, unless it was cancelled while it waited."""
        with self._lock:
            job = self._get(job_id)
            if job["state"] != "queued":
                return  # cancelled while it waited
            self._record(job_id, state="running", started=time.time())
        live = self._live.setdefault(job_id, _Live())
        self._ran.add(job_id)
        (self._run_video if job["video"] else self._run)(job, live, networks)

    def _finished(self, job_id: str) -> None:
        """A job has ended: its step records go to jobs.sqlite, out of memory (an open event stream reads them
        there from now on)."""
        live = self._live.get(job_id)
        if live is None or job_id not in self._ran:
            self._live.pop(job_id, None)
            return
        self._record(job_id, now=False, steps=json.dumps(live.records))  # refused: kept with the rest till written
        self._live.pop(job_id, None)

    def _run(self, job: dict, live: _Live, networks: Networks) -> None:
        from ..runner import Job, run_job

        settings = _settings(job)
        folder = self.job_folder(job["id"])
        styles = sorted(folder.glob("style-*"), key=lambda p: int(p.name.split("-")[1]))
        notices: list[str] = []
        saved = [0.0]

        def started(run) -> None:
            if methods.get(settings.method).iterative:  # (a one-picture run: shown, and cancelled, once painted)
                live.image = run.first_picture()  # shown at once (the fast picture) while the network loads
                _stop_if_asked(live)
                networks.clear()  # the last job's network let go before this one's is built
                networks.put(settings, run.network)  # kept for the next job that asks for the same
                _stop_if_asked(live)  # a cancel while the network loaded takes effect now, not after a step
            self._record(job["id"], message="; ".join(notices) or None)

        def listen(record, run) -> bool:
            live.records.append(_progress(record, run))
            live.tile = None
            live.image = record.image
            if time.monotonic() - saved[0] >= SAVE_SECONDS:
                self._save_best(run, folder, live)
                saved[0] = time.monotonic()
            return not live.stop.is_set()

        work = Job(folder / "content", tuple(styles), settings, output=folder / "result.png",
                   report=folder / "report", overwrite=True, report_paths=False)
        state, message, kept = "completed", None, False
        held = networks.get(settings, build=False)  # the last job's network, when this one paints with the same
        try:
            outcome = run_job(work, listen=listen, on_start=started, notice=notices.append, network=held,
                              on_tile=lambda tile: setattr(live, "tile", {"done": tile.done, "total": tile.total}))
            kept = outcome.result is not None
            if outcome.failure is not None:
                state, message = "failed", str(outcome.failure)
            elif outcome.result is not None and outcome.result.stopped == "cancelled":
                state = live.stop_as
            if kept and live.records:
                self._record(job["id"], now=False, progress=json.dumps(live.records[-1]))
        except PainterlyError as error:  # bad settings for these images, memory
            state, message = "failed", str(error)
        except _Stopped:  # cancelled (or the server stopping) before the first step
            state = live.stop_as
        live.image = None  # from now on the preview is the saved result: the best image, not the last
        if state in ("cancelled", "interrupted"):
            message = ("cancelled" if state == "cancelled" else "the server stopped") + (
                ": the best image so far is kept" if kept else "")
        message = message or "; ".join(notices) or None
        self._record(job["id"], state=state, finished=time.time(),
                     message=message and videos.shown_message(message, folder, job["inputs"]["content"]))

    def _run_video(self, job: dict, live: _Live, networks: Networks) -> None:
        settings = _settings(job)

        def started(run) -> None:  # the optimisation's feature network, kept for the next job that asks for it
            if methods.get(settings.method).iterative:  # (the fast network is the process's own, loaded once)
                networks.clear()
                networks.put(settings, run.painter.network)

        options = {name: job["video"].get(name) for name in videos.NAMES}

        def update(**fields) -> None:  # progress: never waits on a jobs.sqlite that refuses
            self._record(job["id"], now=False, **fields)

        state, message = videos.run(self.job_folder(job["id"]), settings, options, live,
                                    shown=job["inputs"]["content"], most_frames=job["video"]["clip"]["frames"],
                                    save_seconds=SAVE_SECONDS, update=update,
                                    network=networks.get(settings, build=False),
                                    on_start=started)
        self._record(job["id"], state=state, finished=time.time(), message=message)

    def _save_best(self, run, folder: Path, live: _Live) -> None:
        from .. import images

        images.save_image(folder / "result.png", run.best.image, run.alpha)  # atomic: temporary file, rename
        if live.records:
            self._record(folder.name, now=False, progress=json.dumps(live.records[-1]))


def _settings(job: dict) -> Settings:
    return Settings(**{k: tuple(v) if isinstance(v, list) else v for k, v in job["settings"].items()})



def _lock(path: Path):
    """An exclusive lock on `path`, held while the returned file is open."""
    handle = open(path, "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise PainterlyError(f"data folder {path.parent} is in use by another painterly server: "
                             f"stop that one or choose another --data-dir") from None
    return handle


class _Stopped(Exception):
    """A job asked to stop before its first step."""


def _stop_if_asked(live: _Live) -> None:
    if live.stop.is_set():
        raise _Stopped


def _progress(record, run) -> dict:
    """The numbers of one step the page shows, with an estimate of the time left."""
    method = methods.get(run.settings.method)
    start = "fast" if method.iterative and method.uses_fast_picture(run.settings) else None
    return {"scale": record.scale, "scales": record.scales, "step": record.step, "steps": record.steps,
            "loss": record.loss if math.isfinite(record.loss) else None,  # the fast method has none (JSON has no NaN)
            "terms": dict(record.terms), "elapsed": round(record.elapsed, 3), "size": list(record.size),
            "eta": _eta(record, run), "start": start,
            "model": run.network_name}  # auto: the one it chose (None: the fast method, one network)


def _eta(record, run) -> float | None:
    """Seconds left: this scale's time per step so far, for its remaining steps and the later scales'
    (those scaled by their pixel count)."""
    started = next((r.elapsed for r in run.history if r.scale == record.scale and r.step == 0), None)
    if not record.step or started is None:
        return None
    per_step = (record.elapsed - started) / record.step
    pixels = record.size[0] * record.size[1]
    left = (record.steps - record.step) * per_step
    for scale in range(record.scale + 1, len(run.scales)):
        width, height = run.scales[scale]
        left += run.settings.scale_iterations(scale, max(width, height)) * per_step * width * height / pixels
    return round(left, 1)
