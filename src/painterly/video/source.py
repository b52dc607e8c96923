"""Frames in: a video file (anything FFmpeg reads, through PyAV) or a folder of images, streamed.

    source = open_source("clip.mp4", start=2.0, duration=5.0)
    source.info          # size, frame rate, the frames it will give, audio stream, where they start
    for frame in source: # uint8 RGB (height, width, 3), one at a time: memory does not grow with the video
        ...

    for seconds, frame in source.timed():   # each frame's time too, from the first one given (0.0)
        ...

Frames are counted in decode order from the first one, and `start` / `duration` pick them by that count
at the stream's average frame rate (`first = round(start · fps)`), so selection works on files whose
timestamps are not seekable (OpenCV's tree.avi). Each frame keeps its own time (`timed`), so a clip of
variable frame rate is written back with its frames where they were. A clip with a display matrix (a phone's:
stored landscape, shown turned by 90°) gives its frames upright, turned as FFmpeg's player turns them, and
its size is the upright one. A video that cannot be opened, has no video stream or gives no frame in the
range raises `InputVideoError` (one line, exit 2); so do a `start`, `duration` or `fps` that is not a finite
number in range. A stream that breaks after some frames stops the iteration with `BrokenStream`, which tells
how many frames were read, so the caller can keep what is done. `identity` (size in bytes, duration, a hash
of the first frames) tells a resumed run whether the input is still the clip it started on.
"""

from __future__ import annotations

import hashlib
import math
import os
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import PainterlyError, SettingsError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
FOLDER_FPS = Fraction(25)  # a folder of frames has no rate of its own: --fps, else this
EARLY_END = 0.75  # a stream giving fewer than this share of the frames (and time) its header announces was cut short
FPS_RANGE = (0.1, 1000.0)  # --fps of a folder of frames: a slide a ten seconds to a thousand frames a second
IDENTITY_FRAMES = 3  # frames hashed into a source's identity


class InputVideoError(PainterlyError):
    """The input video is missing, not a video, has no video stream or no frames."""


class BrokenStream(PainterlyError):
    """The input stream broke after `frames` frames had been read."""

    def __init__(self, message: str, frames: int):
        super().__init__(message)
        self.frames = frames


