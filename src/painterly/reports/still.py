"""A still's report: `Report` takes a run's records as they come and writes its folder at the end.

It keeps snapshots of chosen steps on disk (``iterations/``); `finish` writes the tables, the graphs, the
contact sheet, the metadata, and ``index.html`` last, so its presence means the report is whole. A folder
is checked first (`check_folder`): never an input, never a user's files, a report only with overwrite."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from .. import images
from ..errors import OutputError
from ..events import Iterate, Result
from ..files import same_file, write_atomic
from .graphs import GRAPHS
from .page import html_page
from .sheets import MAX_TILES, contact_sheet, png_bytes, subsample, to_pil
from .tables import TABLE_WRITERS, has_losses, input_filename, json_bytes, loss_table, run_metadata


REPORT_MARKERS = ("index.html", "table.csv")  # files whose presence means "a report lives here"


SNAPSHOT_DIR = "iterations"


SNAPSHOT_NAME = re.compile(r"s\d+_\d{5}\.png")


@dataclass(frozen=True)
class _Snapshot:
    scale: int
    step: int
    scales: int
    path: Path


class Report:
    """Collects a run's records and writes its report folder.

    directory: the report folder; its parent must exist. A folder already holding a report is refused
        unless `overwrite` is true.
    save_every: save the image of every step that is a multiple of this (0 included) as
        `iterations/s{scale}_{step:05d}.png`; the last step of each scale is saved too. 0 saves none.
    """

    def __init__(self, directory: str | os.PathLike, *, save_every: int = 0, overwrite: bool = False,
                 styles: int = 1, inputs: Iterable = ()):
        """styles: how many style images the run has (their copies are report files too); inputs: the
        run's input files, which the report never replaces, with or without `overwrite`."""
        if save_every < 0:
            raise OutputError(f"save_every must be 0 (off) or a positive number of steps, not {save_every}.")
        self.directory = Path(directory)
        self.save_every = int(save_every)
        self.inputs = [Path(p) for p in inputs if p is not None]
        self.names = report_files(styles)
        self._check_folder(overwrite)
        self._make_folder()
        self._stale = overwrite  # an old report's snapshots, removed once the run has begun (after every check)
        self._snapshots: list[_Snapshot] = []
        self._latest: Iterate | None = None

    def add(self, record: Iterate) -> None:
        """Take one record; save its image now when its step is due."""
        if self._stale:
            self._remove_old_snapshots()
        latest = self._latest
        if latest is not None and latest.scale != record.scale:
            self._save_if_unsaved(latest)  # the last step of the scale that just ended
        if record.image is not None:
            self._latest = record
            if self.save_every > 0 and record.step % self.save_every == 0:
                self._save_snapshot(record)

    def finish(self, result: Result, inputs: Mapping[str, np.ndarray]) -> Path:
        """Write every output of the run and return the path of `index.html`."""
        if self._stale:
            self._remove_old_snapshots()
        if self._latest is not None:
            self._save_if_unsaved(self._latest)
        rows = loss_table(result.history)
        files = _build_files(result, inputs, rows, self._snapshots)
        for name, data in files.items():
            write_atomic(self.directory / name, data)
        page = html_page(result, inputs, rows, files, self._snapshot_note())
        index = self.directory / "index.html"
        write_atomic(index, page.encode("utf-8"))  # last, so its presence means the report is whole
        return index

    # -- folder checks --------------------------------------------------------------------------------

    def _check_folder(self, overwrite: bool) -> None:
        check_folder(self.directory, self.names, overwrite=overwrite, inputs=self.inputs)

    def _make_folder(self) -> None:
        try:
            self.directory.mkdir(exist_ok=True)
        except OSError as error:
            raise OutputError(
                f"Report folder {self.directory} cannot be created ({error.strerror or error}); "
                "choose another folder."
            ) from error

    def _remove_old_snapshots(self) -> None:
        remove_old_snapshots(self.directory)
        self._stale = False

    # -- snapshots ------------------------------------------------------------------------------------

    def _save_if_unsaved(self, record: Iterate) -> None:
        last = self._snapshots[-1] if self._snapshots else None
        if self.save_every > 0 and (last is None or (last.scale, last.step) != (record.scale, record.step)):
            self._save_snapshot(record)

    def _save_snapshot(self, record: Iterate) -> None:
        folder = self.directory / SNAPSHOT_DIR
        _make_dir(folder)
        path = folder / f"s{record.scale}_{record.step:05d}.png"
        write_atomic(path, png_bytes(to_pil(record.image)))
        self._snapshots.append(_Snapshot(record.scale, record.step, record.scales, path))

    def _snapshot_note(self) -> str:
        if self.save_every == 0:
            return "No per-iteration images were saved (save_every was 0), so there is no contact sheet."
        if not self._snapshots:
            return "No per-iteration images were recorded, so there is no contact sheet."
        return ""


