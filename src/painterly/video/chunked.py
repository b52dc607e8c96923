"""A long video on Ray: cut into chunks (`chunks.plan`), the chunks painted at once on Ray actors, the frames
written by this process into the run's work folder and encoded with the input's audio as ever.

    job = VideoJob(Path("long.mp4"), (Path("starry.jpg"),), Settings(method="fast", size=384),
                   output=Path("painted.mp4"), ray="local", chunk_frames=150, chunk_overlap=16)
    run_video(job)                       # dispatches here; the outcome is a `VideoOutcome` like any other

How it runs (`ChunkedRun`, a `VideoRun` whose frames come from Ray):

1. Every input frame is decoded once, at the output's size, into the work folder (`input/000000.png`,
   lossless, so an actor paints exactly the pixels this process would), and the scene cuts are found
   on the way. All of it before Ray starts, so a bad input is refused as it is without Ray.
2. The chunks are planned and each is given to an actor (`ChunkPainter`) a piece of PIECE frames at a
   time, as PNG bytes (the machines need not share a disk), with the chain's state: the input and
   output frame before the piece (none where a chunk starts: it begins `lead` warm-up frames early).
   The actor paints the piece with the same painter, flow and consistency as a run in one process
   (`painters.paint_frame`) and returns the kept frames as PNG bytes with their records; the next piece of
   the chunk goes to whichever actor is free. Pieces are whole units of work: a worker lost mid-piece
   has that piece painted again elsewhere, from the same state, giving the same frames
   (`cluster.Pool`: retries, node checks, actors sized by painterly's memory estimate).
3. This process writes each frame as it comes (atomically) and appends the records to `frames.jsonl`
   in frame order, so the work folder's frames done are always the first ones and `--resume`, the
   encoding, the audio and the report are `VideoRun`'s own. At the first kept frame of each chunk it
   measures the warping error against the previous chunk's last frame (what the viewer sees), and
   keeps the actor's, against its warm-up, beside it.

Memory stays bounded: each actor holds DEPTH pieces (`cluster.DEPTH`), and this process holds no frame
beyond the pieces in flight. A chunked run's frames differ from a run in one process only after each
join (where the warm-up replaces the real previous output): its work folder says so, and one run's
work folder cannot be resumed by the other.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .. import methods
from ..errors import PainterlyError, SettingsError
from ..networks import Networks
from .chunks import CHUNK_FRAMES, OVERLAP, Chunk, CutDetector, plan
from .flow import Flow, warp, warping_error
from .job import FrameDone
from .painters import make_painter, paint_frame, resized
from .runner import VideoRun
from .sink import read_frame, write_png, write_png_bytes
from .source import BrokenStream
from .work import RECORDS, append_record, read_records, write_text

PIECE = 8  # frames an actor is given at a time (memory held and the unit of a retry)


class ChunkFailed(BrokenStream):
    """A piece of the video could not be painted: the frames before it are kept."""


@dataclass(eq=False)
class Piece:
    """Frames `begin` .. `end` − 1 of `chunk` to paint, after the output frame `state` (PNG bytes; None: the
    chain starts at `begin`): `cluster.Pool`'s unit of work (with `memory`, `attempts` and `sent`)."""

    chunk: Chunk
    begin: int
    end: int
    state: bytes | None
    memory: int
    attempts: int = 0
    sent: float = 0.0


