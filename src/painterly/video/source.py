"""Frames in: a video file (anything FFmpeg reads, through PyAV) or a folder of images, streamed.

    source = open_source("clip.mp4", start=2.0, duration=5.0)
    source.info          # size, frame rate, the frames it will give, audio stream, where they start
    for frame in source: # uint8 RGB (height, width, 3), one at a time: memory does not grow with the video
        ...

Frames are counted in decode order from the first one, and `start` / `duration` pick them by that count
at the stream's average frame rate (`first = round(start · fps)`), so selection works on files whose
timestamps are not seekable (OpenCV's tree.avi). A video that cannot be opened, has no video stream or
gives no frame in the range raises `InputVideoError` (one line, exit 2). A stream that breaks after
some frames stops the iteration with `BrokenStream`, which tells how many frames were read, so the
caller can keep what is done.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import PainterlyError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
FOLDER_FPS = Fraction(25)  # a folder of frames has no rate of its own: --fps, else this
EARLY_END = 0.75  # a stream giving fewer than this share of the frames its header announces was cut short


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
    if start < 0 or (duration is not None and duration <= 0):
        raise InputVideoError(f"--start {start:g} / --duration {duration:g} must be ≥ 0 and > 0"
                              if duration is not None else f"--start {start:g} must be ≥ 0")
    if path.is_dir():
        return FrameFolder(path, start=start, duration=duration, fps=fps, max_frames=max_frames)
    if not path.exists():
        raise InputVideoError(f"input video '{path}' does not exist: check the path")
    if not os.access(path, os.R_OK):
        raise InputVideoError(f"input video '{path}' cannot be read: check its permissions")
    return VideoFile(path, start=start, duration=duration, max_frames=max_frames)


def _range(fps: Fraction, start: float, duration: float | None, max_frames: int | None) -> tuple[int, int | None]:
    """(first frame index, number of frames or None for all) for a time range."""
    first = round(start * fps)
    count = None if duration is None else max(1, round(duration * fps))
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
            total = stream.frames or None
            if total is None and stream.duration and stream.time_base:
                total = round(stream.duration * stream.time_base * self.fps) or None
            if total is None and container.duration:  # in microseconds
                total = round(container.duration / 1e6 * self.fps) or None
            audio = bool(container.streams.audio)
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
        """The range's frames, uint8 RGB; raises `InputVideoError` when it holds none and `BrokenStream`
        when decoding fails after some frames."""
        import av

        given = index = 0
        start_time = size = None
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
                        yield frame.to_ndarray(format="rgb24")
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
        if expected is not None and given < EARLY_END * expected:
            raise BrokenStream(f"'{self.path}' ended after {given} of the {expected} frames its header announces: "
                               f"the file is cut short or damaged; the frames before were kept", given)


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


def _reason(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return text.split(":")[0].strip().rstrip(".") if text else type(error).__name__
