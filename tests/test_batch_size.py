"""lrlab.batch_size: the scaling rules, warm-up, the noise-scale estimator, steps to target,
Smith et al.'s phases. Expected values come from the formulas written in each test."""

import math

import keras
import numpy as np
import pytest

from lrlab import batch_size, checks
from lrlab.batch_size import (
    AccuracyEvery,
    accuracy,
    batch_gradients,
    batch_increase_phases,
    count_updates,
    critical_batch,
    gradual_warmup,
    noise_scale_from_norms,
    scaled_learning_rate,
    simple_noise_scale,
    steps_to_target,
)
from lrlab.plotting import learning_rate_curve

# --------------------------------------------------------------------------- scaling rules


@pytest.mark.parametrize(
    ("base_rate", "base_batch", "batch", "rule", "expected"),
    [
        (0.1, 256, 8192, "linear", 3.2),  # Goyal et al. 2017, section 5: 0.1 * 8192 / 256
        (0.1, 256, 256, "linear", 0.1),
        (0.1, 256, 32, "linear", 0.0125),  # k = 1/8
        (1e-3, 64, 256, "sqrt", 2e-3),  # sqrt(4) = 2
        (1e-3, 64, 16, "sqrt", 5e-4),
        (0.02, 16, 1024, "sqrt", 0.16),  # sqrt(64) = 8
        (0.02, 16, 1024, "none", 0.02),
    ],
)
def test_scaled_learning_rate_follows_the_rule(base_rate, base_batch, batch, rule, expected):
    assert scaled_learning_rate(base_rate, base_batch, batch, rule) == pytest.approx(
        expected, rel=1e-12)


def test_scaled_learning_rate_is_linear_by_default():
    assert scaled_learning_rate(0.01, 16, 64) == pytest.approx(0.04, rel=1e-12)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ((0.1, 256, 512, "cubic"), ValueError, "rule must be one of 'linear', 'sqrt', 'none'"),
        ((0.1, 256, 0, "linear"), ValueError, "batch must be a positive integer, got 0"),
        ((0.0, 256, 512, "linear"), ValueError, r"base_rate must be a number in \(0, inf\)"),
        ((0.1, 256.0, 512, "linear"), TypeError, "base_batch must be a positive integer"),
        ((0.1, 256, True, "linear"), TypeError, "batch must be a positive integer, got True"),
    ],
)
def test_scaled_learning_rate_refuses_bad_arguments(arguments, error, message):
    with pytest.raises(error, match=message):
        scaled_learning_rate(*arguments)


def test_gradual_warmup_rises_linearly_from_the_base_rate():
    # Goyal et al.: from eta at step 0 to k * eta at warmup_steps, a constant increment per step
    schedule = gradual_warmup(0.01, 0.05, 8)
    rates = learning_rate_curve(schedule, np.array([0, 1, 4, 8, 9, 100]))
    expected = [0.01, 0.01 + 0.04 / 8, 0.03, 0.05, 0.05, 0.05]
    np.testing.assert_allclose(rates, expected, rtol=1e-6)


def test_gradual_warmup_of_zero_steps_is_the_target_rate():
    assert gradual_warmup(0.01, 0.05, 0) == 0.05


def test_gradual_warmup_refuses_a_negative_length():
    with pytest.raises(ValueError, match="warmup_steps must be a non-negative integer, got -1"):
        gradual_warmup(0.01, 0.05, -1)


# --------------------------------------------------------------------------- noise scale


def test_noise_scale_from_norms_recovers_a_chosen_truth():
    # |G|^2 = 3, tr(Sigma) = 120: E|G_B|^2 = 3 + 120 / B, so 3 + 120/8 = 18 and 3 + 120/120 = 4
    estimate = noise_scale_from_norms(18.0, 4.0, 8, 120)
    assert estimate.gradient_norm_squared == pytest.approx(3.0, rel=1e-12)
    assert estimate.trace_sigma == pytest.approx(120.0, rel=1e-12)
    assert estimate.b_simple == pytest.approx(40.0, rel=1e-12)


