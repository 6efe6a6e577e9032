"""lrlab.scratch: losses against finite differences and tf.GradientTape, optimisers against
values worked out by hand and against Keras 3 stepping a float64 variable, the training loop.

Keras casts a Python float hyperparameter through float32 even for a float64
variable, so every hyperparameter handed to Keras below is an np.float64.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from lrlab import scratch

f64 = np.float64
VALLEY = np.diag([0.2, 4.0])  # f = 0.1 x1^2 + 2 x2^2, the lessons' ill-conditioned valley


def central_differences(function, point, step=1e-6):
    """(f(x + h e_i) - f(x - h e_i)) / 2h for every coordinate i."""
    point = np.asarray(point, dtype=np.float64)
    return np.array(
        [
            (function(point + step * e) - function(point - step * e)) / (2 * step)
            for e in np.eye(point.size)
        ]
    )


@pytest.fixture(scope="module")
def regression_data():
    generator = np.random.default_rng(7)
    features = scratch.add_bias(generator.normal(size=(40, 3)))
    weights = np.array([1.5, -2.0, 0.5, 0.3])
    targets = features @ weights + 0.1 * generator.normal(size=40)
    return features, targets, generator.normal(size=4)


# --- losses ------------------------------------------------------------------------------------


def test_quadratic_values_by_hand():
    valley = scratch.Quadratic(VALLEY)
    # f(3, 1) = 0.1 * 9 + 2 * 1 = 2.9; gradient (0.2 * 3, 4 * 1) = (0.6, 4)
    assert valley.loss([3.0, 1.0]) == pytest.approx(2.9, rel=1e-15)
    np.testing.assert_allclose(valley.grad([3.0, 1.0]), [0.6, 4.0], rtol=1e-15)
    np.testing.assert_array_equal(valley.hessian(), VALLEY)
    shifted = scratch.Quadratic(VALLEY, minimum=[1.0, -1.0])
    # at (3, 1) the offset is (2, 2): f = 0.1 * 4 + 2 * 4 = 8.4, gradient (0.4, 8)
    assert shifted.loss([3.0, 1.0]) == pytest.approx(8.4, rel=1e-15)
    np.testing.assert_allclose(shifted.grad([3.0, 1.0]), [0.4, 8.0], rtol=1e-15)


def test_quadratic_gradient_matches_finite_differences_and_gradient_tape():
    hessian = np.array([[2.0, 0.5], [0.5, 1.0]])
    minimum = np.array([0.3, -0.7])
    quadratic = scratch.Quadratic(hessian, minimum)
    point = np.array([1.2, 0.4])
    np.testing.assert_allclose(
        quadratic.grad(point), central_differences(quadratic.loss, point), rtol=1e-8
    )
    x = tf.Variable(point)
    with tf.GradientTape() as tape:
        offset = x - minimum
        value = 0.5 * tf.tensordot(offset, tf.linalg.matvec(tf.constant(hessian), offset), 1)
    assert quadratic.loss(point) == pytest.approx(float(value), rel=1e-14)
    np.testing.assert_allclose(quadratic.grad(point), tape.gradient(value, x).numpy(), rtol=1e-14)


@pytest.mark.parametrize("batch", [None, np.array([3, 17, 5, 0, 39])], ids=["full", "mini-batch"])
def test_linear_regression_gradient(regression_data, batch):
    features, targets, weights = regression_data
    model = scratch.LinearRegression(features, targets)
    numeric = central_differences(lambda w: model.loss(w, batch), weights)
    np.testing.assert_allclose(model.grad(weights, batch), numeric, rtol=1e-7, atol=1e-9)
    rows = slice(None) if batch is None else batch
    w = tf.Variable(weights)
    with tf.GradientTape() as tape:  # the 1/2 convention: L = mean((X w - y)^2) / 2
        value = 0.5 * tf.reduce_mean((tf.linalg.matvec(features[rows], w) - targets[rows]) ** 2)
    assert model.loss(weights, batch) == pytest.approx(float(value), rel=1e-13)
    np.testing.assert_allclose(
        model.grad(weights, batch), tape.gradient(value, w).numpy(), rtol=1e-12
    )


def test_linear_regression_hessian_and_exact_fit(regression_data):
    features, targets, weights = regression_data
    model = scratch.LinearRegression(features, targets)
    np.testing.assert_allclose(model.hessian(), features.T @ features / 40, rtol=1e-15)
    # the loss is quadratic: its Hessian is the Jacobian of the gradient, column by column
    numeric = np.array(
        [central_differences(lambda w, i=i: model.grad(w)[i], weights) for i in range(4)]
    )
    np.testing.assert_allclose(model.hessian(), numeric, rtol=1e-6)
    exact = scratch.LinearRegression(features, features @ weights)  # targets without noise
    assert exact.loss(weights) == 0.0
    np.testing.assert_allclose(exact.grad(weights), 0.0, atol=1e-14)


@pytest.mark.parametrize("batch", [None, np.array([1, 2, 30, 31])], ids=["full", "mini-batch"])
def test_logistic_regression_gradient(regression_data, batch):
    features, targets, weights = regression_data
    labels = (targets > 0).astype(np.float64)
    model = scratch.LogisticRegression(features, labels)
    numeric = central_differences(lambda w: model.loss(w, batch), weights)
    np.testing.assert_allclose(model.grad(weights, batch), numeric, rtol=1e-7, atol=1e-9)
    rows = slice(None) if batch is None else batch
    w = tf.Variable(weights)
    with tf.GradientTape() as tape:
        logits = tf.linalg.matvec(features[rows], w)
        value = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels[rows], logits))
    assert model.loss(weights, batch) == pytest.approx(float(value), rel=1e-13)
    np.testing.assert_allclose(
        model.grad(weights, batch), tape.gradient(value, w).numpy(), rtol=1e-12
    )


def test_logistic_regression_values_by_hand_and_no_overflow():
    model = scratch.LogisticRegression([[1.0], [1.0]], [0, 1])
    # w = 0: p = 1/2 for both examples, loss = log 2; gradient mean(p - y) = (1/2 - 1/2) / 2 = 0
    assert model.loss([0.0]) == pytest.approx(np.log(2.0), rel=1e-15)
    assert model.grad([0.0]) == pytest.approx([0.0], abs=1e-16)
    # w = 1000: log(1 + e^1000) - 0 = 1000 (label 0), log(1 + e^-1000) = 0 (label 1); mean 500;
    # gradient ((1 - 0) + (1 - 1)) / 2 = 0.5. A naive log(sigmoid) gives inf or nan here.
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert model.loss([1000.0]) == pytest.approx(500.0, rel=1e-15)
        assert model.grad([1000.0]) == pytest.approx([0.5], rel=1e-15)
        assert model.loss([-1000.0]) == pytest.approx(500.0, rel=1e-15)


def test_add_bias():
    np.testing.assert_array_equal(
        scratch.add_bias([[2.0, 3.0], [4.0, 5.0]]), [[2, 3, 1], [4, 5, 1]]
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: scratch.Quadratic([[1.0, 2.0]]), "hessian must be square"),
        (lambda: scratch.Quadratic([[1.0, 2.0], [0.0, 1.0]]), "hessian must be symmetric"),
        (lambda: scratch.Quadratic(VALLEY, minimum=[1.0, 2.0, 3.0]), "minimum must have length 2"),
        (lambda: scratch.Quadratic(VALLEY).loss([1.0]), "x must have length 2"),
        (lambda: scratch.LinearRegression([[1.0], [2.0]], [1.0]), "y must have length 2"),
        (
            lambda: scratch.LinearRegression([1.0, 2.0], [1.0, 2.0]),
            "X must be a non-empty 2-D array",
        ),
        (lambda: scratch.LinearRegression([[np.nan]], [1.0]), "X must contain only finite values"),
        (lambda: scratch.LogisticRegression([[1.0], [2.0]], [0, 2]), "y must hold labels 0 and 1"),
        (lambda: scratch.LinearRegression([[1.0]], [1.0]).grad([0.0], np.array([1])), r"\[0, 0\]"),
        (lambda: scratch.LinearRegression([[1.0]], [1.0]).loss([0.0], [0.5]), "integer indices"),
    ],
)
def test_losses_reject_bad_input(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# --- optimisers: the first two steps by hand --------------------------------------------------
#
# Every case starts at x0 = (1, 1) on the valley, so g0 = (0.2 * 1, 4 * 1) = (0.2, 4), and
# g1 = (0.2 x1[0], 4 x1[1]). Values with many digits were worked out one coordinate at a time
# with scalar arithmetic (not lrlab) from the formulas in the comments, Keras's default
# epsilons included.

HAND_CASES = {
    # x1 = x0 - 0.1 g0 = (0.98, 0.6); g1 = (0.196, 2.4); x2 = x1 - 0.1 g1 = (0.9604, 0.36)
    "SGD": (lambda: scratch.SGD(0.1), [0.98, 0.6], [0.9604, 0.36]),
    # v1 = -0.1 g0 = (-0.02, -0.4); x1 = (0.98, 0.6)
    # v2 = 0.9 v1 - 0.1 g1 = (-0.018 - 0.0196, -0.36 - 0.24) = (-0.0376, -0.6); x2 = (0.9424, 0)
    "Momentum": (lambda: scratch.Momentum(0.1, momentum=0.9), [0.98, 0.6], [0.9424, 0.0]),
    # v1 = (-0.02, -0.4); x1 = x0 + 0.9 v1 - 0.1 g0 = (1 - 0.018 - 0.02, 1 - 0.36 - 0.4)
    #    = (0.962, 0.24)
    # g1 = (0.1924, 0.96); v2 = 0.9 v1 - 0.1 g1 = (-0.03724, -0.456)
    # x2 = x1 + 0.9 v2 - 0.1 g1 = (0.962 - 0.033516 - 0.01924, 0.24 - 0.4104 - 0.096)
    "Nesterov": (lambda: scratch.Nesterov(0.1, momentum=0.9), [0.962, 0.24], [0.909244, -0.2664]),
    # c1 = 0.1 + g0^2 = (0.14, 16.1); x1 = 1 - 0.1 g0 / sqrt(c1 + 1e-7) = (0.946548..., 0.900311...)
    # g1 = (0.189310, 3.601244); c2 = c1 + g1^2; x2 = x1 - 0.1 g1 / sqrt(c2 + 1e-7)
    "AdaGrad": (
        lambda: scratch.AdaGrad(0.1),
        [0.9465477707075935, 0.9003110430537477],
        [0.9014021208478309, 0.8335169859283934],
    ),
    # v1 = 0.1 g0^2 = (0.004, 1.6); x1 = 1 - 0.01 g0 / sqrt(v1 + 1e-7), about 1 - 0.01 sqrt(10)
    # v2 = 0.9 v1 + 0.1 g1^2; x2 = x1 - 0.01 g1 / sqrt(v2 + 1e-7)
    "RMSProp": (
        lambda: scratch.RMSProp(0.01),
        [0.9683776186756123, 0.968377224386528],
        [0.9457885691372083, 0.9457880260913851],
    ),
    # a1 = 0.1 g0, v1 = 0.1 g0^2, v1 - a1^2 = 0.09 g0^2: u1 = 0.01 g0 / sqrt(0.09 g0^2 + 1e-7),
    # about 0.01 / 0.3; x1 = x0 - u1. Step 2: a2 = 0.9 a1 + 0.1 g1, v2 = 0.9 v1 + 0.1 g1^2,
    # u2 = 0.5 u1 + 0.01 g1 / sqrt(v2 - a2^2 + 1e-7); x2 = x1 - u2
    "RMSProp centered, momentum 0.5": (
        lambda: scratch.RMSProp(0.01, momentum=0.5, centered=True),
        [0.9666671296199848, 0.9666666678240741],
        [0.9249243753258115, 0.9249234781233007],
    ),
    # m1 = 0.1 g0, v1 = 0.001 g0^2, alpha1 = 0.1 sqrt(0.001) / 0.1 = 0.0316228;
    # x1 = x0 - alpha1 m1 / (sqrt(v1) + 1e-7), a step of almost exactly lr = 0.1.
    # m2 = 0.9 m1 + 0.1 g1, v2 = 0.999 v1 + 0.001 g1^2, alpha2 = 0.1 sqrt(1 - 0.999^2) / (1 - 0.81)
    "Adam": (
        lambda: scratch.Adam(0.1),
        [0.9000015811138304, 0.900000079056879],
        [0.8004149703610774, 0.8004123648076098],
    ),
    # the same with alpha = lr: the first step is 0.1 * 0.1 / sqrt(0.001) = 0.316, not 0.1
    "Adam without bias correction": (
        lambda: scratch.Adam(0.1, bias_correction=False),
        [0.6837772339041064, 0.6837724839829644],
        [0.2702160259316424, 0.2702064708310714],
    ),
    # first w <- w - 0.1 * 0.5 w = 0.95 w, then Adam's step: x1 = 0.95 - 0.0999984 = 0.8500016
    "AdamW": (
        lambda: scratch.AdamW(0.1, weight_decay=0.5),
        [0.8500015811138304, 0.8500000790568789],
        [0.7082511282700956, 0.7082485766514897],
    ),
}


@pytest.mark.parametrize("name", list(HAND_CASES))
def test_first_two_steps_match_hand_values(name):
    make, expected_first, expected_second = HAND_CASES[name]
    run = scratch.train(scratch.Quadratic(VALLEY), make(), [1.0, 1.0], steps=2)
    np.testing.assert_allclose(run.params[1], expected_first, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(run.params[2], expected_second, rtol=1e-12, atol=1e-15)


def test_amsgrad_divides_by_the_largest_second_moment():
    # gradients 10 then 0 on one parameter at 0, lr 0.1: v1 = 0.001 * 100 = 0.1, m1 = 1,
    # alpha1 = 0.1 sqrt(0.001) / 0.1; w1 = -alpha1 * 1 / (sqrt(0.1) + 1e-7) = -0.0999999684
    # step 2: m2 = 0.9, v2 = 0.999 * 0.1 = 0.0999 < 0.1, alpha2 = 0.1 sqrt(1 - 0.999^2) / 0.19.
    # AMSGrad divides by sqrt(max(v1, v2)) = sqrt(0.1): w2 = w1 - alpha2 0.9 / (sqrt(0.1) + 1e-7)
    # Adam divides by sqrt(0.0999).
    for amsgrad, expected in ((True, -0.1669722613197633), (False, -0.1670057725911891)):
        optimizer = scratch.Adam(0.1, amsgrad=amsgrad)
        first = optimizer.step([0.0], [10.0], 0)
        assert first[0] == pytest.approx(-0.09999996837723346, rel=1e-12)
        assert optimizer.step(first, [0.0], 1)[0] == pytest.approx(expected, rel=1e-12)


def test_effective_learning_rates():
    # AdaGrad from c0 = 0.1 with g = 0: the rate stays lr / sqrt(0.1 + 1e-7); with g = 3 it is
    # lr / sqrt(0.1 + 9 + 1e-7). SGD's is lr. Adam's first step: alpha1 / (sqrt(0.001 g^2) + eps).
    adagrad = scratch.AdaGrad(0.1)
    adagrad.step([1.0, 1.0], [0.0, 3.0], 0)
    np.testing.assert_allclose(
        adagrad.effective_learning_rate(), [0.1 / np.sqrt(0.1 + 1e-7), 0.1 / np.sqrt(9.1 + 1e-7)]
    )
    sgd = scratch.SGD(0.05)
    sgd.step([1.0], [2.0], 0)
    np.testing.assert_array_equal(sgd.effective_learning_rate(), [0.05])
    adam = scratch.Adam(0.001)
    adam.step([0.0], [2.0], 0)
    alpha = 0.001 * np.sqrt(0.001) / 0.1
    np.testing.assert_allclose(adam.effective_learning_rate(), [alpha / (np.sqrt(0.004) + 1e-7)])


# --- optimisers: 60 steps against Keras 3 -----------------------------------------------------


@pytest.fixture
def float64_keras():
    keras.config.set_floatx("float64")
    yield
    keras.config.set_floatx("float32")


ADAM_BETAS = {"beta_1": f64(0.9), "beta_2": f64(0.999), "epsilon": f64(1e-7)}
KERAS_CASES = {
    "SGD": (lambda: scratch.SGD(0.4), lambda: keras.optimizers.SGD(f64(0.4))),
    "Momentum": (
        lambda: scratch.Momentum(0.1, momentum=0.9),
        lambda: keras.optimizers.SGD(f64(0.1), momentum=f64(0.9)),
    ),
    "Nesterov": (
        lambda: scratch.Nesterov(0.1, momentum=0.9),
        lambda: keras.optimizers.SGD(f64(0.1), momentum=f64(0.9), nesterov=True),
    ),
    "AdaGrad": (
        lambda: scratch.AdaGrad(0.4),
        lambda: keras.optimizers.Adagrad(
            f64(0.4), initial_accumulator_value=f64(0.1), epsilon=f64(1e-7)
        ),
    ),
    "RMSProp": (
        lambda: scratch.RMSProp(0.1),
        lambda: keras.optimizers.RMSprop(f64(0.1), rho=f64(0.9), epsilon=f64(1e-7)),
    ),
    "RMSProp centered": (
        lambda: scratch.RMSProp(0.1, centered=True),
        lambda: keras.optimizers.RMSprop(f64(0.1), rho=f64(0.9), epsilon=f64(1e-7), centered=True),
    ),
    "RMSProp momentum": (
        lambda: scratch.RMSProp(0.05, momentum=0.5),
        lambda: keras.optimizers.RMSprop(
            f64(0.05), rho=f64(0.9), momentum=f64(0.5), epsilon=f64(1e-7)
        ),
    ),
    "RMSProp centered momentum": (
        lambda: scratch.RMSProp(0.05, rho=0.8, momentum=0.5, centered=True),
        lambda: keras.optimizers.RMSprop(
            f64(0.05), rho=f64(0.8), momentum=f64(0.5), epsilon=f64(1e-7), centered=True
        ),
    ),
    "Adam": (lambda: scratch.Adam(0.1), lambda: keras.optimizers.Adam(f64(0.1), **ADAM_BETAS)),
    "AMSGrad": (
        lambda: scratch.Adam(0.1, amsgrad=True),
        lambda: keras.optimizers.Adam(f64(0.1), amsgrad=True, **ADAM_BETAS),
    ),
    "AdamW": (
        lambda: scratch.AdamW(0.1, weight_decay=0.5),
        lambda: keras.optimizers.AdamW(f64(0.1), weight_decay=f64(0.5), **ADAM_BETAS),
    ),
    # a large epsilon makes where it enters (inside or outside the square root) visible
    "AdaGrad epsilon 0.5": (
        lambda: scratch.AdaGrad(0.4, initial_accumulator_value=0.0, epsilon=0.5),
        lambda: keras.optimizers.Adagrad(
            f64(0.4), initial_accumulator_value=f64(0.0), epsilon=f64(0.5)
        ),
    ),
    "RMSProp epsilon 0.5": (
        lambda: scratch.RMSProp(0.1, epsilon=0.5),
        lambda: keras.optimizers.RMSprop(f64(0.1), rho=f64(0.9), epsilon=f64(0.5)),
    ),
    "Adam epsilon 0.5": (
        lambda: scratch.Adam(0.1, epsilon=0.5),
        lambda: keras.optimizers.Adam(
            f64(0.1), beta_1=f64(0.9), beta_2=f64(0.999), epsilon=f64(0.5)
        ),
    ),
    "Adam + CosineDecay": (
        lambda: scratch.Adam(keras.optimizers.schedules.CosineDecay(f64(0.2), 60)),
        lambda: keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(f64(0.2), 60), **ADAM_BETAS
        ),
    ),
    # Keras decays with the schedule at the same step as the Adam update
    "AdamW + CosineDecay": (
        lambda: scratch.AdamW(
            keras.optimizers.schedules.CosineDecay(f64(0.2), 60), weight_decay=0.5
        ),
        lambda: keras.optimizers.AdamW(
            keras.optimizers.schedules.CosineDecay(f64(0.2), 60),
            weight_decay=f64(0.5),
            **ADAM_BETAS,
        ),
    ),
}


@pytest.mark.parametrize("name", list(KERAS_CASES))
def test_sixty_steps_match_keras(float64_keras, name):
    make_numpy, make_keras = KERAS_CASES[name]
    valley, start = scratch.Quadratic(VALLEY), np.array([-5.0, -2.0])
    ours = scratch.train(valley, make_numpy(), start, steps=60).params
    theirs = scratch.keras_trajectory(make_keras(), valley, start, steps=60)
    assert theirs.shape == ours.shape == (61, 2)
    assert np.abs(ours - theirs).max() < 1e-6
    assert np.abs(ours[-1] - start).min() > 0.1  # both moved: the comparison is not of two starts


def test_keras_casts_python_floats_through_float32_on_tensorflow_only(float64_keras):
    # The reason for np.float64 above: on TensorFlow, Adam's default beta_2 = 0.999 becomes
    # 0.99900001287 (a Python float goes through float32), and the first step already
    # differs from the float64 one by more than 1e-7. On JAX and PyTorch Keras converts the
    # Python float straight to float64: the same step to the last bit (measured: 0).
    valley, start = scratch.Quadratic(VALLEY), np.array([-5.0, -2.0])
    ours = scratch.train(valley, scratch.Adam(0.1), start, steps=1).params
    theirs = scratch.keras_trajectory(keras.optimizers.Adam(f64(0.1)), valley, start, steps=1)
    if keras.backend.backend() == "tensorflow":
        assert np.abs(ours - theirs).max() > 1e-7
    else:
        assert np.abs(ours - theirs).max() < 1e-12


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: scratch.SGD(-0.1), r"learning_rate must be >= 0, got -0.1"),
        (lambda: scratch.SGD("fast"), r"learning_rate must be a number >= 0, got 'fast'"),
        (lambda: scratch.SGD(float("inf")), "learning_rate must be finite and >= 0, got inf"),
        (lambda: scratch.Momentum(0.1, momentum=1.0), r"momentum must be in \[0, 1\), got 1.0"),
        (lambda: scratch.Nesterov(0.1, momentum=-0.5), r"momentum must be in \[0, 1\), got -0.5"),
        (lambda: scratch.AdaGrad(0.1, epsilon=-1e-7), "epsilon must be >= 0, got -1e-07"),
        (lambda: scratch.AdaGrad(0.1, initial_accumulator_value=-1), "initial_accumulator_value"),
        (lambda: scratch.AdaGrad(0.1, initial_accumulator_value=0, epsilon=0), "cannot both be 0"),
        (lambda: scratch.RMSProp(rho=1.0), r"rho must be in \[0, 1\), got 1.0"),
        (lambda: scratch.RMSProp(centered="yes"), "centered must be True or False, got 'yes'"),
        (lambda: scratch.Adam(beta_1=1.2), r"beta_1 must be in \[0, 1\), got 1.2"),
        (lambda: scratch.Adam(beta_2=-0.1), r"beta_2 must be in \[0, 1\), got -0.1"),
        (lambda: scratch.Adam(epsilon=-1.0), "epsilon must be >= 0, got -1.0"),
        (lambda: scratch.AdamW(weight_decay=-0.01), "weight_decay must be >= 0, got -0.01"),
        (lambda: scratch.SGD(lambda step: -1.0).rate(3), "got -1.0 at step 3"),
        (lambda: scratch.SGD(0.1).step([1.0, 2.0], [1.0], 0), "grads must have length 2"),
        (lambda: scratch.SGD(0.1).step([1.0], [1.0], -1), "step_index must be an integer >= 0"),
        (lambda: scratch.SGD(0.1).effective_learning_rate(), "needs a step"),
    ],
)
def test_optimisers_reject_bad_hyperparameters(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_state_belongs_to_one_parameter_shape():
    optimizer = scratch.Adam()
    optimizer.step([1.0, 2.0], [0.1, 0.1], 0)
    with pytest.raises(ValueError, match=r"call reset\(\)"):
        optimizer.step([1.0], [0.1], 1)
    optimizer.reset()
    optimizer.step([1.0], [0.1], 0)


# --- the training loop --------------------------------------------------------------------------


def test_train_full_batch_follows_the_closed_form():
    # gradient descent on a diagonal quadratic: x_k = (1 - lr h)^k x_0 in each coordinate
    run = scratch.train(scratch.Quadratic(VALLEY), scratch.SGD(0.4), [-5.0, -2.0], steps=20)
    k = np.arange(21)[:, None]
    np.testing.assert_allclose(
        run.params, (1 - 0.4 * np.diag(VALLEY)) ** k * [-5.0, -2.0], rtol=1e-12
    )
    assert run.grads.shape == (20, 2) and run.losses.shape == run.learning_rates.shape == (20,)
    np.testing.assert_allclose(run.grads, run.params[:-1] * np.diag(VALLEY), rtol=1e-15)
    np.testing.assert_allclose(
        run.losses, 0.1 * run.params[:-1, 0] ** 2 + 2 * run.params[:-1, 1] ** 2
    )
    np.testing.assert_array_equal(run.effective_learning_rates, np.full((20, 2), 0.4))


def test_train_evaluates_a_schedule_at_every_step():
    run = scratch.train(
        scratch.Quadratic(VALLEY), scratch.SGD(lambda step: 0.1 / (1 + step)), [1.0, 1.0], steps=4
    )
    np.testing.assert_allclose(run.learning_rates, [0.1, 0.05, 0.1 / 3, 0.025])
    # x1 = 1 - 0.1 * 0.2 = 0.98 and 1 - 0.1 * 4 = 0.6; x2 = x1 - 0.05 * (0.196, 2.4)
    np.testing.assert_allclose(run.params[2], [0.98 - 0.05 * 0.196, 0.6 - 0.05 * 2.4])


def test_train_reaches_least_squares_below_two_over_lambda_max(regression_data):
    features, targets, _ = regression_data
    model = scratch.LinearRegression(features, targets)
    largest = np.linalg.eigvalsh(model.hessian()).max()
    solution = np.linalg.lstsq(features, targets, rcond=None)[0]
    stable = scratch.train(model, scratch.SGD(1.9 / largest), np.zeros(4), steps=2000)
    np.testing.assert_allclose(stable.params[-1], solution, rtol=1e-8)
    unstable = scratch.train(model, scratch.SGD(2.1 / largest), np.zeros(4), steps=200)
    assert unstable.losses[-1] > 1e3 * unstable.losses[0]


class RecordingLoss(scratch.LinearRegression):
    """A linear regression that remembers the mini-batches it was asked for."""

    def grad(self, w, batch=None):
        self.batches.append(batch)
        return super().grad(w, batch)


def test_mini_batches_cover_every_example_once_per_epoch(regression_data):
    features, targets, _ = regression_data
    recording = RecordingLoss(features[:10], targets[:10])
    recording.batches = []
    run = scratch.train(recording, scratch.SGD(0.05), np.zeros(4), epochs=3, batch_size=4, seed=1)
    assert run.grads.shape == (9, 4)  # ceil(10 / 4) = 3 steps per epoch
    assert [len(b) for b in recording.batches] == [4, 4, 2] * 3
    for epoch in range(3):
        seen = np.concatenate(recording.batches[3 * epoch : 3 * epoch + 3])
        np.testing.assert_array_equal(np.sort(seen), np.arange(10))
    assert not np.array_equal(recording.batches[0], recording.batches[3])  # reshuffled
    again = scratch.train(recording, scratch.SGD(0.05), np.zeros(4), epochs=3, batch_size=4, seed=1)
    np.testing.assert_array_equal(again.params, run.params)
    other = scratch.train(recording, scratch.SGD(0.05), np.zeros(4), epochs=3, batch_size=4, seed=2)
    assert not np.array_equal(other.params, run.params)


def test_train_resets_the_optimiser():
    optimizer = scratch.Adam(0.1)
    first = scratch.train(scratch.Quadratic(VALLEY), optimizer, [1.0, 1.0], steps=5)
    second = scratch.train(scratch.Quadratic(VALLEY), optimizer, [1.0, 1.0], steps=5)
    np.testing.assert_array_equal(first.params, second.params)


def test_progress_bar_only_on_long_runs(capsys):
    valley = scratch.Quadratic(VALLEY)
    scratch.train(valley, scratch.SGD(0.1), [1.0, 1.0], steps=scratch.PROGRESS_BAR_MIN_STEPS)
    assert capsys.readouterr().err == ""
    scratch.train(valley, scratch.SGD(0.1), [1.0, 1.0], steps=scratch.PROGRESS_BAR_MIN_STEPS + 1)
    assert "2001/2001" in capsys.readouterr().err
    scratch.train(valley, scratch.SGD(0.1), [1.0, 1.0], steps=3, progress=True)
    assert "3/3" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"steps": 0}, ValueError, "steps must be a positive integer, got 0"),
        ({}, ValueError, "give either steps or epochs"),
        ({"steps": 5, "epochs": 2}, ValueError, "give either steps or epochs"),
        ({"epochs": 2}, ValueError, "epochs needs a data set loss"),
        ({"steps": 5, "batch_size": 2}, ValueError, "batch_size needs a data set loss"),
        ({"steps": 5, "seed": -1}, ValueError, "seed must be an integer >= 0"),
        ({"steps": 5, "progress": "auto"}, ValueError, "progress must be True or False"),
        (
            {"steps": 5, "optimizer": "adam"},
            TypeError,
            "optimizer must be an lrlab.scratch optimiser",
        ),
        ({"steps": 5, "loss": lambda x: x @ x}, TypeError, "loss must have .loss"),
    ],
)
def test_train_rejects_bad_arguments(kwargs, error, message):
    arguments = {
        "loss": scratch.Quadratic(VALLEY),
        "optimizer": scratch.SGD(0.1),
        "initial_params": [1.0, 1.0],
    }
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        scratch.train(**arguments)


def test_train_rejects_a_batch_larger_than_the_data(regression_data):
    features, targets, _ = regression_data
    with pytest.raises(ValueError, match="batch_size must be at most 40"):
        scratch.train(
            scratch.LinearRegression(features, targets),
            scratch.SGD(0.1),
            np.zeros(4),
            steps=1,
            batch_size=41,
        )


# Round 2 (issue 11 probe): NaN or inf in initial_params returned an all-NaN trajectory before.
@pytest.mark.parametrize(
    "initial, shown",
    [
        ([float("nan"), 1.0], r"\[nan\] at index \[0\]"),
        ([1.0, float("inf")], r"\[inf\] at index \[1\]"),
    ],
)
def test_train_rejects_non_finite_initial_params(initial, shown):
    # Input: Quadratic valley from a start with one non-finite entry. Expected: ValueError
    # naming initial_params, the bad value and its index, before any step is taken.
    with pytest.raises(
        ValueError, match=rf"initial_params must contain only finite values.*{shown}"
    ):
        scratch.train(scratch.Quadratic(VALLEY), scratch.SGD(0.1), initial, steps=3)