class ChunkedRun(VideoRun):
    """A video job painted in chunks on Ray; everything else (checks, work folder, encoding) as `VideoRun`."""

    work_copies = 2  # the input frames are kept in the work folder beside the painted ones

    def __init__(self, job, *, notice=None):
        self.chunk_frames = CHUNK_FRAMES if job.chunk_frames is None else job.chunk_frames
        self.overlap = OVERLAP if job.chunk_overlap is None else job.chunk_overlap
        plan(1, self.chunk_frames, self.overlap)  # refuses bad values now
        if job.workers is not None and job.workers < 1:
            raise SettingsError(f"--workers {job.workers} must be at least 1")
        from ..cluster import require_ray

        require_ray(job.ray)  # before anything imports Ray: a loopback address must stay loopback
        self.chunks: list[Chunk] = []
        self.cuts: list[int] = []
        self.times: list[float | None] = []  # each input frame's timestamp (`source.timed`)
        self.workers = 0
        super().__init__(job, notice=notice)
        self.painted = self._painted_before()

    @property
    def frames_kept(self) -> int:
        return self.done + len(self.painted)

    def _painted_before(self) -> dict[int, dict]:
        """The frames a stopped run painted beyond the first `done` (chunks run at once: any may be part
        done), whose records are in painted.jsonl and whose PNGs are whole: a resumed run keeps them."""
        kept = {}
        for record in read_records(self.work / "painted.jsonl"):
            if record["index"] >= self.done and self.frame_path(record["index"]).is_file():
                kept[record["index"]] = record
        return kept

    def _key(self) -> dict:
        return {**super()._key(), "chunks": {"frames": self.chunk_frames, "overlap": self.overlap,
                                             "scene_cuts": self.job.scene_cuts}}

    def input_path(self, index: int) -> Path:
        return self.work / "input" / f"{index:06d}.png"

    # -- the frames

    def _frames(self) -> Iterator[FrameDone]:
        count, broken = self._read_inputs()
        self.chunks = plan(count, self.chunk_frames, self.overlap, self.cuts)
        memory = self._memory()
        todo = [piece for chunk in self.chunks if (piece := self._first_piece(chunk, memory)) is not None]
        joiner = _Joiner(self, count)
        joiner.advance()  # frames a stopped run painted after its first ones may join them now
        if todo:
            yield from self._paint(todo, joiner)
        if broken is not None:
            raise BrokenStream(broken, count)
        if self.done == 0:
            raise PainterlyError(f"'{self.info.path}' gave no frames: nothing to paint")

    def _read_inputs(self) -> tuple[int, str | None]:
        """Decode every frame once into input/ (a resumed run finds them there) and find the scene cuts:
        (frames, why the stream broke or None)."""
        marker = self.work / "input.json"
        if marker.is_file():
            saved = json.loads(marker.read_text())
            if all(self.input_path(i).is_file() for i in range(saved["frames"])):
                self.cuts, self.times = saved["cuts"], saved.get("times", [])
                return saved["frames"], saved["broken"]
        (self.work / "input").mkdir(exist_ok=True)
        detector, count, broken = CutDetector(), 0, None
        self.notice("reading the frames into the work folder and looking for scene cuts")
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="painterly-input") as pool:
            writing = None
            try:
                for at, raw in self.source.timed():
                    self.times.append(at)
                    frame = resized(raw, self.size)
                    detector.add(frame)
                    if writing is not None:
                        writing.result()
                    writing = pool.submit(write_png, self.input_path(count), frame)
                    count += 1
            except BrokenStream as error:
                broken = str(error)
            if writing is not None:
                writing.result()
        self.cuts = detector.cuts if self.job.scene_cuts else []
        write_text(marker, json.dumps({"frames": count, "cuts": self.cuts, "broken": broken, "times": self.times}))
        return count, broken

    def _memory(self) -> int:
        """What an actor asks Ray for: the method's estimate for one frame, plus a piece's frames and flows."""
        settings = self.job.settings
        frame = methods.get(settings.method).estimate_bytes(settings, self.size, [s.size for s in self.styles])
        pixels = self.size[0] * self.size[1]
        return frame + PIECE * pixels * 3 * 3 + pixels * 4 * 2 * 3

    def _first_piece(self, chunk: Chunk, memory: int) -> Piece | None:
        """The chunk's first piece still to paint: from its warm-up, or after the frames a resumed run has."""
        at = chunk.start
        while at < chunk.stop and (at < self.done or at in self.painted):
            at += 1
        if at == chunk.stop:
            return None
        if at > chunk.start:  # resumed inside the chunk: the chain goes on from the last frame kept
            return Piece(chunk, at, min(at + PIECE, chunk.stop), self.frame_path(at - 1).read_bytes(), memory)
        return Piece(chunk, chunk.first, min(chunk.start + PIECE, chunk.stop), None, memory)

    def _paint(self, todo: list[Piece], joiner: "_Joiner") -> Iterator[FrameDone]:
        from .. import cluster

        with cluster.connect(self.job.ray) as ray:
            spec = ray.put(self._spec())

            def submit(actor, piece: Piece):
                frames = [self.input_path(i).read_bytes() for i in range(piece.begin, piece.end)]
                previous = None
                if piece.state is not None:
                    previous = (self.input_path(piece.begin - 1).read_bytes(), piece.state)
                return actor.paint.remote(spec, piece.begin, piece.chunk.start, previous, *frames)

            pool = cluster.Pool(ray, todo, joiner, actor=ChunkPainter, submit=submit, workers=self.job.workers,
                                threads=1, notice=self.notice)
            self.workers = len(pool.actors)
            try:
                while pool.busy() and joiner.failure is None:
                    pool.step()
                    yield from joiner.take()
            finally:
                pool.close()
        yield from joiner.take()
        if joiner.failure is not None:
            raise joiner.failure

    def _spec(self) -> dict:
        """What every actor needs for this job, put into Ray's object store once."""
        key = hashlib.sha256(json.dumps(self._key(), sort_keys=True).encode()).hexdigest()
        settings = self.job.settings  # what "auto" leaves to the machine, decided here, the same for every node
        job = dataclasses.replace(self.job, settings=methods.get(settings.method).resolve(settings, self.notice))
        return {"key": key, "job": job, "size": self.size,
                "styles": [(Path(p).name, Path(p).read_bytes()) for p in self.job.styles],
                "anchor": self.input_path(0).read_bytes()}

    # -- what the run says

    def metadata(self, mean_error: float | None) -> dict:
        joins = [r["warping_error"] for r in self.records if r.get("join") and r["warping_error"] is not None]
        inside = [r["warping_error"] for r in self.records if not r.get("join") and r["warping_error"] is not None]
        return {**super().metadata(mean_error), "ray": {
            "address": self.job.ray, "workers": self.workers, "chunks": len(self.chunks),
            "chunk_frames": self.chunk_frames, "overlap": self.overlap, "scene_cuts": self.cuts,
            "join_warping_error": float(np.mean(joins)) if joins else None,
            "inside_warping_error": float(np.mean(inside)) if inside else None}}