@dataclass(frozen=True)
class VideoInfo:
    """What a source gives."""

    path: Path
    size: tuple[int, int]  # (width, height) of the frames as stored (display aspect applied, see `sample_aspect`)
    fps: Fraction  # frames per second (the stream's average rate)
    first: int  # index of the first frame given, counted from the stream's first frame
    frames: int | None  # frames the range holds, as far as the container says (None: unknown)
    start_time: float  # seconds: the first given frame's time in the input (audio is cut from here)
    audio: bool  # the input has an audio stream
    folder: bool  # a folder of images, not a video file
    sample_aspect: Fraction = Fraction(1)  # the stream's pixel aspect ratio (1: square pixels)

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) as shown: non-square pixels stretched to square ones."""
        width, height = self.size
        return (max(1, round(width * self.sample_aspect)), height) if self.sample_aspect != 1 else self.size

    def describe(self) -> dict:
        return {"path": str(self.path), "size": list(self.size), "fps": float(self.fps),
                "fps_fraction": f"{self.fps.numerator}/{self.fps.denominator}", "first": self.first,
                "frames": self.frames, "start_time": self.start_time, "audio": self.audio,
                "folder": self.folder, "sample_aspect": float(self.sample_aspect)}


def open_source(path, *, start: float = 0.0, duration: float | None = None, fps: float | None = None,
                max_frames: int | None = None) -> "VideoFile | FrameFolder":
    """The frames of `path` from `start` seconds for `duration` seconds (None: to the end); at most
    `max_frames`. `fps` is the rate of a folder of frames (a video file keeps its own)."""
    path = Path(path)
    check_range(start, duration, fps)
    if path.is_dir():
        return FrameFolder(path, start=start, duration=duration, fps=fps, max_frames=max_frames)
    if not path.exists():
        raise InputVideoError(f"input video '{path}' does not exist: check the path")
    if not os.access(path, os.R_OK):
        raise InputVideoError(f"input video '{path}' cannot be read: check its permissions")
    return VideoFile(path, start=start, duration=duration, max_frames=max_frames)


def check_range(start: float, duration: float | None, fps: float | None) -> None:
    """SettingsError (one line, naming the flag) unless `start` ≥ 0, `duration` > 0 and `fps` in `FPS_RANGE`,
    each a finite number."""
    if not (math.isfinite(start) and start >= 0):
        raise SettingsError(f"--start {start:g}: give the seconds to start at, a number ≥ 0 (0: the first frame)")
    if duration is not None and not (math.isfinite(duration) and duration > 0):
        raise SettingsError(f"--duration {duration:g}: give the seconds to paint, a number > 0 (leave it out: "
                            f"to the end)")
    low, high = FPS_RANGE
    if fps is not None and not (math.isfinite(fps) and low <= fps <= high):
        raise SettingsError(f"--fps {fps:g}: give a folder of frames' rate, from {low:g} to {high:g} frames/s")


def _range(fps: Fraction, start: float, duration: float | None, max_frames: int | None) -> tuple[int, int | None]:
    """(first frame index, number of frames or None for all) for a time range."""
    first = round(start * fps)
    if duration is not None and round(duration * fps) < 1:
        raise SettingsError(f"--duration {duration:g} is shorter than one frame ({float(1 / fps):.3g} s at "
                            f"{float(fps):.3g} frames/s): give at least that, or --frames 1")
    count = None if duration is None else round(duration * fps)
    if max_frames is not None:
        count = max_frames if count is None else min(count, max_frames)
    return first, count


class VideoFile:
    """A video file's frames, decoded with PyAV."""

    def __init__(self, path: Path, *, start: float, duration: float | None, max_frames: int | None):
        import av

        self.path = path
        try:
            container = av.open(str(path))
        except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as error:
            raise InputVideoError(f"'{path}' is not a video FFmpeg can read ({_reason(error)}): give a video file "
                                  f"(e.g. .mp4, .avi, .mkv) or a folder of frames") from None
        with container:
            if not container.streams.video:
                kinds = ", ".join(sorted({s.type for s in container.streams})) or "no streams"
                raise InputVideoError(f"'{path}' has no video stream ({kinds}): give a file with video in it")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            if not rate or rate <= 0:
                raise InputVideoError(f"'{path}' does not say its frame rate: convert it to a common format first")
            self.fps = Fraction(rate)
            width, height = stream.codec_context.width, stream.codec_context.height
            if not width or not height:
                raise InputVideoError(f"'{path}' has a video stream with no frame size: it is damaged or empty")
            aspect = stream.codec_context.sample_aspect_ratio or stream.sample_aspect_ratio
            self.seconds = None  # the length the header announces
            if stream.duration and stream.time_base:
                self.seconds = float(stream.duration * stream.time_base)
            elif container.duration:  # in microseconds
                self.seconds = container.duration / 1e6
            total = stream.frames or None
            self.exact = total is not None  # the header counts the frames (else they are estimated from the length)
            if total is None and self.seconds:
                total = round(self.seconds * self.fps) or None
            audio = bool(container.streams.audio)
            self.turn, digest = _probe(container, stream)
        self.identity = {"bytes": path.stat().st_size, "seconds": None if self.seconds is None else
                         round(self.seconds, 3), "frames_sha256": digest}
        if self.turn in TURNED:
            width, height = height, width
            aspect = 1 / Fraction(aspect) if aspect else aspect
        self.first, self.count = _range(self.fps, start, duration, max_frames)
        self.total = total
        frames = None if total is None else max(0, total - self.first)
        if frames is not None and self.count is not None:
            frames = min(frames, self.count)
        elif frames is None:
            frames = self.count
        if frames == 0:
            raise InputVideoError(f"'{path}' has no frames from {start:g} s (it holds about {total} frames, "
                                  f"{float(total / self.fps):.2f} s): choose an earlier --start")
        self.info = VideoInfo(path=path, size=(width, height), fps=self.fps, first=self.first, frames=frames,
                              start_time=float(self.first / self.fps), audio=audio, folder=False,
                              sample_aspect=Fraction(aspect) if aspect else Fraction(1))

    def __iter__(self) -> Iterator[np.ndarray]:
        return (frame for _, frame in self.timed())

    def timed(self) -> Iterator[tuple[float | None, np.ndarray]]:
        """(its timestamp in seconds after the first frame given, uint8 RGB upright) for each frame of the range:
        the times as the file has them (None where it has none; some files give them out of order, see
        `sink.variable_times`). Raises `InputVideoError` when the range holds no frame and `BrokenStream`
        when decoding fails after some frames."""
        import av

        given = index = 0
        start_time = size = None
        latest = 0.0  # the latest time given, seconds after the first frame
        try:
            with av.open(str(self.path)) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                for frame in container.decode(stream):
                    if index >= self.first:
                        if start_time is None and frame.time is not None:
                            start_time = frame.time
                            self.info = _with_start(self.info, start_time)
                        if size is None:
                            size = (frame.width, frame.height)
                        elif (frame.width, frame.height) != size:  # checked before the pixels are made
                            raise BrokenStream(f"'{self.path}' changes its frame size from {size[0]}×{size[1]} to "
                                               f"{frame.width}×{frame.height} after {given} frames: painterly "
                                               f"paints one size; the frames before were kept", given)
                        at = frame.time - start_time if frame.time is not None and start_time is not None else None
                        latest = max(latest, at if at is not None else latest + float(1 / self.fps))
                        yield at, TURNS[self.turn](frame.to_ndarray(format="rgb24"))
                        given += 1
                        if self.count is not None and given >= self.count:
                            return
                    index += 1
        except (av.error.FFmpegError, OSError) as error:
            if given == 0:
                raise InputVideoError(f"'{self.path}' could not be decoded ({_reason(error)}): it is damaged or "
                                      f"not a video") from None
            raise BrokenStream(f"'{self.path}' broke after {given} frames ({_reason(error)}): the frames before it "
                               f"were kept; the file is damaged there", given) from None
        if given == 0:
            raise InputVideoError(f"'{self.path}' gave no video frames"
                                  + (f" from frame {self.first}" if self.first else "")
                                  + ": it is empty or damaged, or --start is past its end")
        expected = self.info.frames
        if expected is not None and given < EARLY_END * expected and not self._reached_end(latest):
            raise BrokenStream(f"'{self.path}' ended after {given} of the {expected} frames its header announces: "
                               f"the file is cut short or damaged; the frames before were kept", given)

    def _reached_end(self, last: float) -> bool:
        """Whether the last frame given (at `last` seconds after the range's first) is near the end the header
        announces: then a shortfall of frames is a variable frame rate (fewer frames than the length at the
        average rate), not a file cut short. Where the header counts the frames, the count stands."""
        if self.exact or not self.seconds:
            return False
        ended = self.info.start_time + last + float(1 / self.fps)
        return ended >= EARLY_END * self.seconds


