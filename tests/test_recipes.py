"""Tests of lrlab.recipes: the named schedules that the command line and lesson 08 share."""

import keras
import numpy as np
import pytest

from lrlab import _validate, recipes
from lrlab.callbacks import OneCycleMomentum

LEARNING_RATE = 1e-3


# --- the registry --------------------------------------------------------------------------


def rates_at(schedule, steps):
    return np.array([float(schedule(step)) for step in steps])


def test_registry_names_the_course_schedules():
    assert set(recipes.SCHEDULES) == {
        "constant",
        "exponential",
        "step",
        "cosine",
        "warmup_cosine",
        "triangular2",
        "one_cycle",
        "plateau",
        "wsd",
    }


def test_constant_keeps_the_rate():
    assert recipes.SCHEDULES["constant"](LEARNING_RATE, 22, 30) == (LEARNING_RATE, [])


def test_exponential_halves_every_ten_epochs_of_steps():
    schedule, callbacks = recipes.SCHEDULES["exponential"](LEARNING_RATE, 22, 30)
    assert isinstance(schedule, keras.optimizers.schedules.ExponentialDecay)
    assert callbacks == []
    steps = np.array([0, 11, 22, 220, 440, 659])
    # learning_rate * 0.5 ** (step / (10 epochs * 22 steps per epoch))
    expected = LEARNING_RATE * 0.5 ** (steps / 220)
    np.testing.assert_allclose(rates_at(schedule, steps), expected, rtol=1e-6)


