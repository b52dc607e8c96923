"""The benchmark's targets and its markdown tables, from the results dict that is also saved as JSON."""

from __future__ import annotations

import re
from pathlib import Path

START, END = "<!-- bench: start -->", "<!-- bench: end -->"
GB = 1e9


def describe(info: dict) -> str:
    bf16 = ", ".join(info["bf16_instructions"]) or "no bf16 instructions"
    gpus = ", ".join(info["gpus"]) or "no GPU"
    return (f"{info['cpu']}, {info['cores']} cores ({bf16}), {info['memory_gb']} GB RAM, {gpus}; "
            f"{info['os']}, Python {info['python']}, TensorFlow {info['tensorflow']}, Keras {info['keras']}")


def _row(rows: list[dict], side: int, key=lambda r: max(r["size"])) -> dict:
    """The row for this side, or the largest one (a quick run has only tiny sizes)."""
    return next((r for r in rows if key(r) == side), max(rows, key=key))


def targets(results: dict) -> list[dict]:
    """Each target of issue 4 with the measured value, whether it is met and by how much."""
    found = []  # name, where, wanted, value, bound, higher is better, format
    if "per_iteration" in results:
        speed = _row(results["per_iteration"], 512)
        where = f"{max(speed['size'])} px"
        found.append(("per-iteration speed vs the reference loop", where, "≥ 1.2×", speed["speedup"], 1.2, True,
                      "{:.2f}×"))
        found.append(("share of the fp32 GEMM rate", where, "≥ 85 %", speed["painterly_of_gemm"], 0.85, True,
                      "{:.0%}"))
    if "time_to_quality" in results:
        quality = results["time_to_quality"]
        found.append(("time to quality vs the reference loop", f"{max(quality['size'])} px", "≥ 10×",
                      quality["speedup"], 10.0, True, "{:.1f}×"))
    if "end_to_end" in results:
        default = results["end_to_end"][0]
        found.append(("default stylization, end to end", f"{default['size']} px", "≤ 90 s", default["seconds"], 90.0,
                      False, "{:.0f} s"))
    measured = [r for r in results.get("memory", {}).get("rows", []) if "peak_bytes" in r]
    if measured:
        memory = _row(measured, 2048, key=lambda r: r["side"])
        found.append(("peak memory", f"{memory['side']} px", "≤ 24 GB", memory["peak_bytes"] / GB, 24.0, False,
                      "{:.1f} GB"))
    out = []
    for name, where, wanted, value, bound, higher, fmt in found:
        if value is None:
            out.append({"target": name, "at": where, "wanted": wanted, "measured": None, "met": False,
                        "note": "not reached"})
            continue
        met = value >= bound if higher else value <= bound
        note = "met" if met else (f"missed: {1 - value / bound:.0%} below" if higher
                                  else f"missed: {value / bound - 1:.0%} over")
        out.append({"target": name, "at": where, "wanted": wanted, "measured": value, "shown": fmt.format(value),
                    "met": met, "note": note})
    return out


def targets_table(found: list[dict]) -> str:
    lines = ["| target | at | wanted | measured | |", "|---|---|---|---:|---|"]
    for t in found:
        lines.append(f"| {t['target']} | {t['at']} | {t['wanted']} | {t.get('shown', '–')} | {t['note']} |")
    return "\n".join(lines)


def markdown(results: dict, path: Path, picture: Path | None) -> str:
    info = results["machine"]
    out = [f"Measured {results['date']} on {describe(info)} by `python -m bench"
           f"{' --quick' if results['quick'] else ''}` in {sum(results['seconds'].values()) / 60:.0f} min; "
           f"raw numbers in `{path.name}` (bench/results/). Offline backbone vgg16-hed, Tübingen × The Starry Night. "
           f"Other work shared the machine: 1-minute load average after each section "
           f"{', '.join(f'{k} {v[0]:.1f}' for k, v in results['load_average'].items())} (on {info['cores']} cores).",
           *([results["notes"]] if results.get("notes") else []),
           "", "### Targets", "", targets_table(results["targets"])]

    if "per_iteration" in results:
        out += _per_iteration(results)
    if "time_to_quality" in results:
        out += _time_to_quality(results)
    if "end_to_end" in results:
        out += _end_to_end(results)
    if "memory" in results:
        out += _memory(results)
    if "precision" in results:
        out += _precision(results, picture)
    if "fast" in results:
        out += _fast(results)
    if "starts" in results:
        out += _starts(results)
    out += _method()
    return "\n".join(out)


