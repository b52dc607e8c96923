"""A batch's worker: `Painter` paints items one after another, keeping its network between them.

It runs in the batch's own process (``ray="off"``) or as a Ray actor (`painterly.cluster`). Its networks are
a `networks.Networks` (one held at a time, keyed by everything that changes the network).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from ..cluster import where
from ..errors import PainterlyError
from ..networks import Networks
from ..settings import INITS, Settings


class Painter:
    """Paints items one after another, keeping its feature network (or the fast network) between them.

    In this process for ``ray="off"``; on a Ray actor otherwise (`painterly.cluster`), where the input
    files come as bytes (a cluster's machines need not share a disk) and the pixels go back.
    `threads`: the arithmetic's threads (TensorFlow's and onnxruntime's); None: their defaults.
    """

    def __init__(self, threads: int | None = None):
        self.threads = threads
        self.networks = Networks(keep=1, threads=threads)  # the feature network or the fast one, kept between items
        self.where = where()

    def ready(self) -> dict:
        return self.where

    def paint(self, name: str, settings: Settings, files: list[tuple[str, bytes | None]], report: bool = False) -> dict:
        """Paint one item: files is [(path, its bytes or None to read the path)] for the content, the
        styles and an init image. Returns a result dict: state "done" with the pixels (and with `report`,
        the still's report as {file name: bytes}), or "failed" and why."""
        started = time.perf_counter()
        answer = {"name": name, **self.where}
        try:
            with tempfile.TemporaryDirectory(prefix="painterly-batch-") as scratch:
                paths = _materialise(files, Path(scratch))
                try:
                    answer.update(self._run(paths, settings, Path(scratch) / "report" if report else None))
                except PainterlyError as error:
                    message = str(error)
                    for local, (original, _) in zip(paths, files):
                        message = message.replace(str(local), original)
                    answer.update(state="failed", reason=message)
        except Exception as error:  # a bug must fail its item, not the batch
            answer.update(state="failed", reason=f"internal error: {type(error).__name__}: {error}")
        answer["seconds"] = time.perf_counter() - started
        return answer

    def paint_sent(self, name: str, settings: Settings, paths: list[str], *blobs: bytes, report: bool = False) -> dict:
        """`paint` with the files' bytes as separate arguments (Ray hands an actor the bytes behind the
        object references given as arguments, so a style put once serves every item)."""
        return self.paint(name, settings, list(zip(paths, blobs)), report)

    def _run(self, paths: list[Path], settings: Settings, report: Path | None = None) -> dict:
        from .. import images
        from ..runner import Job, run_job

        init = None
        if settings.init not in INITS:
            init, paths = paths[-1], paths[:-1]
            settings = settings.replace(init=str(init))
        outcome = run_job(Job(paths[0], tuple(paths[1:]), settings, report=report, report_paths=False),
                          network=self.networks.get(settings))
        if outcome.result is None or outcome.code in (130, 143):
            raise KeyboardInterrupt()
        if outcome.failure is not None:
            return {"state": "failed", "reason": str(outcome.failure)}
        result = outcome.result
        answer = {"state": "done", "image": images.to_uint8(result.image), "alpha": result.alpha,
                  "seed": result.metadata.get("seed"), "stopped": result.stopped, "peak_rss_bytes": _peak_rss()}
        if report is not None:  # the files travel back with the pixels: the driver writes them
            answer["report"] = {str(f.relative_to(report)): f.read_bytes() for f in sorted(report.rglob("*"))
                                if f.is_file()}
        return answer


def _materialise(files: list[tuple[str, bytes | None]], scratch: Path) -> list[Path]:
    """Paths to paint from: the given ones, or the bytes written under `scratch` with their file names."""
    paths = []
    for i, (original, data) in enumerate(files):
        if data is None:
            paths.append(Path(original))
            continue
        folder = scratch / str(i)
        folder.mkdir()
        path = folder / Path(original).name
        path.write_bytes(data)
        paths.append(path)
    return paths


def _peak_rss() -> int:
    from .. import memory

    return memory.peak_rss_bytes()

