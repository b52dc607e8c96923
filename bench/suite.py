"""The measurements of `python -m bench`. Each section returns plain numbers for the JSON and the tables.

Timed comparisons run in this one process with A and B interleaved (A, B, A, B, ...) and report
medians, so that load from other processes on the machine hits both alike.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from painterly import Settings, backbones, images, preset
from painterly.engine import Transfer
from painterly.losses import Objective
from painterly.settings import CONTENT_LAYERS, RELATIVE, STYLE_LAYERS

from . import flops
from .reference import ReferenceLoop

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"
CONTENT = SHARED / "content" / "tubingen.jpg"
STYLE = SHARED / "style" / "starry_night.jpg"
MODEL = "vgg16-hed"
LAYERS = list(dict.fromkeys(CONTENT_LAYERS + RELATIVE["content_layers"] + STYLE_LAYERS))
DEEPEST = "block5_conv2"  # the deepest layer the default losses use


@dataclass(frozen=True)
class Plan:
    """What one run of the suite measures; `quick` shrinks everything to a smoke run of seconds."""

    sizes: tuple[int, ...] = (256, 512, 1024)  # per-iteration comparison
    repeats: tuple[int, ...] = (5, 3, 3)  # interleaved repetitions per size
    steps: tuple[int, ...] = (3, 2, 1)  # steps timed per repetition
    quality_size: int = 256
    reference_iterations: int = 500
    quality_iterations: int = 100  # painterly's default
    end_to_end: tuple[int, ...] = (512, 1024)  # the default size, then a multi-scale one
    cli_options: tuple[str, ...] = ()  # on top of the defaults (the quick run's few iterations)
    memory_sizes: tuple[int, ...] = (256, 512, 1024, 1536, 2048)
    memory_iterations: int = 2
    precision_size: int = 512
    precision_run_size: int = 256
    precision_iterations: int = 100
    float16_size: int = 256
    fast_sizes: tuple[int, ...] = (512, 1024, 2048)  # the fast method, the CLI in a fresh process
    starts_size: int = 512  # the optimisation from the photo against from the fast picture
    starts_iterations: int = 100

    @classmethod
    def quick(cls) -> Plan:
        return cls(sizes=(48, 64), repeats=(3, 3), steps=(1, 1), quality_size=48, reference_iterations=2,
                   quality_iterations=4, end_to_end=(96,),
                   cli_options=("--iterations", "2", "--multiscale", "on", "--min-size", "48"), memory_sizes=(48, 96),
                   memory_iterations=1, precision_size=48, precision_run_size=48, precision_iterations=2,
                   float16_size=32, fast_sizes=(64,), starts_size=48, starts_iterations=3)


def machine() -> dict:
    """What the numbers were measured on."""
    import keras
    import tensorflow as tf

    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    flags = set((re.search(r"flags\s*:\s*(.+)", cpuinfo) or re.search("()", "")).group(1).split())
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").is_file() else ""
    total = re.search(r"MemTotal:\s+(\d+)", meminfo)
    return {
        "cpu": model.group(1).strip() if model else platform.processor() or platform.machine(),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gb": round(int(total.group(1)) * 1024 / 1e9, 1) if total else None,
        "bf16_instructions": sorted(f for f in flags if "bf16" in f or f.startswith("amx")),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "os": platform.platform(), "python": platform.python_version(),
        "tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__,
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0",
    }


def machine_slug(info: dict) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", info["cpu"].lower()).strip("-")
    return f"{words}-{info['cores']}c"


def inputs(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Content and style at the same (width, height), whole pixel values, as keras.io feeds them."""
    content, style = images.load_image(CONTENT), images.load_image(STYLE)
    shape = images.fit_size(content.size, size)
    return (images.to_uint8(images.resize(content.rgb, shape)).astype(np.float32),
            images.to_uint8(images.resize(style.rgb, shape)).astype(np.float32))


def objective(backbone, content: np.ndarray, style: np.ndarray) -> Objective:
    """The reference loop's objective: the default before issue 22 (normalised, relative, α 1, β 10, TV 1)."""
    s = preset("relative", model=MODEL)  # the reference loop's objective (relative errors, α 1, β 10, TV 1)
    return Objective(backbone, content[None], [style[None]], content_layers=s.content_layers,
                     style_layers=s.style_layers, content_weight=s.content_weight, style_weight=s.style_weight,
                     tv_weight=s.tv_weight, normalize=s.normalize)


