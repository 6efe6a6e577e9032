"""Tests of lrlab.branching: cool-downs branched from a checkpoint of one run.

Where the expected values come from: the formulas of the docstrings (WarmupStableDecay's,
written out here), the definition of StepBatches (numpy's seeded permutations), and the
defining property of branching: on one machine, a branch from step k of the trunk is bit
for bit the run that had the branch's schedule from step 0 (Keras's Adam reads only its
weights, its variables and the rate at ``iterations``).
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from lrlab import branching
from lrlab.branching import (
    Checkpoint,
    StepBatches,
    branching_cost,
    capture,
    cooldown_schedule,
    restore,
    train_steps,
    trunk_schedule,
)
from lrlab.schedules import WarmupStableDecay


def test_cooldown_schedule_values_against_the_formula():
    # warm-up 0 -> 1e-2 over 10 steps, peak until 40, then 20 steps of decay to 1e-4
    peak, final = np.float64(1e-2), np.float64(1e-4)
    steps = np.array([0, 5, 10, 39, 40, 45, 50, 55, 60, 80])
    for shape, law in (
        ("linear", lambda t: 1 - t),
        ("cosine", lambda t: (1 + math.cos(math.pi * t)) / 2),
        ("sqrt", lambda t: 1 - math.sqrt(t)),
    ):
        schedule = cooldown_schedule(peak, 10, 40, 20, shape, final_learning_rate=final)
        assert isinstance(schedule, WarmupStableDecay)
        expected = [
            peak * s / 10 if s < 10 else final + (peak - final) * law(min(max(s - 40, 0) / 20, 1))
            for s in steps
        ]
        np.testing.assert_allclose(np.asarray(schedule(steps)), expected, rtol=1e-12, atol=0)


def test_trunk_equals_every_branch_before_its_start():
    trunk = trunk_schedule(3e-3, 25, 500)
    steps = np.arange(0, 300)
    for start in (25, 100, 300):
        branch = cooldown_schedule(3e-3, 25, start, 60, "sqrt")
        before = steps[steps < start]
        np.testing.assert_array_equal(np.asarray(branch(before)), np.asarray(trunk(before)))
    assert float(trunk(525)) == pytest.approx(3e-3)  # constant to warmup + steps


@pytest.mark.parametrize(
    "arguments, error, match",
    [
        ((1e-3, 10, 5, 20), ValueError, "start_step must be an integer >= warmup_steps = 10"),
        ((1e-3, 10, 20, 0), ValueError, "cooldown_steps"),
        ((1e-3, 10, 20.0, 5), TypeError, "start_step"),
        ((1e-3, -1, 20, 5), ValueError, "warmup_steps"),
        ((0.0, 10, 20, 5), ValueError, "peak_learning_rate"),
    ],
)
def test_cooldown_schedule_refuses_bad_arguments(arguments, error, match):
    with pytest.raises(error, match=match):
        cooldown_schedule(*arguments)


def test_cooldown_schedule_refuses_an_unknown_shape():
    with pytest.raises(ValueError, match="shape must be one of 'linear', 'cosine', 'sqrt'"):
        cooldown_schedule(1e-3, 0, 10, 5, "exp")


def test_branching_cost_by_hand():
    # budgets 100, 200, 400 with 20 % cool-downs 20, 40, 80: trunk to 400 - 80 = 320
    assert branching_cost([100, 200, 400], 0.2) == (320 + 140, 700)
    # one budget: the same steps either way
    assert branching_cost([50], 0.1) == (50, 50)
    # a cool-down of at least one step: round(0.05 * 10) = 0 -> 1
    assert branching_cost([10, 10], 0.05) == (9 + 2, 20)
    with pytest.raises(ValueError, match="at least one budget"):
        branching_cost([], 0.2)
    with pytest.raises(ValueError, match="cooldown_fraction"):
        branching_cost([10], 0)
    with pytest.raises(TypeError, match=r"budgets\[1\]"):
        branching_cost([10, 2.5], 0.2)


def _batches(n=70, batch_size=8, seed=3):
    rng = np.random.default_rng(0)
    images = rng.normal(size=(n, 6)).astype("float32")
    labels = rng.integers(0, 3, size=n).astype("int32")
    return StepBatches(images, labels, batch_size, seed)


def test_step_batches_follow_the_seeded_orders():
    batches = _batches()
    assert batches.steps_per_epoch == 8  # 70 // 8, the last 6 of each epoch's order left out
    images, labels = batches.arrays(6, 11)  # steps 6, 7 of epoch 0, then 0, 1, 2 of epoch 1
    first = np.random.default_rng([3, 0]).permutation(70)
    second = np.random.default_rng([3, 1]).permutation(70)
    expected = np.concatenate([first[48:64], second[:24]])
    np.testing.assert_array_equal(labels, batches.labels[expected])
    np.testing.assert_array_equal(images, batches.images[expected])
    whole = batches.arrays(0, 16)[1]
    np.testing.assert_array_equal(whole[6 * 8:11 * 8], labels)  # a range is a slice of the run
    assert batches.arrays(5, 5)[0].shape == (0, 6)


def test_step_batches_from_a_dataset_do_not_depend_on_its_order():
    import tensorflow as tf

    base = _batches()
    shuffled = tf.data.Dataset.from_tensor_slices((base.images, base.labels))
    one = StepBatches.from_dataset(shuffled.shuffle(70, seed=1).batch(8), 8, 3)
    two = StepBatches.from_dataset(shuffled.shuffle(70, seed=2).batch(16), 8, 3)
    np.testing.assert_array_equal(one.images, two.images)
    np.testing.assert_array_equal(one.labels, two.labels)


@pytest.mark.parametrize(
    "arguments, error, match",
    [
        ((np.zeros((4, 2)), np.zeros(3)), ValueError, "same length"),
        ((np.zeros((4, 2)), np.zeros(4), 0), ValueError, "batch_size"),
        ((np.zeros((4, 2)), np.zeros(4), 5), ValueError, "batch_size"),
        ((np.zeros((4, 2)), np.zeros(4), 2, -1), ValueError, "seed"),
        ((np.zeros((4, 2)), np.zeros(4), 2.0), TypeError, "batch_size"),
    ],
)
def test_step_batches_refuse_bad_arguments(arguments, error, match):
    with pytest.raises(error, match=match):
        StepBatches(*arguments)


def _model(schedule, seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.Dense(3)])
    model.compile(keras.optimizers.Adam(schedule),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_a_branch_equals_a_run_with_its_schedule_from_the_start():
    batches = _batches()
    warmup, start, cooldown = 4, 13, 7  # the branch leaves mid-epoch and crosses an epoch end
    trunk = _model(trunk_schedule(1e-2, warmup, 40))
    train_steps(trunk, batches, start)
    checkpoint = capture(trunk)
    assert checkpoint.step == start
    train_steps(trunk, batches, start + 5)  # the trunk goes on past the branch point
    later = capture(trunk)

    branch_rate = cooldown_schedule(1e-2, warmup, start, cooldown, "sqrt")
    restore(trunk, checkpoint, branch_rate)
    train_steps(trunk, batches, start + cooldown)
    branched = capture(trunk)

    fresh = _model(cooldown_schedule(1e-2, warmup, start, cooldown, "sqrt"))
    train_steps(fresh, batches, start + cooldown)
    from_the_start = capture(fresh)
    assert branched.step == from_the_start.step == start + cooldown
    for got, expected in zip(branched.weights, from_the_start.weights, strict=True):
        np.testing.assert_array_equal(got, expected)
    for got, expected in zip(branched.optimizer_variables, from_the_start.optimizer_variables,
                             strict=True):
        np.testing.assert_array_equal(got, expected)
    # the trunk's state after start + 5 is not the branch's: the rates differed
    assert not np.array_equal(later.weights[0], branched.weights[0])


def test_restore_puts_back_the_captured_state():
    batches = _batches()
    model = _model(trunk_schedule(1e-2, 2, 40))
    train_steps(model, batches, 3)
    checkpoint = capture(model)
    train_steps(model, batches, 9)
    restore(model, checkpoint)
    again = capture(model)
    assert again.step == 3
    for got, expected in zip(again.weights, checkpoint.weights, strict=True):
        np.testing.assert_array_equal(got, expected)
    # a checkpoint holds copies: training after restoring leaves it unchanged
    train_steps(model, batches, 5)
    assert capture(model).step == 5 and checkpoint.step == 3
    assert not np.array_equal(model.get_weights()[0], checkpoint.weights[0])


def test_restore_and_train_steps_refuse_bad_arguments():
    batches = _batches()
    model = _model(trunk_schedule(1e-2, 2, 40))
    train_steps(model, batches, 4)
    with pytest.raises(ValueError, match="stop must be an integer >= the model's step 4"):
        train_steps(model, batches, 3)
    with pytest.raises(TypeError, match="batches must be StepBatches"):
        train_steps(model, [1, 2], 6)
    with pytest.raises(TypeError, match="checkpoint must be a Checkpoint"):
        restore(model, {"step": 0})
    with pytest.raises(TypeError, match="learning_rate must be a keras LearningRateSchedule"):
        restore(model, capture(model), 1e-3)
    with pytest.raises(TypeError, match="compiled keras.Model"):
        capture("model")
    constant = _model(1e-3)  # a float rate adds a learning_rate variable to the optimizer
    with pytest.raises(ValueError, match="the optimizer has"):
        restore(constant, capture(model))
    assert isinstance(capture(model), Checkpoint)
    assert set(branching.__all__) >= {"capture", "restore", "train_steps", "StepBatches"}
