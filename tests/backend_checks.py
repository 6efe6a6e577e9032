"""Test helpers that do one thing the way each Keras backend does it."""

from __future__ import annotations

import keras
import numpy as np


def check_finite(values, name="logits"):
    """``values``, after an error naming ``name`` inside the train step if one is not finite:
    tf.debugging.check_numerics on TensorFlow (InvalidArgumentError), a host callback that
    raises on JAX (the compiled step fails with a JaxRuntimeError), a Python check on
    PyTorch (whose step runs eagerly: RuntimeError)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.debugging.check_numerics(values, name)
    if backend == "jax":
        import jax

        def check(array):
            if not np.all(np.isfinite(array)):
                raise RuntimeError(f"{name} are not finite")

        jax.debug.callback(check, values)
        return values
    if not bool(keras.ops.all(keras.ops.isfinite(values))):
        raise RuntimeError(f"{name} are not finite")
    return values