def loss_of(objective_: Objective, image: np.ndarray) -> float:
    return float(objective_.value_and_grad(image[None])[0])


def _timed(generator, steps: int) -> float:
    """Seconds per item for the next `steps` items of a generator."""
    started = time.perf_counter()
    for _ in range(steps):
        next(generator)
    return (time.perf_counter() - started) / steps


def per_iteration(plan: Plan, backbone, reference_model) -> list[dict]:
    """painterly's engine against the reference loop, one SGD step each, with the GEMM rate alongside."""
    rows = []
    for size, repeats, steps in zip(plan.sizes, plan.repeats, plan.steps):
        content, style = inputs(size)
        height, width = content.shape[:2]
        settings = Settings(model=MODEL, size=size, optimizer="sgd", multiscale="off", seed=0,
                            iterations=1_000_000)
        engine = iter(Transfer(content, style, settings, backbone=backbone))
        loop = ReferenceLoop(content, style, model=reference_model).steps(1_000_000)
        _timed(engine, 2), _timed(loop, 1)  # build the objective, trace, warm up
        times = {"painterly": [], "reference": [], "gemm": []}
        for _ in range(repeats):
            times["painterly"].append(_timed(engine, steps))
            times["reference"].append(_timed(loop, steps))
            times["gemm"].append(flops.gemm_gflops(repeats=1))
        engine.close(), loop.close()
        m = backbone.margin
        work = {
            "painterly": flops.step_flops(backbone.model, height + 2 * m, width + 2 * m, deepest=DEEPEST,
                                          gram_layers=STYLE_LAYERS, gram_crop=m),
            "reference": flops.step_flops(reference_model, height, width, deepest=DEEPEST, batch=3,
                                          backward_batch=3, gram_layers=STYLE_LAYERS, gram_images=2),
        }
        median = {k: float(np.median(v)) for k, v in times.items()}
        rows.append({
            "size": [width, height], "repeats": repeats, "steps_per_repeat": steps,
            "painterly_s": median["painterly"], "reference_s": median["reference"],
            "speedup": median["reference"] / median["painterly"],
            "painterly_gflop": work["painterly"] / 1e9, "reference_gflop": work["reference"] / 1e9,
            "painterly_gflops": work["painterly"] / median["painterly"] / 1e9,
            "reference_gflops": work["reference"] / median["reference"] / 1e9,
            "gemm_gflops": median["gemm"],
            "painterly_of_gemm": work["painterly"] / median["painterly"] / 1e9 / median["gemm"],
            "reference_of_gemm": work["reference"] / median["reference"] / 1e9 / median["gemm"],
            "samples": times,
        })
        print(f"  {width}×{height}: painterly {median['painterly']:.3f} s, reference {median['reference']:.3f} s "
              f"({rows[-1]['speedup']:.2f}×), {rows[-1]['painterly_of_gemm']:.0%} of GEMM", flush=True)
    return rows


