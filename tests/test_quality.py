"""A real stylization with the offline pretrained backbone (vgg16-hed) on real images."""

import numpy as np
import pytest

import painterly
from conftest import shared_image


@pytest.mark.slow
def test_vgg16_hed_really_stylizes_a_real_pair(hed_backbone):
    content = shared_image("content", "tubingen.jpg")
    style = shared_image("style", "starry_night.jpg")
    result = painterly.stylize(content, style, backbone=hed_backbone, size=96, iterations=40, seed=0)
    first, best = result.history[0], result.best
    assert best.terms["style"] < first.terms["style"] / 10, (first.terms, best.terms)
    assert best.loss < first.loss / 5
    start = painterly.images.resize(painterly.images.load_image(content).rgb, result.image.shape[1::-1])
    change = np.abs(result.image - start).mean()
    assert change > 10, change  # visibly repainted, not a faint tint
    # the style's palette moves in: Starry Night is mostly blue, Tübingen's river front is not
    blue_share = lambda img: (img[..., 2] > img[..., 0] + 20).mean()  # noqa: E731
    assert blue_share(result.image) > blue_share(start) + 0.05
