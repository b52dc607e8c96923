"""The memory estimate: layer sizes by hand, linear growth, the largest size that fits, formatting."""

import pytest

from painterly import memory
from painterly.errors import SettingsError

LAYERS = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1", "block5_conv2"]


def test_activation_bytes_counts_every_layer_output_up_to_the_deepest_by_hand():
    # VGG16 up to block2_conv1 at 32x24: conv1_1, conv1_2 (64 ch, 32x24), pool1 (64 ch, 16x12), conv2_1 (128 ch)
    expected = 4 * (2 * 32 * 24 * 64 + 16 * 12 * 64 + 16 * 12 * 128)
    assert memory.activation_bytes(32, 24, "vgg16-hed", ["block2_conv1", "block1_conv1"]) == expected
    # VGG19 has four convolutions in block 3: up to block3_conv4 at 16x16
    vgg19 = 4 * (2 * 256 * 64 + 64 * 64 + 2 * 64 * 128 + 16 * 128 + 4 * 16 * 256)
    assert memory.activation_bytes(16, 16, "vgg19", ["block3_conv4"]) == vgg19
    with pytest.raises(SettingsError, match="unknown feature layer"):
        memory.activation_bytes(16, 16, "vgg16", ["block3_conv4"])


def test_the_estimate_grows_linearly_with_pixels_above_a_fixed_baseline():
    def estimate(side):
        return memory.estimate_peak_bytes(side, side, model="vgg16-hed", layers=LAYERS, optimizer="adam")

    base = memory.PROCESS_BYTES + memory.WEIGHT_COPIES * memory.WEIGHT_BYTES["vgg16"]
    per_pixel = [(estimate(side) - base) / (side + 32) ** 2 for side in (1024, 2048, 4096)]  # 16 px mirrored border
    assert max(per_pixel) / min(per_pixel) < 1.02
    assert 1500 < per_pixel[-1] < 4000  # bytes per pixel, as measured (docs/MEMORY.md)
    lbfgs = memory.estimate_peak_bytes(1024, 1024, model="vgg16-hed", layers=LAYERS, optimizer="lbfgs", iterations=3)
    assert lbfgs > estimate(1024)  # L-BFGS keeps float64 history pairs
    full = memory.estimate_peak_bytes(1024, 1024, model="vgg16-hed", layers=LAYERS, optimizer="lbfgs", iterations=100)
    assert full - lbfgs == 2 * (memory.LBFGS_HISTORY - 3) * 1024 * 1024 * 3 * 8  # the whole history once filled


def test_largest_fitting_side_is_the_largest_multiple_of_16_under_the_budget():
    assert memory.largest_fitting_side(lambda side: side * 10, 5000) == 496
    assert memory.largest_fitting_side(lambda side: side * 10, 10) == 16  # the floor
    assert memory.largest_fitting_side(lambda side: 0, 1) == 16384  # the largest size settings accept


def test_available_memory_is_read_from_this_machine_and_formatted_for_people():
    assert memory.available_bytes() > 0 and memory.current_rss_bytes() > 0
    assert memory.peak_rss_bytes() >= memory.current_rss_bytes() // 2
    assert [memory.format_bytes(n) for n in (12, 12_345, 850e6, 3.21e9)] == ["12 B", "12 kB", "850 MB", "3.2 GB"]


def test_a_fresh_process_reports_its_own_peak_not_its_parents():
    import subprocess
    import sys

    import numpy as np

    ballast = np.ones(80_000_000)  # 640 MB touched in this process: ru_maxrss would pass it on to a child
    code = "from painterly.memory import peak_rss_bytes; print(peak_rss_bytes())"
    child = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert memory.peak_rss_bytes() > 640e6 > 4 * child
    del ballast