class _Joiner:
    """The pool's finisher: writes each painted frame, appends the records in frame order (measuring the
    warping error at each join), and gives the next piece of the chunk."""

    def __init__(self, run: ChunkedRun, count: int):
        self.run, self.count = run, count
        self.joins = {chunk.start for chunk in run.chunks if chunk.start > 0}
        self.waiting: dict[int, dict] = dict(run.painted)  # painted, not yet in order
        self.events: list[FrameDone] = []
        self.failure: ChunkFailed | None = None
        self.started = time.perf_counter()
        self._flow: Flow | None = None

    def take(self) -> list[FrameDone]:
        events, self.events = self.events, []
        return events

    def result(self, piece: Piece, answer: dict) -> list[Piece] | None:
        from ..interrupts import deferred_stop

        if answer.get("state") != "done":
            self.failed(piece, answer.get("reason", "unknown"))
            return None
        run = self.run
        with deferred_stop() as stops:  # a Ctrl-C while frames are written waits for the writes
            for frame in answer["frames"]:
                index = frame["index"]
                if index < max(piece.chunk.start, run.done):  # a warm-up frame, or one a resumed run has
                    continue
                write_png_bytes(run.frame_path(index), frame["png"])
                record = {**frame["record"], "chunk": piece.chunk.index, "node": answer.get("node"),
                          "pid": answer.get("pid"), "attempt": piece.attempts}
                append_record(run.work / "painted.jsonl", record)  # kept by a resumed run, in any order
                self.waiting[index] = record
                run.painted[index] = record
                self.events.append(FrameDone(index, self.count, record["seconds"], record["cpu_seconds"],
                                             time.perf_counter() - self.started, record["warping_error"],
                                             record["reliable"], record["terms"], image=decode_frame(frame["png"])))
            self.advance()
        if stops:
            raise stops[0]
        if piece.end >= piece.chunk.stop:
            return None
        last = answer["frames"][-1]["png"]
        return [Piece(piece.chunk, piece.end, min(piece.end + PIECE, piece.chunk.stop), last, piece.memory)]

    def failed(self, piece: Piece, reason: str) -> None:
        if self.failure is None:
            self.failure = ChunkFailed(f"frames {piece.begin}–{piece.end - 1} (chunk {piece.chunk.index + 1} of "
                                       f"{len(self.run.chunks)}) could not be painted: {reason}", self.run.done)

    def advance(self) -> None:
        run = self.run
        while run.done in self.waiting:
            index = run.done
            record = self.waiting.pop(index)
            if index in self.joins:
                record = self._join(index, record)
            if index < len(run.times):
                record = {**record, "time": run.times[index]}
            append_record(run.work / RECORDS, record)
            run.records.append(record)
            run.painted.pop(index, None)
            run.done = index + 1

    def _join(self, index: int, record: dict) -> dict:
        """The warping error where chunk meets chunk, this frame against the previous chunk's last (the
        actor's own, against its warm-up, kept as `warping_error_in_chunk`)."""
        if self._flow is None:
            self._flow = Flow(self.run.job.flow_preset)
        run = self.run
        pair = self._flow.pair(read_frame(run.input_path(index - 1)), read_frame(run.input_path(index)))
        previous, current = read_frame(run.frame_path(index - 1)), read_frame(run.frame_path(index))
        return {**record, "join": True, "warping_error_in_chunk": record["warping_error"],
                "warping_error": warping_error(current, warp(previous, pair.backward), pair.mask),
                "reliable": float(pair.mask.mean())}