def test_noise_scale_is_infinite_when_the_gradient_estimate_is_not_positive():
    # the big batches' norm at most small * b / B: |G|^2 estimate (2 * 1 - 1 * 2) / 1 = 0
    assert noise_scale_from_norms(2.0, 1.0, 1, 2).b_simple == math.inf


def test_noise_scale_needs_the_big_batch_bigger():
    with pytest.raises(ValueError, match="batch_big must be an integer > batch_small = 16, got 16"):
        noise_scale_from_norms(2.0, 1.0, 16, 16)


def test_the_estimator_is_unbiased_on_gaussian_per_example_gradients():
    # Per-example gradients ~ N(mean, diag(variances)): |G|^2 = |mean|^2, tr(Sigma) = sum(var).
    rng = np.random.default_rng(7)
    mean = rng.normal(0, 0.3, size=20)
    variances = rng.uniform(0.5, 2.0, size=20)
    true_g, true_trace = float(mean @ mean), float(variances.sum())

    def batches(size, count):
        draws = rng.normal(mean, np.sqrt(variances), size=(count, size, mean.size))
        return draws.mean(axis=1)

    estimates = [simple_noise_scale(batches(2, 100), batches(32, 25), 2, 32) for _ in range(400)]
    for values, truth in (
        ([e.gradient_norm_squared for e in estimates], true_g),
        ([e.trace_sigma for e in estimates], true_trace),
    ):
        standard_error = np.std(values, ddof=1) / np.sqrt(len(values))
        assert abs(np.mean(values) - truth) < 4 * standard_error, (np.mean(values), truth)
        assert standard_error < 0.05 * truth  # the test can tell the truth from a biased guess


def test_simple_noise_scale_checks_the_gradient_arrays():
    with pytest.raises(ValueError, match="as many parameters, got 3 and 4"):
        simple_noise_scale(np.zeros((2, 3)), np.zeros((2, 4)), 1, 2)
    with pytest.raises(ValueError, match=r"2-d array \(batches x parameters\), got shape \(3,\)"):
        simple_noise_scale(np.zeros(3), np.zeros((2, 3)), 1, 2)
    with pytest.raises(ValueError, match="not finite"):
        simple_noise_scale(np.full((2, 3), np.nan), np.zeros((2, 3)), 1, 2)


def _linear_model(weights):
    model = keras.Sequential([keras.Input(shape=(len(weights),)),
                              keras.layers.Dense(1, use_bias=False)])
    model.layers[0].set_weights([np.asarray(weights, dtype=np.float32).reshape(-1, 1)])
    return model


def test_batch_gradients_are_the_mean_loss_gradients_of_the_drawn_batches():
    # Mean squared error of y ~ x w on a batch: gradient (2 / B) sum_i (x_i w - y_i) x_i.
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 3)).astype(np.float32)
    y = rng.normal(size=(50, 1)).astype(np.float32)
    w = np.array([0.5, -1.0, 2.0])
    model = _linear_model(w)
    got = batch_gradients(model, x, y, batch_size=5, n_batches=3, seed=4,
                          loss=keras.losses.MeanSquaredError())
    draws = np.random.default_rng([4, 5])  # the documented draws: default_rng([seed, batch])
    for row in got:
        chosen = draws.integers(0, 50, size=5)
        residual = x[chosen].astype(np.float64) @ w - y[chosen, 0]
        np.testing.assert_allclose(row, 2 / 5 * residual @ x[chosen], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.layers[0].get_weights()[0].ravel(), w.astype(np.float32))


