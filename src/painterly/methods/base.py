"""What every method shares: the `Method` a registry entry describes, and the inputs' loading and showing.

A method is a module in this package with a `METHOD` (a `Method`) and a run class. The run class is what
`Method.prepare` returns: iterate it for `Iterate` records, call `result()` for the best picture. Everything
the front ends ask about a method (does it step? which network does it paint with, and when may one be
shared? how much memory will it take? how does its last line read?) is asked of its `Method`, never of its
name: the CLI, gallery, batch, video, web app and Ray workers hold no `if method == ...`.
"""

from __future__ import annotations

import os
import platform
from typing import Callable

import numpy as np

from .. import images
from ..errors import SettingsError
from ..settings import Settings


class Method:
    """One way to paint. Subclasses set the class attributes and implement `prepare` and `build_network`."""

    name: str = ""
    title: str = ""  # the words a sentence uses for it: "the optimisation", "the fast network"
    iterative: bool = True  # step by step, each step with a loss (False: one painted picture, no loss)

    def prepare(self, content, style, settings: Settings, *, network=None, notice: Callable[[str], None] | None = None,
                on_tile=None):
        """The run of these inputs, checked and planned; nothing heavy is loaded yet. `network`: a network
        from `build_network` with the same `network_key` to reuse (None: the run makes its own)."""
        raise NotImplementedError

    def network_key(self, settings: Settings) -> tuple | None:
        """Everything in `settings` that changes the network the run paints with: one built for a key serves
        any settings with that key. None: the run draws its own (it may not be shared)."""
        return ()

    def build_network(self, settings: Settings, *, notice: Callable[[str], None] | None = None,
                      threads: int | None = None):
        """The network `settings` paint with; `threads`: the CPU threads it may use (None: the library's own)."""
        raise NotImplementedError

    def load_libraries(self) -> None:
        """Import what the run computes with, quietly, once the inputs are checked (before the first step)."""

    def resolve(self, settings: Settings, notice: Callable[[str], None] | None = None) -> Settings:
        """`settings` with the choices "auto" leaves to this machine made once (for a batch or a cluster,
        whose workers must all paint alike)."""
        return settings

    def uses_fast_picture(self, settings: Settings) -> bool:
        """Whether the run paints the fast network's picture (the fast method, or a start from it)."""
        return settings.init == "fast"

    def estimate_bytes(self, settings: Settings, size: tuple[int, int], style_sizes: list[tuple[int, int]]) -> int:
        """The run's peak memory at output `size` (width, height), the styles' own sizes given, from the
        sizes alone (the batch plans its workers with it)."""
        raise NotImplementedError

    def summary(self, result) -> str:
        """The end of the CLI's last line: what painted it, how long it took (and, stepping, the loss)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"Method({self.name!r})"


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
