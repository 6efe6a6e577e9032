"""Tests of lrlab.finder: the ramp, smoothing and stopping, the suggestions, the Keras finder
(exact batch losses, restoring the model and optimizer) and the NumPy range test."""

from __future__ import annotations

import tempfile

import keras
import matplotlib
import numpy as np
import pytest
import tensorflow as tf
from backend_checks import check_finite

from lrlab import finder, scratch
from lrlab.finder import (
    LossSmoother,
    LRFinder,
    RangeTestState,
    find_lr,
    learning_rate_ramp,
    minimum,
    range_test_numpy,
    slide,
    smooth_losses,
    steep,
    valley,
)

matplotlib.use("Agg")

EXAMPLES = 200
BATCH_SIZE = 32  # 200 = 6 * 32 + 8: every epoch ends with a partial batch of 8
BATCHES_PER_EPOCH = 7


# --- the ramp, smoothing, stopping -------------------------------------------------------------


def test_exponential_ramp_is_geometric_from_start_to_end():
    # r_i = 1e-3 * (10 / 1e-3) ** (i / 4): one decade per step
    np.testing.assert_allclose(
        learning_rate_ramp(1e-3, 10.0, 5, "exponential"), [1e-3, 1e-2, 1e-1, 1.0, 10.0], rtol=1e-12
    )


def test_linear_ramp_is_evenly_spaced_from_start_to_end():
    np.testing.assert_allclose(
        learning_rate_ramp(0.1, 0.5, 5, "linear"), [0.1, 0.2, 0.3, 0.4, 0.5], rtol=1e-12
    )


def test_smoothing_is_the_bias_corrected_exponential_average():
    # beta = 0.5 on 4, 2, 1: the weighted means with weights 0.5 ** (t - i):
    # 4;  (0.5*4 + 2) / 1.5 = 8/3;  (0.25*4 + 0.5*2 + 1) / 1.75 = 12/7
    np.testing.assert_allclose(
        smooth_losses([4.0, 2.0, 1.0], 0.5), [4.0, 8 / 3, 12 / 7], rtol=1e-12
    )
    # beta = 0 keeps the raw values
    np.testing.assert_array_equal(smooth_losses([3.0, 1.0, 2.0], 0.0), [3.0, 1.0, 2.0])
    smoother = LossSmoother(0.98)
    assert smoother.update(5.0) == pytest.approx(5.0, rel=1e-12)  # no pull towards 0


def record(state: RangeTestState, losses) -> RangeTestState:
    for loss in losses:
        if state.add_batch_loss(loss):
            state.end_step()
        if state.finished:
            break
    return state


def test_state_stops_when_the_smoothed_loss_exceeds_stop_factor_times_the_best():
    # beta = 0: smoothed = raw; best 0.4, and 1.7 > 4 * 0.4 = 1.6 stops at the 5th step
    state = record(RangeTestState(np.geomspace(1e-3, 1, 10), beta=0.0), [1, 0.5, 0.4, 1.5, 1.7, 9])
    assert state.stop_reason == "diverged"
    assert state.step_losses == [1, 0.5, 0.4, 1.5, 1.7]


def test_state_stops_at_a_non_finite_loss_and_runs_every_rate_otherwise():
    state = record(RangeTestState(np.geomspace(1e-3, 1, 10), beta=0.5), [1, 0.5, np.nan, 0.1])
    assert state.stop_reason == "non-finite loss" and state.step == 3
    completed = record(RangeTestState(np.geomspace(1e-3, 1, 4), stop_factor=None), [1, 9, 99, 999])
    assert completed.stop_reason == "completed" and completed.step == 4


def test_a_step_of_several_batches_has_their_mean_loss():
    state = record(
        RangeTestState([0.1, 0.2, 0.3], batches_per_step=2, beta=0.0), [1, 3, 2, 2, 5, 1]
    )
    assert state.step_losses == [2.0, 2.0, 3.0]
    assert state.stop_reason == "completed"


# --- suggestions on hand-made curves -----------------------------------------------------------

RATES = 10.0 ** np.arange(10)


