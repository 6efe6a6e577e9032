"""Tests of lrlab.schedules and of lrlab.callbacks.OneCycleMomentum.

Where the expected values come from:
- lrlab/reference/tfa_cyclical.json (package data, read by lrlab.reference.load_reference):
  tensorflow-addons 0.23.0 on TF 2.15.1, written by tools/reference_tfa.py (see
  lrlab/reference/README.md);
- lrlab/reference/torch_schedulers.json: torch 2.13.0, written by tools/reference_torch.py;
- tf.compat.v1.train.linear_cosine_decay / noisy_linear_cosine_decay, called live;
- the formulas of the docstrings, with the numbers written out in each test.
Reference comparisons pass np.float64 arguments and allow a relative error of 1e-12 in
float64 (well inside the 1e-6 the course promises); float32 comparisons allow 1e-6.
"""

from __future__ import annotations

import json
import math
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from lrlab.callbacks import LearningRateLogger, OneCycleMomentum
from lrlab.reference import load_reference
from lrlab.schedules import (
    ChainedSchedule,
    CyclicalLearningRate,
    ExponentialCyclicalLearningRate,
    InverseSqrtDecay,
    LinearCosineDecay,
    LinearRamp,
    NoisyLinearCosineDecay,
    OneCycle,
    RampSustainDecay,
    StepDecay,
    Triangular2CyclicalLearningRate,
    TriangularCyclicalLearningRate,
    WarmupStableDecay,
    ramp_sustain_decay,
)
from lrlab.torch_equivalents import TABLE, markdown_table, schedule_of_case, torch_equivalent

TFA = load_reference("tfa_cyclical")
TORCH = load_reference("torch_schedulers")
TORCH_CASES = {case["name"]: case for case in TORCH["cases"]}
F64 = np.float64
KERAS = keras.optimizers.schedules
BACKEND = keras.backend.backend()
ON_TENSORFLOW = BACKEND == "tensorflow"

# Tolerances on the other backends (the ones above are TensorFlow's, where the float32
# references were made):
# - float32 against a reference TensorFlow computed in float32 (tensorflow-addons,
#   tf.compat.v1): JAX's and PyTorch's kernels round the same formula's intermediates
#   differently, and the cyclical formulas subtract numbers of the size of step / step_size
#   (|step / step_size - 2 cycle + 1|), so one rounding there moves a rate near the bottom of
#   a cycle by a few 1e-6 of itself (measured at most 2.4e-6 on JAX): 1e-5, still 100 times
#   tighter than a one-step offset or a wrong formula (above 1e-3 on these cases);
# - Keras's own schedules (ExponentialDecay, CosineDecay, ...) compute in float32 on JAX and
#   PyTorch even from float64 arguments (Keras's type promotion maps float64 to float32 there;
#   lrlab's schedules avoid it, lrlab/_ops.py): against a float64 reference they get the
#   float32 tolerance, 1e-5 (measured at most 6.5e-6).
FLOAT32_RTOL = 1e-6 if ON_TENSORFLOW else 1e-5
KERAS_FLOAT64_RTOL = 1e-12 if ON_TENSORFLOW else 1e-5


def tensor(value, dtype=None):
    """A scalar tensor of the backend under test (what Keras passes a schedule)."""
    return keras.ops.convert_to_tensor(value, dtype=dtype)


def uses_keras_schedules(schedule) -> bool:
    """Whether ``schedule`` is, or chains, one of Keras's own schedules."""
    if isinstance(schedule, ChainedSchedule):
        return any(uses_keras_schedules(part) for part in schedule.schedules)
    return not type(schedule).__module__.startswith("lrlab")


# The custom scale functions of tools/reference_tfa.py, registered so that they serialize.
@keras.saving.register_keras_serializable(package="lrlab_tests")
def harmonic_per_cycle(cycle):
    return 1.0 / cycle


@keras.saving.register_keras_serializable(package="lrlab_tests")
def slow_decay_per_iteration(step):
    return 1.0 / (1.0 + step / 50.0)


@keras.saving.register_keras_serializable(package="lrlab_tests")
def constant(mode_step):
    return 1.0


SCALE_FUNCTIONS = {f.__name__: f for f in (harmonic_per_cycle, slow_decay_per_iteration, constant)}


def curve(schedule, steps):
    """The schedule at steps 0 .. steps-1, one vectorised call, as float64.

    Keras's own schedules cannot take an array of steps on PyTorch (their in-place update of
    a scalar fails: "output with shape [] doesn't match the broadcast shape"), so there they
    are called step by step.
    """
    if BACKEND == "torch" and uses_keras_schedules(schedule):
        return stepwise(schedule, steps)
    return np.asarray(keras.ops.convert_to_numpy(schedule(np.arange(steps))), dtype=np.float64)


def numpy_of(tensor):
    """A tensor of any backend (or a keras.Variable) as a NumPy array."""
    return np.asarray(keras.ops.convert_to_numpy(tensor))


def stepwise(schedule, steps):
    return np.array([float(keras.ops.convert_to_numpy(schedule(step))) for step in range(steps)])


def assert_relative(got, expected, rtol):
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    assert got.shape == expected.shape
    error = np.abs(got - expected) / np.where(expected == 0, 1.0, np.abs(expected))
    assert np.max(error) <= rtol, f"max relative error {np.max(error):.3g} at {np.argmax(error)}"


# One of each schedule, with small settings (Python floats: float32 like Keras).
SCHEDULES = {
    "cyclical_custom": lambda: CyclicalLearningRate(1e-3, 1e-2, 5, scale_fn=harmonic_per_cycle),
    "triangular": lambda: TriangularCyclicalLearningRate(1e-3, 1e-2, 5),
    "triangular2": lambda: Triangular2CyclicalLearningRate(1e-3, 1e-2, 5),
    "exponential_cyclical": lambda: ExponentialCyclicalLearningRate(1e-3, 1e-2, 5, gamma=0.9),
    "linear_cosine": lambda: LinearCosineDecay(0.1, 40, num_periods=2, alpha=0.1),
    "noisy_linear_cosine": lambda: NoisyLinearCosineDecay(0.1, 40, initial_variance=0.01, seed=3),
    "step_decay": lambda: StepDecay(0.1, 0.5, 7),
    "ramp_sustain_decay": lambda: RampSustainDecay(
        ramp_steps=6, sustain_steps=4, decay_every_steps=5
    ),
    "one_cycle": lambda: OneCycle(0.1, 40),
    "one_cycle_linear_three_phase": lambda: OneCycle(
        0.1, 40, anneal_strategy="linear", three_phase=True
    ),
    "warmup_stable_decay_cosine": lambda: WarmupStableDecay(0.1, 5, 10, 20, decay_shape="cosine"),
    "linear_ramp": lambda: LinearRamp(0.0, 0.1, 10),
    "inverse_sqrt": lambda: InverseSqrtDecay(0.1, 8, initial_learning_rate=0.01),
    "chained": lambda: ChainedSchedule(
        [LinearRamp(1e-3, 0.1, 5), KERAS.CosineDecay(0.1, 20), OneCycle(0.05, 30)], [5, 25]
    ),
}


