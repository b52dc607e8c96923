"""Memory before a run: estimate a run's peak resident memory and compare it with what is available.

    estimate_peak_bytes(1024, 768, model="vgg16-hed", layers=[...], optimizer="lbfgs")  # bytes
    largest_fitting_side(lambda side: estimate_peak_bytes(...), available_bytes() + current_rss_bytes())

Standard library and the layer tables of `architectures` only: no TensorFlow, nothing done at import.
The model and how its constants were measured are in `estimate_peak_bytes`' docstring and in
docs/MEMORY.md (bench/memory_check.py regenerates the validation table).
"""

from __future__ import annotations

import os
import resource
from pathlib import Path
from typing import Callable, Sequence

from . import architectures
from .architectures import BLOCK_CHANNELS, architecture
from .errors import SettingsError

MB = 1_000_000
WEIGHT_BYTES = {"vgg16": 14_714_688 * 4, "vgg19": 20_024_384 * 4}  # float32 convolution weights and biases

# Calibrated constants (see estimate_peak_bytes): measured with bench/memory_check.py.
PROCESS_BYTES = 700 * MB  # Python, NumPy, SciPy, TensorFlow and Keras loaded; the compiled step traced
WEIGHT_COPIES = 2.0  # the backbone's weights as Keras variables plus oneDNN's reordered copy
FORWARD_FACTOR = 1.0  # an eager forward pass (the targets) keeps every layer's output until it returns
STEP_FACTOR = 1.9  # forward outputs kept for the backward pass, plus gradients and workspace in flight
IMAGE_COPIES = 8  # float32 (H, W, 3) copies the engine and the optimiser wrappers hold at once
LBFGS_HISTORY = 20  # correction pairs kept by L-BFGS (optimizers.OptimizerSettings.history)
LBFGS_BYTES_PER_VARIABLE = 400  # SciPy's cost per variable besides the history: float64 copies, workspace
KERAS_OPTIMIZER_COPIES = {"adam": 6, "sgd": 4}  # float32 image copies: variable, gradient, slots, clip
TILED_IMAGE_COPIES = 4  # tiled runs also hold the mirrored image, its gradient, the gradient and content targets