def test_valley_follows_fastai_longest_decreasing_subsequence():
    losses = [3.0, 2.5, 2.8, 2.0, 1.5, 1.8, 1.0, 0.9, 2.0, 4.0]
    # Longest strictly decreasing subsequence ending at each point (by hand):
    # [1, 2, 2, 3, 4, 4, 5, 6, 3, 1]: the longest, 6 (3.0 2.5 2.0 1.5 1.0 0.9, not contiguous),
    # ends at index 7; start = 7 - 6 = 1; index = 1 + 6 // 3 + 6 // 6 = 4.
    # (The longest *contiguous* decreasing run has 3 points: a different rule.)
    assert valley(RATES, losses) == RATES[4]


def test_valley_takes_the_first_of_equally_long_valleys():
    # decreasing runs 5 4 3 (ends at 2) and 6 2 1 ... each of length 3: the first one wins;
    # start = 2 - 3 = -1, index = -1 + 1 + 0 = 0.
    assert valley(RATES[:6], [5.0, 4.0, 3.0, 6.0, 5.5, 5.2]) == RATES[0]


def test_steep_uses_the_slope_against_log_rate():
    rates = [1.0, 10.0, 20.0, 40.0]
    losses = [5.0, 3.0, 2.0, 1.5]
    # slopes per unit of ln(rate): -2/ln 10 = -0.87, -1/ln 2 = -1.44, -0.5/ln 2 = -0.72:
    # the steepest segment starts at rate 10 (the largest drop per point would say 1).
    assert steep(rates, losses) == 10.0


def test_minimum_is_the_rate_of_the_lowest_loss_over_ten():
    losses = [3.0, 2.5, 2.8, 2.0, 1.5, 1.8, 1.0, 0.9, 2.0, 4.0]
    assert minimum(RATES, losses) == RATES[7] / 10


def test_slide_follows_fastai_interval_rule():
    rates = 10.0 ** np.arange(7)
    losses = [4.0, 3.0, 2.5, 2.4, 2.4, 3.0, 5.0]
    # numpy.gradient: [-1, -0.75, -0.3, -0.05, 0.3, 1.3, 2]. lr_diff = 2, threshold 0.65:
    # (r=6, l=4): |2 - 0.3| = 1.7 > 0.65 -> rates[4]; (5, 3): |1.3 + 0.05| = 1.35 -> rates[3];
    # (4, 2): |0.3 + 0.3| = 0.6 <= 0.65: stop. Suggestion rates[3].
    assert slide(rates, losses, lr_diff=2, threshold=0.65) == rates[3]
    # the window never moves when the first comparison fails: rates[n - 1 - lr_diff]
    assert slide(rates, losses, lr_diff=2, threshold=10.0) == rates[4]
    assert slide(rates, losses, lr_diff=2, threshold=10.0, adjust_value=0.5) == rates[4] / 2


def test_suggestions_need_enough_points():
    with pytest.raises(ValueError, match="slide needs at least 16 points"):
        slide(RATES, np.ones(10))
    with pytest.raises(ValueError, match="steep needs at least 2 points"):
        steep([1.0], [1.0])


def make_result(losses, num_steps=None, stop_reason="completed"):
    losses = np.asarray(losses, dtype=np.float64)
    return finder.RangeTestResult(
        learning_rates=np.geomspace(1e-4, 1.0, losses.size),
        losses=losses,
        smoothed_losses=losses,
        batch_losses=losses,
        validation_losses=None,
        num_steps=num_steps or losses.size,
        stop_reason=stop_reason,
        beta=0.0,
    )


def test_result_suggests_on_the_curve_without_its_ends_as_fastai_lr_find():
    losses = np.concatenate(
        [np.full(10, 9.0), np.linspace(3.0, 1.0, 25), [np.nan, 2, 3, 4, 5, 6, 7]]
    )
    result = make_result(losses)
    rates, curve = result.suggestion_curve()
    # 42 steps: keep 42 // 10 = 4 .. 42 - 5 = 37, then cut before the NaN at index 35
    np.testing.assert_array_equal(curve, losses[4:35])
    np.testing.assert_array_equal(rates, result.learning_rates[4:35])
    assert result.suggestions["minimum"] == result.learning_rates[34] / 10  # the 1.0
    # too short for slide (needs 16 points): NaN in the dict, a ValueError when asked by name
    short = make_result(np.linspace(2, 1, 20), num_steps=100)
    assert np.isnan(short.suggestions["slide"])
    with pytest.raises(ValueError, match="slide needs at least 16 points"):
        short.suggest("slide")
    with pytest.raises(ValueError, match="suggestion must be one of"):
        short.suggest("median")


