"""Running a batch: `run_batch` plans the items, paints them here or on Ray, and writes what comes back.

Whoever runs the batch holds the output folder: the workers send their pixels back and this process
writes every picture atomically (`Finisher`), so a picture in the folder is whole, then appends the
item's line to the record. Ctrl-C stops the batch; the pictures done so far and their records are kept.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from ..errors import OutputError, PainterlyError
from .items import Item
from .plan import Task, plan, resolve_models, task_files
from .records import RecordError, append_record
from .worker import Painter


@dataclass
class Summary:
    """What `run_batch` did."""

    done: list[str] = dataclasses.field(default_factory=list)
    failed: dict[str, str] = dataclasses.field(default_factory=dict)  # name -> reason
    skipped: list[str] = dataclasses.field(default_factory=list)  # done before, with the same inputs and settings
    code: int = 0  # 0; 130 (Ctrl-C) or 143 (SIGTERM): stopped, the rest left for the next run
    seconds: float = 0.0
    startup_s: float = 0.0  # connecting to Ray and starting the workers (0 with ray="off")
    workers: int = 1
    error: str | None = None  # why the batch stopped before its end (its record cannot be written); code 2



def run_batch(items: Sequence[Item], folder: str | os.PathLike, *, ray: str = "off", workers: int | None = None,
              threads: int | None = None, overwrite: bool = False, report: str | os.PathLike | None = None,
              listen: Callable[[dict], None] | None = None, notice: Callable[[str], None] | None = None,
              ray_timeout: float | None = None) -> Summary:
    """Paint `items` into `folder` (created if its parent exists) and return what happened.

    ray: "off" (one by one in this process), "local" (Ray started on this machine, on 127.0.0.1, sized to
        its cores) or a cluster's address ("HOST:6379", "auto", "ray://HOST:10001").
    ray_timeout: seconds a cluster's address has to answer (default `cluster.connect_timeout()`: 30).
    workers, threads: Ray actors and threads per actor (default: as many actors as the cluster's CPUs
        allow at `threads` (default 1) each, at most one per item).
    report: a folder for the still's report of each item painted (index.html, tables, graphs), in a folder
        of its own named as the picture without its suffix (`REPORT/chicago__candy/index.html`), written
        by this process like the pictures; an item skipped as done before keeps the report it had.
    listen: called with each finished item's record (also the refused ones); may raise KeyboardInterrupt.
    Ctrl-C (KeyboardInterrupt) stops the batch and keeps what is done: the summary's code is then 130.
    """
    from ..interrupts import EXIT_OK, exit_code

    folder = _output_folder(Path(folder))
    started = time.perf_counter()
    say = notice or (lambda message: None)
    items = resolve_models(items, say)
    report = _report_folder(Path(report), folder) if report is not None else None
    todo, skipped, refused = plan(items, folder, overwrite=overwrite, report=report)
    summary = Summary(skipped=skipped)
    finish = Finisher(folder, summary, listen)
    code = EXIT_OK
    try:
        for name in skipped:
            if listen is not None:
                listen({"name": name, "state": "skipped"})
        for name, reason in refused.items():
            finish.failed(next(i for i in items if i.name == name), reason)
        if todo and ray == "off":
            _run_here(todo, finish, threads)
        elif todo:
            from .. import cluster

            cluster.run(todo, finish, painter=Painter, files=task_files, address=ray, workers=workers, threads=threads,
                        summary=summary, notice=say, timeout=ray_timeout)
    except KeyboardInterrupt as stop:
        code = exit_code(stop)
    except RecordError as error:  # a full disk: every later item would fail the same way
        summary.error, code = str(error), 2
    summary.code = code
    summary.seconds = time.perf_counter() - started
    return summary


def _report_folder(folder: Path, output: Path) -> Path:
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"report folder '{folder}' is a file: give a folder for the items' reports")
    if not folder.parent.is_dir():
        raise OutputError(f"the folder '{folder.parent}' of the report folder does not exist: create it first")
    try:
        folder.mkdir(exist_ok=True)
    except OSError as error:
        raise OutputError(f"report folder '{folder}' cannot be made ({error.strerror}): choose another") from None
    return folder


def _write_report(folder: Path, files: dict[str, bytes]) -> Path:
    """An item's report files, each atomically, index.html last (its presence means the report is whole)."""
    from ..files import write_atomic
    from ..reports import remove_old_snapshots

    remove_old_snapshots(folder)  # the folder was checked (`_check_report`): a report of ours, or none
    names = sorted(files, key=lambda name: name == "index.html")
    for name in names:
        path = folder / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(f"report folder '{path.parent}' cannot be made ({error.strerror}): choose "
                              f"another --report folder") from None
        write_atomic(path, files[name])
    return folder / "index.html"


