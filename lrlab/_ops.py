"""The few ``keras.ops`` that lrlab's schedules call, keeping float64 on every backend.

Keras 3 computes ``ops.cos``, ``ops.sqrt``, ``ops.log`` and ``ops.floor`` of a float64
tensor in float32 on JAX and PyTorch (and ``ops.maximum`` / ``ops.minimum`` on PyTorch): its
type promotion maps 64-bit results to 32 bits on every backend but TensorFlow
(``keras.src.backend.common.dtypes.BIT64_TO_BIT32_DTYPE``, "to be aligned with JAX's
default behavior"). A schedule given float64 arguments promises float64 values, so on those
backends these functions call the backend's own function (``jax.numpy``, ``torch``) for a
float64 tensor; for anything else, and on TensorFlow, they are the ``keras.ops`` function.
On JAX a float64 array also needs ``jax_enable_x64``, which ``import lrlab`` turns on.
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["cos", "sqrt", "log", "floor", "maximum", "minimum"]


def _float64(*values) -> bool:
    return any(
        ops.is_tensor(value) and keras.backend.standardize_dtype(value.dtype) == "float64"
        for value in values
    )


def _native(name: str):
    """The backend's own ``name`` (``jax.numpy.cos``, ``torch.cos``), or None on TensorFlow."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax.numpy as module
    elif backend == "torch":
        import torch as module
    else:
        return None
    return getattr(module, name)


def _unary(name: str):
    keras_op = getattr(ops, name)

    def op(x):
        native = _native(name) if _float64(x) else None
        return keras_op(x) if native is None else native(x)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``keras.ops.{name}``, in float64 for a float64 tensor on every backend."
    return op


def _binary(name: str):
    keras_op = getattr(ops, name)

    def op(a, b):
        native = _native(name) if _float64(a, b) else None
        if native is None:
            return keras_op(a, b)
        return native(
            ops.convert_to_tensor(a, dtype="float64"), ops.convert_to_tensor(b, dtype="float64")
        )

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``keras.ops.{name}``, in float64 if either is a float64 tensor, any backend."
    return op


cos = _unary("cos")
sqrt = _unary("sqrt")
log = _unary("log")
floor = _unary("floor")
maximum = _binary("maximum")
minimum = _binary("minimum")
