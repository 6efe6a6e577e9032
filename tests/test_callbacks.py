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
