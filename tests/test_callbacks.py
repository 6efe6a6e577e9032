"""Tests of lrlab.callbacks: current_learning_rate and LearningRateLogger (Keras 3)."""

import keras
import numpy as np
import pytest

from lrlab.callbacks import LearningRateLogger, current_learning_rate

EXAMPLES = 40
BATCH_SIZE = 10
STEPS_PER_EPOCH = 4  # 40 examples / batch size 10
EPOCHS = 5


def fit(learning_rate, callbacks, epochs=EPOCHS, validation=False):
    """Train a linear 4 -> 3 classifier with SGD on fixed random data; return the History."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(0)
    features = rng.normal(size=(EXAMPLES, 4)).astype("float32")
    labels = rng.integers(0, 3, size=EXAMPLES)
    return model.fit(
        features,
        labels,
        batch_size=BATCH_SIZE,
        epochs=epochs,
        shuffle=False,
        validation_data=(features, labels) if validation else None,
        callbacks=callbacks,
        verbose=0,
    )


def test_current_learning_rate_of_a_float_rate():
    # Keras keeps the rate in a float32 variable: 0.01 reads back as float32(0.01).
    assert current_learning_rate(keras.optimizers.Adam(0.01)) == float(np.float32(0.01))


def test_current_learning_rate_of_a_schedule_is_its_value_at_the_optimizer_step():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5)
    optimizer = keras.optimizers.SGD(schedule)
    for step in (0, 7):
        optimizer.iterations.assign(step)
        # ExponentialDecay: initial_learning_rate * decay_rate ** (step / decay_steps)
        assert current_learning_rate(optimizer) == pytest.approx(0.1 * 0.5 ** (step / 3), rel=1e-6)


def test_float_rate_is_logged_every_epoch():
    history = fit(0.01, [LearningRateLogger()])
    assert history.history["lr"] == [float(np.float32(0.01))] * EPOCHS


def test_exponential_decay_is_logged_at_the_first_step_of_each_epoch():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5)
    history = fit(schedule, [LearningRateLogger()])
    # The rate of epoch e is schedule(e * steps_per_epoch) = 0.1 * 0.5 ** (4 e / 3).
    expected = [0.1 * 0.5 ** (epoch * STEPS_PER_EPOCH / 3) for epoch in range(EPOCHS)]
    np.testing.assert_allclose(history.history["lr"], expected, rtol=1e-6)


def halve_every_epoch(epoch):
    return 0.1 * 0.5**epoch


@pytest.mark.parametrize("logger_first", [True, False], ids=["logger-first", "scheduler-first"])
def test_learning_rate_scheduler_is_logged_whatever_the_callback_order(logger_first):
    logger = LearningRateLogger()
    scheduler = keras.callbacks.LearningRateScheduler(halve_every_epoch)
    history = fit(0.5, [logger, scheduler] if logger_first else [scheduler, logger])
    # The scheduler sets 0.1 * 0.5 ** epoch at the start of each epoch (not the initial 0.5).
    expected = [0.1 * 0.5**epoch for epoch in range(EPOCHS)]
    np.testing.assert_allclose(history.history["lr"], expected, rtol=1e-6)


def test_reduce_lr_on_plateau_is_logged_for_the_epoch_that_used_the_rate():
    # min_delta=1e9 makes every epoch after the first "no improvement"; with patience=1 the
    # rate is halved at the end of epochs 1, 2, 3, ...: epoch e uses 0.1 * 0.5 ** max(0, e - 1).
    plateau = keras.callbacks.ReduceLROnPlateau(
        monitor="val_loss", factor=0.5, patience=1, min_delta=1e9
    )
    history = fit(0.1, [plateau, LearningRateLogger()], validation=True)
    expected = [0.1 * 0.5 ** max(0, epoch - 1) for epoch in range(EPOCHS)]
    np.testing.assert_allclose(history.history["lr"], expected, rtol=1e-6)
    # Keras's own "learning_rate" entry, written before the reduction, agrees.
    np.testing.assert_allclose(history.history["learning_rate"], expected, rtol=1e-6)


def test_per_batch_rates_follow_the_schedule_step_by_step():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5)
    logger = LearningRateLogger(per_batch=True)
    history = fit(schedule, [logger])
    steps = np.arange(EPOCHS * STEPS_PER_EPOCH)
    np.testing.assert_allclose(logger.batch_learning_rates, 0.1 * 0.5 ** (steps / 3), rtol=1e-6)
    np.testing.assert_allclose(history.history["lr"], logger.batch_learning_rates[::4], rtol=0)


def test_per_batch_rates_of_a_scheduler_are_constant_within_an_epoch_and_reset_by_fit():
    logger = LearningRateLogger(per_batch=True)
    fit(0.5, [keras.callbacks.LearningRateScheduler(halve_every_epoch), logger], epochs=2)
    fit(0.5, [keras.callbacks.LearningRateScheduler(halve_every_epoch), logger], epochs=2)
    # Only the second fit is kept: 4 batches at 0.1, then 4 at 0.05.
    np.testing.assert_allclose(logger.batch_learning_rates, [0.1] * 4 + [0.05] * 4, rtol=1e-6)


def test_without_per_batch_no_batch_rates_are_kept():
    logger = LearningRateLogger()
    fit(0.01, [logger], epochs=1)
    assert logger.batch_learning_rates == []


# --- faults and mixed precision (issue 11) ----------------------------------------------------
# Before issue 11, OneCycleMomentum put a Variable in the optimizer's momentum at the start of
# training and put a float back only in on_train_end: an interrupted fit left the Variable there,
# the saved config held a tensor and load_model / fit then failed. Now the Variable is there only
# while a train step runs.

import tensorflow as tf  # noqa: E402
from backend_checks import check_finite  # noqa: E402

from lrlab.callbacks import OneCycleMomentum, unwrap_optimizer  # noqa: E402
from lrlab.schedules import OneCycle, StepDecay  # noqa: E402

CYCLE_STEPS = 20


class RaiseAt(keras.callbacks.Callback):
    """Raise ``error`` at the start (``when="begin"``) or end of batch ``batch``."""

    def __init__(self, batch, error, when="begin"):
        super().__init__()
        self.batch, self.error, self.when = batch, error, when

    def on_train_batch_begin(self, batch, logs=None):
        if self.when == "begin" and batch == self.batch:
            raise self.error

    def on_train_batch_end(self, batch, logs=None):
        if self.when == "end" and batch == self.batch:
            raise self.error


class FailOnNaN(keras.layers.Layer):
    """Identity that fails inside the train step when an input is not finite (each backend's
    way: ``backend_checks.check_finite``)."""

    def call(self, inputs):
        return check_finite(inputs, "inputs")


def one_cycle_model(optimizer_class=keras.optimizers.SGD, **options):
    schedule = OneCycle(0.1, CYCLE_STEPS)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), FailOnNaN(), keras.layers.Dense(1)])
    model.compile(optimizer_class(schedule, **options), "mse")
    return model, schedule


def cycle_data(nan_at=None):
    rng = np.random.default_rng(0)
    features = rng.normal(size=(CYCLE_STEPS, 3)).astype("float32")
    targets = features[:, :1].copy()
    if nan_at is not None:
        features[nan_at] = np.nan
    return features, targets


INTERRUPTIONS = {
    # Ctrl-C arrives as KeyboardInterrupt: here raised by a callback before batch 3.
    "keyboard_interrupt_before_batch_3": (lambda: RaiseAt(3, KeyboardInterrupt()), None),
    "runtime_error_after_batch_5": (lambda: RaiseAt(5, RuntimeError("stop"), "end"), None),
    # an error inside the train step itself (example 7 is NaN; batch size 1)
    "error_inside_the_train_step_at_batch_7": (lambda: None, 7),
}


@pytest.mark.parametrize("case", sorted(INTERRUPTIONS))
def test_interrupted_one_cycle_fit_leaves_a_model_that_saves_loads_and_trains(case, tmp_path):
    # Input: SGD(OneCycle(0.1, 20), momentum=0.9) with OneCycleMomentum; the fit is interrupted
    # as the case says. Expected: a plain float momentum in [0.85, 0.95] on the optimizer, and
    # save -> load_model -> fit succeeds (failed before: the Variable was left in place).
    make_interrupter, nan_at = INTERRUPTIONS[case]
    model, schedule = one_cycle_model(momentum=0.9)
    features, targets = cycle_data(nan_at)
    interrupter = make_interrupter()
    callbacks = [OneCycleMomentum(schedule)] + ([interrupter] if interrupter else [])
    with pytest.raises((KeyboardInterrupt, RuntimeError, tf.errors.InvalidArgumentError)):
        model.fit(features, targets, batch_size=1, verbose=0, shuffle=False, callbacks=callbacks)
    assert type(model.optimizer.momentum) is float
    assert 0.85 <= model.optimizer.momentum <= 0.95
    if nan_at is not None and keras.backend.backend() == "jax":
        # Keras's JAX step donates the state it is given (jit(train_step, donate_argnums=0) in
        # keras/src/backend/jax/trainer.py), so a step that fails leaves the model's variables
        # pointing at deleted arrays, with or without this callback (measured: a plain fit
        # does the same). The callback's part, the float above, still holds. If Keras stops
        # donating a failed step's state, this fails: then run the rest here too.
        with pytest.raises(RuntimeError, match="has been deleted"):
            model.get_weights()
        return
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", custom_objects={"FailOnNaN": FailOnNaN})
    assert loaded.optimizer.momentum == pytest.approx(model.optimizer.momentum)
    clean_features, clean_targets = cycle_data()
    history = loaded.fit(clean_features, clean_targets, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    # The interrupted model itself trains on, with the callback again, from where it stopped.
    model.fit(clean_features, clean_targets, batch_size=4, verbose=0,
              callbacks=[OneCycleMomentum(schedule)])
    assert type(model.optimizer.momentum) is float


def test_model_checkpoint_during_one_cycle_fit_saves_a_loadable_model(tmp_path):
    # Input: ModelCheckpoint saving at every epoch end while OneCycleMomentum runs (2 epochs of
    # 10 batches). Expected: the checkpoint loads and its momentum is the float of the last
    # step of epoch 1 (failed before: the checkpoint held the callback's Variable).
    model, schedule = one_cycle_model(momentum=0.9)
    features, targets = cycle_data()
    checkpoint = keras.callbacks.ModelCheckpoint(tmp_path / "epoch{epoch}.keras")
    model.fit(features[:10], targets[:10], batch_size=1, epochs=2, verbose=0, shuffle=False,
              callbacks=[OneCycleMomentum(schedule), checkpoint])
    loaded = keras.models.load_model(tmp_path / "epoch1.keras",
                                     custom_objects={"FailOnNaN": FailOnNaN})
    expected = float(np.float32(schedule.momentum(9)))  # step 9 was the last of epoch 1
    assert loaded.optimizer.momentum == pytest.approx(expected, rel=1e-6)
    loaded.fit(features, targets, verbose=0)


@pytest.fixture
def mixed_float16():
    """The mixed_float16 policy for one test (Keras then wraps optimizers in a
    LossScaleOptimizer); float32 again afterwards, whatever happens."""
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


class InnerMomentumRecorder(keras.callbacks.Callback):
    def __init__(self, attribute):
        super().__init__()
        self.attribute, self.values, self.steps = attribute, [], []

    def on_train_batch_begin(self, batch, logs=None):
        inner = unwrap_optimizer(self.model.optimizer)
        self.values.append(float(getattr(inner, self.attribute)))
        self.steps.append(int(inner.iterations.numpy()))


@pytest.mark.parametrize(
    ("optimizer_class", "attribute", "options"),
    [(keras.optimizers.SGD, "momentum", {"momentum": 0.9}), (keras.optimizers.Adam, "beta_1", {})],
    ids=["sgd", "adam"],
)
def test_one_cycle_momentum_under_mixed_float16(mixed_float16, optimizer_class, attribute, options):
    # Input: mixed_float16, OneCycle(0.1, 20) on SGD / Adam. Expected: the optimizer is a
    # LossScaleOptimizer and the inner optimizer's momentum / beta_1 at each batch is
    # schedule.momentum(step) at the optimizer's step (float32; failed before:
    # "LossScaleOptimizer has neither"). The step is read, not counted: the loss scale skips
    # the updates whose float16 gradients overflow, and the rate schedule skips with it.
    model, schedule = one_cycle_model(optimizer_class, **options)
    features, targets = cycle_data()
    recorder = InnerMomentumRecorder(attribute)
    model.fit(features, targets, batch_size=1, verbose=0, shuffle=False,
              callbacks=[OneCycleMomentum(schedule), recorder])
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    expected = keras.ops.convert_to_numpy(schedule.momentum(np.array(recorder.steps)))
    np.testing.assert_allclose(recorder.values, expected, rtol=1e-6)
    assert max(recorder.values) - min(recorder.values) > 0.05  # it really cycles
    assert type(getattr(model.optimizer.inner_optimizer, attribute)) is float


def test_learning_rate_logger_under_mixed_float16(mixed_float16):
    # Input: mixed_float16, SGD(StepDecay(0.1, 0.5, 4)), 5 epochs of 4 batches. Expected: the
    # rate of epoch e is 0.1 * 0.5 ** floor((1 + 4 e) / 4) = 0.1 * 0.5 ** e, the inner
    # optimizer's rate (StepDecay formula), even when the loss scale skips a step.
    history = fit(StepDecay(0.1, 0.5, 4), [LearningRateLogger()])
    expected = [0.1 * 0.5**epoch for epoch in range(EPOCHS)]
    np.testing.assert_allclose(history.history["lr"], expected, rtol=1e-6)


# --- round 2: argument types (found by tools/probes.py) ------------------------------------------


@pytest.mark.parametrize("per_batch", ["no", 1, None])
def test_learning_rate_logger_requires_a_bool_per_batch(per_batch):
    # Input: LearningRateLogger(per_batch=<not a bool>). Expected: TypeError naming per_batch and
    # the value. Failed before: bool('no') is True, so 'no' silently logged every batch.
    with pytest.raises(TypeError, match=f"per_batch must be True or False, got {per_batch!r}"):
        LearningRateLogger(per_batch=per_batch)


def test_learning_rate_logger_takes_a_numpy_bool():
    # Input: per_batch=np.bool_(True). Expected: accepted, stored as the Python bool True.
    assert LearningRateLogger(per_batch=np.bool_(True)).per_batch is True


@pytest.mark.parametrize("argument", ["base_momentum", "max_momentum"])
@pytest.mark.parametrize("value", [None, object()])
def test_one_cycle_momentum_names_a_momentum_that_is_not_a_number(argument, value):
    # Input: OneCycleMomentum(OneCycle(0.1, 10), <argument>=None or an object). Expected:
    # TypeError naming the argument, the value and what is allowed ([0, 1)). Failed before for
    # None: float()'s "float() argument must be a string or a real number, not 'NoneType'".
    with pytest.raises(TypeError, match=rf"{argument} must be a number in \[0, 1\).*got "):
        OneCycleMomentum(OneCycle(0.1, 10), **{argument: value})


def test_one_cycle_momentum_still_takes_numpy_numbers():
    # Input: base_momentum=np.float32(0.85), max_momentum=np.float64(0.95). Expected: accepted.
    callback = OneCycleMomentum(OneCycle(0.1, 10), np.float32(0.85), np.float64(0.95))
    assert callback.max_momentum == 0.95
