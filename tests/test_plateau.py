"""Tests of lrlab.plateau: Keras's and PyTorch's ReduceLROnPlateau rules as pure functions.

Expected values come from three places: counts worked out by hand from each
library's source (stated next to each case), the real ``keras.callbacks.ReduceLROnPlateau``
driven epoch by epoch here, and the real PyTorch 2.13 scheduler recorded by
``tools/reference_torch_plateau.py`` in ``lrlab/reference/torch_plateau.json`` (package
data, read by ``lrlab.reference.load_reference``).
"""

import sys

import keras
import numpy as np
import pytest

from lrlab import checks, torch_live
from lrlab.plateau import keras_reduce_on_plateau, torch_reduce_on_plateau
from lrlab.reference import load_reference

REFERENCE = load_reference("torch_plateau")
TORCH_CASES = {case["name"]: case for case in REFERENCE["plateau"]}

# Lesson 08's hand-made validation accuracy; "+" improves on the best so far, "-" does not:
#   epoch:  1     2     3     4     5     6     7     8     9     10    11    12
#           0.40+ 0.55+ 0.63+ 0.61- 0.66+ 0.66- 0.65- 0.68+ 0.67- 0.69+ 0.69- 0.68-
LESSON_ACCURACY = [0.40, 0.55, 0.63, 0.61, 0.66, 0.66, 0.65, 0.68, 0.67, 0.69, 0.69, 0.68]


def test_the_lesson_sequence_is_the_one_recorded_from_torch():
    assert TORCH_CASES["lesson_patience1"]["metric_values"] == LESSON_ACCURACY


def test_keras_patience_1_reduces_after_every_epoch_without_improvement():
    # wait reaches 1 at each "-" epoch (and is reset by each reduction): 4, 6, 7, 9, 11, 12.
    decisions = keras_reduce_on_plateau(LESSON_ACCURACY, 0.01, mode="max", factor=0.5, patience=1)
    assert decisions.reductions == (4, 6, 7, 9, 11, 12)
    # the rate of epoch k + 1 is 0.01 * 0.5 ** (reductions up to epoch k), rounded to float32
    halvings = [0, 0, 0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 6]
    expected = [float(np.float32(0.01 * 0.5**h)) for h in halvings]
    np.testing.assert_array_equal(decisions.learning_rates, expected)


def test_torch_patience_1_needs_two_bad_epochs_in_a_row():
    # num_bad_epochs > 1 only at epoch 7 (6 and 7 both "-") and at epoch 12 (11 and 12).
    decisions = torch_reduce_on_plateau(LESSON_ACCURACY, 0.01, mode="max", factor=0.5, patience=1)
    assert decisions.reductions == (7, 12)
    assert decisions.learning_rates[-1] == 0.0025  # 0.01 * 0.5 ** 2


def test_keras_cooldown_c_shields_c_minus_1_epochs():
    # Keras counts the cooldown down *before* judging the epoch, so with cooldown=1 the
    # epoch after a reduction is judged normally: the same reductions as cooldown=0.
    base = {"mode": "max", "factor": 0.5, "patience": 1}
    no_cooldown = keras_reduce_on_plateau(LESSON_ACCURACY, 0.01, **base)
    cooldown_1 = keras_reduce_on_plateau(LESSON_ACCURACY, 0.01, cooldown=1, **base)
    assert cooldown_1.reductions == no_cooldown.reductions == (4, 6, 7, 9, 11, 12)
    np.testing.assert_array_equal(cooldown_1.learning_rates, no_cooldown.learning_rates)
    # cooldown=2 shields one epoch: 7 (after 6) and 12 (after 11) no longer count.
    shielded = keras_reduce_on_plateau(LESSON_ACCURACY, 0.01, cooldown=2, **base)
    assert shielded.reductions == (4, 6, 9, 11)


def test_torch_cooldown_c_shields_c_epochs():
    # patience 0: every "-" epoch reduces (4, 6, 7, 9, 11, 12) unless shielded; cooldown=2
    # shields the two epochs after a reduction: 4 -> (5, 6) shielded, 7 -> (8, 9), 11 -> (12).
    decisions = torch_reduce_on_plateau(
        LESSON_ACCURACY, 0.01, mode="max", factor=0.5, patience=0, cooldown=2
    )
    assert decisions.reductions == (4, 7, 11)