def _output_folder(folder: Path) -> Path:
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"output folder '{folder}' is a file: give a folder for the batch's pictures")
    if not folder.parent.is_dir():
        raise OutputError(f"the folder '{folder.parent}' of the output folder does not exist: create it first")
    try:
        folder.mkdir(exist_ok=True)
        probe = folder / f".painterly-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise OutputError(f"output folder '{folder}' cannot be written ({error.strerror}): "
                          f"check its permissions or choose another") from None
    return folder


def _run_here(todo: list[Task], finish: "Finisher", threads: int | None) -> None:
    painter = Painter(threads)
    for task in todo:
        task.attempts += 1
        task.sent = time.perf_counter()
        finish.result(task, painter.paint(task.item.name, task.item.settings, task_files(task, False),
                                          task.report is not None))


class Finisher:
    """Writes each finished item's picture atomically and its line of the record, then tells `listen`.

    The driver's side of a worker (here or on Ray: `cluster.run` calls it): `result` with a worker's
    answer, `failed` for an item that never reached one."""

    def __init__(self, folder: Path, summary: Summary, listen):
        self.folder, self.summary, self.listen = folder, summary, listen

    def result(self, task: Task, answer: dict) -> None:
        from .. import images
        from ..interrupts import deferred_stop

        item = task.item
        entry = self._entry(item, task.key, task.attempts)
        entry.update({k: answer.get(k) for k in ("node", "pid", "seconds", "seed", "peak_rss_bytes")
                      if answer.get(k) is not None})
        entry["estimated_bytes"] = task.memory
        entry["turnaround_s"] = time.perf_counter() - task.sent
        with deferred_stop() as stops:  # a Ctrl-C while a picture is written waits for the write
            if answer["state"] == "done":
                try:
                    written = images.save_or_rescue(task.output, answer["image"], answer.get("alpha"))
                except PainterlyError as error:
                    answer = {"state": "failed", "reason": str(error)}
                else:
                    if written != task.output:
                        answer = {"state": "failed", "reason": f"output '{task.output}' could not be written: "
                                                               f"the picture was saved to '{written}' instead"}
                    elif task.report is not None and answer.get("report"):
                        try:
                            entry["report"] = str(_write_report(task.report, answer["report"]))
                        except PainterlyError as error:
                            answer = {"state": "failed", "reason": f"the picture was written, its report not: {error}"}
            entry["state"] = answer["state"]
            if answer["state"] != "done":
                entry["reason"] = answer.get("reason", "unknown")
            append_record(self.folder, entry)
        self._count(entry)
        if stops:
            raise stops[0]

    def failed(self, item: Item, reason: str, key: str | None = None, attempts: int = 0) -> None:
        entry = {**self._entry(item, key, attempts), "state": "failed", "reason": reason}
        append_record(self.folder, entry)
        self._count(entry)

    def _entry(self, item: Item, key: str | None, attempts: int) -> dict:
        return {"name": item.name, "content": str(item.content), "styles": [str(s) for s in item.styles],
                "settings": item.settings.to_dict(), "key": key, "attempts": attempts,
                "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}

    def _count(self, entry: dict) -> None:
        if entry["state"] == "done":
            self.summary.done.append(entry["name"])
        else:
            self.summary.failed[entry["name"]] = entry["reason"]
        if self.listen is not None:
            self.listen(entry)