# --- tensorflow-addons --------------------------------------------------------------------


def test_tfa_reference_records_its_versions_and_tfa_bug():
    assert (TFA["tensorflow"], TFA["tensorflow_addons"]) == ("2.15.1", "0.23.0")
    # TFA's exponential schedule cannot take the integer step that model.fit passes.
    tour = next(case for case in TFA["cases"] if case["name"] == "tour_exponential")
    assert tour["integer_step_error"].startswith("TypeError")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", TFA["cases"], ids=lambda case: case["name"])
def test_cyclical_family_equals_tensorflow_addons(case, dtype):
    arguments = dict(case["arguments"])
    for key in ("initial_learning_rate", "maximal_learning_rate", "gamma"):
        if key in arguments:
            arguments[key] = F64(arguments[key]) if dtype == "float64" else float(arguments[key])
    if "scale_fn" in arguments:
        arguments["scale_fn"] = SCALE_FUNCTIONS[arguments["scale_fn"]]
    schedule = {
        "CyclicalLearningRate": CyclicalLearningRate,
        "TriangularCyclicalLearningRate": TriangularCyclicalLearningRate,
        "Triangular2CyclicalLearningRate": Triangular2CyclicalLearningRate,
        "ExponentialCyclicalLearningRate": ExponentialCyclicalLearningRate,
    }[case["class"]](**arguments)
    steps = len(case["steps"])
    assert keras.backend.standardize_dtype(schedule(0).dtype) == dtype
    rtol = 1e-12 if dtype == "float64" else FLOAT32_RTOL
    assert_relative(stepwise(schedule, steps), case[dtype], rtol)
    assert_relative(curve(schedule, steps), case[dtype], rtol)


# --- PyTorch --------------------------------------------------------------------------------


def test_torch_reference_records_its_version():
    assert TORCH["torch"].startswith("2.13.0")


@pytest.mark.parametrize("case", TORCH["cases"], ids=lambda case: case["name"])
def test_schedules_equal_pytorch(case):
    schedule = schedule_of_case(case)
    expected = case["learning_rates"]
    rtol = KERAS_FLOAT64_RTOL if uses_keras_schedules(schedule) else 1e-12
    assert_relative(curve(schedule, len(expected)), expected, rtol)
    if "momenta" in case:
        base = F64(case["arguments"].get("base_momentum", 0.85))
        top = F64(case["arguments"].get("max_momentum", 0.95))
        momenta = keras.ops.convert_to_numpy(schedule.momentum(np.arange(len(expected)), base, top))
        assert_relative(momenta, case["momenta"], 1e-12)


@pytest.mark.parametrize("name", ["lambda_lr_power", "multiplicative_lr_constant"])
def test_torch_lambda_schedulers_of_0_95_are_exponential_decay(name):
    # LambdaLR with 0.95 ** epoch and MultiplicativeLR with a constant 0.95 both give
    # 0.1 * 0.95 ** k, which is ExponentialDecay(0.1, decay_steps=1, decay_rate=0.95).
    case = TORCH_CASES[name]
    assert case["optimizer_learning_rate"] == 0.1
    expected = case["learning_rates"]
    schedule = KERAS.ExponentialDecay(F64(0.1), 1, F64(0.95))
    assert_relative(curve(schedule, len(expected)), expected, KERAS_FLOAT64_RTOL)


def test_one_cycle_holds_its_final_rate_after_total_steps():
    # torch raises past total_steps; OneCycle stays at max / div_factor / final_div_factor.
    schedule = OneCycle(F64(0.1), 100)
    assert_relative(curve(schedule, 130)[99:], np.full(31, 0.1 / 25 / 1e4), 1e-12)


# --- linear-cosine decay against tf.compat.v1 -------------------------------------------------


def assert_same_float32(got, reference, initial_rate=0.1):
    """Bit for bit on TensorFlow (the same float32 operations as tf.compat.v1); on JAX and
    PyTorch, whose cos kernels round differently, within FLOAT32_RTOL or 1e-6 of the initial
    rate: near a zero of the cosine the rate is tiny (beta times the initial rate), and one
    float32 rounding of the cosine's argument (up to 2 pi num_periods = 25, spacing 1.9e-6)
    moves it by up to half the initial rate times that, about 1e-6 of it."""
    if ON_TENSORFLOW:
        np.testing.assert_array_equal(got, reference)
    else:
        np.testing.assert_allclose(got, reference, rtol=FLOAT32_RTOL, atol=1e-6 * initial_rate)


LINEAR_COSINE_SETTINGS = [
    {"num_periods": 0.5},
    {"num_periods": 2, "alpha": 0.1, "beta": 0.01},
    {"num_periods": 4, "alpha": 1e-5, "beta": 1e-8},
]


@pytest.mark.parametrize("setting", LINEAR_COSINE_SETTINGS, ids=str)
def test_linear_cosine_decay_is_tf_compat_v1_exactly(setting):
    steps = 130  # past decay_steps = 100, where the rate stays constant
    schedule = LinearCosineDecay(0.1, 100, **setting)
    reference = tf.compat.v1.train.linear_cosine_decay
    vectorised_reference = reference(0.1, tf.range(steps), 100, **setting)().numpy()
    stepwise_reference = [reference(0.1, step, 100, **setting)().numpy() for step in range(steps)]
    assert_same_float32(numpy_of(schedule(np.arange(steps))), vectorised_reference)
    assert_same_float32(stepwise(schedule, steps), np.array(stepwise_reference))


@pytest.mark.parametrize("setting", LINEAR_COSINE_SETTINGS, ids=str)
def test_noisy_linear_cosine_decay_without_noise_is_tf_compat_v1_exactly(setting):
    schedule = NoisyLinearCosineDecay(0.1, 100, initial_variance=0.0, seed=1, **setting)
    reference = tf.compat.v1.train.noisy_linear_cosine_decay(
        0.1, tf.range(130), 100, initial_variance=0.0, **setting
    )().numpy()
    assert_same_float32(numpy_of(schedule(np.arange(130))), reference)


