"""lrlab.gradients.value_and_gradient on the backend the tests run on.

Expected values come from formulas: d/dx sum(x^2) = 2x, and the gradient of the mean softmax
cross-entropy over n rows with respect to the logits is (softmax(z) - onehot(y)) / n.
"""

import keras
import numpy as np
import pytest

from lrlab.gradients import value_and_gradient


def test_sum_of_squares_has_gradient_two_x():
    value, gradient = value_and_gradient(lambda t: keras.ops.sum(t**2), np.array([1.0, -2.0]))
    assert value == 5.0
    np.testing.assert_array_equal(gradient, [2.0, -4.0])
    assert gradient.dtype == np.float64


def test_softmax_cross_entropy_gradient_is_softmax_minus_one_hot():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 5)).astype("float32")
    labels = np.array([0, 1, 2, 3, 4, 0])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    value, gradient = value_and_gradient(lambda z: loss(labels, z), logits)

    z = logits.astype(np.float64)
    softmax = np.exp(z - z.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    expected_value = np.mean(-np.log(softmax[np.arange(6), labels]))
    expected_gradient = (softmax - np.eye(5)[labels]) / 6
    assert gradient.dtype == np.float32  # the array's own dtype
    np.testing.assert_allclose(value, expected_value, rtol=1e-6)  # float32 arithmetic
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-5, atol=1e-7)


def test_a_function_that_ignores_x_has_a_zero_gradient():
    value, gradient = value_and_gradient(lambda t: keras.ops.convert_to_tensor(3.0), np.ones(3))
    assert value == 3.0
    np.testing.assert_array_equal(gradient, np.zeros(3))


def test_refuses_integers_and_functions_that_are_not_scalar():
    with pytest.raises(TypeError, match="x must hold floats.*int64"):
        value_and_gradient(keras.ops.sum, np.array([1, 2], dtype=np.int64))
    with pytest.raises(ValueError, match=r"must return a scalar, got a value of shape \(2,\)"):
        value_and_gradient(lambda t: t * 2, np.array([1.0, 2.0]))
