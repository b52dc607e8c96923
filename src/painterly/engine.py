"""painterly's Python API: one call, any method.

    result = stylize("photo.jpg", "starry.jpg", size=384)               # the optimisation (Gatys et al.)
    result = stylize("photo.jpg", "starry.jpg", method="fast")          # the feed-forward network, ~1 s
    for record in iterate("photo.jpg", "starry.jpg", iterations=50):     # the records as they happen
        ...

The methods themselves live in `painterly.methods` (`prepare` picks one from `Settings.method`).
TensorFlow is imported only when an optimisation builds its network.
"""

from __future__ import annotations

from typing import Callable, Iterator

from .events import Iterate, Result, TileProgress
from .methods import prepare
from .methods.optimise import AUTO_TILES, Transfer
from .errors import SettingsError
from .settings import Settings

__all__ = ["stylize", "iterate", "prepare", "Transfer", "AUTO_TILES"]


def stylize(
    content,
    style,
    settings: Settings | None = None,
    *,
    callback: Callable[[Iterate], None] | None = None,
    backbone=None,
    notice: Callable[[str], None] | None = None,
    on_tile: Callable[[TileProgress], None] | None = None,
    **options,
) -> Result:
    """Repaint `content` in the style of `style` (a path, array, Picture, or a list of them to blend).

    Options are `Settings` fields (e.g. size=384, iterations=100, method="fast"); they override
    `settings`. `callback` gets every `Iterate` record as it happens, `on_tile` every `TileProgress`
    (tiled optimisation only). `backbone`: a prebuilt feature network for the optimisation to reuse.
    """
    for name, given in (("callback", callback), ("notice", notice), ("on_tile", on_tile)):
        if given is not None and not callable(given):
            raise SettingsError(f"{name} {given!r} cannot be called: give a function (or None)")
    settings = (settings or Settings()).replace(**options) if options else (settings or Settings())
    run = prepare(content, style, settings, network=backbone, notice=notice, on_tile=on_tile)
    for record in run:
        if callback is not None:
            callback(record)
    return run.result()


def iterate(content, style, settings: Settings | None = None, **options) -> Iterator[Iterate]:
    """The records of a run as a generator: `for record in iterate(...)`; leave the loop to stop."""
    settings = (settings or Settings()).replace(**options) if options else (settings or Settings())
    return iter(prepare(content, style, settings or Settings()))