def test_keras_min_delta_is_absolute_and_torch_threshold_relative():
    # A loss falling by 5e-5, defaults (min_delta 1e-4; threshold 1e-4, "rel"), patience 0.
    # Keras needs a fall of more than 1e-4 anywhere: never an improvement, so it reduces.
    # PyTorch needs a fall of more than best * 1e-4: 1e-5 at 0.1 (improvement, no reduction),
    # 9e-5 at 0.9 (no improvement, reduction).
    losses = [0.1, 0.09995]
    assert keras_reduce_on_plateau(losses, 0.1, patience=0).reductions == (2,)
    assert torch_reduce_on_plateau(losses, 0.1, patience=0).reductions == ()
    losses = [0.9, 0.89995]
    assert keras_reduce_on_plateau(losses, 0.1, patience=0).reductions == (2,)
    assert torch_reduce_on_plateau(losses, 0.1, patience=0).reductions == (2,)


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_torch_rule_equals_pytorch_2_13(name):
    case = TORCH_CASES[name]
    decisions = torch_reduce_on_plateau(
        case["metric_values"], case["initial_learning_rate"], **case["arguments"]
    )
    assert decisions.learning_rates[0] == case["initial_learning_rate"]
    np.testing.assert_allclose(decisions.learning_rates[1:], case["rates_after_step"], rtol=1e-15)
    changed = [
        epoch
        for epoch, (before, after) in enumerate(
            zip(decisions.learning_rates[:-1], case["rates_after_step"], strict=True), start=1
        )
        if after != before
    ]
    assert list(decisions.reductions) == changed