def standardised_noise(rates, steps, decay_steps, initial_variance, variance_decay):
    """eps_t / std_t recovered from rates of the noisy formula (initial rate 0.1, alpha 0,
    beta 0.001, half a period): eps_t = (rate / 0.1 - beta) / cosine_t - linear_t."""
    clipped = np.minimum(steps, decay_steps).astype(np.float64)
    linear = (decay_steps - clipped) / decay_steps
    cosine = 0.5 * (1 + np.cos(np.pi * clipped / decay_steps))
    noise = (np.asarray(rates, np.float64) / 0.1 - 0.001) / cosine - linear
    return noise / np.sqrt(initial_variance / (1 + clipped) ** variance_decay)


@pytest.mark.parametrize("source", ["lrlab", "tf.compat.v1"])
def test_noise_has_tf_noise_law(source):
    # Var eps_t = initial_variance / (1 + t) ** variance_decay (defaults 1.0 and 0.55), so the
    # standardised noise of 5000 steps is N(0, 1): bounds are 4 standard errors.
    steps = np.arange(5000)
    if source == "lrlab":
        rates = numpy_of(NoisyLinearCosineDecay(F64(0.1), 10_000, seed=7)(steps))
    else:
        tf.random.set_seed(1234)
        rates = tf.compat.v1.train.noisy_linear_cosine_decay(0.1, tf.range(5000), 10_000)()
    z = standardised_noise(rates, steps, 10_000, 1.0, 0.55)
    assert abs(z.mean()) < 4 / math.sqrt(5000)
    assert abs(z.std() - 1) < 4 / math.sqrt(2 * 5000)
    outside = np.mean(np.abs(z) > 1.959964)  # 5 % for a normal law
    assert abs(outside - 0.05) < 4 * math.sqrt(0.05 * 0.95 / 5000)
    assert abs(np.corrcoef(z[:-1], z[1:])[0, 1]) < 4 / math.sqrt(5000)


def test_noise_is_reproducible_from_the_seed():
    first = curve(NoisyLinearCosineDecay(0.1, 50, seed=11), 50)
    np.testing.assert_array_equal(first, curve(NoisyLinearCosineDecay(0.1, 50, seed=11), 50))
    assert not np.allclose(first, curve(NoisyLinearCosineDecay(0.1, 50, seed=12), 50))
    # Without a seed one is drawn from NumPy's global generator and kept in the config.
    np.random.seed(5)
    drawn = NoisyLinearCosineDecay(0.1, 50)
    np.random.seed(5)
    assert NoisyLinearCosineDecay(0.1, 50).seed == drawn.seed == drawn.get_config()["seed"]


# --- the course's formulas ------------------------------------------------------------------


def test_step_decay_values():
    # eta_n = 0.1 * 0.5 ** floor((1 + n) / 10): first drop at n = 9, then every 10 steps.
    schedule = StepDecay(F64(0.1), F64(0.5), 10)
    steps = [0, 8, 9, 18, 19, 29]
    expected = [0.1, 0.1, 0.05, 0.05, 0.025, 0.0125]
    assert_relative(numpy_of(schedule(np.array(steps))), expected, 1e-12)


def test_ramp_sustain_decay_epoch_values():
    # Defaults: 1e-5 -> 1e-2 over 2 epochs, 1 epoch at 1e-2, then (1e-2 - 1e-5) * 0.75 ** drops
    # + 1e-5 with one drop every 2 epochs (drops = floor((epoch - 3) / 2)).
    expected = [
        1e-5,
        (1e-2 - 1e-5) / 2 * 1 + 1e-5,  # 0.005005
        1e-2,
        1e-2,
        1e-2,
        (1e-2 - 1e-5) * 0.75 + 1e-5,  # 0.0075025
        (1e-2 - 1e-5) * 0.75 + 1e-5,
        (1e-2 - 1e-5) * 0.75**2 + 1e-5,  # 0.005629375
        (1e-2 - 1e-5) * 0.75**2 + 1e-5,
    ]
    assert_relative([ramp_sustain_decay(epoch) for epoch in range(9)], expected, 1e-12)


def kaggle_lrfn(epoch):
    """The popular Kaggle TPU ``lrfn`` (e.g. "Getting started with 100+ flowers on TPU")."""
    start, maximum, minimum, ramp, sustain, decay = 1e-5, 4e-4, 1e-5, 5, 0, 0.8
    if epoch < ramp:
        return (maximum - start) / ramp * epoch + start
    if epoch < ramp + sustain:
        return maximum
    return (maximum - minimum) * decay ** (epoch - ramp - sustain) + minimum


def test_ramp_sustain_decay_with_one_epoch_per_drop_is_the_kaggle_function():
    settings = dict(
        start_learning_rate=1e-5,
        max_learning_rate=4e-4,
        min_learning_rate=1e-5,
        ramp_epochs=5,
        sustain_epochs=0,
        decay_rate=0.8,
        decay_every_epochs=1,
    )
    got = [ramp_sustain_decay(epoch, **settings) for epoch in range(25)]
    assert_relative(got, [kaggle_lrfn(epoch) for epoch in range(25)], 1e-12)


def test_ramp_sustain_decay_schedule_equals_the_epoch_function_at_epoch_boundaries():
    steps_per_epoch = 7
    schedule = RampSustainDecay(
        F64(1e-5),
        F64(1e-2),
        ramp_steps=2 * steps_per_epoch,
        sustain_steps=1 * steps_per_epoch,
        decay_every_steps=2 * steps_per_epoch,
        min_learning_rate=F64(1e-5),
    )
    at_boundaries = curve(schedule, 12 * steps_per_epoch)[::steps_per_epoch]
    assert_relative(at_boundaries, [ramp_sustain_decay(epoch) for epoch in range(12)], 1e-12)


def test_ramp_sustain_decay_drives_learning_rate_scheduler():
    # Keras calls schedule(epoch, rate) first; the keyword-only settings make it fall back
    # to schedule(epoch).
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.5), "mse")
    history = model.fit(
        np.ones((4, 3)),
        np.ones((4, 1)),
        epochs=4,
        verbose=0,
        callbacks=[keras.callbacks.LearningRateScheduler(ramp_sustain_decay)],
    )
    expected = [ramp_sustain_decay(epoch) for epoch in range(4)]
    assert_relative(history.history["learning_rate"], expected, 1e-6)  # float32 variable


@pytest.mark.parametrize(
    ("decay_shape", "shape_at_t_0_2"),
    [("linear", 1 - 0.2), ("cosine", 0.5 * (1 + math.cos(math.pi * 0.2))), ("sqrt", 1 - 0.2**0.5)],
)
def test_warmup_stable_decay_values(decay_shape, shape_at_t_0_2):
    # Warm-up 0 -> 0.1 over 10 steps, 20 steps at 0.1, decay to 0.001 over 10 steps (t = 0.2
    # at step 32), then 0.001.
    schedule = WarmupStableDecay(
        F64(0.1),
        10,
        20,
        10,
        initial_learning_rate=F64(0.0),
        final_learning_rate=F64(0.001),
        decay_shape=decay_shape,
    )
    steps = [0, 5, 10, 29, 30, 32, 40, 100]
    expected = [0.0, 0.05, 0.1, 0.1, 0.1, 0.001 + 0.099 * shape_at_t_0_2, 0.001, 0.001]
    assert_relative(numpy_of(schedule(np.array(steps))), expected, 1e-12)


