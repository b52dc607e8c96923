"""The style loss itself, ablated: Gram matrices (`--style-loss gram`, the default up to 512 px) against the sliced
Wasserstein loss (`--style-loss sliced`, Heitz et al. 2021; `wasserstein.SlicedStyleTerm`) and the
mean-and-covariance Wasserstein-2 loss (`--style-loss w2`, the default above 512 px; `wasserstein.GaussianStyleTerm`).

    python -m bench.style_losses cost [--size 512]            # one step's time, each loss, interleaved in one run
    python -m bench.large run CONTENT STYLE --size 1024 --set init=PICTURE_512.png multiscale=off iterations=10 \
        style_loss=w2 --out /tmp/w2                           # the steps above 512 px alone, from a 512 px picture
    python -m bench.pairs run --preset default --set style_loss=sliced --out /tmp/sw --pairs reference

`cost` times the objective's value and gradient (the optimiser's step) with each style loss on the same image,
network and process, alternating them, and prints the median seconds and the ratio. The pictures of the ablation
are bench/pairs.py's with `--set style_loss=sliced`; `python -m bench.pairs reference|compare` puts them beside
the default's.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import json
import time
from pathlib import Path

import numpy as np

from painterly import images

from .pairs import MODEL, find


def cost(args) -> int:
    import tensorflow as tf

    from painterly import backbones, preset
    from painterly.losses import Objective

    s = preset("default", model=MODEL)
    layers = list(dict.fromkeys(s.content_layers + s.style_layers))
    backbone = backbones.build(MODEL, layers)
    content = images.resize(images.load_image(find("tubingen", "content")).rgb, images.fit_size((1024, 768), args.size))
    style = images.resize(images.load_image(find("starry_night", "style")).rgb, images.fit_size((1024, 811), args.size))
    options = dict(content_layers=s.content_layers, style_layers=s.style_layers, content_weight=1.0,
                   style_weight=1e4, tv_weight=1.0, balance="mean")
    objectives = {loss: Objective(backbone, content[None], [style[None]], style_loss=loss, **options)
                  for loss in ("gram", "sliced", "w2")}
    image = tf.constant(content[None], tf.float32)
    times = {loss: [] for loss in objectives}
    for loss, objective in objectives.items():
        objective.value_and_grad(image)  # traced and warm
    for _ in range(args.repeats):
        for loss, objective in objectives.items():
            started = time.perf_counter()
            total, _, grad = objective.value_and_grad(image)
            np.asarray(grad)
            times[loss].append(time.perf_counter() - started)
    median = {loss: float(np.median(t)) for loss, t in times.items()}
    result = {"size": list(content.shape[1::-1]), "repeats": args.repeats, "median_step_s": median,
              "sliced_over_gram": median["sliced"] / median["gram"], "w2_over_gram": median["w2"] / median["gram"],
              "load_average": os.getloadavg()[0]}
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("cost")
    c.add_argument("--size", type=int, default=512)
    c.add_argument("--repeats", type=int, default=7)
    c.add_argument("--json", type=Path)
    return cost(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
