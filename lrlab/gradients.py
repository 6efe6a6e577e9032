"""The gradient of a scalar function of one array, on whichever Keras backend runs.

Each backend differentiates in its own way: TensorFlow records the operations on a
``tf.GradientTape``, JAX transforms the function (``jax.value_and_grad``), PyTorch records a
graph on tensors that require a gradient (``torch.autograd.grad``). ``value_and_gradient``
hides the difference for functions written with ``keras.ops`` or Keras losses, so a lesson
can ask "which inputs get a gradient?" the same way on all three.
"""

from __future__ import annotations

import keras
import numpy as np

__all__ = ["value_and_gradient"]


def value_and_gradient(function, x):
    """``(float(function(x)), d function / d x)`` for a ``function`` of one array that returns
    a scalar, the gradient as a NumPy array of ``x``'s shape.

    ``x`` is converted to a tensor of its own dtype (a float32 array stays float32); the
    function sees the backend's tensor. Example: ``value_and_gradient(lambda t:
    keras.ops.sum(t ** 2), np.array([1.0, -2.0]))`` is ``(5.0, array([2., -4.]))``.
    """
    array = np.asarray(x)
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"x must hold floats to be differentiated, got dtype {array.dtype}")
    def scalar(t):
        value = function(t)
        shape = tuple(getattr(value, "shape", ()))
        if int(np.prod(shape)) != 1:
            raise ValueError(f"function must return a scalar, got a value of shape {shape}")
        return keras.ops.reshape(value, ())

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tensor = tf.constant(array)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            value = scalar(tensor)
        gradient = tape.gradient(value, tensor)
    elif backend == "jax":
        import jax

        value, gradient = jax.value_and_grad(scalar)(jax.numpy.asarray(array))
    elif backend == "torch":
        import torch

        tensor = keras.ops.convert_to_tensor(array).detach().requires_grad_(True)
        value = scalar(tensor)
        # a value that does not depend on x has no graph: its gradient is zero
        gradient = torch.autograd.grad(value, tensor)[0] if value.requires_grad else None
    else:
        raise ValueError(f"the Keras backend must be tensorflow, jax or torch, got {backend!r}")
    if gradient is None:  # a function that does not use x
        gradient = np.zeros_like(array)
    value = float(keras.ops.convert_to_numpy(value))
    return value, np.asarray(keras.ops.convert_to_numpy(gradient))