def test_inverse_sqrt_decay_values():
    # The docstring's formula with peak 0.01, 10 warm-up steps from 0.001: step 5 is half-way,
    # 0.001 + 0.009 / 2; from step 10 on, 0.01 * sqrt(10 / step): 0.005 at 40, 0.001 at 1000.
    schedule = InverseSqrtDecay(F64(0.01), 10, initial_learning_rate=F64(0.001))
    steps = [0, 5, 10, 40, 1000]
    assert_relative(numpy_of(schedule(np.array(steps))), [0.001, 0.0055, 0.01, 0.005, 0.001], 1e-12)


def test_inverse_sqrt_decay_is_the_transformer_schedule():
    # Vaswani et al. 2017, eq. 3: d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5),
    # d_model 512 and 4000 warm-up steps (the paper's base model), written out at each step.
    d_model, warmup = 512, 4000
    schedule = InverseSqrtDecay(F64((d_model * warmup) ** -0.5), warmup)
    steps = [1, 100, 3999, 4000, 4001, 100_000]
    paper = [d_model**-0.5 * min(step**-0.5, step * warmup**-1.5) for step in steps]
    assert_relative(numpy_of(schedule(np.array(steps))), paper, 1e-12)


def test_linear_ramp_values():
    schedule = LinearRamp(F64(0.0), F64(0.1), 10)
    assert_relative(numpy_of(schedule(np.array([0, 5, 10, 20]))), [0.0, 0.05, 0.1, 0.1], 1e-12)


def test_chained_schedule_counts_steps_from_each_boundary():
    # StepDecay(0.1, 0.5, 5) from step 10: its step 0 is step 10, its first drop (n = 4) is
    # step 14.
    schedule = ChainedSchedule(
        [LinearRamp(F64(0.0), F64(0.1), 10), StepDecay(F64(0.1), 0.5, 5)], [10]
    )
    steps = [0, 5, 9, 10, 13, 14, 19]
    expected = [0.0, 0.05, 0.09, 0.1, 0.1, 0.05, 0.025]
    assert_relative(numpy_of(schedule(np.array(steps))), expected, 1e-12)


# --- every schedule: vectorised, config, fit, save and load -----------------------------------


@pytest.mark.parametrize("name", SCHEDULES)
def test_vectorised_call_equals_step_by_step(name):
    schedule = SCHEDULES[name]()
    # float32: TF's element-wise kernels (cos, pow) on arrays may differ from the scalar ones
    # in the last bits, so allow 1e-6 of each value plus 1e-6 of the curve's peak.
    one_by_one = stepwise(schedule, 60)
    np.testing.assert_allclose(
        curve(schedule, 60), one_by_one, rtol=1e-6, atol=1e-6 * np.max(one_by_one)
    )


@pytest.mark.parametrize("name", SCHEDULES)
def test_config_round_trip_gives_the_same_curve(name):
    schedule = SCHEDULES[name]()
    config = schedule.get_config()
    json.dumps(keras.saving.serialize_keras_object(schedule))  # plain JSON
    rebuilt = type(schedule).from_config(config)
    np.testing.assert_array_equal(curve(rebuilt, 80), curve(schedule, 80))