def _with_start(info: VideoInfo, start_time: float) -> VideoInfo:
    import dataclasses

    return dataclasses.replace(info, start_time=float(start_time))


class FrameFolder:
    """A folder of images, in name order, as frames (every one resized to the first one's size)."""

    def __init__(self, path: Path, *, start: float, duration: float | None, fps: float | None,
                 max_frames: int | None):
        self.path = path
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not files:
            raise InputVideoError(f"folder '{path}' holds no frames (no {', '.join(IMAGE_SUFFIXES)} files): give "
                                  f"a folder of images or a video file")
        self.fps = Fraction(fps).limit_denominator(1001) if fps else FOLDER_FPS
        self.first, self.count = _range(self.fps, start, duration, max_frames)
        self.files = files[self.first:] if self.count is None else files[self.first:self.first + self.count]
        if not self.files:
            raise InputVideoError(f"folder '{path}' has {len(files)} frames, none from {start:g} s at "
                                  f"{float(self.fps):g} frames/s: choose an earlier --start")
        first = self._load(self.files[0])
        digest = hashlib.sha256()
        for file in files[:IDENTITY_FRAMES]:
            digest.update(file.read_bytes())
        self.identity = {"files": len(files), "bytes": sum(file.stat().st_size for file in files),
                         "frames_sha256": digest.hexdigest()}
        self.info = VideoInfo(path=path, size=(first.shape[1], first.shape[0]), fps=self.fps, first=self.first,
                              frames=len(self.files), start_time=float(self.first / self.fps), audio=False,
                              folder=True)

    def _load(self, file: Path) -> np.ndarray:
        from .. import images

        return images.load_image(file, role="frame").rgb

    def __iter__(self) -> Iterator[np.ndarray]:
        from .. import images

        size = self.info.size
        for file in self.files:
            rgb = self._load(file)
            if (rgb.shape[1], rgb.shape[0]) != size:
                rgb = images.to_uint8(images.resize(rgb.astype(np.float32), size))
            yield rgb

    def timed(self) -> Iterator[tuple[float, np.ndarray]]:
        """(seconds after the first frame given, at the folder's rate; uint8 RGB) for each frame."""
        for index, rgb in enumerate(self):
            yield float(index / self.fps), rgb


