"""Frames out: a video file encoded with PyAV (H.264 by default) with the input's audio copied through, or
a folder of PNG frames.

    with open_sink("out.mp4", size=(384, 288), fps=Fraction(30000, 1001), audio=AudioSource(...)) as sink:
        for frame in frames:
            sink.write(frame)           # uint8 RGB (height, width, 3)

The output's container comes from its extension (`.mp4`, `.m4v`, `.mov`, `.mkv`: H.264, yuv420p; `.webm`:
VP9); a path without an extension, or one ending in a slash, is a folder of PNG frames. H.264 in 4:2:0
needs even sides: odd ones are cropped by one pixel (the last column or row), and `notice` says so. Audio
packets are remuxed unchanged (no re-encoding) from the input, cut to the frames' time range (to the
packet: an audio packet is some 20–30 ms); a codec the container cannot hold unchanged (PCM into MP4) is
re-encoded as AAC, with a notice. The file is written beside its final name and renamed when closed, so
a half-written video never takes the output's name. Given each frame's time (`times`, seconds from the first),
a clip of variable frame rate keeps them: the frames are stamped with their own times instead of the average
rate's (a constant-rate clip, whose times all round to its rate's grid, is written exactly as without them).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .. import files
from ..errors import OutputError

CODECS = {".mp4": "libx264", ".m4v": "libx264", ".mov": "libx264", ".mkv": "libx264", ".webm": "libvpx-vp9"}
# audio codecs each container takes as they are (others are re-encoded: AAC, or Opus for WebM)
AUDIO_AS_IS = {
    ".mp4": {"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"},
    ".m4v": {"aac", "mp3", "alac", "ac3", "eac3"},
    ".mov": {"aac", "mp3", "alac", "ac3", "eac3", "pcm_s16le", "pcm_s24le", "pcm_f32le", "pcm_s16be"},
    ".mkv": None,  # Matroska holds anything
    ".webm": {"opus", "vorbis"},
}
CRF = "18"  # x264's quality: visually near lossless for painted frames
VFR_TIME_BASE = Fraction(1, 90000)  # the clock of a variable-frame-rate output (MPEG's 90 kHz)


def is_folder_output(path) -> bool:
    text = str(path)
    return text.endswith(("/", os.sep)) or Path(text).suffix == "" or Path(text).is_dir()


def check_output_path(path, *, overwrite: bool, inputs=()) -> Path:
    """Check before a long run that `path` may and can be written: a known extension (or a folder),
    an existing writable parent folder, not an input, not existing unless `overwrite`."""
    path = Path(path)
    resolved = path.resolve()
    files.refuse_inputs(path, inputs, "output")  # by path, symbolic link or hard link
    if is_folder_output(path):
        if resolved.is_file():
            raise OutputError(f"output '{path}' is a file, not a folder of frames: give a video name (.mp4) "
                              f"or a folder")
        if resolved.is_dir() and any(resolved.iterdir()):
            if not overwrite:
                raise OutputError(f"output folder '{path}' is not empty: pass --overwrite to replace its frames, "
                                  f"or choose another folder")
            if not files.owned(resolved):  # --overwrite replaces frames painterly wrote, never a user's pictures
                raise OutputError(f"output folder '{path}' holds files no painterly run wrote, which are never "
                                  f"replaced: choose an empty folder")
        parent = resolved.parent
    else:
        if path.suffix.lower() not in CODECS:
            raise OutputError(f"output '{path}': unknown video format '{path.suffix}': use .mp4 (H.264), .mov, "
                              f".mkv, .webm, or a folder name for PNG frames")
        if resolved.is_dir():
            raise OutputError(f"output '{path}' is a folder: give a file name such as '{path / 'out.mp4'}'")
        if resolved.exists() and not overwrite:
            raise OutputError(f"output '{path}' exists: pass --overwrite to replace it, or choose another name")
        parent = resolved.parent
    if not parent.is_dir():
        raise OutputError(f"output folder '{parent}' does not exist: create it or choose another")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"output folder '{parent}' is not writable: choose another folder")
    return resolved


def encoded_size(size: tuple[int, int], path) -> tuple[int, int]:
    """The frame size `path` will hold: even sides for a video (4:2:0 chroma), any for a folder."""
    if is_folder_output(path):
        return size
    width, height = size
    return width - width % 2, height - height % 2


@dataclass(frozen=True)
class AudioSource:
    """The audio to copy: the first audio stream of `path` between `start` and `end` seconds, moved so
    that `start` is the output's time 0. With `lead`, the packets before `start` are kept too (the
    encoder's priming packets, at negative times): the video is painted from the input's first frame."""

    path: Path
    start: float
    end: float | None
    lead: bool = False


def open_sink(path, *, size: tuple[int, int], fps: Fraction, audio: AudioSource | None = None,
              notice: Callable[[str], None] | None = None, times: Sequence[float] | None = None):
    """A sink for frames of `size` at `fps`; `times`: each frame's time in seconds from the first (None: one
    frame every 1/fps)."""
    if is_folder_output(path):
        if audio is not None and notice is not None:
            notice("a folder of frames holds no sound: the audio is left out (give a .mp4 output to keep it)")
        return FolderSink(Path(path), size)
    return VideoSink(Path(path), size=size, fps=fps, audio=audio, notice=notice, times=times)


def variable_times(times: Sequence[float | None] | None, fps: Fraction) -> list[float] | None:
    """`times` (each frame's, seconds from the first) when they are a variable frame rate's: every one known,
    rising, and some off the constant rate's grid (not rounding to its index at `fps`). Else None: the frames
    are written one every 1/fps. Times out of order are not presentation times (box.mp4's decoder gives its
    frames the timestamps of its packets, in decode order): the rate is the file's own there."""
    if not times or any(t is None for t in times):
        return None
    if any(b <= a for a, b in zip(times, times[1:])):
        return None
    if all(round(t * fps) == i for i, t in enumerate(times)):
        return None
    return list(times)


class FolderSink:
    """PNG frames 000000.png, 000001.png, … in a folder (each written atomically), marked as painterly's
    (`files.mark`) so that a later --overwrite may replace them."""

    def __init__(self, folder: Path, size: tuple[int, int]):
        self.folder, self.size, self.count = folder, size, 0
        try:
            folder.mkdir(parents=False, exist_ok=True)
        except OSError as error:
            raise OutputError(f"output folder '{folder}' could not be made ({error.strerror}): "
                              f"choose another") from None
        files.mark(folder)

    def write(self, frame: np.ndarray) -> None:
        write_png(self.folder / f"{self.count:06d}.png", frame)
        self.count += 1

    def close(self) -> Path:
        return self.folder

    def abort(self) -> None:
        pass  # the frames written are kept

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        if kind is None:
            self.close()
        return False


def write_png(path: Path, frame: np.ndarray, compress_level: int = 1) -> None:
    """`frame` (uint8 RGB) as a PNG, atomically (a temporary file renamed onto `path`)."""
    from PIL import Image

    image = Image.fromarray(np.ascontiguousarray(frame, dtype=np.uint8))
    _write_frame_file(path, lambda temporary: image.save(temporary, format="PNG", compress_level=compress_level))


def write_png_bytes(path: Path, data: bytes) -> None:
    """A frame already encoded as PNG (a Ray worker's), atomically, as `write_png` writes one."""
    _write_frame_file(path, lambda temporary: temporary.write_bytes(data))


def _write_frame_file(path: Path, write: Callable[[Path], object]) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        write(temporary)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise OutputError(f"frame '{path}' could not be written ({error.strerror or error}): check the folder's "
                          f"permissions and free space") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class VideoSink:
    """One video file being encoded; audio packets are interleaved as the frames' times pass theirs."""

    def __init__(self, path: Path, *, size: tuple[int, int], fps: Fraction, audio: AudioSource | None,
                 notice: Callable[[str], None] | None, times: Sequence[float] | None = None):
        import av

        self.path = path
        self.size = encoded_size(size, path)
        self.fps = Fraction(fps)
        self.count = 0
        self.times = variable_times(times, self.fps)
        self.base = VFR_TIME_BASE if self.times is not None else Fraction(1) / self.fps
        self._pts = -1
        suffix = path.suffix.lower()
        self.temporary = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.partial{path.suffix}")
        try:
            self.container = av.open(str(self.temporary), mode="w")
        except (av.error.FFmpegError, OSError) as error:
            raise OutputError(f"output '{path}' could not be written ({error}): check the folder") from None
        codec = CODECS[suffix]
        self.stream = self.container.add_stream(codec, rate=self.fps)
        self.stream.width, self.stream.height = self.size
        self.stream.pix_fmt = "yuv420p"
        self.stream.codec_context.time_base = self.base
        if codec == "libx264":
            self.stream.options = {"crf": CRF, "preset": "medium"}
        else:
            self.stream.options = {"crf": "30", "b": "0"}
        self._audio_in = self._audio_out = self._packets = self._pending = None
        self._start, self._end, self._lead = 0.0, None, False
        self._transcode = False
        if audio is not None:
            self._open_audio(audio, suffix, notice)

    def _open_audio(self, audio: AudioSource, suffix: str, notice) -> None:
        import av

        self._audio_in = av.open(str(audio.path))
        if not self._audio_in.streams.audio:
            self._audio_in.close()
            self._audio_in = None
            return
        stream = self._audio_in.streams.audio[0]
        name = _codec_name(stream)
        allowed = AUDIO_AS_IS.get(suffix)
        if allowed is None or name in allowed:
            self._audio_out = self.container.add_stream_from_template(stream)
        else:
            self._transcode = True
            codec = "libopus" if suffix == ".webm" else "aac"
            rate = 48000 if codec == "libopus" else stream.codec_context.sample_rate or 48000  # Opus: 48 kHz only
            self._audio_out = self.container.add_stream(codec, rate=rate)
            if notice is not None:
                notice(f"the audio ({name}) cannot go into {suffix} unchanged: re-encoded as "
                       f"{'Opus' if codec == 'libopus' else 'AAC'}")
        self._audio_stream = stream
        self._start, self._end, self._lead = audio.start, audio.end, audio.lead
        self._packets = iter(self._audio_in.demux(stream))

    def write(self, frame: np.ndarray) -> None:
        import av

        width, height = self.size
        frame = np.ascontiguousarray(frame[:height, :width], dtype=np.uint8)
        video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
        if self.times is None:
            self._pts = self.count
        else:  # its own time, on a clock fine enough that no two frames share a tick
            self._pts = max(self._pts + 1, round(self.times[self.count] / self.base))
        video_frame.pts = self._pts
        video_frame.time_base = self.base
        try:
            for packet in self.stream.encode(video_frame):
                self.container.mux(packet)
            self.count += 1
            self._audio_until(self._written())
        except (av.error.FFmpegError, OSError) as error:
            raise OutputError(f"output '{self.path}' could not be written ({error}): check the folder's free "
                              f"space, or choose another format (.mp4)") from None

    def _written(self) -> float:
        """Seconds of video written: to the end of the last frame (it lasts 1/fps)."""
        if self.times is None:
            return float(self.count / self.fps)
        return self.times[self.count - 1] + float(1 / self.fps)

    def _audio_until(self, seconds: float | None) -> None:
        """Mux the audio packets up to `seconds` of output time (None: all that are left in range)."""
        base = self._audio_stream.time_base if self._packets is not None else None
        while self._packets is not None:
            packet, self._pending = self._pending or next(self._packets, None), None
            if packet is None:
                self._packets = None
                return
            if packet.pts is None or packet.size == 0:
                continue
            at = float(packet.pts * base)
            if at < self._start and not self._lead:
                continue
            if self._end is not None and at >= self._end:
                self._packets = None
                return
            if seconds is not None and at - self._start > seconds:
                self._pending = packet
                return
            self._mux_audio(packet, round((at - self._start) / base))

    def _mux_audio(self, packet, pts: int) -> None:
        if not self._transcode:
            shift = pts - packet.pts
            packet.pts = pts
            if packet.dts is not None:
                packet.dts += shift
            packet.stream = self._audio_out
            self.container.mux(packet)
            return
        for frame in packet.decode():
            frame.pts = None
            for out in self._audio_out.encode(frame):
                self.container.mux(out)

    def close(self) -> Path:
        """Flush the encoder, add the remaining audio in range, and give the file its name."""
        import av

        try:
            for packet in self.stream.encode(None):
                self.container.mux(packet)
            if self.count:
                self._audio_until(None if self._end is None else self._written())
            if self._transcode and self._audio_out is not None:
                for packet in self._audio_out.encode(None):
                    self.container.mux(packet)
            self.container.close()
        except (av.error.FFmpegError, OSError) as error:
            self.abort()
            raise OutputError(f"output '{self.path}' could not be written ({error}): check the folder's free "
                              f"space") from None
        finally:
            if self._audio_in is not None:
                self._audio_in.close()
        os.replace(self.temporary, self.path)
        return self.path

    def abort(self) -> None:
        try:
            self.container.close()
        except Exception:  # the file is being thrown away
            pass
        self.temporary.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        if kind is None:
            self.close()
        else:
            self.abort()
        return False


def _codec_name(stream) -> str:
    """The codec's own name (FFmpeg's decoder names some by implementation: mp3float is mp3)."""
    import av

    name = stream.codec_context.name
    try:
        descriptor = av.codec.Codec(name, "r")
        return {"mp3float": "mp3", "aac_fixed": "aac", "ac3_fixed": "ac3"}.get(descriptor.name, descriptor.name)
    except Exception:  # an unknown decoder: take its name as it is
        return name


def read_frame(path: Path) -> np.ndarray:
    """A frame saved as PNG (the work folder's, or a folder output's), as uint8 RGB."""
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))
