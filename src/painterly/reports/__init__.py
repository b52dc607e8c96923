"""The paper's outputs for one run, written into a folder; and the sheets other commands lay out.

`Report` is fed every `Iterate` record as it arrives (`add`), keeps snapshots of chosen steps on disk,
and at the end (`finish`) writes the loss tables (the paper's Tables II-III), the two bar graphs
(figures 18-19), a contact sheet of the snapshots (figures 10-17), the metadata and one self-contained
`index.html` that shows them all. Every file is written atomically (`files.write_atomic`), so a reader
never sees half a file.

    still.py    Report and its folder checks (`check_folder`, `report_files`, `remove_old_snapshots`)
    tables.py   the loss table, its CSV and JSON, the metadata, the report's file names
    graphs.py   the bar graphs, on matplotlib's object API (a Figure on its own Agg canvas: thread-safe)
    sheets.py   the contact sheet and the gallery's grid (`gallery_layout`, `gallery_sheet`)
    page.py     index.html
    video.py    a video's report: warping error and style loss per frame, graphs, contact sheet, html

NumPy, Pillow and matplotlib only; matplotlib is imported inside the graph functions, never at import.
"""

from .graphs import GRAPHS, improvement_graph, loss_graph
from .page import html_page
from .sheets import (MAX_TILES, TILE_MAX, TILE_MIN, GalleryLayout, contact_sheet, gallery_layout, gallery_sheet,
                     label_font, png_bytes, subsample, to_pil)
from .still import REPORT_MARKERS, SNAPSHOT_DIR, SNAPSHOT_NAME, Report, check_folder, remove_old_snapshots, report_files
from .tables import (COLUMNS, TABLE_WRITERS, TERMS, columns, has_losses, input_filename, loss_table, run_metadata,
                     term_names, without_paths)

_font, _subsample = label_font, subsample  # the names tests and bench scripts import from before the split

__all__ = ["COLUMNS", "GRAPHS", "MAX_TILES", "REPORT_MARKERS", "SNAPSHOT_DIR", "SNAPSHOT_NAME", "TABLE_WRITERS",
           "TERMS", "TILE_MAX", "TILE_MIN", "GalleryLayout", "Report", "check_folder", "columns", "contact_sheet",
           "gallery_layout", "gallery_sheet", "has_losses", "html_page", "improvement_graph", "input_filename",
           "label_font", "loss_graph", "loss_table", "png_bytes", "remove_old_snapshots", "report_files",
           "run_metadata", "subsample", "term_names", "to_pil", "without_paths"]