def fit_learning_rates(schedule, jit_compile=False, steps=4):
    """Train a tiny Dense model for ``steps`` batches; return it and the rate of each batch."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(schedule), "mse", jit_compile=jit_compile)
    logger = LearningRateLogger(per_batch=True)
    rng = np.random.default_rng(0)
    features = rng.normal(size=(2 * steps, 3)).astype("float32")
    model.fit(features, features[:, :1], batch_size=2, verbose=0, shuffle=False, callbacks=[logger])
    return model, np.array(logger.batch_learning_rates)


@pytest.mark.parametrize("name", SCHEDULES)
def test_fit_then_save_and_load_keeps_the_schedule(name, tmp_path):
    schedule = SCHEDULES[name]()
    model, rates = fit_learning_rates(schedule)
    assert_relative(rates, curve(schedule, 4), 1e-6)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.optimizer.get_config()["learning_rate"]["class_name"] == type(schedule).__name__
    assert int(numpy_of(loaded.optimizer.iterations)) == 4
    for step in (0, 3, 7, 12, 27, 45):
        loaded.optimizer.iterations.assign(step)
        assert float(loaded.optimizer.learning_rate) == float(schedule(step))


@pytest.mark.parametrize(
    "make",
    [
        # the tour's exponential schedule: TFA's own fails in fit (integer step ** gamma)
        lambda: ExponentialCyclicalLearningRate(1e-3, 1e-2, step_size=5, gamma=0.8),
        lambda: NoisyLinearCosineDecay(0.1, 40, initial_variance=0.01, seed=3),
        lambda: ChainedSchedule(
            [WarmupStableDecay(0.1, 2, 2, 4, decay_shape="sqrt"), OneCycle(0.1, 10)], [6]
        ),
    ],
    ids=["exponential_cyclical", "noisy_linear_cosine", "chained_wsd_one_cycle"],
)
def test_fit_under_jit_compile(make, without_op_determinism):
    schedule = make()
    model, rates = fit_learning_rates(schedule, jit_compile=True, steps=8)
    assert model.jit_compile is True, "Keras fell back to jit_compile=False: XLA was not tested"
    assert_relative(rates, curve(schedule, 8), 1e-6)


@pytest.fixture
def without_op_determinism():
    """Keras silently turns jit_compile off while TF op determinism is on (lrlab.notebook.setup
    turns it on, and a test earlier in the session may have called it)."""
    from tensorflow.python.framework import config

    was_enabled = config.is_op_determinism_enabled()
    config.disable_op_determinism()
    yield
    if was_enabled:
        config.enable_op_determinism()


# --- bad arguments ------------------------------------------------------------------------

INVALID = [
    (lambda: TriangularCyclicalLearningRate(-1e-3, 1e-2, 5), "initial_learning_rate"),
    (lambda: TriangularCyclicalLearningRate(1e-2, 1e-3, 5), "maximal_learning_rate"),
    (lambda: Triangular2CyclicalLearningRate(1e-3, 1e-2, 0), "step_size"),
    (lambda: TriangularCyclicalLearningRate(1e-3, 1e-2, 5, scale_mode="epoch"), "scale_mode"),
    (lambda: ExponentialCyclicalLearningRate(1e-3, 1e-2, 5, gamma=1.5), "gamma"),
    (lambda: LinearCosineDecay(0.1, 0), "decay_steps"),
    (lambda: LinearCosineDecay(0.1, 10, num_periods=-1), "num_periods"),
    (lambda: LinearCosineDecay(0.1, 10, alpha=-0.1), "alpha"),
    (lambda: LinearCosineDecay(0.1, 10, beta=-0.1), "beta"),
    (lambda: NoisyLinearCosineDecay(0.1, 10, initial_variance=-1), "initial_variance"),
    (lambda: NoisyLinearCosineDecay(0.1, 10, variance_decay=-1), "variance_decay"),
    (lambda: NoisyLinearCosineDecay(0.1, 10, seed=-1), "seed"),
    (lambda: NoisyLinearCosineDecay(0.1, 10, seed=2**32), "seed"),
    (lambda: StepDecay(0.0, 0.5, 10), "initial_learning_rate"),
    (lambda: StepDecay(0.1, 1.5, 10), "decay_rate"),
    (lambda: StepDecay(0.1, 0.5, -2), "decay_steps"),
    (lambda: RampSustainDecay(ramp_steps=-1, sustain_steps=0, decay_every_steps=1), "ramp_steps"),
    (
        lambda: RampSustainDecay(ramp_steps=1, sustain_steps=-1, decay_every_steps=1),
        "sustain_steps",
    ),
    (
        lambda: RampSustainDecay(ramp_steps=1, sustain_steps=1, decay_every_steps=0),
        "decay_every_steps",
    ),
    (
        lambda: RampSustainDecay(1e-2, 1e-3, ramp_steps=1, sustain_steps=1, decay_every_steps=1),
        "max_learning_rate",
    ),
    (
        lambda: RampSustainDecay(
            ramp_steps=1, sustain_steps=1, decay_every_steps=1, min_learning_rate=0.1
        ),
        "min_learning_rate",
    ),
    (lambda: ramp_sustain_decay(3, ramp_epochs=-2), "ramp_epochs"),
    (lambda: ramp_sustain_decay(3, decay_rate=0), "decay_rate"),
    (lambda: ramp_sustain_decay(-1), "epoch"),
    (lambda: OneCycle(0.0, 100), "max_learning_rate"),
    (lambda: OneCycle(0.1, 1), "total_steps"),
    (lambda: OneCycle(0.1, 100, pct_start=1.0), "pct_start"),
    (lambda: OneCycle(0.1, 100, pct_start=0.6, three_phase=True), "pct_start"),
    (lambda: OneCycle(0.1, 3, pct_start=0.3), "pct_start"),  # 0.9 steps of rise
    (lambda: OneCycle(0.1, 100, div_factor=0), "div_factor"),
    (lambda: OneCycle(0.1, 100, final_div_factor=-1), "final_div_factor"),
    (lambda: OneCycle(0.1, 100, anneal_strategy="cosine"), "anneal_strategy"),
    (lambda: WarmupStableDecay(0.0, 1, 1, 1), "peak_learning_rate"),
    (lambda: WarmupStableDecay(0.1, -1, 1, 1), "warmup_steps"),
    (lambda: WarmupStableDecay(0.1, 1, -1, 1), "stable_steps"),
    (lambda: WarmupStableDecay(0.1, 1, 1, 0), "decay_steps"),
    (lambda: WarmupStableDecay(0.1, 1, 1, 1, final_learning_rate=-1), "final_learning_rate"),
    (lambda: WarmupStableDecay(0.1, 1, 1, 1, decay_shape="exponential"), "decay_shape"),
    (lambda: InverseSqrtDecay(0.0, 10), "peak_learning_rate"),
    (lambda: InverseSqrtDecay(0.1, 0), "warmup_steps"),
    (lambda: InverseSqrtDecay(0.1, 10, initial_learning_rate=0.2), "initial_learning_rate"),
    (lambda: LinearRamp(-0.1, 0.1, 10), "initial_learning_rate"),
    (lambda: LinearRamp(0.0, 0.1, 0), "ramp_steps"),
    (lambda: ChainedSchedule([LinearRamp(0.0, 0.1, 5)], [5]), "boundaries"),
    (lambda: ChainedSchedule([LinearRamp(0.0, 0.1, 5)] * 3, [5, 5]), "boundaries[1]"),
    (lambda: ChainedSchedule([LinearRamp(0.0, 0.1, 5)] * 2, [0]), "boundaries[0]"),
    (lambda: ChainedSchedule([], []), "schedules"),
    (lambda: OneCycleMomentum(OneCycle(0.1, 10), base_momentum=1.0), "base_momentum"),
]


@pytest.mark.parametrize(("make", "argument"), INVALID, ids=[argument for _, argument in INVALID])
def test_invalid_arguments_raise_value_error_naming_the_argument(make, argument):
    with pytest.raises(ValueError, match=re.escape(argument)):
        make()


WRONG_TYPES = [
    (lambda: CyclicalLearningRate(1e-3, 1e-2, 5, scale_fn=2.0), "scale_fn"),
    (lambda: OneCycle(0.1, 10.5), "total_steps"),
    (lambda: InverseSqrtDecay(0.1, 10.0), "warmup_steps"),
    (lambda: StepDecay("0.1", 0.5, 10), "initial_learning_rate"),
    (lambda: ChainedSchedule([LinearRamp(0.0, 0.1, 5), 0.01], [5]), r"schedules\[1\]"),
    (lambda: OneCycleMomentum(KERAS.CosineDecay(0.1, 10)), "schedule"),
]


@pytest.mark.parametrize(("make", "argument"), WRONG_TYPES, ids=[a for _, a in WRONG_TYPES])
def test_wrong_types_raise_type_error_naming_the_argument(make, argument):
    with pytest.raises(TypeError, match=argument):
        make()


# --- scale_fn serialization -----------------------------------------------------------------


def test_unserializable_scale_fn_is_refused_when_the_schedule_is_built(tmp_path):
    # Input: a lambda and a local function as scale_fn. Expected: a ValueError naming scale_fn
    # and register_keras_serializable at construction, so no model holding it is ever saved
    # (before: the schedule was built, and model.save refused it after Keras had created an
    # empty m.keras, which stayed).
    def local_height(cycle):
        return 1.0 / cycle

    for scale_fn in (lambda cycle: 1.0, local_height):
        with pytest.raises(ValueError, match="scale_fn.*register_keras_serializable"):
            CyclicalLearningRate(1e-3, 1e-2, 5, scale_fn=scale_fn)
    assert list(tmp_path.iterdir()) == []


def test_registered_scale_fn_survives_save_and_load(tmp_path):
    schedule = CyclicalLearningRate(1e-3, 1e-2, 5, scale_fn=harmonic_per_cycle)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(schedule), "mse")
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    config = loaded.optimizer.get_config()["learning_rate"]["config"]
    assert config["scale_fn"]["config"] == "lrlab_tests>harmonic_per_cycle"
    assert CyclicalLearningRate.from_config(schedule.get_config()).scale_fn is harmonic_per_cycle


# --- OneCycleMomentum ---------------------------------------------------------------------------


class MomentumRecorder(keras.callbacks.Callback):
    """The optimizer's momentum (or beta_1) and rate at the start of every batch."""

    def __init__(self, attribute):
        super().__init__()
        self.attribute = attribute
        self.momenta, self.rates = [], []

    def on_train_batch_begin(self, batch, logs=None):
        optimizer = self.model.optimizer
        self.momenta.append(float(keras.ops.convert_to_numpy(getattr(optimizer, self.attribute))))
        self.rates.append(float(keras.ops.convert_to_numpy(optimizer.learning_rate)))