def test_step_halves_at_epochs_10_20_30():
    rate, callbacks = recipes.SCHEDULES["step"](LEARNING_RATE, 22, 40)
    assert rate == LEARNING_RATE
    (scheduler,) = callbacks
    assert isinstance(scheduler, keras.callbacks.LearningRateScheduler)
    epochs = range(40)
    expected = [LEARNING_RATE * 0.5 ** (epoch // 10) for epoch in epochs]  # 1e-3 ... 1.25e-4
    assert [scheduler.schedule(epoch) for epoch in epochs] == pytest.approx(expected, rel=1e-12)
    assert scheduler.schedule(9) == LEARNING_RATE and scheduler.schedule(10) == LEARNING_RATE / 2


def test_cosine_decays_to_zero_over_the_run():
    schedule, _ = recipes.SCHEDULES["cosine"](LEARNING_RATE, 5, 4)
    steps = np.arange(21)
    # learning_rate * (1 + cos(pi * step / 20)) / 2 for 20 = 5 steps x 4 epochs
    expected = LEARNING_RATE * (1 + np.cos(np.pi * steps / 20)) / 2
    np.testing.assert_allclose(rates_at(schedule, steps), expected, rtol=1e-5, atol=1e-9)


def test_warmup_cosine_warms_up_over_a_tenth_of_the_run():
    schedule, _ = recipes.SCHEDULES["warmup_cosine"](LEARNING_RATE, 10, 5)
    steps = np.arange(51)
    # 50 steps: linear warm-up 0 -> 1e-3 over 5 steps, then cosine decay over 45 steps.
    expected = np.where(
        steps < 5,
        LEARNING_RATE * steps / 5,
        LEARNING_RATE * (1 + np.cos(np.pi * np.minimum(steps - 5, 45) / 45)) / 2,
    )
    np.testing.assert_allclose(rates_at(schedule, steps), expected, rtol=1e-5, atol=1e-9)


def test_triangular2_cycles_every_ten_epochs_with_halving_height():
    schedule, _ = recipes.SCHEDULES["triangular2"](LEARNING_RATE, 4, 30)
    steps = np.arange(120)
    # Smith (2017) triangular2 with step_size = 5 epochs x 4 steps = 20, between 1e-4 and 1e-3:
    # cycle = floor(1 + step / 40), x = |step / 20 - 2 cycle + 1|,
    # rate = 1e-4 + (1e-3 - 1e-4) * max(0, 1 - x) / 2 ** (cycle - 1)
    cycle = np.floor(1 + steps / 40)
    x = np.abs(steps / 20 - 2 * cycle + 1)
    expected = 1e-4 + 9e-4 * np.maximum(0, 1 - x) / 2 ** (cycle - 1)
    np.testing.assert_allclose(rates_at(schedule, steps), expected, rtol=1e-5)
    assert rates_at(schedule, [20, 60, 100]) == pytest.approx([1e-3, 5.5e-4, 3.25e-4], rel=1e-5)


def test_one_cycle_rises_over_30_percent_then_anneals():
    schedule, (momentum,) = recipes.SCHEDULES["one_cycle"](LEARNING_RATE, 10, 10)
    # PyTorch OneCycleLR defaults over 100 steps: 1e-3 / 25 at step 0, the peak 1e-3 at
    # step 0.3 * 100 - 1 = 29, and 1e-3 / 25 / 1e4 at the last step 99.
    assert rates_at(schedule, [0, 29, 99]) == pytest.approx([4e-5, 1e-3, 4e-9], rel=1e-5)
    assert isinstance(momentum, OneCycleMomentum) and momentum.schedule is schedule
    assert (momentum.base_momentum, momentum.max_momentum) == (0.85, 0.95)  # torch's defaults


def test_wsd_warms_up_holds_and_decays_over_the_last_fifth():
    schedule, _ = recipes.SCHEDULES["wsd"](LEARNING_RATE, 10, 10)
    steps = np.arange(101)
    # 100 steps: warm-up 0 -> 1e-3 over 10 steps, 1e-3 until step 80, linear to 0 at step 100.
    expected = np.select([steps < 10, steps <= 80], [1e-4 * steps, 1e-3], 1e-3 * (100 - steps) / 20)
    np.testing.assert_allclose(rates_at(schedule, steps), expected, rtol=1e-5, atol=1e-9)


def test_plateau_halves_on_a_validation_accuracy_plateau():
    rate, (reduce,) = recipes.SCHEDULES["plateau"](LEARNING_RATE, 22, 30)
    assert rate == LEARNING_RATE
    assert isinstance(reduce, keras.callbacks.ReduceLROnPlateau)
    assert (reduce.monitor, reduce.mode, reduce.factor, reduce.patience) == (
        "val_accuracy",
        "max",
        0.5,
        1,
    )


@pytest.mark.parametrize("name", sorted(recipes.SCHEDULES))
def test_learning_rate_flag_is_the_largest_rate_of_every_schedule(name):
    steps_per_epoch, epochs = 7, 12
    rate, callbacks = recipes.SCHEDULES[name](LEARNING_RATE, steps_per_epoch, epochs)
    if isinstance(rate, keras.optimizers.schedules.LearningRateSchedule):
        rates = rates_at(rate, range(steps_per_epoch * epochs))
    else:
        schedulers = [c for c in callbacks if isinstance(c, keras.callbacks.LearningRateScheduler)]
        by_epoch = [s.schedule(epoch) for s in schedulers for epoch in range(epochs)]
        rates = np.array(by_epoch or [rate])
    # one_cycle peaks at step 0.3 * 84 - 1 = 24.2, between two steps: its step 24 is 0.02% below.
    assert LEARNING_RATE * (1 - 1e-3) <= rates.max() <= LEARNING_RATE * (1 + 1e-6)


def test_min_total_steps_is_what_each_schedule_needs():
    """MIN_TOTAL_STEPS is true: every builder works from its minimum, and one step fewer fails
    (one_cycle: OneCycle's own check, 0.3 x 3 <= 1) or never trains (warmup_cosine: rate 0)."""
    for name, builder in recipes.SCHEDULES.items():
        needed = recipes.MIN_TOTAL_STEPS.get(name, 1)
        rate, _ = builder(LEARNING_RATE, 1, needed)
        rates = rates_at(rate, range(needed)) if callable(rate) else np.array([rate])
        assert rates.max() > 0, name
    with pytest.raises(ValueError, match="pct_start \\* total_steps must be > 1"):
        recipes.SCHEDULES["one_cycle"](LEARNING_RATE, 1, 3)
    schedule, _ = recipes.SCHEDULES["warmup_cosine"](LEARNING_RATE, 1, 1)
    assert float(schedule(0)) == 0.0
    with pytest.raises(ValueError, match="one_cycle needs epochs x steps per epoch >= 4"):
        recipes.check_total_steps("one_cycle", 1, 3)


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        (("linear", 1, 4), ValueError, "schedule_name must be one of 'constant', 'exponential'"),
        ((None, 1, 4), _validate.ArgumentTypeError, "schedule_name must be one of"),
        (
            ("constant", 1.5, 4),
            _validate.ArgumentTypeError,
            "steps_per_epoch must be a non-negative integer, got 1.5",
        ),
        (("constant", 1, -1), ValueError, "epochs must be a non-negative integer, got -1"),
        (("constant", 1, True), _validate.ArgumentTypeError, "epochs must be a non-negative"),
    ],
)
def test_check_total_steps_refuses_what_is_not_a_budget(arguments, error, message):
    with pytest.raises(error, match=message):
        recipes.check_total_steps(*arguments)


def test_check_total_steps_refuses_zero_steps_as_too_few():
    with pytest.raises(ValueError, match="constant needs epochs x steps per epoch >= 1, got 3 x 0"):
        recipes.check_total_steps("constant", 0, 3)
    assert recipes.check_total_steps("constant", 1, 1) is None
    assert recipes.check_total_steps("one_cycle", 2, 2) is None


def test_every_public_name_is_listed():
    assert set(recipes.__all__) == {
        *recipes.SCHEDULES,
        "SCHEDULES",
        "EPOCHS_PER_HALVING",
        "MIN_TOTAL_STEPS",
        "ScheduleBuilder",
        "check_total_steps",
    }
    assert all(recipes.SCHEDULES[name] is getattr(recipes, name) for name in recipes.SCHEDULES)
