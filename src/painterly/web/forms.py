"""The web form's settings: fields described from `Settings`, submitted values parsed as the CLI's flags.

`fields()` tells the page what to draw (name, label, help, type, choices, each preset's values);
`parse_settings()` turns the submitted strings into argv for the CLI's own flags, so a web value
means exactly what the same flag means on the command line.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

from .. import methods
from ..errors import SettingsError
from ..settings import INITS, PRESETS, Settings, applies, did_you_mean, preset

MAIN = {  # the controls shown up front, with the page's words for them; the rest go under "More settings"
    "method": "Method",
    "init": "Start from",
    "style_weight": "Style weight",
    "style_strength": "Style strength",
    "size": "Size (px)",
    "preserve_color": "Preserve colours",
    "iterations": "Iterations",
    "model": "Model",
}
SERVER_FILES = {"weights"}  # settings that name a file on the server: never taken from a browser
_STYLE_UPSCALE = next(f for f in dataclasses.fields(Settings) if f.name == "style_upscale")


@dataclasses.dataclass(frozen=True)
class Limits:
    """What the server accepts from a browser."""

    upload_bytes: int = 20 * 2**20  # per image file
    pixels: int = 25_000_000  # per input image, decoded
    size: int = 1024  # longest side of the output
    iterations: int = 5000  # per scale
    styles: int = 4  # style images per job
    queue: int = 20  # jobs waiting at once
    work: int = 1024 * 1024 * 5000  # pixel-iterations per job, summed over its scales (a full-size job at most)
    video_bytes: int = 50 * 2**20  # per video file
    video_seconds: float = 10.0  # length of a video, as its container says
    video_frames: int = 600  # frames of a video (a high frame rate within the seconds)
    video_pixels: int = 1280 * 720  # per decoded video frame


def fields() -> list[dict]:
    """One entry per setting the page may send, main controls first."""
    described = []
    for f in dataclasses.fields(Settings):
        if f.name in SERVER_FILES:
            continue
        meta = f.metadata
        kind = "bool" if meta.get("boolean") else "list" if "nargs" in meta else _type_name(f)
        described.append({
            "name": f.name, "label": MAIN.get(f.name, f.name.replace("_", " ")), "flag": meta["flag"],
            "help": meta["help"], "type": kind,
            "choices": list(INITS) if f.name == "init" else list(meta["choices"]) if "choices" in meta else None,
            "main": f.name in MAIN, "methods": list(meta["methods"]),
        })
    order = list(MAIN)
    return sorted(described, key=lambda d: order.index(d["name"]) if d["main"] else len(order))


def presets() -> dict[str, dict]:
    """Every preset's full settings, for the form's values."""
    return {name: preset(name).to_dict() for name in PRESETS}


def parse_settings(preset_name: str, form: Mapping[str, str], limits: Limits) -> Settings:
    """Settings from the preset and the form's non-empty values; raises SettingsError naming the field."""
    from ..flags import settings_from_text

    names = {f.name for f in dataclasses.fields(Settings)}
    given = {}
    for name, value in form.items():
        if name in SERVER_FILES:
            raise SettingsError(f"setting '{name}' names a file on the server, which the web app does not take: "
                                f"leave it out")
        if name not in names:
            raise SettingsError(f"unknown setting '{name}': {did_you_mean(name, names)}"
                                f"see GET /api/settings for the fields")
        if value.strip():  # empty: the preset's value stands
            given[name] = value.strip()
    settings = settings_from_text(given, preset_name)
    _check_limits(settings, limits)
    return settings


def _check_limits(s: Settings, limits: Limits) -> None:
    if s.init not in INITS:
        raise SettingsError(f"init '{s.init}' is not available in the web app: choose {', '.join(INITS)}")
    if s.size == "auto" or s.size > limits.size:
        raise SettingsError(f"size {s.size} is over this server's limit: choose 16 to {limits.size} pixels")
    for name in ("iterations", "fine_iterations", "large_iterations"):
        value = getattr(s, name)
        if isinstance(value, int) and value > limits.iterations:
            raise SettingsError(f"{name.replace('_', ' ')} {value} is over this server's limit: "
                                f"choose at most {limits.iterations}")


def check_scaled(s: Settings, styles: list[tuple[str, tuple[int, int]]], limits: Limits) -> None:
    """Refuse a job whose style scale would take a picture it works on past the server's size limit: the
    picture the fast network paints (the output's size divided by the style scale, as `methods.fast.painted_size`;
    the fast method, and the optimisation's fast start), and, optimising, each style image as scaled (styles:
    display name and (width, height); `images.style_shape`). Called with no styles before the upload is read."""
    from ..images import style_shape

    scale = f"style scale {s.style_scale:g} at size {s.size}"
    if methods.get(s.method).uses_fast_picture(s):
        painted = max(16, round(s.size / s.style_scale))
        if painted > limits.size:
            raise SettingsError(f"{scale}: the fast network paints at {painted} px, over this server's limit of "
                                f"{limits.size} px: raise style scale to {s.size / limits.size:.2g} or more, or "
                                f"lower size")
    if not applies(_STYLE_UPSCALE, s.method):  # a method that does not resize its style images (`style_shape`)
        return
    for name, own in styles:
        width, height = style_shape(own, s.size, s.style_scale, s.style_upscale)
        if max(width, height) > limits.size:
            raise SettingsError(f"{scale} makes style image '{name}' {width}×{height} px, over this server's limit "
                                f"of {limits.size} px: lower style scale or size")


def work_of(s: Settings) -> int:
    """The pixel-iterations of a still job, summed over its scales; each scale counts as a square of its longest
    side: an upper bound, known before any image is read."""
    return sum(side * side * s.scale_iterations(scale, side) for scale, side in enumerate(s.scale_sizes(s.size)))


def _type_name(f: dataclasses.Field) -> str:
    annotation = str(f.type)
    return "int" if annotation.startswith("int") else "float" if annotation.startswith("float") else "str"
