"""`painterly batch`: many pictures at once — contents × styles, or a manifest — into one output folder.

    items = pairs(["photos/"], ["starry.jpg", "styles/*.jpg"], Settings(method="fast"))
    summary = run_batch(items, Path("out/"), ray="local")     # or ray="off", or ray="HOST:6379"
    summary.done, summary.failed, summary.skipped             # item names

Each item is one `runner.run_job` on a worker (`Painter`): in this process with ``ray="off"``, on Ray
actors otherwise (`painterly.cluster`). Whoever runs the batch holds the output folder: the workers send
their pixels back and this process writes every picture atomically, so a picture in the folder is whole.
The folder's record, ``batch.jsonl``, gets one line per finished item (done or failed, with the reason);
running the same batch again skips an item whose picture is there and whose record says it was painted
from the same input files (by content hash) and settings, and retries the rest. A bad input fails its
own item only. Ctrl-C stops the batch; the pictures done so far and their records are kept.

Names are predictable: ``{content}__{style}[+{style}...].{format}`` from the file names, and, only
where two items of the batch would get the same name, ``-{8 hex digits of the item's inputs and
settings}`` after it; a manifest row may name its own output.

The package, one job a module, in the order an item goes through:
    items.py    Item; contents × styles (`pairs`), manifests (`read_manifest`), output names (`named`)
    records.py  the folder's batch.jsonl: `read_record`, `append_record`
    plan.py     Task; what to paint, skip or refuse (`plan`), input hashes (`item_key`), memory (`estimate_peak`)
    worker.py   Painter, the worker (here or a Ray actor), and its networks (`backbone_key`)
    run.py      `run_batch` and the Finisher that writes what the workers send back
    cli.py      `painterly batch`: `build_parser`, `main` (its bar: `painterly.progress.ITEMS`)
"""

from .cli import build_parser, main
from .items import EXTENSIONS, FORMATS, MANIFEST_COLUMNS, Item, expand, named, pairs, read_manifest, row_settings
from .plan import (Task, estimate_bytes, estimate_peak, input_error, item_key,
                   plan, resolve_models, task_files)
from .records import RECORD, RecordError, append_record, read_record
from .run import Finisher, Summary, run_batch
from ..backbones import backbone_key
from .worker import Painter

__all__ = ["EXTENSIONS", "FORMATS", "MANIFEST_COLUMNS", "RECORD", "Finisher",
           "Item", "Painter", "RecordError", "Summary", "Task", "append_record", "backbone_key",
           "build_parser", "estimate_bytes", "estimate_peak", "expand", "input_error", "item_key", "main", "named",
           "pairs", "plan", "read_manifest", "read_record", "resolve_models", "row_settings", "run_batch",
           "task_files"]
