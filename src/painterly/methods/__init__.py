"""The ways painterly paints, in one registry.

    method = methods.get(settings.method)          # a `Method` (methods/base.py)
    run = method.prepare(content, style, settings) # inputs checked, sizes and memory planned; nothing heavy yet
    for record in run:                             # one `Iterate` per step (a feed-forward method: exactly one)
        ...                                        # leave the loop (or Ctrl-C) to stop early
    result = run.result()                          # the best image so far, history and metadata

Every method's run has the same attributes for its callers: `settings`, `content`, `styles`, `size`, `scales`,
`alpha`, `memory`, `best`, `stopped`, `history`, `planned_steps`, `network`, `network_name`, `describe()`,
`first_picture()`, `inputs()` and `result()`.

* ``optimise`` (methods/optimise.py): Gatys et al.'s loss over a VGG network's features, minimised by
  L-BFGS, Adam or SGD from a starting image, coarse to fine;
* ``fast`` (methods/fast.py): Magenta's feed-forward network paints the photo in one pass.

A new method is a module here with a `METHOD` and one line in `MODULES`. A method's module is imported when
it is first asked for, so naming the methods (`NAMES`, read by the settings) imports nothing heavy.
"""

from __future__ import annotations

import importlib

MODULES = {"optimise": "optimise", "fast": "fast"}  # method name -> its module in this package
NAMES = tuple(MODULES)


def get(name: str):
    """The `Method` named `name`; SettingsError (one line, with the close names) for an unknown one."""
    if name not in MODULES:
        from ..errors import SettingsError, did_you_mean

        raise SettingsError(f"unknown method '{name}': {did_you_mean(name, NAMES)}choose {' or '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{MODULES[name]}").METHOD


def check_name(name: str) -> None:
    """SettingsError (one line, with the close names) unless `name` is a method's."""
    if name not in MODULES:
        get(name)


def prepare(content, style, settings, **options):
    """The run of `settings.method` for these inputs (`Method.prepare`; options: network, notice, on_tile)."""
    return get(settings.method).prepare(content, style, settings, **options)