def check_folder(folder: Path, names: Sequence[str], *, overwrite: bool, inputs: Iterable[Path] = ()) -> None:
    """Refuse a report folder whose report files (`names`) would replace an input (always), a report
    (unless `overwrite`) or files no painterly report wrote (always). Raises OutputError."""
    folder = Path(folder)
    if not folder.parent.is_dir():
        raise OutputError(
            f"Report folder {folder} cannot be created: its parent {folder.parent} does not exist; "
            "create it first or choose another folder."
        )
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"Report path {folder} is a file, not a folder; choose another folder.")
    for name in names:
        if any(same_file(folder / name, source) for source in inputs):
            raise OutputError(f"Report folder {folder} holds the input {folder / name}, which a report would "
                              "replace and inputs are never overwritten: choose another folder.")
    existing = [name for name in REPORT_MARKERS if (folder / name).exists()]
    if existing and not overwrite:
        raise OutputError(
            f"Report folder {folder} already holds a report ({', '.join(existing)}); "
            "pass --overwrite to replace it or choose another folder."
        )
    clashing = [name for name in names if (folder / name).exists()]
    if clashing and not existing:  # files of the user's own that happen to have a report's names
        shown = ", ".join(clashing[:3]) + (" …" if len(clashing) > 3 else "")
        raise OutputError(f"Report folder {folder} holds {shown}, which a report would replace and no "
                          "painterly report wrote: choose an empty or new folder.")


def remove_old_snapshots(folder: Path) -> None:
    """An overwritten report must not show a previous run's snapshots: remove only files we name."""
    snapshots = Path(folder) / SNAPSHOT_DIR
    if snapshots.is_dir():
        for path in snapshots.iterdir():
            if SNAPSHOT_NAME.fullmatch(path.name) and path.is_file():
                path.unlink()


def report_files(styles: int = 1) -> list[str]:
    """The names of the files a report writes at its top level (snapshots go in SNAPSHOT_DIR)."""
    inputs = ["content"] + ["style" if i == 0 else f"style {i + 1}" for i in range(styles)]
    return ["result.png", *map(input_filename, inputs), *TABLE_WRITERS, *GRAPHS, "contact_sheet.png",
            "metadata.json", "index.html"]


def _build_files(
    result: Result,
    inputs: Mapping[str, np.ndarray],
    rows: list[dict],
    snapshots: Sequence[_Snapshot],
) -> dict[str, bytes]:
    """Every file of the report except index.html, by name, in the order they are written."""
    files = {"result.png": png_bytes(to_pil(result.image, result.alpha))}
    files.update({input_filename(name): png_bytes(to_pil(image)) for name, image in inputs.items()})
    if not has_losses(result):  # a feed-forward method: one picture, nothing minimised, no table to draw
        files["metadata.json"] = json_bytes(run_metadata(result))
        return files
    files.update({name: writer(rows) for name, writer in TABLE_WRITERS.items()})
    files.update({name: graph(rows) for name, graph in GRAPHS.items()})
    if snapshots:
        chosen = subsample(list(snapshots), MAX_TILES)
        several = len({s.scale for s in snapshots}) > 1 or any(s.scales > 1 for s in snapshots)
        captions = [f"s{s.scale} Itn-{s.step}" if several else f"Itn-{s.step}" for s in chosen]
        files["contact_sheet.png"] = png_bytes(contact_sheet([s.path for s in chosen], captions))
    files["metadata.json"] = json_bytes(run_metadata(result))
    return files


def _make_dir(folder: Path) -> None:
    try:
        folder.mkdir(exist_ok=True)
    except OSError as error:
        raise OutputError(f"Cannot create {folder} ({error.strerror or error}); check the folder.") from error