def test_noise_scale_of_a_model_matches_the_per_example_truth():
    # The data set's own per-example gradients g_i: |G|^2 = |mean g_i|^2 and tr(Sigma) the sum
    # of their variances (1/N: draws with replacement sample exactly this distribution).
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0]) + rng.normal(scale=1.0, size=200)).astype(np.float32)[:, None]
    w = np.array([0.2, 0.3])
    per_example = 2 * ((x.astype(np.float64) @ w) - y[:, 0])[:, None] * x
    true_g = float(per_example.mean(axis=0) @ per_example.mean(axis=0))
    true_trace = float(per_example.var(axis=0).sum())
    model = _linear_model(w)
    loss = keras.losses.MeanSquaredError()
    small = batch_gradients(model, x, y, 2, 1000, seed=1, loss=loss)
    big = batch_gradients(model, x, y, 50, 200, seed=1, loss=loss)
    estimate = simple_noise_scale(small, big, 2, 50)
    # standard errors of the two mean squared norms, carried through the two linear formulas
    error_small = np.std(np.sum(small**2, axis=1), ddof=1) / np.sqrt(len(small))
    error_big = np.std(np.sum(big**2, axis=1), ddof=1) / np.sqrt(len(big))
    error_g = np.hypot(50 * error_big, 2 * error_small) / (50 - 2)
    error_trace = np.hypot(error_small, error_big) / (1 / 2 - 1 / 50)
    assert abs(estimate.gradient_norm_squared - true_g) < 4 * error_g
    assert abs(estimate.trace_sigma - true_trace) < 4 * error_trace
    assert error_trace < 0.2 * true_trace  # precise enough to tell a wrong formula


def test_batch_gradients_refuse_bad_arguments():
    model = _linear_model([1.0])
    x, y = np.zeros((4, 1), np.float32), np.zeros((4, 1), np.float32)
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        batch_gradients("model", x, y, 2, 1)
    with pytest.raises(ValueError, match="same length, got 4 and 3"):
        batch_gradients(model, x, y[:3], 2, 1)
    with pytest.raises(ValueError, match="n_batches must be a positive integer, got 0"):
        batch_gradients(model, x, y, 2, 0)


# --------------------------------------------------------------------------- steps to target


def test_critical_batch_recovers_the_trade_off():
    # S(B) = S_min (1 + B_crit / B) with S_min = 100, B_crit = 10: E_min = 1000
    sizes = [1, 10, 100, 1000]
    steps = [100 * (1 + 10 / b) for b in sizes]
    s_min, e_min, b_crit = critical_batch(sizes, steps)
    assert (s_min, e_min, b_crit) == pytest.approx((100, 1000, 10), rel=1e-9)
    # and the paper's hyperbola holds at every size: (S / S_min - 1)(E / E_min - 1) = 1
    for b, s in zip(sizes, steps, strict=True):
        assert (s / s_min - 1) * (b * s / e_min - 1) == pytest.approx(1.0, rel=1e-9)


def test_critical_batch_needs_two_sizes():
    with pytest.raises(ValueError, match="at least two distinct batch sizes, got"):
        critical_batch([16, 16], [100, 90])
    with pytest.raises(ValueError, match="must be paired, got 2 and 1"):
        critical_batch([16, 32], [100])


def test_steps_to_target_is_the_first_step_that_reaches_it():
    assert steps_to_target([10, 20, 30, 40], [0.1, 0.5, 0.4, 0.6], 0.5) == 20
    assert steps_to_target([10, 20], [0.1, 0.2], 0.5) is None


def test_accuracy_and_accuracy_every():
    # a linear "classifier" whose logits are its two inputs: the larger input is the class
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(2, use_bias=False)])
    model.layers[0].set_weights([np.eye(2, dtype=np.float32)])
    images = np.array([[1, 0], [0, 1], [2, 1], [0, 3]], dtype=np.float32)
    assert accuracy(model, images, np.array([0, 1, 1, 1]), batch_size=3) == 0.75
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    watch = AccuracyEvery(images, np.array([0, 1, 0, 1]), every=2)
    model.fit(images, np.zeros((4, 2)), batch_size=1, epochs=1, verbose=0, callbacks=[watch])
    assert watch.steps == [2, 4]  # every 2 of the 4 steps; the end (step 4) is not repeated
    assert watch.accuracies == [1.0, 1.0]


# --------------------------------------------------------------------------- Smith et al.