def _real_keras_rates(metric_values, initial_learning_rate, **arguments):
    """Rates after each epoch of the real keras.callbacks.ReduceLROnPlateau, driven by hand."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(initial_learning_rate), loss="mse")
    callback = keras.callbacks.ReduceLROnPlateau(monitor="val_metric", **arguments)
    callback.set_model(model)
    callback.on_train_begin()
    rates = []
    for epoch, value in enumerate(metric_values):
        callback.on_epoch_end(epoch, {"val_metric": float(value)})
        rates.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
    return rates


KERAS_CASES = [
    (LESSON_ACCURACY, 0.01, {"mode": "max", "factor": 0.5, "patience": 1}),
    (LESSON_ACCURACY, 0.01, {"mode": "max", "factor": 0.5, "patience": 0, "cooldown": 2}),
    (LESSON_ACCURACY, 0.01, {"mode": "max", "factor": 0.5, "patience": 2, "cooldown": 1}),
    (LESSON_ACCURACY, 0.01, {"mode": "max", "factor": 0.1, "patience": 0, "min_lr": 2e-4}),
    (LESSON_ACCURACY, 0.01, {"mode": "max", "factor": 0.5, "patience": 0, "min_delta": 0.02}),
    (TORCH_CASES["loss_rel_threshold"]["metric_values"], 0.1, {"mode": "min", "patience": 0}),
    (TORCH_CASES["loss_rel_threshold"]["metric_values"], 0.1,
     {"mode": "min", "patience": 1, "min_delta": 0.0, "min_lr": 1e-3}),
]


@pytest.mark.parametrize("metric_values, initial_learning_rate, arguments", KERAS_CASES)
def test_keras_rule_equals_the_real_keras_callback(metric_values, initial_learning_rate, arguments):
    expected = _real_keras_rates(metric_values, initial_learning_rate, **arguments)
    decisions = keras_reduce_on_plateau(metric_values, initial_learning_rate, **arguments)
    np.testing.assert_array_equal(decisions.learning_rates[1:], expected)


def test_keras_patience_p_plus_1_is_torch_patience_p_without_thresholds_or_cooldown():
    # Keras reduces when `wait >= patience`, PyTorch when `num_bad_epochs > patience`;
    # both reset on an improvement and after a reduction.
    rng = np.random.default_rng(0)
    for _ in range(50):
        values = np.round(rng.uniform(0, 1, size=20), 1).astype(np.float32)
        for patience in (0, 1, 3):
            keras_rule = keras_reduce_on_plateau(values, 0.1, patience=patience + 1, min_delta=0)
            torch_rule = torch_reduce_on_plateau(
                values, 0.1, patience=patience, threshold=0, threshold_mode="abs", eps=0
            )
            assert keras_rule.reductions == torch_rule.reductions


def test_step_lr_traps_recorded_from_torch():
    # Lesson 08, trap 1 and 2: StepLR(step_size=2, gamma=0.1) from 0.1 over 6 epochs.
    # Right order: epoch e (from 0) trains at 0.1 * 0.1 ** (e // 2); scheduler.step() first
    # skips the schedule's first value: 0.1 * 0.1 ** ((e + 1) // 2).
    traps = REFERENCE["step_lr"]
    epochs = np.arange(6)
    np.testing.assert_allclose(
        traps["optimizer_first"]["rate_used_by_optimizer_step"], 0.1 * 0.1 ** (epochs // 2)
    )
    np.testing.assert_allclose(
        traps["scheduler_first"]["rate_used_by_optimizer_step"], 0.1 * 0.1 ** ((epochs + 1) // 2)
    )
    assert any("before `optimizer.step()`" in w for w in traps["scheduler_first"]["warnings"])
    # get_last_lr() after the k-th step (k = 1..6) is the rate of epoch k; get_lr() applies
    # gamma once more whenever k is a multiple of step_size.
    right = traps["optimizer_first"]
    steps = epochs + 1
    np.testing.assert_allclose(right["get_last_lr"], 0.1 * 0.1 ** (steps // 2))
    np.testing.assert_allclose(
        right["get_lr"], 0.1 * 0.1 ** (steps // 2) * np.where(steps % 2 == 0, 0.1, 1.0)
    )


def test_recorded_values_are_what_the_installed_pytorch_gives():
    # The reference file is lrlab.torch_live.record() under PyTorch 2.13 (the torch extra's
    # pin). Where PyTorch is installed (make unit BACKEND=torch installs it) the functions
    # run again: the same rates exactly, and the same warnings under the recorded version.
    torch = pytest.importorskip("torch", reason="PyTorch is lrlab's torch extra; "
                                "make unit BACKEND=torch installs it and runs this test")
    live = torch_live.record()
    assert live["torch_version"] == torch.__version__
    assert [case["rates_after_step"] for case in live["plateau"]] == [
        case["rates_after_step"] for case in REFERENCE["plateau"]
    ]
    for order in ("optimizer_first", "scheduler_first"):
        for key in ("rate_used_by_optimizer_step", "get_last_lr", "get_lr"):
            assert live["step_lr"][order][key] == REFERENCE["step_lr"][order][key]
    if live["torch_version"] == REFERENCE["torch_version"]:
        assert live == REFERENCE


def test_torch_live_without_pytorch_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(ImportError, match=r'needs PyTorch: pip install "lrlab\[torch\]"'):
        torch_live.step_lr_orders()


def test_the_live_cases_are_the_recorded_ones():
    assert [case[0] for case in torch_live.PLATEAU_CASES] == list(TORCH_CASES)
    assert torch_live.LESSON_ACCURACY == LESSON_ACCURACY


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"mode": "auto"}, "mode must be one of"),
        ({"factor": 1.0}, r"factor must be in \(0, 1\), got 1.0"),
        ({"factor": 0}, r"factor must be in \(0, 1\), got 0"),
        ({"patience": -1}, "patience must be a non-negative integer, got -1"),
        ({"patience": 1.5}, "patience must be a non-negative integer, got 1.5"),
        ({"cooldown": -2}, "cooldown must be a non-negative integer, got -2"),
        ({"min_lr": -1e-3}, "min_lr must be >= 0, got -0.001"),
    ],
)
@pytest.mark.parametrize("rule", [keras_reduce_on_plateau, torch_reduce_on_plateau])
def test_bad_arguments_are_rejected(rule, arguments, message):
    with pytest.raises(ValueError, match=message):
        rule([0.5, 0.4], 0.1, **arguments)


def test_bad_sequences_and_rates_are_rejected():
    for rule in (keras_reduce_on_plateau, torch_reduce_on_plateau):
        with pytest.raises(ValueError, match="metric_values must be a 1-D sequence"):
            rule([[0.5, 0.4]], 0.1)
        with pytest.raises(ValueError, match="initial_learning_rate must be > 0, got 0"):
            rule([0.5], 0)
    with pytest.raises(ValueError, match="min_delta must be >= 0, got -0.1"):
        keras_reduce_on_plateau([0.5], 0.1, min_delta=-0.1)
    with pytest.raises(ValueError, match="threshold_mode must be one of"):
        torch_reduce_on_plateau([0.5], 0.1, threshold_mode="relative")
    with pytest.raises(ValueError, match="threshold must be >= 0"):
        torch_reduce_on_plateau([0.5], 0.1, threshold=-1e-4)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        torch_reduce_on_plateau([0.5], 0.1, eps=-1.0)


def test_the_lesson_08_check_agrees_with_the_keras_rule(capsys):
    # The check's expected epochs were worked out by hand; the Keras rule (equal to the real
    # callback above) must pass it, and a PyTorch-style count (patience + 1) must not.
    def keras_rule(metric_values, patience, min_delta):
        decisions = keras_reduce_on_plateau(
            metric_values, 0.1, mode="max", patience=patience, min_delta=min_delta
        )
        return decisions.reductions

    def torch_style(metric_values, patience, min_delta):
        return keras_rule(metric_values, patience + 1, min_delta)

    assert checks.check_plateau_reductions(keras_rule)
    assert not checks.check_plateau_reductions(torch_style)
    assert "not right yet: plateau_reductions" in capsys.readouterr().out


# Round 2 (issue 11 probes): these inputs failed before with a raw numpy/str comparison error
# (TypeError/ValueError without the argument's name) or returned inf rates (lr=inf).
@pytest.mark.parametrize("rule", [keras_reduce_on_plateau, torch_reduce_on_plateau])
@pytest.mark.parametrize(
    "values, rate, kwargs, error, message",
    [
        # initial rate inf or nan: expected ValueError naming initial_learning_rate and the value
        ([1.0], float("inf"), {}, ValueError, r"initial_learning_rate must be a finite.*inf"),
        ([1.0], float("nan"), {}, ValueError, r"initial_learning_rate must be > 0, got nan"),
        # a string where a number belongs: expected TypeError naming the argument and the value
        ([1.0], "abc", {}, TypeError, r"initial_learning_rate must be a number, got 'abc'"),
        ([1.0], 0.1, {"factor": "0.5"}, TypeError, r"factor must be a number, got '0.5'"),
        ([1.0], 0.1, {"min_lr": "0"}, TypeError, r"min_lr must be a number, got '0'"),
        # metric values that are not numbers: expected TypeError naming metric_values
        ("abc", 0.1, {}, TypeError, r"metric_values must be a sequence of numbers.*'abc'"),
        ([1.0, "x"], 0.1, {}, TypeError, r"metric_values must be a sequence of numbers"),
    ],
)
def test_non_finite_rates_and_non_numbers_are_named(rule, values, rate, kwargs, error, message):
    with pytest.raises(error, match=message):
        rule(values, rate, **kwargs)


def test_rule_specific_numbers_must_be_numbers():
    # min_delta (Keras) and threshold / eps (PyTorch) given as strings: TypeError naming each
    with pytest.raises(TypeError, match="min_delta must be a number, got '0'"):
        keras_reduce_on_plateau([1.0], 0.1, min_delta="0")
    with pytest.raises(TypeError, match="threshold must be a number, got '0'"):
        torch_reduce_on_plateau([1.0], 0.1, threshold="0")
    with pytest.raises(TypeError, match="eps must be a number, got '0'"):
        torch_reduce_on_plateau([1.0], 0.1, eps="0")


def test_a_nan_metric_counts_as_no_improvement_like_keras():
    # Input: val_loss 1.0, nan, nan, patience 2, factor 0.5. Expected (documented behaviour):
    # NaN never improves (every comparison with NaN is false), so epochs 2 and 3 are bad and
    # Keras lowers the rate at the end of epoch 3: [0.1, 0.1, 0.1, 0.05]. The real Keras
    # callback, driven with the same logs, is the reference.
    values = [1.0, float("nan"), float("nan")]
    ours = keras_reduce_on_plateau(values, 0.1, factor=0.5, patience=2)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    callback = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2)
    callback.set_model(model)
    callback.on_train_begin()
    seen = [float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))]
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {"val_loss": value})
        seen.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
    np.testing.assert_allclose(ours.learning_rates, seen)
    np.testing.assert_allclose(ours.learning_rates, [0.1, 0.1, 0.1, 0.05], rtol=1e-6)
    assert ours.reductions == (3,)
    # PyTorch's rule (patience 1: lowers after 2 bad epochs): the same rates, also at epoch 3
    theirs = torch_reduce_on_plateau(values, 0.1, factor=0.5, patience=1)
    np.testing.assert_allclose(theirs.learning_rates, [0.1, 0.1, 0.1, 0.05])
    assert theirs.reductions == (3,)