def test_plot_marks_every_suggestion_and_the_stop():
    losses = np.concatenate([np.full(10, 3.0), np.linspace(3.0, 1.0, 60), np.geomspace(1, 50, 10)])
    result = make_result(losses, stop_reason="diverged")
    figure = result.plot()
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    for name, rate in result.suggestions.items():
        assert f"{name}: {rate:.2e}" in labels
    assert "stopped (diverged)" in labels
    assert figure.axes[0].get_xscale() == "log"
    assert figure.axes[0].get_xlabel() == "learning rate"
    matplotlib.pyplot.close(figure)


# --- Keras: the model and data of the tests ----------------------------------------------------


def features_and_labels(seed=0):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(EXAMPLES, 5)).astype("float32")
    labels = rng.integers(0, 3, size=EXAMPLES).astype("int32")
    return features, labels


def ordered_dataset():
    """Batches of 32 in a fixed order (the last of each epoch has 8 examples)."""
    return tf.data.Dataset.from_tensor_slices(features_and_labels()).batch(BATCH_SIZE)


def classifier(optimizer, batch_norm=False, dropout=False, with_input=True, seed=0):
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((5,))] if with_input else []
    layers.append(keras.layers.Dense(8, activation="relu"))
    if batch_norm:
        layers.append(keras.layers.BatchNormalization())
    if dropout:
        layers.append(keras.layers.Dropout(0.3))
    layers.append(keras.layers.Dense(3))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    return model


