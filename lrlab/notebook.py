"""What a lesson's cells call around the lesson itself: ``setup`` (the first code cell:
seeds, determinism and figure style) and ``show_source`` (code of lrlab displayed in the
lesson, so that what a lesson teaches is the code that runs)."""

from __future__ import annotations

import inspect
import os
import random
import textwrap
import warnings

import numpy as np

from lrlab import _validate


def setup(seed: int = 0) -> None:
    """Seed Python, NumPy and Keras, and make the Keras backend's training deterministic.

    This calls ``keras.utils.set_random_seed(seed)`` (which also seeds TensorFlow and
    PyTorch when they are imported) and then, per Keras backend, so that a lesson that
    trains prints the same numbers on every run on the same machine:

    - TensorFlow: ``tf.config.experimental.enable_op_determinism()``;
    - PyTorch: ``torch.use_deterministic_algorithms(True)`` (an op without a deterministic
      kernel then raises instead of varying), and ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` unless
      set, which PyTorch's documentation asks for before cuBLAS runs on a CUDA GPU;
    - JAX: nothing to turn on: XLA's CPU kernels are deterministic, and Keras draws its
      random numbers from the seeded ``SeedGenerator`` (on a GPU, XLA wants
      ``XLA_FLAGS=--xla_gpu_deterministic_ops=true`` set before JAX starts; lrlab does not
      set it).

    On JAX and PyTorch, lrlab's data pipeline still runs on TensorFlow (``tf.data``), whose
    op determinism is enabled too. Matplotlib gets readable defaults (grid, larger labels).
    """
    seed = _validate.integer("seed", seed, minimum=0)
    # Keras warns on every fit() with a tf.data.Dataset that its default shuffle=True is
    # ignored; lrlab's datasets are already shuffled (seeded), so the warning is noise.
    warnings.filterwarnings("ignore", message=r"`shuffle=True` was passed", category=UserWarning)
    random.seed(seed)
    np.random.seed(seed)
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    if keras.backend.backend() == "torch":
        import torch

        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)

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


def source_of(obj) -> str:
    """The source code of a function, method or class of lrlab, dedented, as it is installed.

    ``obj`` must be something ``inspect.getsource`` can read (not a built-in, not a lambda
    typed at a prompt).
    """
    if not (inspect.isfunction(obj) or inspect.ismethod(obj) or inspect.isclass(obj)):
        raise _validate.ArgumentTypeError(
            f"obj must be a function, method or class, got {obj!r} ({type(obj).__name__})"
        )
    try:
        return textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError) as error:
        raise ValueError(f"the source of {obj!r} cannot be read ({error})") from None


def show_source(*objects) -> None:
    """Print the source code of each of ``objects`` (functions, methods, classes), each under
    a comment naming it (``# lrlab.scratch.Adam.update``), with a blank line between: a
    lesson shows the code lrlab runs, from the one place it lives, instead of a copy that
    could drift from it."""
    if not objects:
        raise TypeError("show_source needs at least one function, method or class")
    sources = [source_of(obj).rstrip() for obj in objects]  # each checked before printing
    named = [
        f"# {obj.__module__}.{obj.__qualname__}\n{source}"
        for obj, source in zip(objects, sources, strict=True)
    ]
    print("\n\n".join(named))