def fit_one_cycle(case, optimizer_class, attribute, fits=1, **optimizer_options):
    """Train ``total_steps`` batches of one example, in ``fits`` calls of ``model.fit``."""
    arguments = case["arguments"]
    steps = arguments["total_steps"]
    schedule = OneCycle(arguments["max_lr"], steps)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer_class(schedule, **optimizer_options), "mse")
    callbacks = [OneCycleMomentum(schedule), MomentumRecorder(attribute)]
    rng = np.random.default_rng(1)
    features = rng.normal(size=(steps // fits, 3)).astype("float32")
    train_functions = []
    for _ in range(fits):
        model.fit(
            features, features[:, :1], batch_size=1, verbose=0, shuffle=False, callbacks=callbacks
        )
        train_functions.append(model.train_function)
    assert all(f is train_functions[0] for f in train_functions)  # traced once, then reused
    return model, callbacks[1]


def test_one_cycle_momentum_cycles_sgd_momentum_like_torch(tmp_path):
    case = TORCH_CASES["onecycle_cos"]  # SGD, max_lr 0.1, 100 steps, momentum 0.95 -> 0.85
    model, recorder = fit_one_cycle(case, keras.optimizers.SGD, "momentum", 2, momentum=0.9)
    assert_relative(recorder.momenta, case["momenta"], 1e-6)  # a float32 variable
    # float32 rates: near the end cos(pi * pct) + 1 cancels, so compare to 1e-6 of the peak.
    np.testing.assert_allclose(recorder.rates, case["learning_rates"], rtol=1e-6, atol=1e-7)
    # After training the optimizer holds a plain float again and the model saves.
    assert isinstance(model.optimizer.momentum, float)
    assert model.optimizer.momentum == pytest.approx(case["momenta"][-1], rel=1e-6)
    model.save(tmp_path / "m.keras")


def test_one_cycle_momentum_cycles_adam_beta_1_like_torch():
    case = TORCH_CASES["onecycle_adam"]  # Adam, max_lr 0.01, 60 steps, betas[0] cycled
    _, recorder = fit_one_cycle(case, keras.optimizers.Adam, "beta_1")
    assert_relative(recorder.momenta, case["momenta"], 1e-6)


def test_one_cycle_momentum_is_the_momentum_sgd_uses():
    # Full-batch least squares on fixed data, 12 steps; the same updates by hand:
    # velocity = momentum_k * velocity - rate_k * gradient; weights += velocity.
    steps = 12
    schedule = OneCycle(0.05, steps)
    rng = np.random.default_rng(2)
    features = rng.normal(size=(8, 3)).astype("float32")
    targets = (features @ np.array([[1.0], [-2.0], [0.5]])).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, use_bias=False)])
    weights = model.get_weights()[0].astype(np.float64)
    model.compile(keras.optimizers.SGD(schedule, momentum=0.9), "mse")
    recorder = MomentumRecorder("momentum")
    model.fit(
        features,
        targets,
        batch_size=8,
        epochs=steps,
        verbose=0,
        shuffle=False,
        callbacks=[OneCycleMomentum(schedule), recorder],
    )
    velocity = np.zeros_like(weights)
    for momentum, rate in zip(recorder.momenta, recorder.rates, strict=True):
        gradient = 2 * features.T @ (features @ weights - targets) / len(features)
        velocity = momentum * velocity - rate * gradient
        weights = weights + velocity
    np.testing.assert_allclose(model.get_weights()[0], weights, rtol=1e-4)
    assert max(recorder.momenta) - min(recorder.momenta) > 0.09  # 0.95 -> about 0.85 -> 0.95


@pytest.mark.parametrize(
    ("optimizer", "message"),
    [
        (lambda s: keras.optimizers.SGD(s), "momentum > 0"),
        (lambda s: keras.optimizers.RMSprop(s), "RMSprop has neither"),
    ],
    ids=["sgd_without_momentum", "rmsprop"],
)
def test_one_cycle_momentum_rejects_optimizers_it_cannot_cycle(optimizer, message):
    schedule = OneCycle(0.1, 4)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer(schedule), "mse")
    with pytest.raises(ValueError, match=message):
        model.fit(
            np.ones((4, 3)), np.ones((4, 1)), verbose=0, callbacks=[OneCycleMomentum(schedule)]
        )


def test_torch_equivalent_names_the_schedulers_it_knows():
    with pytest.raises(ValueError, match="scheduler must be one of StepLR"):
        torch_equivalent("ReduceLROnPlateau", 0.1, {})


def test_torch_multiplicative_takes_one_step_or_many():
    # MultiplicativeLR with factor 0.5: 0.1 * 0.5 ** k, at one step or at an array of steps.
    schedule = torch_equivalent("MultiplicativeLR", F64(0.1), {"lr_lambda": lambda epoch: 0.5})
    assert float(schedule(3)) == 0.1 * 0.5**3
    np.testing.assert_array_equal(schedule(np.arange(4)), 0.1 * 0.5 ** np.arange(4))


# --- bad input and silent errors (issue 11) -------------------------------------------------
# Each probe states the input and the outcome; before issue 11 each was silently wrong or failed
# only at load_model.

import functools  # noqa: E402


def save_and_load(schedule, path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(schedule), "mse")
    model.save(path)
    return keras.models.load_model(path)