class StateRecorder(keras.callbacks.Callback):
    """Keeps the variables and the rate each batch starts from, and the variables it ends with."""

    def on_train_begin(self, logs=None):
        self.before, self.after, self.rates = [], [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.before.append([np.array(v.numpy()) for v in self.model.variables])
        self.rates.append(float(self.model.optimizer.learning_rate.numpy()))

    def on_train_batch_end(self, batch, logs=None):
        self.after.append([np.array(v.numpy()) for v in self.model.variables])


def batch_losses_from_scratch(model, recorded_variables):
    """The loss of batch k computed again, eagerly, at the variables batch k started from."""
    batches = list(ordered_dataset().as_numpy_iterator())
    losses = []
    for k, values in enumerate(recorded_variables):
        for variable, value in zip(model.variables, values, strict=True):
            variable.assign(value)
        images, labels = batches[k % BATCHES_PER_EPOCH]
        losses.append(float(model.loss(labels, model(images, training=True))))
    return np.array(losses)


def state_of(model):
    variables = [*model.variables, *model.optimizer.variables]
    return {v.path: np.array(v.numpy()) for v in variables}


def assert_bit_for_bit(before, after):
    assert before.keys() == after.keys()
    for path, value in before.items():
        assert value.dtype == after[path].dtype and value.tobytes() == after[path].tobytes(), path


def trained_model(optimizer=None):
    """BatchNorm, dropout and Adam (or ``optimizer``) after one epoch: nothing is at rest."""
    model = classifier(optimizer or keras.optimizers.Adam(0.01), batch_norm=True, dropout=True)
    model.fit(ordered_dataset(), epochs=1, shuffle=False, verbose=0)
    return model


# --- Keras: what is recorded -------------------------------------------------------------------


def test_keras_logs_a_running_mean_weighted_by_batch_size():
    # Why the finder resets the loss tracker: without it, logs["loss"] after batch k is
    # sum(n_i L_i) / sum(n_i) over the epoch so far (Keras 3 trainer: loss tracker updated
    # with sample_weight = batch size), not L_k.
    model = classifier(keras.optimizers.SGD(0.1))

    class LogRecorder(StateRecorder):
        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            self.logged = []

        def on_train_batch_end(self, batch, logs=None):
            self.logged.append(logs["loss"])

    recorder = LogRecorder()
    model.fit(ordered_dataset(), epochs=1, shuffle=False, verbose=0, callbacks=[recorder])
    batch_losses = batch_losses_from_scratch(model, recorder.before)
    sizes = np.array([32] * 6 + [8])
    sample_weighted = np.cumsum(sizes * batch_losses) / np.cumsum(sizes)
    np.testing.assert_allclose(recorder.logged, sample_weighted, rtol=1e-6)
    batch_weighted = np.cumsum(batch_losses) / np.arange(1, 8)
    assert abs(recorder.logged[-1] - batch_weighted[-1]) > 1e-4  # the partial batch tells apart


def test_each_recorded_loss_is_that_batch_loss_at_the_weights_of_that_step():
    model = classifier(keras.optimizers.Adam(1e-3), batch_norm=True)
    recorder = StateRecorder()
    result = find_lr(model, ordered_dataset(), 1e-4, 1.0, 20, callbacks=[recorder])
    assert result.stop_reason == "completed" and result.batch_losses.size == 20
    # Equal to the last bit: after the reset the tracker holds n L / n, exact for n = 32 and 8.
    # On JAX the loss comes out of one XLA-compiled step whose reduction rounds differently
    # from the eager recomputation (measured: at most 1 float32 spacing, 2.4e-7 on 1.4): there
    # it is within 1e-6 of it.
    expected = batch_losses_from_scratch(model, recorder.before)
    if keras.backend.backend() == "jax":
        np.testing.assert_allclose(result.batch_losses, expected, rtol=1e-6)
    else:
        np.testing.assert_array_equal(result.batch_losses, expected)
    np.testing.assert_array_equal(result.losses, result.batch_losses)  # one batch per step
    # batch k trained at the k-th rate of the ramp (kept in float32 by Keras)
    np.testing.assert_array_equal(
        recorder.rates, learning_rate_ramp(1e-4, 1.0, 20).astype(np.float32)
    )


def test_steps_of_several_batches_and_of_one_epoch():
    model = classifier(keras.optimizers.SGD(1e-3))
    recorder = StateRecorder()
    result = find_lr(
        model, ordered_dataset(), 1e-3, 1e-1, 5, batches_per_step=3, callbacks=[recorder]
    )
    assert result.batch_losses.size == 15
    np.testing.assert_allclose(result.losses, result.batch_losses.reshape(5, 3).mean(axis=1))
    np.testing.assert_array_equal(
        recorder.rates, np.repeat(learning_rate_ramp(1e-3, 1e-1, 5).astype(np.float32), 3)
    )

    recorder = StateRecorder()
    result = find_lr(
        model, ordered_dataset(), 1e-3, 1e-1, 3, batches_per_step="epoch", callbacks=[recorder]
    )
    assert result.batch_losses.size == 3 * BATCHES_PER_EPOCH
    np.testing.assert_allclose(result.losses, result.batch_losses.reshape(3, 7).mean(axis=1))
    np.testing.assert_array_equal(
        recorder.rates, np.repeat(learning_rate_ramp(1e-3, 1e-1, 3).astype(np.float32), 7)
    )


def test_validation_loss_is_evaluated_after_each_step():
    model = classifier(keras.optimizers.SGD(1e-2))
    recorder = StateRecorder()
    validation = features_and_labels(seed=1)
    result = find_lr(
        model, ordered_dataset(), 1e-3, 1.0, 4, validation_data=validation, callbacks=[recorder]
    )
    assert result.validation_losses.shape == (4,)
    for variable, value in zip(model.variables, recorder.after[-1], strict=True):
        variable.assign(value)
    last = model.evaluate(*validation, verbose=0, return_dict=True)["loss"]
    assert result.validation_losses[-1] == pytest.approx(last, rel=1e-6)


# --- Keras: the model and optimizer come back as they were -------------------------------------


def test_run_restores_weights_statistics_seeds_and_optimizer_bit_for_bit():
    model = trained_model()
    before = state_of(model)
    recorder = StateRecorder()
    result = find_lr(model, ordered_dataset(), 1e-4, 1.0, 30, callbacks=[recorder])
    assert result.learning_rates.size > 5
    assert_bit_for_bit(before, state_of(model))
    assert float(model.optimizer.learning_rate.numpy()) == np.float32(0.01)
    # the run did move them: BatchNorm's moving mean after the last batch differs
    paths = [v.path for v in model.variables]
    moving_mean = next(path for path in paths if "moving_mean" in path)
    assert not np.array_equal(recorder.after[-1][paths.index(moving_mean)], before[moving_mean])


def test_run_that_diverges_to_nan_restores_bit_for_bit():
    model = trained_model(keras.optimizers.SGD(0.01, momentum=0.9))
    before = state_of(model)
    result = find_lr(model, ordered_dataset(), 1e-2, 1e12, 30, stop_factor=None)
    assert result.stop_reason == "non-finite loss"
    assert not np.isfinite(result.losses[-1])
    assert_bit_for_bit(before, state_of(model))


class RaiseAtBatch(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 4:
            raise RuntimeError("failure in the middle of the test")


def test_run_that_raises_restores_bit_for_bit():
    model = trained_model()
    before = state_of(model)
    with pytest.raises(RuntimeError, match="failure in the middle"):
        find_lr(model, ordered_dataset(), 1e-4, 1.0, 30, callbacks=[RaiseAtBatch()])
    assert_bit_for_bit(before, state_of(model))


def test_run_stopped_by_a_layer_that_raises_restores_bit_for_bit():
    # the check raises inside the train step once the growing rate makes the logits inf
    model = trained_model()
    checked = keras.Sequential([keras.Input((5,)), model, keras.layers.Lambda(check_finite)])
    checked.compile(optimizer=model.optimizer, loss=model.loss)
    before = state_of(checked)
    with pytest.raises(Exception, match="logits") as raised:
        find_lr(checked, ordered_dataset(), 1e-2, 1e30, 40, stop_factor=None)
    expected = {"tensorflow": "InvalidArgumentError", "jax": "JaxRuntimeError",
                "torch": "RuntimeError"}[keras.backend.backend()]
    assert type(raised.value).__name__ == expected
    assert_bit_for_bit(before, state_of(checked))


def test_unbuilt_sequential_is_built_from_the_first_batch_and_restored():
    model = classifier(keras.optimizers.SGD(1e-2, momentum=0.9), with_input=False)
    assert not model.built
    first = find_lr(model, ordered_dataset(), 1e-3, 1.0, 10)
    assert model.built and int(model.optimizer.iterations.numpy()) == 0
    second = find_lr(model, ordered_dataset(), 1e-3, 1.0, 10)
    # restored to the weights it was built with (and zero momentum): the same test again
    np.testing.assert_array_equal(first.batch_losses, second.batch_losses)


def test_arrays_with_batch_size_are_accepted():
    model = classifier(keras.optimizers.SGD(1e-2))
    result = find_lr(model, features_and_labels(), 1e-3, 1.0, 12, batch_size=50)
    assert result.batch_losses.size == 12


def test_no_file_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    model = trained_model()
    find_lr(model, ordered_dataset(), 1e-4, 1.0, 10)
    find_lr(model, ordered_dataset(), 1e-2, 1e12, 30, stop_factor=None)
    with pytest.raises(RuntimeError):
        find_lr(model, ordered_dataset(), 1e-4, 1.0, 30, callbacks=[RaiseAtBatch()])
    assert [p.name for p in tmp_path.rglob("*")] == ["tmp"]
    assert not list(tmp_path.rglob("*.h5")) and not list(tmp_path.rglob("*.keras"))


# --- Keras: what is refused --------------------------------------------------------------------


def test_schedule_learning_rate_is_refused_with_the_reason():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    model = classifier(keras.optimizers.SGD(schedule))
    with pytest.raises(TypeError, match="ExponentialDecay.*float rate"):
        find_lr(model, ordered_dataset())
    with pytest.raises(TypeError, match="ExponentialDecay"):
        model.fit(ordered_dataset(), epochs=1, shuffle=False, verbose=0, callbacks=[LRFinder()])


def test_uncompiled_unbuilt_and_multi_step_models_are_refused():
    with pytest.raises(ValueError, match="compile"):
        find_lr(keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)]), ordered_dataset())
    unbuilt = classifier(keras.optimizers.SGD(0.1), with_input=False)
    if keras.backend.backend() != "tensorflow":
        # Keras's JAX and PyTorch trainers build the model from the first batch before any
        # callback runs, so LRFinder keeps built weights: nothing to refuse.
        unbuilt.fit(ordered_dataset(), epochs=1, shuffle=False, verbose=0, callbacks=[LRFinder()])
        assert unbuilt.built
    else:
        with pytest.raises(ValueError, match="built model"):
            unbuilt.fit(
                ordered_dataset(), epochs=1, shuffle=False, verbose=0, callbacks=[LRFinder()]
            )
    model = classifier(keras.optimizers.SGD(0.1))
    model.compile(optimizer=model.optimizer, loss=model.loss, steps_per_execution=2)
    with pytest.raises(ValueError, match="steps_per_execution"):
        find_lr(model, ordered_dataset())