def test_batch_increase_phases_match_the_decay():
    # the docstring's example: 6 epochs, boundaries 3 and 5, factor 4, from 0.1 at batch 16
    assert batch_increase_phases(6, (3, 5), 0.1, 16, 4, "decay") == [
        (3, 16, 0.1), (2, 16, 0.025), (1, 16, 0.00625)]
    assert batch_increase_phases(6, (3, 5), 0.1, 16, 4, "batch") == [
        (3, 16, 0.1), (2, 64, 0.1), (1, 256, 0.1)]
    # rate / batch, Smith et al.'s noise scale up to the constant N, is the same in both
    decay = batch_increase_phases(6, (3, 5), 0.1, 16, 4, "decay")
    increase = batch_increase_phases(6, (3, 5), 0.1, 16, 4, "batch")
    for (_, b1, r1), (_, b2, r2) in zip(decay, increase, strict=True):
        assert r1 / b1 == pytest.approx(r2 / b2, rel=1e-12)


def test_count_updates():
    # ceil(3200 / 16) = 200 per epoch; ceil(3200 / 64) = 50; ceil(3200 / 256) = 13
    assert count_updates(batch_increase_phases(6, (3, 5), 0.1, 16, 4, "decay"), 3200) == 1200
    assert count_updates(batch_increase_phases(6, (3, 5), 0.1, 16, 4, "batch"), 3200) == (
        3 * 200 + 2 * 50 + 1 * 13)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((6, (5, 3), 0.1, 16, 4, "decay"), r"boundaries must increase, got \[5, 3\]"),
        ((6, (6,), 0.1, 16, 4, "decay"), r"boundaries\[0\] must be an integer in \[1, 5\], got 6"),
        ((6, (3,), 0.1, 16, 1, "decay"), "factor must be an integer >= 2, got 1"),
        ((6, (3,), 0.1, 16, 4, "warm"), "mode must be one of 'decay', 'batch', got 'warm'"),
    ],
)
def test_batch_increase_phases_refuse_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        batch_increase_phases(*arguments)


def test_module_lists_its_public_names():
    assert set(batch_size.__all__) <= set(dir(batch_size))


# --- the lesson's two exercise checks -----------------------------------------------------


def test_scaled_rate_check_passes_the_rules_and_refuses_a_swapped_rule(capsys):
    def right(base_rate, base_batch, batch, rule):
        return batch_size.scaled_learning_rate(base_rate, base_batch, batch, rule)

    def swapped(base_rate, base_batch, batch, rule):  # sqrt where linear is asked, and back
        other = "sqrt" if rule == "linear" else "linear"
        return batch_size.scaled_learning_rate(base_rate, base_batch, batch, other)

    def inverted(base_rate, base_batch, batch, rule):  # base_batch / batch: a smaller rate
        return right(base_rate, batch, base_batch, rule)

    assert checks.check_scaled_learning_rate(right)
    assert not checks.check_scaled_learning_rate(swapped)
    assert not checks.check_scaled_learning_rate(inverted)
    out = capsys.readouterr().out
    assert "correct: scaled_rate matches every case." in out
    assert "3.2" in out  # the first failing case, Goyal et al.'s 0.1 at 256 -> 3.2 at 8192


def test_noise_scale_check_passes_the_estimator_and_refuses_wrong_ones(capsys):
    def right(small, big, b_small, b_big):
        estimate = batch_size.noise_scale_from_norms(small, big, b_small, b_big)
        return estimate.gradient_norm_squared, estimate.trace_sigma, estimate.b_simple

    def swapped_sizes(small, big, b_small, b_big):  # the two batch sizes exchanged
        return right(small, big, b_big, b_small)

    def two_values(small, big, b_small, b_big):
        return right(small, big, b_small, b_big)[:2]

    assert checks.check_noise_scale(right)
    assert not checks.check_noise_scale(swapped_sizes)
    assert not checks.check_noise_scale(two_values)
    assert "expected 3 values" in capsys.readouterr().out