def encode_frame(image: np.ndarray) -> bytes:
    """A frame (uint8 RGB) as PNG bytes, quick to write: how frames travel to and from the Ray actors."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def decode_frame(data: bytes) -> np.ndarray:
    """`encode_frame`'s bytes back as uint8 RGB."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


class ChunkPainter:
    """A Ray actor painting pieces of videos: the painter (and its network) built once per job."""

    def __init__(self, threads: int | None = None):
        from ..cluster import where

        self.networks = Networks(keep=1, threads=threads)  # the fast network or the feature network, with its threads
        self.painters: dict[str, object] = {}
        self.flows: dict[str, Flow] = {}
        self.where = where()

    def ready(self) -> dict:
        return self.where

    def paint(self, spec: dict, begin: int, keep: int, previous: tuple[bytes, bytes] | None, *frames: bytes) -> dict:
        """Paint frames `begin`, `begin` + 1, … (PNG bytes) after `previous` (the input and output frame
        before them, or None: the chain starts here). The frames from `keep` on, and always the last, come
        back as PNG bytes with their records; the answer is "failed" with the reason on an error."""
        try:
            return {"state": "done", "frames": self._paint(spec, begin, keep, previous, frames), **self.where}
        except PainterlyError as error:
            return {"state": "failed", "reason": str(error), **self.where}
        except Exception as error:  # a bug must stop the video with its reason, not hang it
            return {"state": "failed", "reason": f"internal error: {type(error).__name__}: {error}", **self.where}

    def _paint(self, spec: dict, begin: int, keep: int, previous, frames) -> list[dict]:
        painter, flow = self._painter(spec), self._flow(spec["job"].flow_preset)
        previous_input = previous_output = None
        if previous is not None:
            previous_input, previous_output = decode_frame(previous[0]), decode_frame(previous[1])
        painted = []
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="painterly-piece") as pool:
            for offset, data in enumerate(frames):
                index = begin + offset
                frame = decode_frame(data)
                began, began_cpu = time.perf_counter(), time.process_time()
                image, error, reliable, terms = paint_frame(painter, flow, pool, index, frame, previous_input,
                                                            previous_output)
                record = {"index": index, "seconds": time.perf_counter() - began,
                          "cpu_seconds": time.process_time() - began_cpu, "warping_error": error,
                          "reliable": reliable, "terms": dict(terms)}
                if index >= keep or offset == len(frames) - 1:
                    painted.append({"index": index, "png": pool.submit(encode_frame, image), "record": record})
                previous_input, previous_output = frame, image
        return [{**p, "png": p["png"].result()} for p in painted]

    def _painter(self, spec: dict):
        if spec["key"] not in self.painters:
            import tempfile

            from .. import images

            self.painters.clear()  # one job's painter held at a time
            job = spec["job"]
            with tempfile.TemporaryDirectory(prefix="painterly-video-") as scratch:
                styles = []
                for i, (name, data) in enumerate(spec["styles"]):
                    path = Path(scratch) / f"{i}-{name}"
                    path.write_bytes(data)
                    styles.append(images.load_image(path, role="style image"))
            network = self.networks.get(job.settings)  # None where it may not be shared: the painter builds its own
            painter = make_painter(job, styles, tuple(spec["size"]), network=network)
            painter.seen(decode_frame(spec["anchor"]))  # the fast method's style vector from the video's first frame
            self.painters[spec["key"]] = painter
        return self.painters[spec["key"]]

    def _flow(self, preset: str) -> Flow:
        if preset not in self.flows:
            self.flows[preset] = Flow(preset)
        return self.flows[preset]
