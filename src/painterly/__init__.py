"""painterly: neural style transfer (Gatys et al., as in the Keras paper) as a library and a CLI.

    import painterly
    result = painterly.stylize("photo.jpg", "painting.jpg", size=384)
    painterly.images.save_image("out.png", result.image, result.alpha)

TensorFlow is imported on first use of the engine, not on `import painterly`, and quietly: its C++ log
(oneDNN notices, "failed call to cuInit" on machines without a GPU) is kept off the terminal, as the CLI
does; set TF_CPP_MIN_LOG_LEVEL yourself (0 shows everything) before importing painterly to see it.
A style may be an image or the name of a painting on the shelf: `painterly.shelf.listing()`.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # read once, when TensorFlow's C++ library loads

from .version import __version__  # noqa: E402
from .errors import PainterlyError  # noqa: E402
from .events import Iterate, Result  # noqa: E402
from .settings import PRESETS, Settings, preset  # noqa: E402

_ENGINE = ("stylize", "iterate", "prepare", "Transfer")

__all__ = ["stylize", "iterate", "prepare", "Transfer", "Settings", "preset", "PRESETS", "Result", "Iterate",
           "PainterlyError", "__version__"]


def __getattr__(name):
    if name in _ENGINE:
        from . import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'painterly' has no attribute '{name}'")
