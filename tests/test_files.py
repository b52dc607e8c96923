"""painterly.files: atomic writes, inputs recognised through links, folders painterly owns and locks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from painterly import files
from painterly.errors import OutputError

SRC = str(Path(files.__file__).resolve().parents[1])


def test_write_atomic_replaces_whole_files_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "job.json"
    files.write_atomic(target, b"first")
    files.write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == ["job.json"]
    with pytest.raises(OutputError, match="missing"):
        files.write_atomic(tmp_path / "missing" / "x.json", b"")


@pytest.mark.parametrize("link", [os.link, os.symlink])
def test_an_input_is_recognised_by_path_symbolic_link_and_hard_link(tmp_path, link):
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"video")
    linked = tmp_path / "other.mp4"
    link(source, linked)
    assert files.same_file(linked, source) and files.same_file(tmp_path / "." / "clip.mp4", source)
    assert not files.same_file(tmp_path / "new.mp4", source)
    with pytest.raises(OutputError, match="never overwritten"):
        files.refuse_inputs(linked, [None, source])
    files.refuse_inputs(tmp_path / "new.mp4", [source])  # a new name passes


def test_a_claim_makes_marks_and_discards_its_folder(tmp_path):
    folder = tmp_path / "work"
    claim = files.claim(folder)
    assert claim.made and claim.created and files.owned(folder)
    (folder / "frames").mkdir()
    claim.release()
    again = files.claim(folder)  # painterly's own, taken back
    assert again.made and not again.created
    (folder / "frames").rmdir()
    assert again.discard() and not folder.exists()


def test_a_claim_refuses_a_folder_with_things_in_it_and_adopts_an_empty_one(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "holiday.png").write_bytes(b"picture")
    with pytest.raises(OutputError, match="not made by painterly and holds holiday.png"):
        files.claim(mine)
    assert [p.name for p in mine.iterdir()] == ["holiday.png"]
    empty = tmp_path / "empty"
    empty.mkdir()
    claim = files.claim(empty)
    assert not claim.made and files.owned(empty)
    assert not claim.discard() and empty.is_dir() and not any(empty.iterdir())  # the user's folder stays


def test_a_folder_another_process_holds_is_refused_until_it_ends(tmp_path):
    folder = tmp_path / "work"
    script = ("import sys; from painterly import files; "
              "held = files.claim(sys.argv[1]); print('held', flush=True); sys.stdin.read()")  # held till stdin ends
    holder = subprocess.Popen([sys.executable, "-c", script, str(folder)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": SRC})
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputError, match=rf"in use by another painterly run \(process {holder.pid}\)"):
            files.claim(folder)
    finally:
        holder.communicate("", timeout=60)  # the holder ends: its lock goes with it
    claim = files.claim(folder)
    assert claim.made  # painterly made it (the other process did)
    claim.discard()


def test_a_stream_is_written_whole_or_not_at_all(tmp_path):
    """write_stream copies a readable stream in chunks through a unique temporary file: the file appears whole,
    no temporary file is left, and a stream that fails halfway leaves the old file as it was."""
    import io

    from painterly import files

    target = tmp_path / "upload.bin"
    data = bytes(range(256)) * 5000  # 1.28 MB: several chunks
    files.write_stream(target, io.BytesIO(data))
    assert target.read_bytes() == data and sorted(p.name for p in tmp_path.iterdir()) == ["upload.bin"]

    class Broken(io.RawIOBase):
        def readinto(self, buffer):
            raise OSError(5, "Input/output error")

    with pytest.raises(OutputError, match="upload.bin' could not be written"):
        files.write_stream(target, Broken())
    assert target.read_bytes() == data and sorted(p.name for p in tmp_path.iterdir()) == ["upload.bin"]
