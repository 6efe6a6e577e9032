"""The first code cell of every lesson: seeds, determinism and figure style."""

from __future__ import annotations

import random
import sys
import warnings

import numpy as np


def on_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def setup(seed: int = 0, tensorflow: bool = True) -> None:
    """Seed Python, NumPy (and Keras/TensorFlow) and make TensorFlow deterministic.

    With ``tensorflow=True`` this calls ``keras.utils.set_random_seed(seed)`` and
    ``tf.config.experimental.enable_op_determinism()``, so a lesson that trains
    prints the same numbers on every run on the same machine. Matplotlib gets
    readable defaults (grid, larger labels).
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    # Keras warns on every fit() with a tf.data.Dataset that its default shuffle=True is
    # ignored; lrlab's datasets are already shuffled (seeded), so the warning is noise.
    warnings.filterwarnings("ignore", message=r"`shuffle=True` was passed", category=UserWarning)
    random.seed(seed)
    np.random.seed(seed)
    if tensorflow:
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(int(seed))
        tf.config.experimental.enable_op_determinism()

    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 120,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "legend.fontsize": 9,
        }
    )