def activation_bytes(width: int, height: int, model: str, layers: Sequence[str]) -> int:
    """Bytes of every layer output (float32) of one forward pass, up to the deepest of `layers`."""
    arch = architecture(model)
    order = architectures.layer_names(arch)
    unknown = [name for name in layers if name not in order]
    if unknown:
        architectures.validate_layers(arch, unknown, "feature")
    if not layers:
        return 0
    deepest = max(order.index(name) for name in layers)
    sizes = [(height, width)]  # spatial size inside block b (index b - 1), then after its pool
    for _ in BLOCK_CHANNELS:
        h, w = sizes[-1]
        sizes.append((h // 2, w // 2))
    total = 0
    for name in order[: deepest + 1]:
        block = int(name[len("block")]) - 1
        h, w = sizes[block + 1] if name.endswith("_pool") else sizes[block]
        total += h * w * BLOCK_CHANNELS[block] * 4
    return total


def optimizer_bytes(width: int, height: int, optimizer: str, iterations: int | None = None) -> int:
    """Memory the optimiser holds beside the network, for an image of width × height pixels."""
    variables = width * height * 3
    if optimizer == "lbfgs":
        pairs = LBFGS_HISTORY if iterations is None else min(iterations, LBFGS_HISTORY)
        return 2 * pairs * variables * 8 + LBFGS_BYTES_PER_VARIABLE * variables
    if optimizer in KERAS_OPTIMIZER_COPIES:
        return KERAS_OPTIMIZER_COPIES[optimizer] * variables * 4
    raise SettingsError(f"unknown optimizer '{optimizer}': choose lbfgs, adam or sgd")


def estimate_peak_bytes(
    width: int,
    height: int,
    *,
    model: str,
    layers: Sequence[str],
    optimizer: str,
    style_sizes: Sequence[tuple[int, int]] = (),
    iterations: int | None = None,
    tile: int | None = None,
    halo: int = 0,
) -> int:
    """Peak resident memory (bytes) of a run at width × height, the process baseline included.

    With `tile` (painterly.tiling), the network only ever sees one tile of tile + 2·halo pixels a
    side (the style images' too), so its activations are bounded; the image-sized arrays remain.

    The model: the process baseline (PROCESS_BYTES, the weights WEIGHT_COPIES times), plus the larger
    of two phases. Computing the targets keeps one forward pass of the largest input; each step keeps
    STEP_FACTOR forward passes (the outputs kept for the backward pass, then the gradients) of the
    image with its mirrored border, IMAGE_COPIES image-sized float32 arrays, and the optimiser's state
    (L-BFGS: its float64 history pairs plus LBFGS_BYTES_PER_VARIABLE). STEP_FACTOR and the L-BFGS
    constant were fitted to peaks measured with vgg16-hed at 256 to 1536 px by bench/memory_check.py
    (Adam runs give STEP_FACTOR, L-BFGS runs the rest); docs/MEMORY.md shows the estimate against
    measurements.
    """
    arch = architecture(model)
    pixels = width * height

    margin = architectures.border_margin(layers)  # the mirrored border the network also sees

    def network(w: int, h: int) -> int:
        w, h = w + 2 * margin, h + 2 * margin
        seen = (w, h) if tile is None else (min(w, tile + 2 * halo), min(h, tile + 2 * halo))
        return activation_bytes(*seen, model, layers)

    base = PROCESS_BYTES + WEIGHT_COPIES * WEIGHT_BYTES[arch]
    images = (IMAGE_COPIES + (TILED_IMAGE_COPIES if tile is not None else 0)) * pixels * 3 * 4
    forward = max([network(width, height)] + [network(w, h) for w, h in style_sizes])
    targets = FORWARD_FACTOR * forward + images
    step = (STEP_FACTOR * network(width, height) + images
            + optimizer_bytes(width, height, optimizer, iterations))
    return int(base + max(targets, step))


def largest_fitting_side(estimate: Callable[[int], int], budget_bytes: int) -> int:
    """The largest longest side (a multiple of 16, at least 16) whose `estimate(side)` fits in `budget_bytes`.

    `estimate` maps a longest side in pixels to the run's peak bytes and must grow with the side.
    Returns 16 when not even 16 pixels fit (check with `estimate(16)` if that matters).
    """

    def fits(k: int) -> bool:
        return estimate(16 * k) <= budget_bytes

    low, high = 1, 16384 // 16  # low fits (or is the floor), high is the largest size settings accept
    if fits(high):
        return 16 * high
    while high - low > 1:  # invariant: low fits or is 1, high does not fit
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return 16 * low


def available_bytes() -> int:
    """Memory this process may still take: the smaller of the system's MemAvailable and the room left
    under the cgroup limit (v2 memory.max, or v1 memory.limit_in_bytes), minus what the cgroup uses."""
    candidates = [b for b in (_meminfo_available(), _cgroup_room()) if b is not None]
    if not candidates:
        try:
            candidates = [os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")]
        except (ValueError, OSError):
            return 0
    return max(0, min(candidates))


def current_rss_bytes() -> int:
    """Resident memory of this process now (its peak so far where /proc is missing)."""
    try:
        resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
        return resident_pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return peak_rss_bytes()


def peak_rss_bytes() -> int:
    """The largest resident memory this process's program has had.

    Linux's VmHWM, not ru_maxrss: ru_maxrss survives exec, so a process started by a large one (a
    benchmark spawning fresh runs) reports its parent's peak until it exceeds it.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


_CGROUP_FILES = (  # (limit, usage, memory.stat key of reclaimable page cache)
    ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current", "inactive_file"),
    ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes",
     "total_inactive_file"),
)
_NO_LIMIT = 1 << 60  # cgroup v1 reports "no limit" as a huge number


def _cgroup_room() -> int | None:
    """Limit minus usage of this container's memory cgroup (page cache it could drop not counted)."""
    for limit_file, usage_file, cache_key in _CGROUP_FILES:
        try:
            text = Path(limit_file).read_text().strip()
            if text == "max" or int(text) >= _NO_LIMIT:
                return None
            usage = int(Path(usage_file).read_text())
        except (OSError, ValueError):
            continue
        return int(text) - max(0, usage - _cgroup_stat(Path(limit_file).parent / "memory.stat", cache_key))
    return None


def _cgroup_stat(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def format_bytes(n: float) -> str:
    """Bytes for people, in decimal units: "850 MB", "3.2 GB", "12 kB"."""
    n = float(n)
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            value = n / size
            return f"{value:.1f} {unit}" if unit == "GB" else f"{value:.0f} {unit}"
    return f"{n:.0f} B"
