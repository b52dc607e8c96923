"""The ways painterly paints, behind one small protocol.

    run = prepare(content, style, settings)   # inputs checked, sizes and memory planned; nothing heavy yet
    for record in run:                        # one `Iterate` per step (a feed-forward method: exactly one)
        ...                                   # leave the loop (or Ctrl-C) to stop early
    result = run.result()                     # the best image so far, history and metadata

Every method's run has the same attributes for its callers (the CLI, the gallery, the web worker):
`settings`, `content`, `styles`, `size`, `scales`, `alpha`, `memory`, `best`, `stopped`, `history`,
`planned_steps`, `describe()`, `inputs()` and `result()`. `settings.method` picks the method:

* ``optimise`` (`optimise.Transfer`): Gatys et al.'s loss over a VGG network's features, minimised by
  L-BFGS, Adam or SGD from a starting image, coarse to fine;
* ``fast`` (`fast.FastRun`): Magenta's feed-forward network paints the photo in one pass.
"""

from __future__ import annotations

import os
import platform

import numpy as np

from .. import images
from ..errors import SettingsError
from ..settings import Settings


def prepare(content, style, settings: Settings | None = None, **options):
    """The run of `settings.method` for these inputs; `options` go to that method's constructor
    (optimise: backbone, notice, on_tile; fast: network, notice)."""
    settings = settings or Settings()
    if settings.method == "fast":
        from .fast import FastRun

        options.pop("backbone", None)  # the fast method has no feature network
        options.pop("on_tile", None)
        return FastRun(content, style, settings, **options)
    from .optimise import Transfer

    return Transfer(content, style, settings, **options)


def load_inputs(content, style, settings: Settings) -> tuple[images.Picture, list[images.Picture]]:
    """The content and style pictures (each a path, array or Picture; `style` may be a list of them),
    loaded and checked against the settings (one blend weight per style)."""
    content = _picture(content, "content")
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles:
        raise SettingsError("no style image given: pass at least one")
    styles = [_picture(s, f"style image {i + 1}" if len(styles) > 1 else "style") for i, s in enumerate(styles)]
    if settings.style_blend is not None and len(settings.style_blend) != len(styles):
        raise SettingsError(f"{len(settings.style_blend)} style weights for {len(styles)} style images: "
                            f"give one per style image")
    return content, styles


def shown_inputs(content: images.Picture, styles, size: tuple[int, int]) -> dict[str, np.ndarray]:
    """The content at the output's size and each style at that longest side, as a report shows them."""
    side = max(size)
    shown = {"content": images.resize(content.rgb, size)}
    for i, style in enumerate(styles):
        shown["style" if i == 0 else f"style {i + 1}"] = images.resize(style.rgb, images.fit_size(style.size, side))
    return shown


def describe_picture(picture: images.Picture) -> dict:
    """A picture in a run's metadata."""
    return {"path": str(picture.path) if picture.path else None, "size": list(picture.size),
            "alpha": picture.alpha is not None}


def versions(*modules: str) -> dict:
    """Python's, NumPy's, the platform's and the named modules' versions, for a run's metadata."""
    import importlib

    found = {"python": platform.python_version(), "numpy": np.__version__}
    for name in modules:
        found[name] = importlib.import_module(name).__version__
    return {**found, "platform": platform.platform()}


def _picture(source, role: str) -> images.Picture:
    if isinstance(source, images.Picture):
        return source
    if isinstance(source, (str, os.PathLike)):  # a style may be a painting's name on the shelf
        return (images.load_style if role.startswith("style") else images.load_image)(source, role=role)
    return images.picture_from_array(source, role=role)