@pytest.fixture(scope="module")
def untouched_model():
    return classifier(keras.optimizers.SGD(0.1))


@pytest.mark.parametrize(
    "arguments, name",
    [
        ({"start_lr": 0.0}, "start_lr"),
        ({"start_lr": -1e-3}, "start_lr"),
        ({"start_lr": float("nan")}, "start_lr"),
        ({"start_lr": 1.0, "end_lr": 1.0}, "end_lr"),
        ({"end_lr": 1e-9}, "end_lr"),
        ({"num_steps": 1}, "num_steps"),
        ({"num_steps": 10.0}, "num_steps"),
        ({"mode": "cosine"}, "mode"),
        ({"beta": 1.0}, "beta"),
        ({"beta": -0.1}, "beta"),
        ({"stop_factor": 1.0}, "stop_factor"),
        ({"batches_per_step": 0}, "batches_per_step"),
        ({"batches_per_step": "epochs"}, "batches_per_step"),
    ],
)
def test_invalid_arguments_raise_value_errors_naming_them(arguments, name, untouched_model):
    model = untouched_model
    before = state_of(model)
    with pytest.raises(ValueError, match=name):
        find_lr(model, ordered_dataset(), **arguments)
    with pytest.raises(ValueError, match=name):
        LRFinder(**arguments)
    with pytest.raises(ValueError, match=name):
        range_test_numpy(scratch.LinearRegression(np.eye(3), np.ones(3)), np.zeros(3), **arguments)
    assert_bit_for_bit(before, state_of(model))