def _probe(container, stream) -> tuple[str, str]:
    """(how to turn the frames upright, a hash of the first frames as stored), from the first frames."""
    import av

    digest, turn = hashlib.sha256(), ""
    try:
        for i, frame in enumerate(container.decode(stream)):
            if i == 0:
                turn = _turn(frame)
            digest.update(frame.to_ndarray(format="rgb24").tobytes())
            if i + 1 >= IDENTITY_FRAMES:
                break
    except (av.error.FFmpegError, OSError):  # a stream that does not decode is refused when it is read
        pass
    return turn, digest.hexdigest()


def _turn(frame) -> str:
    """How FFmpeg's player turns a frame with a display matrix (fftools' autorotate: a transpose for ±90°, flips
    for 180° or a mirrored matrix; other angles are left as stored): a key of `TURNS`."""
    from av.sidedata.sidedata import Type

    matrix = next((struct.unpack("=9i", bytes(data)) for data in frame.side_data
                   if data.type == Type.DISPLAYMATRIX), None)
    if matrix is None:
        return ""
    theta = -frame.rotation % 360
    if abs(theta - 90) < 1:
        return "cclock_flip" if matrix[3] > 0 else "clock"
    if abs(theta - 270) < 1:
        return "clock_flip" if matrix[3] < 0 else "cclock"
    if abs(theta - 180) < 1:
        return ("h" if matrix[0] < 0 else "") + ("v" if matrix[4] < 0 else "")
    if theta < 1 or theta > 359:
        return "v" if matrix[4] < 0 else ""
    return ""


TURNS = {"": lambda a: a,
         "clock": lambda a: np.ascontiguousarray(np.rot90(a, -1)),  # 90° clockwise: a phone held upright
         "cclock": lambda a: np.ascontiguousarray(np.rot90(a, 1)),
         "cclock_flip": lambda a: np.ascontiguousarray(a.transpose(1, 0, 2)),
         "clock_flip": lambda a: np.ascontiguousarray(np.rot90(a, -1)[::-1]),
         "h": lambda a: np.ascontiguousarray(a[:, ::-1]), "v": lambda a: np.ascontiguousarray(a[::-1]),
         "hv": lambda a: np.ascontiguousarray(a[::-1, ::-1])}
TURNED = ("clock", "cclock", "cclock_flip", "clock_flip")  # the turns that swap width and height


def _reason(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return text.split(":")[0].strip().rstrip(".") if text else type(error).__name__
