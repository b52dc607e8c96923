"""The optimisers on hand-made objectives: steps that make progress, bounds kept, stopping on close."""

import numpy as np
import pytest

from painterly.optimizers import OPTIMIZERS, OptimizerSettings, lbfgs


def quadratic(target: np.ndarray, weight: float):
    """loss = weight * sum((x - target)^2), as float32 NumPy in and out like the engine's objective."""

    def evaluate(x):
        diff = x.astype(np.float64) - target
        return float(weight * np.sum(diff**2)), (2 * weight * diff).astype(np.float32)

    return evaluate


@pytest.mark.parametrize("weight", [1e-3, 1e-12])
def test_lbfgs_first_step_moves_pixels_whatever_the_gradient_scale(weight):
    # A 2048 px image has per-pixel gradients near 1e-7: unscaled, L-BFGS-B's first step (the negative
    # gradient itself) was below float32 resolution near 255, its line search failed and SciPy stopped.
    rng = np.random.default_rng(0)
    target = rng.uniform(100, 250, (32, 32, 3))
    x0 = np.full_like(target, 128.0, dtype=np.float32)
    evaluate = quadratic(target, weight)
    steps = list(lbfgs(x0, evaluate, OptimizerSettings(iterations=10, learning_rate=0.0)))
    first_move = np.sqrt(np.mean((steps[0] - x0) ** 2))
    assert 0.5 < first_move < 2.0  # about one grey level, RMS
    assert len(steps) >= 3
    assert evaluate(steps[-1])[0] < 1e-6 * evaluate(x0)[0]


def test_lbfgs_starts_inside_the_bounds_and_keeps_them():
    target = np.full((8, 8, 3), 300.0)  # beyond white: the optimum sits on the bound
    x0 = np.linspace(-20, 280, 8 * 8 * 3, dtype=np.float32).reshape(8, 8, 3)  # Lanczos-like overshoot
    steps = list(lbfgs(x0, quadratic(target, 1e-4), OptimizerSettings(iterations=20, learning_rate=0.0)))
    assert all(s.min() >= 0.0 and s.max() <= 255.0 for s in steps)
    np.testing.assert_allclose(steps[-1], 255.0, atol=1e-3)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_closing_the_generator_stops_the_optimizer(name):
    calls = []
    base = quadratic(np.full((4, 4, 3), 200.0), 1e-3)

    def evaluate(x):
        calls.append(1)
        return base(x)

    run = OPTIMIZERS[name](np.full((4, 4, 3), 50.0, np.float32), evaluate,
                           OptimizerSettings(iterations=1000, learning_rate=1.0))
    for step, _ in enumerate(run):
        if step == 2:
            break
    run.close()
    seen = len(calls)
    assert seen < 20