# --- NumPy: linear regression, whose Hessian is known ------------------------------------------


def linear_regression(noise, scales, seed=0, examples=256):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(examples, len(scales))) * np.asarray(scales)
    weights = rng.normal(size=len(scales))
    targets = features @ weights + noise * rng.normal(size=examples)
    loss = scratch.LinearRegression(features, targets)
    return loss, np.linalg.eigvalsh(loss.hessian()).max()


def test_full_batch_divergence_lies_just_above_two_over_lambda_max():
    # X = sqrt(n) Q with orthonormal columns Q: the Hessian X^T X / n is exactly the identity,
    # lambda_max = 1. Gradient descent from 0 moves every direction alike, w_{k+1} - w* =
    # (1 - r_k)(w_k - w*), so the loss before step k is |w*|^2 / 2 * prod_{j<k} (1 - r_j)^2:
    # it falls while r_j < 2 / lambda_max and turns up as soon as the rate passes it.
    # Full batch: no sampling noise, so no smoothing (beta = 0).
    rng = np.random.default_rng(0)
    orthonormal, _ = np.linalg.qr(rng.normal(size=(256, 4)))
    features = np.sqrt(256) * orthonormal
    optimum = rng.normal(size=4)
    loss = scratch.LinearRegression(features, features @ optimum)
    np.testing.assert_allclose(loss.hessian(), np.eye(4), atol=1e-12)
    stable_limit = 2 / 1.0
    result = range_test_numpy(loss, np.zeros(4), 1e-4, 20.0, 100, beta=0.0)
    rates = learning_rate_ramp(1e-4, 20.0, 100)[: result.losses.size - 1]
    closed_form = optimum @ optimum / 2 * np.concatenate([[1.0], np.cumprod((1 - rates) ** 2)])
    np.testing.assert_allclose(result.losses, closed_form, rtol=1e-6)
    # It stops where the loss reaches 4 times its lowest value: at 1.57 x 2 / lambda_max with
    # this ramp (13 % per step); a coarser ramp overshoots more (60 steps: 1.91).
    assert result.stop_reason == "diverged"
    assert stable_limit < result.divergence_learning_rate < 2 * stable_limit
    for name, rate in result.suggestions.items():
        assert rate < stable_limit, name


