"""Errors painterly reports to people: one line that names the problem and the fix.

This module imports nothing heavy, so the CLI can turn any of these into a message and an exit code
without TensorFlow being involved.
"""


import difflib


class PainterlyError(Exception):
    """A problem with the user's input or environment, told in one line with its fix."""

    exit_code = 2


class InputImageError(PainterlyError):
    """An input image is missing, unreadable, corrupt or too large."""


class OutputError(PainterlyError):
    """An output path cannot or must not be written."""


class SettingsError(PainterlyError):
    """A setting is out of range, unknown or inconsistent."""


class BackboneError(PainterlyError):
    """A feature network cannot be built or its weights cannot be loaded."""


class NumericalError(PainterlyError):
    """The optimisation produced a NaN or infinite loss."""


def did_you_mean(name: str, choices) -> str:
    """"did you mean X? " for the choice closest to a mistyped `name`, or "" when none is close: the hint every
    refusal of an unknown name (setting, preset, method, model, manifest column) puts before its list."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"did you mean {close[0]}? " if close else ""