def _per_iteration(results: dict) -> list[str]:
    out = ["", "### Per iteration", "",
            "One loss-and-gradient step and its SGD update, median of interleaved repetitions in one process. "
            "Reference: keras.io's loop (full VGG16 feature dict, the three images as one batch each step, "
            "`tf.GradientTape`, SGD with exponential decay). GEMM: TensorFlow fp32 2048×2048 matmul, measured "
            "between the repetitions.", "",
            "| size | painterly | reference | speed-up | GFLOP per step (painterly / reference) | painterly GFLOP/s "
            "| reference GFLOP/s | GEMM GFLOP/s | painterly / GEMM | reference / GEMM |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results["per_iteration"]:
        out.append(f"| {r['size'][0]}×{r['size'][1]} | {r['painterly_s']:.3f} s | {r['reference_s']:.3f} s | "
                   f"{r['speedup']:.2f}× | {r['painterly_gflop']:.1f} / {r['reference_gflop']:.1f} | "
                   f"{r['painterly_gflops']:.0f} | {r['reference_gflops']:.0f} | {r['gemm_gflops']:.0f} | "
                   f"{r['painterly_of_gemm']:.0%} | {r['reference_of_gemm']:.0%} |")

    return out


def _time_to_quality(results: dict) -> list[str]:
    q, plan = results["time_to_quality"], results["plan"]
    size = f"{q['size'][0]}×{q['size'][1]}"
    out = ["", "### Time to quality", "",
            f"The reference loop ran {q['reference_iterations']} SGD steps at {size} in {q['reference_s']:.1f} s and "
            f"reached a loss of {q['reference_loss']:.4g}. Every image is scored by that loop's own objective: "
            f"painterly's default normalised objective (α 1, β 10, TV 1) with zero borders. painterly ran its "
            f"default optimiser (L-BFGS, {plan['quality_iterations']} iterations) twice, in turns with the "
            f"reference: with `--border zero`, the same objective, and with its default mirrored border, which "
            f"minimises a slightly different loss.", "",
            "| painterly run | reached the reference's loss | after | speed-up | best loss |", "|---|---|---:|---:|---:|"]
    for name, label in (("same_objective", "`--border zero` (same objective)"), ("default", "default (mirror)")):
        run = q.get(name)
        if run is None:
            continue
        reached = run["reached"]
        out.append(f"| {label} | " + (f"step {reached['step']} ({reached['evaluations']} evaluations) | "
                                      f"{reached['seconds']:.1f} s | **{run['speedup']:.1f}×** |"
                                      if reached else f"not within {plan['quality_iterations']} steps | – | – |")
                   + f" {run['best_loss']:.4g} |")
    return out


def _end_to_end(results: dict) -> list[str]:
    out = ["", "### End to end", "", "`painterly` in a fresh process (TensorFlow start-up, model build, "
            "optimisation, saving), default settings, `--model vgg16-hed`. CPU time is the process's user + "
            "system time: on an otherwise idle machine with these cores the wall time would be about CPU time / "
            "cores.", "",
            "| size | scales | wall time | CPU time | load average meanwhile |", "|---|---|---:|---:|---:|"]
    for r in results["end_to_end"]:
        out.append(f"| {r['size']} px | {' → '.join(map(str, r['scales']))} | {r['seconds']:.0f} s | "
                   f"{r['cpu_s']:.0f} s | {r['load_average']:.1f} |")

    return out


def _fast(results: dict) -> list[str]:
    out = ["", "### The fast method", "", "`painterly --method fast --report DIR` in a fresh process: wall time "
           "(Python and onnxruntime start-up, loading the network, painting, saving the picture and the report) "
           "and the painting alone.", "",
           "| size | wall time | painting | loading the network | peak memory | tiles |",
           "|---|---:|---:|---:|---:|---|"]
    for r in results["fast"]:
        load = f"{r['load_s']:.2f} s" if r.get("load_s") is not None else "–"
        out.append(f"| {r['size'][0]}×{r['size'][1]} | {r['seconds']:.2f} s | {r['paint_s']:.2f} s | {load} | "
                   f"{r['peak_mb']:.0f} MB | {r['tile'] or 'whole'} |")
    return out


def _starts(results: dict) -> list[str]:
    row = results["starts"]
    target = row["target"]
    out = ["", "### The start: the photo or the fast picture", "",
           f"Default settings at {row['size'][0]}×{row['size'][1]}, both runs stepped in turns; loss after N "
           f"iterations, and when each first reaches the photo start's final loss ({target:.4g}). "
           "bench/starts.py runs the same on six pairs (table in docs/PERFORMANCE.md, Starts).", "",
           "| start | " + " | ".join(f"{k} it" for k in row["content"]["loss"]) + " | reaches it at | seconds |",
           "|---|" + "---:|" * (len(row["content"]["loss"]) + 2)]
    for start in ("content", "fast"):
        r = row[start]
        reached = "–" if r["iterations_to_target"] is None else \
            f"{r['iterations_to_target']} it, {r['seconds_to_target']:.1f} s"
        losses = " | ".join(f"{v:.4g}" for v in r["loss"].values())
        name = "photo" if start == "content" else "fast picture"
        out.append(f"| {name} | {losses} | {reached} | {r['seconds']:.1f} |")
    return out


def _memory(results: dict) -> list[str]:
    m = results["memory"]
    out = ["", "### Peak memory", "",
            f"Peak resident memory (VmHWM) of a default run ({m['optimizer']}, {m['iterations']} iterations, "
            f"one scale), each size in a fresh process. Linear fit: {m['intercept_bytes'] / GB:.2f} GB + "
            f"{m['bytes_per_pixel'] / 1e3:.1f} kB per pixel, R² = {m['r2']:.4f}.", "",
            "| size | pixels | peak | off the line |", "|---|---:|---:|---:|"]
    for r in m["rows"]:
        if "peak_bytes" in r:
            out.append(f"| {r['size'][0]}×{r['size'][1]} | {r['pixels']:,} | {r['peak_bytes'] / GB:.2f} GB | "
                       f"{r['fit_error']:+.1%} |")
        else:
            out.append(f"| {r['side']} px | – | {r['error']} | |")

    return out


def _precision(results: dict, picture: Path | None) -> list[str]:
    pr = results["precision"]
    e, runs, half = pr["evaluation"], pr["runs"], pr["mixed_float16"]
    return ["", "### Precision (`--precision`)", "",
            "| | float32 | bfloat16 |", "|---|---:|---:|",
            f"| one evaluation at {e['size'][0]}×{e['size'][1]} | {e['seconds']['float32']:.3f} s | "
            f"{e['seconds']['bfloat16']:.3f} s ({e['bfloat16_speedup']:.2f}×) |",
            f"| {runs['iterations']}-step run ({runs['optimizer']}) at {runs['size'][0]}×{runs['size'][1]} | "
            f"{runs['float32']['seconds']:.1f} s | {runs['bfloat16']['seconds']:.1f} s ({runs['run_speedup']:.2f}×) |",
            f"| its final loss (scored in float32) | {runs['float32']['loss']:.4g} | {runs['bfloat16']['loss']:.4g} "
            f"({runs['loss_change']:+.2%}) |",
            "",
            f"The two results differ by {runs['mean_abs_difference']:.1f} levels of 255 on average "
            f"(PSNR {runs['psnr_db']:.1f} dB)."
            + (f" Side by side (float32, bfloat16): ![]({picture.name})" if picture else ""),
            f"mixed_float16 is meant for GPUs: on this machine one evaluation at {half['size'][0]}×{half['size'][1]} "
            f"runs at {half['speedup']:.2f}× float32's speed, with a loss {half['loss_change']:+.3%} off float32's "
            f"and a gradient cosine of {half['gradient_cosine']:.4f} (with its loss scaling)."]


def _method() -> list[str]:
    return ["", "### How it is measured", "",
            "FLOPs are counted from the layer shapes (`bench/flops.py`): 2 × the multiply-adds of every 3×3 "
            "convolution a step needs — forward for each image in the batch up to the deepest loss layer "
            "(block5_conv2), and backward to each convolution's input (no weight gradients) — at the size the "
            "network sees (painterly's includes its 16-pixel mirrored border), plus the Gram matrices; pools, "
            "ReLUs and element-wise loss arithmetic are left out (under 1 %). The reference runs three images "
            "forward and backward each step (the content and style features are recomputed and the batched "
            "convolutions' input gradients are computed for all three), painterly one."]


def write_doc(doc: Path, text: str, name: str = "bench") -> None:
    """Put `text` between the `name` markers of `doc`, keeping everything else (other people's blocks too)."""
    start, end = f"<!-- {name}: start -->", f"<!-- {name}: end -->"
    block = f"{start}\n{text}\n{end}"
    old = doc.read_text() if doc.is_file() else "# Performance\n"
    if start in old and end in old:
        new = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, old, flags=re.S)
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(new)