def test_full_batch_loss_never_rises_below_two_over_lambda_max():
    # Descent lemma: for rates up to 2 / lambda_max every full-batch step lowers the loss, even
    # with noise and a condition number of 40: the test runs to its last rate.
    loss, lambda_max = linear_regression(noise=0.3, scales=[1.0, 2.0, 0.5, 3.0])
    result = range_test_numpy(loss, np.zeros(4), 1e-4, 0.99 * 2 / lambda_max, 100, beta=0.0)
    assert result.stop_reason == "completed"
    assert np.all(np.diff(result.losses) <= 0)


def test_mini_batch_runs_are_reproducible_and_steps_follow_the_epochs():
    loss, _ = linear_regression(noise=0.3, scales=[1.0, 2.0, 0.5, 3.0])
    first = range_test_numpy(loss, np.zeros(4), 1e-4, 10.0, 50, batch_size=32, seed=3)
    again = range_test_numpy(loss, np.zeros(4), 1e-4, 10.0, 50, batch_size=32, seed=3)
    other = range_test_numpy(loss, np.zeros(4), 1e-4, 10.0, 50, batch_size=32, seed=4)
    np.testing.assert_array_equal(first.losses, again.losses)
    assert not np.array_equal(first.losses[:10], other.losses[:10])
    per_epoch = range_test_numpy(
        loss, np.zeros(4), 1e-4, 1e-2, 3, batch_size=32, batches_per_step="epoch"
    )
    assert per_epoch.batch_losses.size == 3 * 8  # 256 / 32 batches per epoch
    np.testing.assert_allclose(per_epoch.losses, per_epoch.batch_losses.reshape(3, 8).mean(axis=1))


def test_numpy_validation_loss_is_taken_after_each_step():
    loss, _ = linear_regression(noise=0.3, scales=[1.0, 2.0, 0.5, 3.0])
    result = range_test_numpy(loss, np.zeros(4), 1e-3, 1e-1, 5, validation_loss=loss.loss)
    # full batch: the loss before step k + 1 is the loss after step k
    np.testing.assert_allclose(result.validation_losses[:-1], result.losses[1:], rtol=1e-12)


# --- bad input, infinite data and mixed precision (issue 11) ----------------------------------

import contextlib  # noqa: E402
import signal  # noqa: E402


