"""A batch's worker: `Painter` paints items one after another, keeping its network between them.

It runs in the batch's own process (``ray="off"``) or as a Ray actor (`painterly.cluster`). Other
workers that paint with painterly's networks (video's Ray chunks) hold a `Painter` for its networks:
`Painter.network()` (the fast method's) and `Painter.backbone(settings)` (the feature network, cached
under `backbones.backbone_key`, the one key for "the same feature network").
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from ..backbones import backbone_key
from ..errors import PainterlyError
from ..settings import INITS, Settings


class Painter:
    """Paints items one after another, keeping its feature network (or the fast network) between them.

    In this process for ``ray="off"``; on a Ray actor otherwise (`painterly.cluster`), where the input
    files come as bytes (a cluster's machines need not share a disk) and the pixels go back.
    `threads`: the arithmetic's threads (TensorFlow's and onnxruntime's); None: their defaults.
    """

    def __init__(self, threads: int | None = None):
        self.threads = threads
        self.backbones: dict[tuple, object] = {}
        self._fast = None  # the fast method's network, built on first use
        self.where = {"node": _node_id(), "pid": os.getpid()}

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
        options = {}
        if settings.method == "optimise" and not (settings.model.endswith("-random") and settings.seed is None):
            options["backbone"] = self.backbone(settings)  # (without a seed the run draws one, and its weights)
        else:
            options["network"] = self.network()
        outcome = run_job(Job(paths[0], tuple(paths[1:]), settings, report=report, report_paths=False), **options)
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

    def backbone(self, settings: Settings):
        """The feature network `settings` paint with (`backbones.build`), built once and kept while the
        settings that make it (`backbone_key`) stay the same; one is held at a time."""
        from .. import backbones

        key = backbone_key(settings)
        if key not in self.backbones:
            self._threads_for_tensorflow()
            layers = list(dict.fromkeys(settings.content_layers + settings.style_layers))
            self.backbones.clear()  # one network held at a time
            self.backbones[key] = backbones.build(settings.model, layers, weights=settings.weights,
                                                  pooling=settings.pooling, border=settings.border,
                                                  precision=settings.precision, seed=settings.seed)
        return self.backbones[key]

    def network(self):
        """The fast method's network (`feedforward.network`, at this painter's threads), built once."""
        if self._fast is None:
            from .. import feedforward

            self._fast = feedforward.network(self.threads)
        return self._fast


    def _threads_for_tensorflow(self) -> None:
        from ..backbones import import_tensorflow_quietly

        import_tensorflow_quietly()
        if self.threads is not None:
            import tensorflow as tf

            try:
                tf.config.threading.set_intra_op_parallelism_threads(self.threads)
                tf.config.threading.set_inter_op_parallelism_threads(self.threads)
            except RuntimeError:  # TensorFlow already ran something in this process: it keeps its threads
                pass


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


def _node_id() -> str | None:
    """The Ray node this process runs on (None outside Ray; Ray is never imported here for it)."""
    ray = sys.modules.get("ray")
    try:
        if ray is not None and ray.is_initialized():
            return ray.get_runtime_context().get_node_id()
    except Exception:
        pass
    return None


def _peak_rss() -> int:
    from .. import memory

    return memory.peak_rss_bytes()

