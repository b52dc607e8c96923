"""painterly video against a hostile tester (issue 23's video items, issue 21's seam bugs 4 and 7): a work folder
painterly did not make, two runs on one folder, phone clips with a display matrix, variable frame rates, bad
numbers, a replaced input, a user's own report files, a hard link to the input. Real files, made here with PyAV."""

import json
import os
import struct
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")

from painterly.settings import Settings  # noqa: E402
from painterly.video import VideoJob, run_video  # noqa: E402
from test_video import (STYLE, fast_job, make_clip, moving_frames, network,  # noqa: E402,F401 (a fixture)
                        one_error_line, read_video, run_cli, texture)


def user_files(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative name -> bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- item 1: a work folder painterly did not make


def test_a_work_folder_painterly_did_not_make_is_refused_and_left_untouched(tmp_path, capsys):
    from PIL import Image

    clip = make_clip(tmp_path / "in.mp4", moving_frames(4), fps=4)
    project = tmp_path / "proj"
    (project / "frames").mkdir(parents=True)
    for i in range(3):
        Image.fromarray(texture(32, 24, seed=i)).save(project / "frames" / f"{i:06d}.png")
    Image.fromarray(texture(32, 24, seed=9)).save(project / "holiday.png")
    before = user_files(project)
    code, err = run_cli(capsys, clip, STYLE, "-o", tmp_path / "out.mp4", "--size", 64, "--work", project)
    line = one_error_line(err)
    assert code == 2 and "proj" in line and "not made by painterly" in line and "--work" in line, line
    for flags in (["--overwrite"], ["--resume"], ["--overwrite", "--keep-work"]):
        code, err = run_cli(capsys, clip, STYLE, "-o", tmp_path / "out.mp4", "--size", 64, "--work", project, *flags)
        assert code == 2 and "not made by painterly" in one_error_line(err), flags
    assert user_files(project) == before
    assert not (tmp_path / "out.mp4").exists()


def test_an_empty_folder_given_to_work_is_used_and_kept(tmp_path, capsys):
    clip = make_clip(tmp_path / "in.mp4", moving_frames(4), fps=4)
    empty = tmp_path / "scratch"
    empty.mkdir()
    code, err = run_cli(capsys, clip, STYLE, "-o", tmp_path / "out.mp4", "--size", 64, "--work", empty, "--quiet")
    assert code == 0, err
    assert len(read_video(tmp_path / "out.mp4")[0]) == 4
    assert empty.is_dir() and not any(empty.iterdir())  # the user's folder stays, emptied of painterly's files


def test_the_work_folder_cannot_be_the_output_or_report_folder(tmp_path, capsys):
    clip = make_clip(tmp_path / "in.mp4", moving_frames(3), fps=3)
    frames = tmp_path / "frames"
    for argv in (["-o", f"{frames}/", "--work", frames], ["-o", tmp_path / "out.mp4", "--report", frames,
                                                          "--work", frames]):
        code, err = run_cli(capsys, clip, STYLE, *argv, "--size", 64)
        line = one_error_line(err)
        assert code == 2 and "--work" in line and "a folder of its own" in line, line
        assert not frames.exists()


# -- item 14 (and 1): clean-up removes only what painterly wrote


def test_clean_up_leaves_files_painterly_did_not_write(tmp_path, network, capsys):
    clip = make_clip(tmp_path / "in.mp4", moving_frames(6), fps=6)
    out = tmp_path / "out.mp4"
    stopped = run_video(fast_job(clip, out), network=network, listen=lambda frame: frame.index < 1)
    work = tmp_path / "out.mp4.work"
    assert stopped.stopped == "cancelled" and (work / "frames").is_dir()
    (work / "frames" / "notes.txt").write_text("mine")
    (work / "frames" / "mine.png").write_bytes(b"not painterly's")
    (work / "holiday.jpg").write_bytes(b"mine too")
    code, err = run_cli(capsys, clip, STYLE, "-o", out, "--size", 64, "--resume")
    assert code == 0 and "Traceback" not in err, err
    assert len(read_video(out)[0]) == 6
    assert user_files(work) == {"frames/notes.txt": b"mine", "frames/mine.png": b"not painterly's",
                                "holiday.jpg": b"mine too"}
    assert "left" in err and "frames" in err  # says why the folder stays


# -- item 6: two runs on one work folder


def test_a_second_run_on_a_work_folder_in_use_is_refused(tmp_path, network, capsys):
    from painterly.video.runner import VideoRun

    clip = make_clip(tmp_path / "in.mp4", moving_frames(5), fps=5)
    out = tmp_path / "out.mp4"
    first = VideoRun(fast_job(clip, out), network=network)  # holds the work folder until it ends
    code, err = run_cli(capsys, clip, STYLE, "-o", out, "--size", 64, "--overwrite")
    line = one_error_line(err)
    assert code == 2 and "out.mp4.work" in line and "in use by another painterly run" in line, line
    code, err = run_cli(capsys, clip, STYLE, "-o", out, "--size", 64, "--resume")
    assert code == 2 and "in use" in one_error_line(err)
    outcome = first.execute(None)  # the first run's frames were not touched
    assert outcome.stopped == "completed" and outcome.frames == 5 and outcome.code == 0
    assert len(read_video(out)[0]) == 5 and not (tmp_path / "out.mp4.work").exists()
    code, err = run_cli(capsys, clip, STYLE, "-o", out, "--size", 64, "--overwrite", "--quiet")
    assert code == 0, err  # the folder is free again once the first run ended


# -- item 4: a phone clip's display matrix


def set_rotation(path: Path, rotation: int) -> Path:
    """Give the MP4's video track the display matrix of `rotation` degrees (FFmpeg's sign: -90 is what a phone
    held upright writes, the picture stored landscape), as a phone does: in the track header's matrix."""
    data = bytearray(path.read_bytes())
    at = data.find(b"tkhd")
    version = data[at + 4]
    matrix = at + 8 + (28 if version == 1 else 20) + 8 + 8  # after the times, track id, duration, layer …
    theta = np.deg2rad(-rotation)
    one = 1 << 16
    a, b = round(np.cos(theta) * one), round(np.sin(theta) * one)
    data[matrix:matrix + 36] = struct.pack(">9i", a, b, 0, -b, a, 0, 0, 0, 1 << 30)
    path.write_bytes(bytes(data))
    with av.open(str(path)) as container:
        assert next(container.decode(video=0)).rotation % 360 == rotation % 360  # FFmpeg reads it as a phone's
    return path


def corner_clip(path: Path, count: int = 4) -> Path:
    """Landscape 64×48 frames, dark but for a white block in the stored top-left corner."""
    frames = []
    for _ in range(count):
        frame = np.full((48, 64, 3), 30, np.uint8)
        frame[:16, :20] = 255
        frames.append(frame)
    return make_clip(path, frames, fps=4)


def bright_corner(frame: np.ndarray) -> str:
    height, width = frame.shape[:2]
    grey = frame.astype(float).mean(axis=2)
    quarters = {"top-left": grey[:height // 3, :width // 3], "top-right": grey[:height // 3, -(width // 3):],
                "bottom-left": grey[-(height // 3):, :width // 3],
                "bottom-right": grey[-(height // 3):, -(width // 3):]}
    return max(quarters, key=lambda name: quarters[name].mean())


@pytest.mark.parametrize("rotation, size, corner", [(-90, (48, 64), "top-right"), (90, (48, 64), "bottom-left"),
                                                     (180, (64, 48), "bottom-right")])
def test_a_rotated_clip_is_read_upright(tmp_path, rotation, size, corner):
    from painterly.video.source import open_source

    clip = set_rotation(corner_clip(tmp_path / "phone.mp4"), rotation)
    source = open_source(clip)
    assert source.info.size == size
    frames = list(source)
    assert len(frames) == 4 and all((f.shape[1], f.shape[0]) == size for f in frames)
    assert bright_corner(frames[0]) == corner


def test_a_phone_clip_is_painted_and_written_upright(tmp_path, capsys):
    clip = set_rotation(corner_clip(tmp_path / "phone.mp4"), -90)
    out = tmp_path / "out.mp4"
    code, err = run_cli(capsys, clip, STYLE, "-o", out, "--size", 64, "--temporal", "none", "--quiet")
    assert code == 0, err
    with av.open(str(out)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 4
    assert (frames[0].width, frames[0].height) == (48, 64)  # portrait, as the phone showed it
    assert all(frame.rotation == 0 for frame in frames)  # stored upright: no matrix left to turn it again


def test_the_web_app_paints_a_phone_clip_upright(tmp_path):
    pytest.importorskip("fastapi", reason='the web app needs pip install "painterly[web]"')
    pytest.importorskip("httpx")
    import io

    from fastapi.testclient import TestClient

    from painterly.web.app import create_app
    from tests.conftest import wait

    clip = set_rotation(corner_clip(tmp_path / "phone.mp4"), -90)
    files = [("video", ("phone.mp4", clip.read_bytes(), "video/mp4")),
             ("style", ("starry.jpg", Path(STYLE).read_bytes(), "image/jpeg"))]
    with TestClient(create_app(tmp_path / "data")) as client:
        response = client.post("/api/videos", files=files, data={"size": "64"})
        assert response.status_code == 201, response.text
        job = response.json()
        assert job["video"]["clip"]["size"] == [48, 64]  # the clip as the phone showed it
        done = wait(client, job["id"], {"completed", "failed", "cancelled", "interrupted"}, seconds=120)
        assert done["state"] == "completed", done
        result = client.get(f"/api/jobs/{job['id']}/result").content
    with av.open(io.BytesIO(result)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 4 and (frames[0].width, frames[0].height) == (48, 64)
    assert all(frame.rotation == 0 for frame in frames)


# -- items 5 and 22: variable frame rate


VFR_TIMES = [i * 0.04 for i in range(10)] + [0.4 + i * 0.25 for i in range(1, 11)]  # 25/s, then 4/s


def make_vfr_clip(path: Path, times=VFR_TIMES) -> Path:
    """Frames at the given times (seconds), in a millisecond time base: a variable-frame-rate clip."""
    base = Fraction(1, 1000)
    frames = moving_frames(len(times))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = base
        for rgb, seconds in zip(frames, times):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = round(seconds / base), base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def frame_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        times = [frame.time for frame in container.decode(video=0)]
    return [t - times[0] for t in times]


def test_a_variable_frame_rate_mkv_is_not_called_damaged(tmp_path, capsys):
    clip = make_vfr_clip(tmp_path / "vfr.mkv")
    with av.open(str(clip)) as container:  # the container's rate and length announce far more frames
        stream = container.streams.video[0]
        assert container.duration / 1e6 * stream.average_rate > 2 * len(VFR_TIMES)
    out = tmp_path / "out.mp4"
    code, err = run_cli(capsys, clip, STYLE, "-o", out, "--size", 64)
    assert code == 0 and "damaged" not in err, err
    assert f"({len(VFR_TIMES)} frames, 2.94 s," in err  # its length, not the frames at the average rate
    assert len(read_video(out)[0]) == len(VFR_TIMES)
    assert frame_times(out)[-1] == pytest.approx(VFR_TIMES[-1], abs=0.002)  # lasts as long as the input


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_a_variable_frame_rate_clip_keeps_each_frames_time(tmp_path, network, suffix):
    clip = make_vfr_clip(tmp_path / "vfr.mp4")
    assert frame_times(clip) == pytest.approx(VFR_TIMES, abs=0.001)
    out = tmp_path / f"out{suffix}"
    outcome = run_video(fast_job(clip, out), network=network)
    assert outcome.stopped == "completed" and outcome.frames == len(VFR_TIMES)
    assert frame_times(out) == pytest.approx(VFR_TIMES, abs=0.002)  # not re-timed to the average rate


def test_a_constant_rate_clip_keeps_its_rate_and_times(tmp_path, network):
    clip = make_clip(tmp_path / "cfr.mp4", moving_frames(6), fps=12)
    out = tmp_path / "out.mp4"
    run_video(fast_job(clip, out), network=network)
    frames, rate = read_video(out)
    assert len(frames) == 6 and rate == 12
    assert frame_times(out) == pytest.approx([i / 12 for i in range(6)], abs=1e-6)


def test_a_clip_whose_decoder_gives_times_out_of_order_keeps_its_rate(tmp_path, network):
    from test_video import SHARED_VIDEOS

    box = SHARED_VIDEOS / "box.mp4"
    if not box.is_file():
        pytest.skip(f"{box} is not here (../shared/videos is beside the checkout in CI)")
    with av.open(str(box)) as container:  # its frames carry their packets' times, in decode order
        times = [frame.time for _, frame in zip(range(12), container.decode(video=0))]
    assert times != sorted(times)
    out = tmp_path / "box.mp4"
    run_video(fast_job(box, out, frames=12), network=network)
    frames, rate = read_video(out)
    assert len(frames) == 12 and rate == Fraction(456000, 15217)  # the file's own rate, not times re-sorted


# -- item 15: bad numbers for --start, --duration, --fps


@pytest.mark.parametrize("flag, value", [
    ("--start", "nan"), ("--start", "inf"), ("--start", "-1"),
    ("--duration", "nan"), ("--duration", "inf"), ("--duration", "-inf"), ("--duration", "0"), ("--duration", "-5"),
    ("--duration", "1e-9"),
    ("--fps", "nan"), ("--fps", "inf"), ("--fps", "1e-9"), ("--fps", "-5"), ("--fps", "0"),
])
def test_bad_start_duration_and_fps_are_refused_in_one_line(tmp_path, capsys, flag, value):
    from PIL import Image

    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(moving_frames(3)):
        Image.fromarray(frame).save(folder / f"{i:03d}.png")
    clip = make_clip(tmp_path / "in.mp4", moving_frames(3), fps=3)
    for source in (folder, clip) if flag != "--fps" else (folder,):
        out = tmp_path / "out.mp4"
        code, err = run_cli(capsys, source, STYLE, "-o", out, "--size", 64, f"{flag}={value}")
        line = one_error_line(err)
        assert code == 2 and flag in line and f"{float(value):g}" in line, line
        assert not out.exists() and not (tmp_path / "out.mp4.work").exists()


# -- item 16: --resume after the input was replaced


def test_resume_refuses_an_input_replaced_by_another_clip(tmp_path, network, capsys):
    clip = tmp_path / "in.mp4"
    make_clip(clip, moving_frames(6), fps=6)
    original = clip.read_bytes()
    out = tmp_path / "out.mp4"
    run_video(fast_job(clip, out), network=network, listen=lambda frame: frame.index < 1)
    work = tmp_path / "out.mp4.work"
    before = user_files(work)
    other = [np.ascontiguousarray(frame[:, ::-1]) for frame in moving_frames(6)]  # same size, length and rate
    make_clip(clip, other, fps=6)
    code, err = run_cli(capsys, clip, STYLE, "-o", out, "--size", 64, "--resume")
    line = one_error_line(err)
    assert code == 2 and "in.mp4" in line and "not the input" in line and "--overwrite" in line, line
    assert user_files(work) == before
    clip.write_bytes(original)  # the same clip again, put back (a new file of the same bytes): resumed
    code, err = run_cli(capsys, clip, STYLE, "-o", out, "--size", 64, "--resume", "--quiet")
    assert code == 0, err


# -- item 17: a user's own files in the report folder


def test_report_overwrite_never_replaces_the_users_own_files(tmp_path, network, capsys):
    clip = make_clip(tmp_path / "in.mp4", moving_frames(4), fps=4)
    report = tmp_path / "report"
    report.mkdir()
    (report / "index.html").write_text("<p>my page</p>")
    (report / "frames.csv").write_text("my,table\n")
    before = user_files(report)
    code, err = run_cli(capsys, clip, STYLE, "-o", tmp_path / "out.mp4", "--size", 64, "--report", report,
                        "--overwrite")
    line = one_error_line(err)
    assert code == 2 and "report" in line and "index.html" in line and "painterly" in line, line
    assert user_files(report) == before and not (tmp_path / "out.mp4").exists()
    ours = tmp_path / "ours"  # a report painterly wrote is replaced with --overwrite, as before
    run_video(fast_job(clip, tmp_path / "a.mp4", report=ours), network=network)
    code, err = run_cli(capsys, clip, STYLE, "-o", tmp_path / "b.mp4", "--size", 64, "--report", ours,
                        "--overwrite", "--quiet")
    assert code == 0, err
    assert json.loads((ours / "summary.json").read_text())["output"].endswith("b.mp4")


def test_overwrite_never_replaces_a_users_pictures_in_a_frame_folder_output(tmp_path, network, capsys):
    from PIL import Image

    clip = make_clip(tmp_path / "in.mp4", moving_frames(3), fps=3)
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    for i in range(5):
        Image.fromarray(texture(32, 24, seed=i)).save(pictures / f"{i:06d}.png")
    before = user_files(pictures)
    code, err = run_cli(capsys, clip, STYLE, "-o", f"{pictures}/", "--size", 64, "--overwrite")
    line = one_error_line(err)
    assert code == 2 and "pictures" in line and "no painterly run wrote" in line, line
    assert user_files(pictures) == before
    ours = tmp_path / "ours/"  # frames painterly wrote are replaced with --overwrite, as before
    run_video(fast_job(clip, ours), network=network)
    code, err = run_cli(capsys, clip, STYLE, "-o", f"{ours}/", "--size", 64, "--overwrite", "--quiet")
    assert code == 0 and len(list((tmp_path / "ours").glob("*.png"))) == 3, err


# -- item 21: the help says what a video's method is


def test_video_help_says_the_fast_method_is_the_default():
    from painterly.video.cli import build_parser

    text = " ".join(build_parser().format_help().split())
    assert "(--method optimise, the default)" not in text
    assert "--method {optimise,fast}" in text
    method_help = text.split("--method {optimise,fast}")[-1].split(" --")[0]  # the flag's help, not the usage
    assert "default: fast" in method_help and "optimise)" not in method_help, method_help


# -- issue 21, seam 4: the fast method on video honours --tile and checks memory


def test_fast_video_paints_in_the_tiles_asked_for(tmp_path, network):
    from painterly.video.temporal import FastFrames

    frames = moving_frames(2, 320, 240)
    clip = make_clip(tmp_path / "wide.mp4", frames, fps=2)
    settings = Settings(method="fast", size=320, tile=256)
    outcome = run_video(VideoJob(clip, (STYLE,), settings, output=tmp_path / "tiled/", temporal="none"),
                        network=network)
    assert outcome.metadata["painter"]["tile"] == 256
    painted = np.asarray(__import__("PIL.Image").Image.open(tmp_path / "tiled" / "000000.png"))
    from painterly.video.source import open_source

    first = next(iter(open_source(clip)))
    from painterly.images import load_image, to_uint8

    style = load_image(STYLE).rgb
    tiled = to_uint8(FastFrames([style], settings, (320, 240), first, network=network, tile=256).paint(first))
    whole = to_uint8(FastFrames([style], settings, (320, 240), first, network=network, tile=None).paint(first))
    assert np.abs(tiled.astype(int) - whole.astype(int)).max() > 0  # tiling shows in the pixels
    np.testing.assert_array_equal(painted, tiled)


def test_fast_video_too_large_for_memory_is_refused_before_the_first_frame(tmp_path, capsys):
    clip = make_clip(tmp_path / "in.mp4", moving_frames(2), fps=2)
    out = tmp_path / "out.mp4"
    code, err = run_cli(capsys, clip, STYLE, "-o", out, "--size", 16000, "--tile", "off")
    line = one_error_line(err)
    assert code == 2 and "memory" in line and "--tile auto" in line, line
    assert not out.exists() and not (tmp_path / "out.mp4.work").exists()


# -- issue 21, seam 7: a hard link or symbolic link to the input is the input


@pytest.mark.parametrize("link", [os.link, os.symlink])
def test_a_link_to_the_input_is_never_the_output(tmp_path, capsys, link):
    clip = make_clip(tmp_path / "in.mp4", moving_frames(3), fps=3)
    original = clip.read_bytes()
    out = tmp_path / "linked.mp4"
    link(clip, out)
    code, err = run_cli(capsys, clip, STYLE, "-o", out, "--size", 64, "--overwrite")
    assert code == 2 and "never overwritten" in one_error_line(err)
    assert clip.read_bytes() == original