@contextlib.contextmanager
def fails_after(seconds):
    """TimeoutError if the block runs longer than ``seconds`` (a hang fails the test)."""

    def stop(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: it hangs")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_one_rate_per_epoch_on_a_repeated_dataset_is_refused_with_what_to_pass():
    # Input: find_lr on ordered_dataset().repeat() (INFINITE_CARDINALITY) with
    # batches_per_step="epoch". Expected: at once, a ValueError that says the data is infinite
    # and to pass batches_per_step=<int> or finite data; the model is untouched (before: the
    # first epoch never ended and find_lr hung).
    model = trained_model()
    before = state_of(model)
    with fails_after(60), pytest.raises(ValueError, match=r"infinite.*batches_per_step=<"):
        find_lr(model, ordered_dataset().repeat(), 1e-4, 1.0, 5, batches_per_step="epoch")
    assert_bit_for_bit(before, state_of(model))


class EndlessBatches(keras.utils.PyDataset):
    """An infinite PyDataset (num_batches None), always the first batch of 32."""

    @property
    def num_batches(self):
        return None

    def __getitem__(self, index):
        features, labels = features_and_labels()
        return features[:32], labels[:32]


def test_one_rate_per_epoch_on_an_infinite_py_dataset_is_refused():
    # Input: a PyDataset whose num_batches is None, batches_per_step="epoch". Expected: the
    # same ValueError (before: a fit without end).
    with fails_after(60), pytest.raises(ValueError, match="infinite"):
        find_lr(trained_model(), EndlessBatches(), 1e-4, 1.0, 5, batches_per_step="epoch")


def test_a_repeated_dataset_with_batches_per_step_runs_every_rate():
    # Input: the repeated dataset with batches_per_step=3, 6 rates. Expected: it ends, with 6
    # steps of 3 batches (18 batch losses) and stop_reason "completed" (stop_factor=None).
    with fails_after(120):
        result = find_lr(
            trained_model(), ordered_dataset().repeat(), 1e-4, 1e-2, 6,
            batches_per_step=3, stop_factor=None,
        )
    assert result.stop_reason == "completed"
    assert result.learning_rates.size == 6 and result.batch_losses.size == 18


@pytest.fixture
def mixed_float16():
    """The mixed_float16 policy for one test; float32 again afterwards, whatever happens."""
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_find_lr_under_mixed_float16_sets_the_inner_rate_and_restores(mixed_float16):
    # Input: mixed_float16 (Keras wraps Adam in a LossScaleOptimizer), 8 rates from 1e-4 to
    # 1e-2, one batch each. Expected: the rate each batch starts from is the ramp's (read from
    # the inner optimizer), and the model and optimizer (loss scale included) come back bit for
    # bit.
    model = classifier(keras.optimizers.Adam(0.01))
    model.fit(ordered_dataset(), epochs=1, shuffle=False, verbose=0)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    before = state_of(model)
    recorder = StateRecorder()
    result = find_lr(model, ordered_dataset(), 1e-4, 1e-2, 8, stop_factor=None,
                     callbacks=[recorder])
    assert result.stop_reason == "completed"
    np.testing.assert_allclose(recorder.rates, learning_rate_ramp(1e-4, 1e-2, 8), rtol=1e-6)
    assert_bit_for_bit(before, state_of(model))


def test_find_lr_under_mixed_float16_names_the_inner_optimizer_of_a_schedule(mixed_float16):
    # Input: mixed_float16 and SGD(ExponentialDecay(...)). Expected: TypeError that names SGD,
    # the LossScaleOptimizer around it and the schedule (before: "this LossScaleOptimizer was
    # built with learning_rate=a callable" and "e.g. LossScaleOptimizer(learning_rate=1e-3)").
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    model = classifier(keras.optimizers.SGD(schedule))
    with pytest.raises(
        TypeError, match=r"this SGD \(inside the LossScaleOptimizer.*ExponentialDecay.*SGD\("
    ):
        find_lr(model, ordered_dataset(), 1e-4, 1.0, 5)


# --- round 2: find_lr's batch_size (found by tools/probes.py) ----------------------------------


@pytest.mark.parametrize("batch_size", [0, -4, 2.5, "16", True])
def test_find_lr_rejects_a_batch_size_that_is_not_a_positive_integer(batch_size):
    # Input: find_lr(model, (x, y), batch_size=<value>). Expected: ValueError naming batch_size
    # and the value, raised before any training (the weights stay as built). Failed before for
    # 0: Keras accepted batch_size=0 and the range test ran (a RangeTestResult came back).
    model = classifier(keras.optimizers.SGD(0.01))
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=f"batch_size must be an integer >= 1, got {batch_size!r}"):
        find_lr(model, features_and_labels(), 1e-4, 1.0, 5, batch_size=batch_size)
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_find_lr_accepts_a_numpy_integer_batch_size():
    # Input: batch_size=np.int64(16) with 5 steps. Expected: 5 recorded rates (an integer of
    # NumPy is an integer too; the check must not reject it).
    model = classifier(keras.optimizers.SGD(0.01))
    result = find_lr(model, features_and_labels(), 1e-4, 1.0, 5, batch_size=np.int64(16))
    assert len(result.learning_rates) == 5
