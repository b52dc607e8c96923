"""Optimisers that move the image: L-BFGS (SciPy), Adam and SGD (Keras), behind one interface.

Each optimiser is a generator function `run(x0, evaluate, settings)` that yields the image after
every iteration. `evaluate(x) -> (loss, gradient)` takes and returns float32 NumPy arrays shaped like
`x0` (RGB 0..255). Pixels stay within 0..255: L-BFGS-B takes them as bounds, Adam and SGD project
onto them after each step. A caller stops an optimiser by leaving its loop (closing the generator).
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

Evaluate = Callable[[np.ndarray], tuple[float, np.ndarray]]

PIXEL_RANGE = (0.0, 255.0)


@dataclass(frozen=True)
class OptimizerSettings:
    iterations: int
    learning_rate: float  # Adam / SGD step size in pixel units (0..255)
    decay_steps: int = 100  # SGD: multiply the rate by decay_rate every decay_steps (keras.io)
    decay_rate: float = 0.96
    history: int = 20  # L-BFGS: number of correction pairs kept


def lbfgs(x0: np.ndarray, evaluate: Evaluate, settings: OptimizerSettings) -> Iterator[np.ndarray]:
    """SciPy's L-BFGS-B, with the pixel range as bounds, one yield per L-BFGS iteration.

    SciPy drives its own loop, so it runs in a worker thread that hands each iterate over and waits
    until the consumer asks for the next; closing the generator stops SciPy at that point.
    """
    from scipy.optimize import minimize

    shape = x0.shape
    x0 = np.clip(x0, *PIXEL_RANGE)
    scale = _loss_scale(evaluate(x0)[1])
    handoff: queue.Queue = queue.Queue()  # unbounded: the worker never blocks handing over
    resume: queue.Queue = queue.Queue()
    done = object()

    def fun(flat):
        loss, grad = evaluate(flat.reshape(shape).astype(np.float32))
        return float(loss) * scale, grad.reshape(-1).astype(np.float64) * scale

    def callback(intermediate_result):
        handoff.put(intermediate_result.x.reshape(shape).astype(np.float32))
        if not resume.get():
            raise StopIteration

    def work():
        try:
            minimize(
                fun,
                x0.reshape(-1).astype(np.float64),
                jac=True,
                method="L-BFGS-B",
                bounds=[PIXEL_RANGE] * x0.size,
                callback=callback,
                options={"maxiter": settings.iterations, "maxcor": settings.history, "ftol": 0.0,
                         "gtol": 0.0, "maxfun": settings.iterations * 4, "maxls": 20},
            )
            handoff.put(done)
        except BaseException as error:  # hand the error to the consumer's thread
            handoff.put(error)

    worker = threading.Thread(target=work, name="painterly-lbfgs", daemon=True)
    worker.start()
    try:
        while True:
            item = _get(handoff)
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
            resume.put(True)
    finally:
        if worker.is_alive():
            resume.put(False)  # SciPy stops at its next callback
            worker.join()


def _loss_scale(grad: np.ndarray) -> float:
    """The factor that makes L-BFGS-B's first step move the pixels by one grey level (RMS).

    L-BFGS-B starts with the identity as its Hessian guess, so its first step is the negative gradient
    itself. The loss terms are relative errors, whose gradient is about 1e-5 per pixel at 256 px and
    shrinks as the image grows: unscaled, the first step moves pixels by ~1e-5 (a wasted iteration) and
    at 2048 px by less than float32 resolves near 255, so the line search fails and SciPy stops. Later
    steps do not depend on the scale: L-BFGS rescales its Hessian guess from the measured curvature.
    """
    rms = float(np.sqrt(np.mean(np.square(grad, dtype=np.float64))))
    return 1.0 / rms if rms > 0 and np.isfinite(rms) else 1.0


def _get(q: queue.Queue):
    """queue.get that stays interruptible by Ctrl-C."""
    while True:
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            continue


def adam(x0: np.ndarray, evaluate: Evaluate, settings: OptimizerSettings) -> Iterator[np.ndarray]:
    """Keras' Adam on the pixels, projected onto 0..255 after each step."""
    import keras

    yield from _keras_loop(x0, evaluate, settings, keras.optimizers.Adam(settings.learning_rate))


def sgd(x0: np.ndarray, evaluate: Evaluate, settings: OptimizerSettings) -> Iterator[np.ndarray]:
    """Keras' SGD with the exponential decay of the keras.io example the paper adapts."""
    import keras

    schedule = keras.optimizers.schedules.ExponentialDecay(
        settings.learning_rate, decay_steps=settings.decay_steps, decay_rate=settings.decay_rate
    )
    yield from _keras_loop(x0, evaluate, settings, keras.optimizers.SGD(schedule))


def _keras_loop(x0, evaluate, settings, optimizer) -> Iterator[np.ndarray]:
    import tensorflow as tf

    image = tf.Variable(x0, dtype=tf.float32)
    for _ in range(settings.iterations):
        _, grad = evaluate(image.numpy())
        optimizer.apply_gradients([(tf.convert_to_tensor(grad), image)])
        image.assign(tf.clip_by_value(image, *PIXEL_RANGE))
        yield image.numpy()


OPTIMIZERS = {"lbfgs": lbfgs, "adam": adam, "sgd": sgd}