def time_to_quality(plan: Plan, backbone, reference_model) -> dict:
    """Wall time of painterly's default optimiser to reach the loss the reference loop has after N steps.

    The same objective: painterly's default objective with zero borders (`--border zero`) is exactly
    the loss the reference loop minimises, so that run is the comparison. painterly's full default
    (mirrored borders) minimises a slightly different loss; it runs alongside, scored by the same
    objective, to show what the border costs on the reference's own scale. The runs advance in turns
    (N / painterly's iterations reference steps, then one step of each painterly run), each timed on
    its own, so all see the same load from the rest of the machine; scoring is not timed.
    """
    content, style = inputs(plan.quality_size)
    zero = dataclasses.replace(backbone, margin=0)
    score = objective(zero, content, style)
    loop = ReferenceLoop(content, style, model=reference_model)
    steps = loop.steps(plan.reference_iterations)
    settings = Settings(model=MODEL, size=plan.quality_size, seed=0, iterations=plan.quality_iterations)
    runs = {"same_objective": iter(Transfer(content, style, settings.replace(border="zero"), backbone=zero)),
            "default": iter(Transfer(content, style, settings, backbone=backbone))}
    turn = max(1, -(-plan.reference_iterations // plan.quality_iterations))
    spent = {"reference": 0.0, **dict.fromkeys(runs, 0.0)}
    curves = {name: [] for name in runs}
    own = []
    while len(own) < plan.reference_iterations or runs:
        for _ in range(min(turn, plan.reference_iterations - len(own))):
            started = time.perf_counter()
            own.append(next(steps))
            spent["reference"] += time.perf_counter() - started
        for name, records in list(runs.items()):
            started = time.perf_counter()
            record = next(records, None)
            spent[name] += time.perf_counter() - started
            if record is None:
                del runs[name]
            else:
                curves[name].append([record.step, round(spent[name], 3), loss_of(score, record.image),
                                     record.evaluations])
    target = loss_of(score, loop.image())
    print(f"  reference: {plan.reference_iterations} SGD steps in {spent['reference']:.1f} s, loss {target:.4g}",
          flush=True)
    result = {"size": list(reversed(content.shape[:2])), "reference_iterations": plan.reference_iterations,
              "reference_s": spent["reference"], "reference_loss": target,
              "reference_own_losses": own[:: max(1, len(own) // 50)], "learning_rate": loop.learning_rate,
              "painterly_iterations": plan.quality_iterations}
    for name, curve in curves.items():
        reached = next(({"step": c[0], "seconds": c[1], "loss": c[2], "evaluations": c[3]}
                        for c in curve if c[2] <= target), None)
        result[name] = {"seconds": spent[name], "reached": reached, "curve": curve,
                        "speedup": spent["reference"] / reached["seconds"] if reached else None,
                        "best_loss": min(c[2] for c in curve)}
        if reached:
            print(f"  painterly ({name}): loss {reached['loss']:.4g} at step {reached['step']} after "
                  f"{reached['seconds']:.1f} s ({result[name]['speedup']:.1f}×)", flush=True)
        else:
            print(f"  painterly ({name}) did not reach {target:.4g} in {plan.quality_iterations} steps "
                  f"(best {result[name]['best_loss']:.4g})", flush=True)
    result["speedup"] = result["same_objective"]["speedup"]
    return result


def end_to_end(plan: Plan) -> list[dict]:
    """The CLI with default settings (and the offline backbone), in a fresh process, wall time."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in plan.end_to_end:
            out = Path(folder) / f"out_{size}.png"
            command = [sys.executable, "-m", "painterly", str(CONTENT), str(STYLE), "-o", str(out),
                       "--model", MODEL, "--size", str(size), "--seed", "0", "--quiet", *plan.cli_options]
            started, cpu = time.perf_counter(), _children_cpu_s()
            done = subprocess.run(command, capture_output=True, text=True,
                                  env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
            seconds, cpu = time.perf_counter() - started, _children_cpu_s() - cpu
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
            options = dict(zip(plan.cli_options[::2], plan.cli_options[1::2]))
            scales = Settings(model=MODEL, size=size, multiscale=options.get("--multiscale", "auto"),
                              min_size=int(options.get("--min-size", 256))).scale_sizes(size)
            rows.append({"size": size, "seconds": seconds, "cpu_s": cpu, "load_average": os.getloadavg()[0],
                         "scales": scales, "command": " ".join(
                ["painterly", "CONTENT", "STYLE", "-o", "OUT.png", *command[7:]])})
            print(f"  {size} px ({' → '.join(map(str, scales))}): {seconds:.1f} s wall, {cpu:.1f} s CPU",
                  flush=True)
    return rows


def fast(plan: Plan) -> list[dict]:
    """`painterly --method fast` in a fresh process (onnxruntime start-up, network load, painting, saving)."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in plan.fast_sizes:
            out, report = Path(folder) / f"fast_{size}.png", Path(folder) / f"report_{size}"
            command = [sys.executable, "-m", "painterly", str(CONTENT), str(STYLE), "-o", str(out), "--method",
                       "fast", "--size", str(size), "--quiet", "--report", str(report)]
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)
            seconds = time.perf_counter() - started
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
            import json

            meta = json.loads((report / "metadata.json").read_text())
            rows.append({"size": meta["output_size"], "seconds": seconds, "paint_s": meta["timings"]["paint_s"],
                         "load_s": meta["timings"].get("load_s"), "peak_mb": meta["peak_memory_mb"],
                         "tile": meta["memory"]["tile"]})
            print(f"  {size} px: {seconds:.2f} s wall, painting {meta['timings']['paint_s']:.2f} s", flush=True)
    return rows


def starts(plan: Plan, backbone) -> dict:
    """The optimisation from the photo against from the fast picture (--init fast), in turns: bench/starts.py."""
    from .starts import compare

    settings = Settings(model=MODEL, size=plan.starts_size, iterations=plan.starts_iterations, seed=0)
    return compare(CONTENT, STYLE, settings, backbone, None)


def _children_cpu_s() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def memory(plan: Plan) -> dict:
    """Peak resident memory of default runs, each in a fresh process, and a linear fit in pixels."""
    from . import memory_check

    rows = []
    for size in plan.memory_sizes:
        case = {"model": MODEL, "settings_model": MODEL, "optimizer": "lbfgs",
                "iterations": plan.memory_iterations, "size": size}
        try:
            measured = memory_check.measure(case)
        except RuntimeError as error:  # e.g. painterly refusing a size that does not fit: say so, go on
            rows.append({"side": size, "error": str(error).splitlines()[-1]})
            print(f"  {size} px: {rows[-1]['error']}", flush=True)
            continue
        width, height = measured["size"]
        rows.append({"side": size, "size": [width, height], "pixels": width * height,
                     "peak_bytes": measured["peak"], "seconds": measured["seconds"]})
        print(f"  {width}×{height}: {measured['peak'] / 1e9:.2f} GB", flush=True)
    return memory_fit(rows, plan.memory_iterations)


def memory_fit(rows: list[dict], iterations: int) -> dict:
    """The rows with a least-squares line peak = intercept + slope × pixels, and how far each is off it."""
    ok = [r for r in rows if "peak_bytes" in r]
    pixels = np.array([r["pixels"] for r in ok], float)
    peaks = np.array([r["peak_bytes"] for r in ok], float)
    slope, intercept = np.polyfit(pixels, peaks, 1)
    fitted = slope * pixels + intercept
    spread = np.sum((peaks - peaks.mean()) ** 2)
    r2 = 1 - np.sum((peaks - fitted) ** 2) / spread if spread > 0 else 1.0
    for row, f in zip(ok, fitted):
        row["fit_error"] = float((row["peak_bytes"] - f) / row["peak_bytes"])
    return {"rows": rows, "bytes_per_pixel": float(slope), "intercept_bytes": float(intercept), "r2": float(r2),
            "optimizer": "lbfgs", "iterations": iterations}


def precision(plan: Plan, save_to: Path | None = None) -> dict:
    """float32 against bfloat16 (and mixed_float16): per-evaluation speed, and a whole run's loss and pixels."""
    nets = {p: backbones.build(MODEL, LAYERS, precision=p) for p in backbones.PRECISIONS}
    content, style = inputs(plan.precision_size)
    start = content + np.random.default_rng(0).normal(0, 8, content.shape).astype(np.float32)
    evaluations = {p: objective(nets[p], content, style) for p in ("float32", "bfloat16")}
    times = {p: [] for p in evaluations}
    for p, o in evaluations.items():
        o.value_and_grad(start[None])  # trace
    for _ in range(3):
        for p, o in evaluations.items():
            started = time.perf_counter()
            o.value_and_grad(start[None])[2].numpy()
            times[p].append(time.perf_counter() - started)
    speed = {"size": list(reversed(content.shape[:2])),
             "seconds": {p: float(np.median(t)) for p, t in times.items()}, "samples": times}
    speed["bfloat16_speedup"] = speed["seconds"]["float32"] / speed["seconds"]["bfloat16"]
    print(f"  evaluation at {plan.precision_size} px: float32 {speed['seconds']['float32']:.3f} s, "
          f"bfloat16 {speed['seconds']['bfloat16']:.3f} s ({speed['bfloat16_speedup']:.2f}×)", flush=True)

    # whole runs at a small size, with Adam (L-BFGS's line search stalls on bfloat16's rounding noise, so
    # Settings refuses that pair); both results scored by the float32 objective
    content, style = inputs(plan.precision_run_size)
    score = objective(nets["float32"], content, style)
    transfers = {p: Transfer(content, style, Settings(model=MODEL, size=plan.precision_run_size, seed=0, precision=p,
                                                      optimizer="adam", iterations=plan.precision_iterations),
                             backbone=nets[p])
                 for p in ("float32", "bfloat16")}
    spent = _lockstep({p: iter(t) for p, t in transfers.items()})
    runs = {}
    for p, transfer in transfers.items():
        result = transfer.result()
        runs[p] = {"seconds": spent[p], "loss": loss_of(score, result.image), "own_loss": result.history[-1].loss,
                   "image": result.image}
    a, b = runs["float32"]["image"], runs["bfloat16"]["image"]
    mse = float(np.mean((images.to_uint8(a).astype(float) - images.to_uint8(b).astype(float)) ** 2))
    quality = {"size": list(reversed(content.shape[:2])), "iterations": plan.precision_iterations, "optimizer": "adam",
               **{p: {k: v for k, v in r.items() if k != "image"} for p, r in runs.items()},
               "loss_change": runs["bfloat16"]["loss"] / runs["float32"]["loss"] - 1,
               "mean_abs_difference": float(np.mean(np.abs(images.to_uint8(a).astype(float)
                                                            - images.to_uint8(b).astype(float)))),
               "psnr_db": float(10 * np.log10(255**2 / mse)) if mse > 0 else float("inf")}
    quality["run_speedup"] = runs["float32"]["seconds"] / runs["bfloat16"]["seconds"]
    print(f"  {plan.precision_iterations}-step runs at {plan.precision_run_size} px: loss float32 "
          f"{runs['float32']['loss']:.4g}, bfloat16 {runs['bfloat16']['loss']:.4g} ({quality['loss_change']:+.2%}), "
          f"PSNR {quality['psnr_db']:.1f} dB, {quality['run_speedup']:.2f}× faster", flush=True)
    if save_to is not None:
        images.save_image(save_to, np.concatenate([a, np.full((a.shape[0], 8, 3), 255.0), b], axis=1))

    # mixed_float16 is for GPUs; on a CPU it says what it costs and that its loss agrees
    content, style = inputs(plan.float16_size)
    half = {p: objective(nets[p], content, style) for p in ("float32", "mixed_float16")}
    float16 = {"size": list(reversed(content.shape[:2]))}
    for p, o in half.items():
        o.value_and_grad(content[None])
        started = time.perf_counter()
        total, _, grad = o.value_and_grad(content[None])
        float16[p] = {"seconds": time.perf_counter() - started, "loss": float(total), "gradient": grad.numpy()}
    g32, g16 = float16["float32"].pop("gradient"), float16["mixed_float16"].pop("gradient")
    float16["gradient_cosine"] = float(np.sum(g32 * g16) / (np.linalg.norm(g32) * np.linalg.norm(g16)))
    float16["loss_change"] = float16["mixed_float16"]["loss"] / float16["float32"]["loss"] - 1
    float16["speedup"] = float16["float32"]["seconds"] / float16["mixed_float16"]["seconds"]
    print(f"  mixed_float16 at {plan.float16_size} px on this machine: {float16['speedup']:.2f}×, loss "
          f"{float16['loss_change']:+.3%}, gradient cosine {float16['gradient_cosine']:.4f}", flush=True)
    return {"evaluation": speed, "runs": quality, "mixed_float16": float16}


def _lockstep(generators: dict) -> dict:
    """Advance the generators in turns, one item each, until all are done; each one's own seconds."""
    spent = dict.fromkeys(generators, 0.0)
    live = dict(generators)
    while live:
        for name, generator in list(live.items()):
            started = time.perf_counter()
            if next(generator, None) is None:
                del live[name]
            spent[name] += time.perf_counter() - started
    return spent