@pytest.mark.parametrize(
    "make",
    [
        lambda: OneCycle(tensor(0.1), 10),
        lambda: StepDecay(tensor(0.1), tensor(0.5), tensor(10)),
        lambda: TriangularCyclicalLearningRate(tensor(1e-3), np.float32(1e-2), np.int64(5)),
        lambda: LinearRamp(np.array(0.0), tensor(0.1, "float64"), 4),
    ],
    ids=["one_cycle_tensor", "step_decay_tensors", "cyclical_tensor_numpy", "ramp_0d_and_f64"],
)
def test_tensor_and_numpy_arguments_are_stored_as_plain_numbers(make, tmp_path):
    # Input: scalar tensors / NumPy scalars as arguments. Expected: get_config holds plain
    # numbers, and save -> load_model gives the same rates (failed before: load_model raised
    # "SGD could not be deserialized" for a tensor argument).
    schedule = make()
    for value in schedule.get_config().values():
        assert isinstance(value, (int, float, str, bool)), value
    loaded = save_and_load(schedule, tmp_path / "m.keras")
    for step in (0, 3, 7):
        loaded.optimizer.iterations.assign(step)
        assert float(loaded.optimizer.learning_rate) == pytest.approx(float(schedule(step)))


def test_a_float64_tensor_argument_keeps_float64():
    # Input: LinearRamp(0, tensor(0.1, float64), 3). Expected: float64 values, as with
    # np.float64 (the module docstring's precision rule): step 1 is 0.1 / 3 in float64.
    schedule = LinearRamp(0.0, tensor(0.1, "float64"), 3)
    value = schedule(1)
    assert keras.backend.standardize_dtype(value.dtype) == "float64"
    assert float(value) == 0.1 / 3


def test_a_variable_argument_is_refused_with_what_to_pass():
    # Input: OneCycle(keras.Variable(0.1), 10). Expected: TypeError naming max_learning_rate
    # and saying to pass its value (saved before, then failed in load_model).
    with pytest.raises(TypeError, match=r"max_learning_rate .*keras\.Variable.*float\("):
        OneCycle(keras.Variable(0.1), 10)


class Heights:
    def constant(self, cycle):
        return keras.ops.ones_like(cycle)


@keras.saving.register_keras_serializable(package="lrlab_tests")
def registered_power(cycle, exponent):
    return 1.0 / cycle**exponent


@pytest.mark.parametrize(
    "scale_fn",
    [Heights().constant, abs, functools.partial(registered_power, exponent=1.0)],
    ids=["bound_method", "builtin", "partial"],
)
def test_scale_fns_that_cannot_be_loaded_are_refused_when_built(scale_fn):
    # Input: a bound method, a built-in, a functools.partial as scale_fn. Expected: a
    # ValueError at construction that names scale_fn and register_keras_serializable (before,
    # the bound method and the built-in were saved and load_model then failed; refusing at
    # model.save instead would leave Keras's empty .keras file).
    with pytest.raises(ValueError, match=r"scale_fn=.*register_keras_serializable"):
        CyclicalLearningRate(1e-3, 1e-2, 5, scale_fn=scale_fn)


def test_noisy_linear_cosine_decay_default_never_goes_below_zero():
    # Input: NoisyLinearCosineDecay(0.1, 1000, seed=0), steps 0..999, default arguments
    # (initial_variance=1). Expected: no negative rate; with allow_negative=True the
    # tf.compat.v1 formula's own values, 29 of them negative (2.9 %, the count), and
    # the default is exactly max(that, 0). Before: 2.9 % negative by default.
    clipped = curve(NoisyLinearCosineDecay(0.1, 1000, seed=0), 1000)
    assert clipped.min() >= 0
    raw = curve(NoisyLinearCosineDecay(0.1, 1000, seed=0, allow_negative=True), 1000)
    assert int(np.sum(raw < 0)) == 29
    np.testing.assert_array_equal(clipped, np.maximum(raw, 0))
    # allow_negative=True is the formula: (alpha + linear + eps) * cosine + beta, times eta_0
    quiet = curve(NoisyLinearCosineDecay(0.1, 1000, initial_variance=0.0, seed=0), 1000)
    assert np.all(raw[raw < 0] < quiet[raw < 0])  # the noise pulled those below the clean curve
    config = NoisyLinearCosineDecay(0.1, 1000, seed=0, allow_negative=True).get_config()
    assert config["allow_negative"] is True
    rebuilt = NoisyLinearCosineDecay.from_config(config)
    np.testing.assert_array_equal(curve(rebuilt, 1000), raw)


def test_noisy_allow_negative_must_be_a_bool():
    with pytest.raises(TypeError, match="allow_negative"):
        NoisyLinearCosineDecay(0.1, 10, allow_negative="no")


FLOAT32_LIMITS = [
    (lambda: LinearRamp(0.0, 1e300, 10), "final_learning_rate=1e+300 overflows float32"),
    (lambda: OneCycle(1e300, 10), "max_learning_rate=1e+300 overflows float32"),
    (lambda: InverseSqrtDecay(1e-300, 10), "peak_learning_rate=1e-300 underflows to 0"),
    (lambda: StepDecay(1e-300, 0.5, 10), "initial_learning_rate=1e-300 underflows to 0"),
    (lambda: WarmupStableDecay(1e-300, 1, 1, 1), "peak_learning_rate=1e-300 underflows to 0"),
    (lambda: TriangularCyclicalLearningRate(1e-50, 1e-2, 5), "initial_learning_rate=1e-50"),
    (lambda: StepDecay(0.1, 1e-60, 10), "decay_rate=1e-60 underflows"),
]


@pytest.mark.parametrize(("make", "message"), FLOAT32_LIMITS, ids=[m for _, m in FLOAT32_LIMITS])
def test_arguments_float32_cannot_hold_are_refused_with_the_value(make, message):
    # Input: rates beyond float32 (max 3.4e38, smallest positive 1.4e-45). Expected: a
    # ValueError with the value (before: rates of inf, nan or 0, silently).
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


NEGATIVE_STEP_SCHEDULES = {
    "one_cycle": lambda: OneCycle(0.1, 100),
    "step_decay": lambda: StepDecay(0.1, 0.5, 10),
    "linear_ramp": lambda: LinearRamp(0.0, 0.1, 10),
    "inverse_sqrt": lambda: InverseSqrtDecay(0.1, 10),
    "warmup_stable_decay": lambda: WarmupStableDecay(0.1, 10, 10, 10),
    "ramp_sustain_decay": lambda: RampSustainDecay(
        ramp_steps=10, sustain_steps=5, decay_every_steps=5
    ),
    "triangular": lambda: TriangularCyclicalLearningRate(1e-3, 1e-2, 5),
    "triangular2": lambda: Triangular2CyclicalLearningRate(1e-3, 1e-2, 5),
    "linear_cosine": lambda: LinearCosineDecay(0.1, 10),
    "noisy_linear_cosine": lambda: NoisyLinearCosineDecay(0.1, 10, seed=1),
    "chained": lambda: ChainedSchedule([LinearRamp(0.0, 0.1, 5), StepDecay(0.1, 0.5, 5)], [5]),
}


@pytest.mark.parametrize("name", sorted(NEGATIVE_STEP_SCHEDULES))
def test_negative_steps_raise_and_negative_tensor_steps_count_as_step_0(name):
    # Input: step -5 as a Python int, a NumPy array [-5, 0], and as a tensor. Expected: a
    # ValueError naming the step for the first two; for the tensor (as Keras passes) the
    # rate of step 0. Before: e.g. LinearRamp(0, 0.1, 10)(-5) = -0.05, StepDecay(-5) = 0.2.
    schedule = NEGATIVE_STEP_SCHEDULES[name]()
    for step in (-5, np.array([-5, 0])):
        with pytest.raises(ValueError, match=r"step must be >= 0.*-5"):
            schedule(step)
    assert float(schedule(tensor(-5))) == float(schedule(0))


def test_name_none_means_the_class_name_and_bad_names_are_refused_at_construction():
    # Input: name=None, name="a/b", name=5. Expected: None -> the class name, usable when
    # called (before: ValueError only at call time); "a/b" -> ValueError, 5 -> TypeError,
    # both when built. (Keras 3.15's own ExponentialDecay(name=None) fails when called.)
    schedule = StepDecay(0.1, 0.5, 10, name=None)
    assert schedule.name == "StepDecay" and float(schedule(3)) == pytest.approx(0.1)
    assert TriangularCyclicalLearningRate(1e-3, 1e-2, 5, name=None).name == (
        "TriangularCyclicalLearningRate"
    )
    with pytest.raises(ValueError, match="name must not contain '/'.*'a/b'"):
        OneCycle(0.1, 10, name="a/b")
    with pytest.raises(TypeError, match="name must be a str.*got 5"):
        LinearRamp(0.0, 0.1, 5, name=5)


# --- round 2: torch_equivalent's arguments (found by tools/probes.py) ---------------------------


@pytest.mark.parametrize(
    ("scheduler", "arguments", "message"),
    [
        # failed before: KeyError: 'step_size'
        (
            "StepLR",
            {"gamma": 0.5},
            r"torch_equivalent\('StepLR'\) needs the argument 'step_size'"
            r" in arguments \(given: 'gamma'\)",
        ),
        (
            "OneCycleLR",
            {},
            r"torch_equivalent\('OneCycleLR'\) needs the argument 'max_lr'.*"
            r"given: none",
        ),
        # a child of SequentialLR is checked the same way, named by its own scheduler
        (
            "SequentialLR",
            {"schedulers": [("ExponentialLR", {})], "milestones": []},
            r"torch_equivalent\('ExponentialLR'\) needs the argument 'gamma'",
        ),
    ],
)
def test_torch_equivalent_names_a_missing_argument(scheduler, arguments, message):
    # Input: a scheduler without one of the arguments it needs. Expected: ValueError naming the
    # scheduler and the missing argument (and the ones given).
    with pytest.raises(ValueError, match=message):
        torch_equivalent(scheduler, 0.1, arguments)


def test_torch_equivalent_names_a_bad_cyclic_mode():
    # Input: CyclicLR with mode 'triangle'. Expected: ValueError naming CyclicLR, the value and
    # the three modes torch has. Failed before: KeyError: 'triangle'.
    arguments = {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5, "mode": "triangle"}
    with pytest.raises(
        ValueError,
        match=r"'CyclicLR'\): mode must be one of 'triangular', 'triangular2', 'exp_range'; "
        r"got 'triangle'",
    ):
        torch_equivalent("CyclicLR", 0.1, arguments)


@pytest.mark.parametrize("arguments", [[("step_size", 3), ("gamma", 0.5)], None, "step_size=3"])
def test_torch_equivalent_requires_a_dict_of_arguments(arguments):
    # Input: arguments as a list of pairs, None or a str. Expected: TypeError naming StepLR and
    # `arguments` and saying a dict is needed. Failed before (list): "list indices must be
    # integers or slices, not str".
    with pytest.raises(
        TypeError, match=r"torch_equivalent\('StepLR'\): arguments must be a dict .*got "
    ):
        torch_equivalent("StepLR", 0.1, arguments)


def test_torch_equivalent_still_matches_step_lr_given_a_mapping():
    # Input: StepLR(step_size=3, gamma=0.5) on 0.1, arguments as a read-only mapping. Expected:
    # torch's rule 0.1 * 0.5 ** (k // 3) at steps 0..6 (the StepLR formula in torch's docs).
    import types as _types

    schedule = torch_equivalent(
        "StepLR", F64(0.1), _types.MappingProxyType({"step_size": 3, "gamma": F64(0.5)})
    )
    steps = np.arange(7)
    np.testing.assert_allclose(  # a Keras schedule: float32 on JAX and PyTorch
        [float(schedule(int(k))) for k in steps], 0.1 * 0.5 ** (steps // 3),
        rtol=KERAS_FLOAT64_RTOL,
    )


# --- the translation table (lrlab.torch_equivalents) -----------------------------------------


def test_every_row_of_the_torch_table_with_a_builder_has_a_recorded_case():
    # Input: TABLE's torch classes. Expected: each one that is a function of the step has at
    # least one case in torch_schedulers.json (and no case is of another class);
    # ReduceLROnPlateau, a rule on a metric (lrlab.plateau), is the one row without a builder.
    recorded = {case["scheduler"] for case in TORCH["cases"]}
    with_builder = {row.name for row in TABLE if row.build is not None}
    assert with_builder == recorded
    assert {row.name for row in TABLE} - with_builder == {"ReduceLROnPlateau"}


def test_the_markdown_table_has_a_row_per_torch_class():
    lines = markdown_table().splitlines()
    assert lines[:2] == ["| `torch.optim.lr_scheduler` | Keras / lrlab | note |", "|---|---|---|"]
    assert len(lines) == 2 + len(TABLE)
    assert lines[2] == (
        "| `StepLR(step_size, gamma)` | `ExponentialDecay(η, step_size, γ, staircase=True)` |  |"
    )


def test_lrlab_schedules_still_finds_torch_equivalent():
    import lrlab.schedules

    assert lrlab.schedules.torch_equivalent is torch_equivalent
    with pytest.raises(AttributeError, match="no attribute 'torch_equivalents'"):
        lrlab.schedules.torch_equivalents  # noqa: B018


def test_a_cyclical_policy_without_a_height_cannot_be_built():
    # The base of the named policies has no height(mode_step): building it, or a subclass
    # that forgot to define one, is a TypeError naming the class and what to do.
    from lrlab.schedules import _CyclicalPolicy

    class NoHeight(_CyclicalPolicy):
        pass

    for cls in (_CyclicalPolicy, NoHeight):
        with pytest.raises(TypeError, match=f"{cls.__name__} has no height"):
            cls(1e-4, 1e-2, step_size=10)
