"""Feedback for the exercises of the lessons, in lesson order (01 to 11).

Each ``check_*`` function takes the learner's function, runs it on cases whose
answers are known, and prints one of three verdicts:

- ``correct: ...`` when every case matches;
- ``not right yet: ...`` with the first case that differs (inputs, expected, got);
- ``not implemented yet: ...`` when the function still raises ``NotImplementedError``
  (the scaffold written by ``make exercises``).

It returns ``True`` only when the function is right, and never raises for a
wrong or missing answer, so the notebook keeps running. The cases are made by hand
for the checks, their expected values derived in the comments; no lesson's data is
copied here (a lesson passes what its exercise depends on, e.g. lesson 07's steps
per epoch, to the learner's function itself).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable

import numpy as np

from lrlab import _validate


class Mismatch(AssertionError):
    """A case whose result differs from the expected one; the message says how."""


def expect_close(got, expected, what: str, rtol: float = 1e-6, atol: float = 1e-12) -> None:
    """Raise ``Mismatch`` naming ``what`` unless ``got`` equals ``expected`` within tolerance."""
    got_array = np.asarray(got, dtype=np.float64)
    expected_array = np.asarray(expected, dtype=np.float64)
    if got_array.shape != expected_array.shape:
        raise Mismatch(
            f"{what}: expected shape {expected_array.shape}, got shape {got_array.shape}"
        )
    if not np.allclose(got_array, expected_array, rtol=rtol, atol=atol, equal_nan=True):
        worst = int(np.argmax(np.abs(got_array - expected_array).ravel()))
        raise Mismatch(
            f"{what}: expected {float(expected_array.ravel()[worst])!r}, "
            f"got {float(got_array.ravel()[worst])!r}"
            + (f" (element {worst})" if expected_array.size > 1 else "")
        )


def run_check(name: str, learner_function: Callable, cases: Callable[[Callable], None]) -> bool:
    """Run ``cases(learner_function)`` and print the verdict for the exercise ``name``."""
    if not callable(learner_function):
        print(f"not right yet: {name} should be a function, got {type(learner_function).__name__}")
        return False
    try:
        cases(learner_function)
    except NotImplementedError:
        print(f"not implemented yet: write the body of {name}, then run this cell again.")
        return False
    except Mismatch as mismatch:
        print(f"not right yet: {name}: {mismatch}")
        return False
    except Exception as error:  # the learner's code raised: say what, do not crash the lesson
        print(f"not right yet: {name} raised {type(error).__name__}: {error}")
        return False
    print(f"correct: {name} matches every case.")
    return True


def _call_text(name: str, args: tuple, kwargs: dict) -> str:
    """``name(arg, ..., key=value)`` as the learner would write the call."""
    shown = [repr(value) for value in args] + [f"{key}={value!r}" for key, value in kwargs.items()]
    return f"{name}({', '.join(shown)})"


def _check_formula(name: str, learner: Callable, keywords: tuple[str, ...], cases) -> bool:
    """``run_check`` of a scalar rule: each case is ``(*args, *keyword values, expected)``,
    the last ``len(keywords)`` values before ``expected`` passed as those keywords; the learner's
    result must be close to ``expected`` (the checks of lessons 01-04)."""

    def run(function):
        for *arguments, expected in cases:
            split = len(arguments) - len(keywords)
            args, kwargs = (
                tuple(arguments[:split]),
                dict(zip(keywords, arguments[split:], strict=True)),
            )
            expect_close(function(*args, **kwargs), expected, _call_text(name, args, kwargs))

    return run_check(name, learner, run)


# --- lesson 01: learning rate basics --------------------------------------------------------


def check_largest_stable_learning_rate(largest_stable_learning_rate: Callable) -> bool:
    """Lesson 01: ``largest_stable_learning_rate(hessian)`` is 2 / lambda_max(hessian)."""

    def cases(function):
        # (hessian, 2 / its largest eigenvalue, eigenvalues worked out by hand)
        for hessian, expected in (
            ([[2.0]], 1.0),  # f = x^2: lambda = 2
            (np.diag([0.2, 4.0]), 0.5),  # lambda = 0.2, 4
            ([[2.0, 1.0], [1.0, 2.0]], 2.0 / 3.0),  # eigenvalues 1 and 3, not the diagonal 2
            (np.diag([1.0, 10.0, 100.0]), 0.02),
        ):
            hessian = np.array(hessian, dtype=np.float64)
            got = function(hessian)
            expect_close(got, expected, f"largest_stable_learning_rate({hessian.tolist()})")

    return run_check("largest_stable_learning_rate", largest_stable_learning_rate, cases)


def check_step_decay(step_decay: Callable) -> bool:
    """Lesson 01: the course's step-wise decay, eta_0 * d ** floor((1 + epoch) / r)."""
    # (epoch, eta_0, d, r, expected): expected by hand from the formula
    keywords = ("initial_learning_rate", "decay_rate", "decay_every")
    cases = (
        (0, 0.01, 0.5, 10, 0.01),  # floor(1/10) = 0
        (8, 0.01, 0.5, 10, 0.01),  # floor(9/10) = 0
        (9, 0.01, 0.5, 10, 0.005),  # floor(10/10) = 1: the first drop is at epoch 9
        (29, 0.01, 0.5, 10, 0.00125),  # floor(30/10) = 3: 0.01 / 8
        (24, 0.1, 0.25, 5, 9.765625e-05),  # floor(25/5) = 5: 0.1 * 0.25**5
    )
    return _check_formula("step_decay", step_decay, keywords, cases)


# --- lesson 02: Keras schedules -------------------------------------------------------------


def check_exponential_decay(exponential_decay: Callable) -> bool:
    """Lesson 02: Keras's ExponentialDecay, eta_0 * d ** (step / T), floored if staircase."""
    # (step, eta_0, T, d, staircase, expected): by hand from the formula in Keras's docstring
    cases = (
        (0, 0.1, 1000, 0.96, False, 0.1),
        (1000, 0.1, 1000, 0.96, False, 0.096),
        (500, 0.1, 1000, 0.96, False, 0.09797958971132712),  # 0.1 * sqrt(0.96)
        (500, 0.1, 1000, 0.96, True, 0.1),  # floor(0.5) = 0
        (2500, 0.1, 1000, 0.96, True, 0.09216),  # 0.1 * 0.96**2
        (25, 0.01, 10, 0.5, False, 0.0017677669529663688),  # 0.01 * 0.5**2.5
    )
    return _check_formula("exponential_decay", exponential_decay, ("staircase",), cases)


def check_read_learning_rate(read_learning_rate: Callable) -> bool:
    """Lesson 02: the rate of a Keras 3 optimizer's next update, as a Python float."""
    import keras

    def cases(function):
        schedules = keras.optimizers.schedules
        # (what, optimizer, optimizer.iterations, expected): expected from each schedule's formula
        for what, optimizer, iterations, expected in (
            ("SGD(learning_rate=0.05)", keras.optimizers.SGD(0.05), 0, 0.05),
            (
                "Adam(ExponentialDecay(0.1, 10, 0.5)) before any step",
                keras.optimizers.Adam(schedules.ExponentialDecay(0.1, 10, 0.5)),
                0,
                0.1,
            ),
            (
                "Adam(ExponentialDecay(0.1, 10, 0.5)) after 20 steps",  # 0.1 * 0.5**2
                keras.optimizers.Adam(schedules.ExponentialDecay(0.1, 10, 0.5)),
                20,
                0.025,
            ),
            (
                "SGD(CosineDecay(0.0, 10, warmup_target=0.2, warmup_steps=10)) after 5 steps",
                keras.optimizers.SGD(
                    schedules.CosineDecay(0.0, 10, warmup_target=0.2, warmup_steps=10)
                ),
                5,
                0.1,  # half-way up the linear warm-up from 0 to 0.2
            ),
        ):
            optimizer.iterations.assign(iterations)
            got = function(optimizer)
            if not isinstance(got, float):
                raise Mismatch(f"{what}: expected a Python float, got {type(got).__name__}")
            expect_close(got, expected, what)

    return run_check("read_learning_rate", read_learning_rate, cases)


# --- lesson 03: custom schedules ------------------------------------------------------------


def check_warmup_cosine(warmup_cosine: Callable) -> bool:
    """Lesson 03: linear warm-up peak * (n + 1) / W, then a half cosine to the final rate at T."""
    # (epoch, peak, W, T, final, expected): by hand from the formula in the lesson
    cases = (
        (0, 0.1, 5, 25, 0.0, 0.02),  # 0.1 * 1 / 5
        (4, 0.1, 5, 25, 0.0, 0.1),  # the last warm-up epoch reaches the peak
        (5, 0.1, 5, 25, 0.0, 0.1),  # p = 0: cos 0 = 1
        (10, 0.1, 5, 25, 0.0, 0.08535533905932737),  # p = 1/4: 0.1 * (1 + cos(pi/4)) / 2
        (15, 0.1, 5, 25, 0.0, 0.05),  # p = 1/2
        (15, 0.1, 5, 25, 0.001, 0.0505),  # 0.001 + 0.099 / 2
        (25, 0.1, 5, 25, 0.001, 0.001),  # p = 1: the final rate
        (30, 0.1, 5, 25, 0.001, 0.001),  # after total_epochs: stays at the final rate
        (5, 0.1, 0, 10, 0.0, 0.05),  # no warm-up: the cosine starts at epoch 0
    )
    return _check_formula("warmup_cosine", warmup_cosine, ("final_learning_rate",), cases)


# --- lesson 04: cyclical learning rates -----------------------------------------------------


def check_triangular_learning_rate(triangular_learning_rate: Callable) -> bool:
    """Lesson 04: Smith's (2017) triangular policy, eta_min + (eta_max - eta_min) max(0, 1 - x)."""
    # (step, eta_min, eta_max, step_size, expected): by hand from Smith's formula,
    # cycle = floor(1 + s / (2 * step_size)), x = |s / step_size - 2 * cycle + 1|
    cases = (
        (0, 1e-3, 1e-2, 10, 1e-3),  # x = 1: the bottom
        (5, 1e-3, 1e-2, 10, 5.5e-3),  # x = 0.5: half-way up
        (10, 1e-3, 1e-2, 10, 1e-2),  # x = 0: the top
        (15, 1e-3, 1e-2, 10, 5.5e-3),  # x = 0.5: half-way down
        (20, 1e-3, 1e-2, 10, 1e-3),  # cycle 2 begins at the bottom
        (27, 1e-3, 1e-2, 10, 7.3e-3),  # cycle 2, x = 0.3: 1e-3 + 9e-3 * 0.7
        (3, 0.1, 1.0, 4, 0.775),  # x = 0.25: 0.1 + 0.9 * 0.75
        (13, 0.1, 1.0, 4, 0.775),  # cycle 2, x = 0.25 on the way down
    )
    return _check_formula("triangular_learning_rate", triangular_learning_rate, (), cases)


# --- lesson 05: adaptive optimisers ---------------------------------------------------------


def _expect_pair(result, call: str, returns: str, expected) -> None:
    """``result`` must be a pair (``returns`` names its values); each ``(index, what, value)``
    of ``expected``, in order, must be close to ``result[index]``."""
    if not isinstance(result, tuple) or len(result) != 2:
        raise Mismatch(f"{call} should return {returns}")
    for index, what, value in expected:
        expect_close(result[index], value, f"{what} of {call}")


def check_adagrad_update(adagrad_update: Callable) -> bool:
    """Lesson 05: ``adagrad_update(params, grads, accumulator, learning_rate, epsilon=1e-7)``
    returns ``(new_params, new_accumulator)`` with Keras's rule
    c <- c + g^2, w <- w - learning_rate * g / sqrt(c + epsilon)."""

    def cases(function):
        # (params, grads, accumulator, learning_rate, epsilon, new params, new accumulator),
        # worked out by hand from the rule above
        for params, grads, accumulator, rate, epsilon, expected_params, expected_sum in (
            # c = (0 + 9, 9 + 16) = (9, 25); w = (1 - 0.5 * 3 / 3, -2 - 0.5 * 4 / 5)
            ([1.0, -2.0], [3.0, 4.0], [0.0, 9.0], 0.5, 0.0, [0.5, -2.4], [9.0, 25.0]),
            # epsilon inside the root: 1 / sqrt(1 + 3) = 0.5 (outside it would be 1 / 4)
            ([0.0], [1.0], [0.0], 1.0, 3.0, [-0.5], [1.0]),
            # a zero gradient leaves w and c alone
            ([2.0, 3.0], [0.0, 0.0], [0.1, 0.1], 0.1, 1e-7, [2.0, 3.0], [0.1, 0.1]),
            # Keras's start c = 0.1, the lesson's valley at (1, 1) where g = (0.2, 4):
            # c = (0.14, 16.1), w = 1 - 0.1 g / sqrt(c + 1e-7)
            (
                [1.0, 1.0],
                [0.2, 4.0],
                [0.1, 0.1],
                0.1,
                1e-7,
                [0.9465477707075935, 0.9003110430537477],
                [0.14, 16.1],
            ),
        ):
            call = (
                f"adagrad_update(params={params}, grads={grads}, accumulator={accumulator}, "
                f"learning_rate={rate}, epsilon={epsilon})"
            )
            result = function(
                np.array(params), np.array(grads), np.array(accumulator), rate, epsilon=epsilon
            )
            # the accumulator first: a wrong sum is why the parameters are wrong
            _expect_pair(
                result,
                call,
                "(new_params, new_accumulator)",
                ((1, "new accumulator", expected_sum), (0, "new params", expected_params)),
            )

    return run_check("adagrad_update", adagrad_update, cases)


def check_adam_bias_correction(bias_corrected_moments: Callable) -> bool:
    """Lesson 05: ``bias_corrected_moments(m, v, t, beta_1=0.9, beta_2=0.999)`` returns
    ``(m / (1 - beta_1**t), v / (1 - beta_2**t))``, t = 1 on the first step (Kingma and Ba
    2015, Algorithm 1)."""

    def cases(function):
        # (m, v, t, beta_1, beta_2, m_hat, v_hat), by hand from the formula
        for m, v, t, beta_1, beta_2, expected_m, expected_v in (
            # first step with g = 2: m = 0.1 * 2, v = 0.001 * 4; the correction gives back g, g^2
            ([0.2], [0.004], 1, 0.9, 0.999, [2.0], [4.0]),
            # g = 1 twice: m = 0.9 * 0.1 + 0.1 = 0.19 = 1 - 0.9^2, v = 0.001999 = 1 - 0.999^2
            ([0.19], [0.001999], 2, 0.9, 0.999, [1.0], [1.0]),
            # t = 3, betas 0.5 and 0.75: divide by 1 - 0.125 = 0.875 and by 1 - 0.421875 = 0.578125
            ([0.875, 1.75], [0.578125, 0.0], 3, 0.5, 0.75, [1.0, 2.0], [1.0, 0.0]),
            # t = 1000: 0.9^1000 is negligible, but 0.999^1000 = 0.3677: v is still scaled by
            # 1 / (1 - 0.36769542477096373) = 1.5815163121946023
            ([0.5], [1.0], 1000, 0.9, 0.999, [0.5], [1.5815163121946023]),
        ):
            call = f"bias_corrected_moments(m={m}, v={v}, t={t}, beta_1={beta_1}, beta_2={beta_2})"
            result = function(np.array(m), np.array(v), t, beta_1=beta_1, beta_2=beta_2)
            _expect_pair(
                result, call, "(m_hat, v_hat)", ((0, "m_hat", expected_m), (1, "v_hat", expected_v))
            )

    return run_check("bias_corrected_moments", bias_corrected_moments, cases)


# --- lesson 06: the learning-rate range test ------------------------------------------------


def check_exponential_ramp(exponential_ramp: Callable) -> bool:
    """Lesson 06: the range test's rates r_i = start_lr * (end_lr / start_lr) ** (i / (n - 1))."""

    def cases(function):
        # (start_lr, end_lr, num_steps, expected): by hand from the formula
        for start, end, num_steps, expected in (
            (1e-3, 10.0, 5, [1e-3, 1e-2, 1e-1, 1.0, 10.0]),  # one decade per step
            (0.5, 8.0, 3, [0.5, 2.0, 8.0]),  # a factor 4 per step
            (0.01, 1.0, 2, [0.01, 1.0]),  # two steps: both ends
        ):
            got = function(start, end, num_steps)
            expect_close(got, expected, f"exponential_ramp({start}, {end}, {num_steps})", rtol=1e-9)
        # the same formula in logarithms, 1e-7 to 10 in 100 steps: log10 r_i = -7 + 8 i / 99
        expected = 10.0 ** (-7 + 8 * np.arange(100) / 99)
        got = function(1e-7, 10.0, 100)
        expect_close(got, expected, "exponential_ramp(1e-7, 10.0, 100)", rtol=1e-9)

    return run_check("exponential_ramp", exponential_ramp, cases)


def check_steep_suggestion(steep_suggestion: Callable) -> bool:
    """Lesson 06: fastai's ``steep``, the rate that starts the steepest fall against ln(rate)."""

    def cases(function):
        # (rates, losses, expected): slopes (loss_{i+1} - loss_i) / (ln r_{i+1} - ln r_i) by hand
        for rates, losses, expected in (
            # slopes -0.04, -0.39, +0.87: the second segment, which starts at 1e-2
            ([1e-3, 1e-2, 1e-1, 1.0], [2.0, 1.9, 1.0, 3.0], 1e-2),
            # uneven spacing: slopes -0.87, -1.44, -0.72; the largest drop (at 1) is not steepest
            ([1.0, 10.0, 20.0, 40.0], [5.0, 3.0, 2.0, 1.5], 10.0),
            # slopes -1.30, -0.22: the first segment
            ([0.1, 1.0, 10.0], [4.0, 1.0, 0.5], 0.1),
        ):
            got = function(np.array(rates), np.array(losses))
            expect_close(got, expected, f"steep_suggestion({rates}, {losses})")

    return run_check("steep_suggestion", steep_suggestion, cases)


# --- lesson 07: exponential and step decay --------------------------------------------------

# Both exercises of lesson 07 halve the rate every 10 epochs.
EPOCHS_PER_HALVING = 10
# The epoch lengths the exponential-decay check tries: made up for the check, so that the
# learner's function must follow the ``steps_per_epoch`` it is given (the lesson passes the
# one it computes from its data, whatever the subset).
CHECK_STEPS_PER_EPOCH = (7, 30)


def _lesson_07_setup(function: Callable, initial_lr: float, callbacks: list, **arguments):
    """``function(fresh ConvNet, callbacks, initial_lr, **arguments)``, checked: return
    (model, callbacks).

    Checks the pair, Adam, a loss that reads logits, the ``accuracy`` metric, and that the
    callbacks given are still in the list returned.
    """
    import keras

    from lrlab.models import build_convnet

    extra = "".join(f", {key}={value!r}" for key, value in arguments.items())
    call = f"{function.__name__}(model, {callbacks!r}, initial_lr={initial_lr}{extra})"
    returned = function(build_convnet(), list(callbacks), initial_lr, **arguments)
    if not (isinstance(returned, tuple) and len(returned) == 2):
        raise Mismatch(f"{call} should return (model, callbacks), got {returned!r}")
    model, returned_callbacks = returned
    if not isinstance(model, keras.Model) or not getattr(model, "compiled", False):
        raise Mismatch(f"{call}: the first value returned should be the compiled model")
    if not isinstance(model.optimizer, keras.optimizers.Adam):
        raise Mismatch(f"{call}: compile with keras.optimizers.Adam, got {model.optimizer!r}")
    # Softmax cross-entropy of the logits (2, 0, -1) for class 0, by its definition
    # -log softmax(z)_0 = log(e^2 + e^0 + e^-1) - 2 = 0.16985.
    expected_loss = np.log(np.exp(2.0) + 1.0 + np.exp(-1.0)) - 2.0
    logits = np.array([[2.0, 0.0, -1.0]], dtype="float32")
    per_example = keras.losses.get(model.loss)(np.array([0]), logits)  # a string gives a function
    loss = float(np.mean(keras.ops.convert_to_numpy(per_example)))
    if not np.isclose(loss, expected_loss, rtol=1e-5):
        raise Mismatch(
            f"{call}: the loss of the logits (2, 0, -1) for class 0 should be {expected_loss:.5f} "
            f"(softmax cross-entropy), got {loss:.5f}: the model outputs logits, so use "
            "SparseCategoricalCrossentropy(from_logits=True)"
        )
    images, labels = np.zeros((2, 32, 32, 3), dtype="float32"), np.zeros(2, dtype="int32")
    if "accuracy" not in model.test_on_batch(images, labels, return_dict=True):
        raise Mismatch(f"{call}: compile with metrics=['accuracy'] (the lesson compares it)")
    if not isinstance(returned_callbacks, list) or any(
        callback not in returned_callbacks for callback in callbacks
    ):
        raise Mismatch(
            f"{call}: return a list that keeps the callbacks given, got {returned_callbacks!r}"
        )
    return model, returned_callbacks


def check_exponential_decay_training(exponential_decay: Callable) -> bool:
    """Lesson 07: ``exponential_decay(model, callbacks, initial_lr, steps_per_epoch)`` compiles
    Adam on an ExponentialDecay that halves the rate every 10 epochs of ``steps_per_epoch``
    steps, smoothly: rate(step) = initial_lr * 0.5 ** (step / (10 * steps_per_epoch))."""
    import keras

    from lrlab.callbacks import LearningRateLogger

    def cases(function):
        for initial_lr, callbacks, steps_per_epoch in (
            (1e-3, [], CHECK_STEPS_PER_EPOCH[0]),
            (5e-3, [LearningRateLogger()], CHECK_STEPS_PER_EPOCH[1]),
        ):
            model, returned_callbacks = _lesson_07_setup(
                function, initial_lr, callbacks, steps_per_epoch=steps_per_epoch
            )
            call = (
                f"{function.__name__}(model, callbacks, initial_lr={initial_lr}, "
                f"steps_per_epoch={steps_per_epoch})"
            )
            rate = model.optimizer.get_config()["learning_rate"]
            if not (isinstance(rate, dict) and rate.get("class_name") == "ExponentialDecay"):
                raise Mismatch(
                    f"{call}: Adam's learning_rate should be a "
                    f"keras.optimizers.schedules.ExponentialDecay, got {rate!r}"
                )
            schedule = keras.optimizers.schedules.deserialize(rate)
            # half after 10 epochs, smoothly: the steps half an epoch in are mid-epoch, where
            # a staircase schedule would differ.
            halving_steps = EPOCHS_PER_HALVING * steps_per_epoch
            middle = steps_per_epoch // 2
            for step in (0, middle, steps_per_epoch, halving_steps, halving_steps + middle):
                expected = initial_lr * 0.5 ** (step / halving_steps)
                expect_close(float(schedule(step)), expected, f"{call}: rate at step {step}", 1e-5)
            _refuse_epoch_callbacks(call, returned_callbacks)

    return run_check("exponential_decay", exponential_decay, cases)


def _refuse_epoch_callbacks(call: str, callbacks: list) -> None:
    """Mismatch if ``callbacks`` holds a callback that sets the rate (not with a schedule)."""
    import keras

    for callback in callbacks:
        if isinstance(
            callback, (keras.callbacks.LearningRateScheduler, keras.callbacks.ReduceLROnPlateau)
        ):
            raise Mismatch(
                f"{call}: {type(callback).__name__} cannot set the rate of an optimizer "
                "built on a schedule (Keras 3 raises TypeError): leave it out"
            )


def check_step_decay_training(step_decay: Callable) -> bool:
    """Lesson 07: Adam at initial_lr with a LearningRateScheduler halving it every 10 epochs."""
    import keras

    from lrlab.callbacks import LearningRateLogger, current_learning_rate

    def cases(function):
        for initial_lr, callbacks in ((1e-3, []), (5e-3, [LearningRateLogger()])):
            model, returned_callbacks = _lesson_07_setup(function, initial_lr, callbacks)
            call = f"{function.__name__}(model, callbacks, initial_lr={initial_lr})"
            if not isinstance(model.optimizer.get_config()["learning_rate"], float):
                raise Mismatch(
                    f"{call}: give Adam the float initial_lr: LearningRateScheduler cannot set "
                    "the rate of an optimizer built on a schedule (Keras 3 raises TypeError)"
                )
            scheduler_class = keras.callbacks.LearningRateScheduler
            schedulers = [c for c in returned_callbacks if isinstance(c, scheduler_class)]
            if len(schedulers) != 1:
                raise Mismatch(
                    f"{call}: the callbacks returned should hold one LearningRateScheduler, "
                    f"got {len(schedulers)}"
                )
            scheduler = schedulers[0]
            scheduler.set_model(model)
            # As in fit: on_epoch_begin(epoch) sets the rate, initial_lr * 0.5 ** (epoch // 10).
            for epoch in range(40):
                scheduler.on_epoch_begin(epoch)
                expected = initial_lr * 0.5 ** (epoch // EPOCHS_PER_HALVING)
                got = current_learning_rate(model.optimizer)
                expect_close(got, expected, f"{call}: rate of epoch {epoch}", rtol=1e-6)

    return run_check("step_decay", step_decay, cases)


def reference_exponential_decay(model, callbacks: list, initial_lr: float, steps_per_epoch: int):
    """lrlab's answer to lesson 07's exercise 1, for the cells that train with it.

    Adam on ``ExponentialDecay(initial_lr, 10 * steps_per_epoch, 0.5)`` (not a staircase),
    sparse cross-entropy on logits, ``accuracy``; returns ``(model, callbacks)`` unchanged.
    """
    import keras

    from lrlab.models import compile_classifier

    steps_per_epoch = _validate.integer("steps_per_epoch", steps_per_epoch, minimum=1)
    halving_steps = EPOCHS_PER_HALVING * steps_per_epoch
    schedule = keras.optimizers.schedules.ExponentialDecay(initial_lr, halving_steps, 0.5)
    return compile_classifier(model, keras.optimizers.Adam(schedule)), callbacks


def reference_step_decay(model, callbacks: list, initial_lr: float):
    """lrlab's answer to lesson 07's exercise 2, for the cells that train with it.

    Adam at the float ``initial_lr`` (same loss and metric) and, appended to the callbacks,
    a ``LearningRateScheduler`` giving epoch ``e`` (from 0) ``initial_lr * 0.5 ** (e // 10)``.
    """
    import keras

    from lrlab.models import compile_classifier

    def rate(epoch):
        return initial_lr * 0.5 ** (epoch // EPOCHS_PER_HALVING)

    model = compile_classifier(model, keras.optimizers.Adam(initial_lr))
    return model, [*callbacks, keras.callbacks.LearningRateScheduler(rate)]


# exercise name -> (its check, lrlab's reference answer)
REFERENCE_ANSWERS = {
    "exponential_decay": (check_exponential_decay_training, reference_exponential_decay),
    "step_decay": (check_step_decay_training, reference_step_decay),
}


def yours_or_reference(function, name: str) -> Callable:
    """The learner's ``function`` when it passes its check, else lrlab's reference answer.

    For a lesson that trains with an exercise's function later on (lesson 07), so that the
    lesson runs through in a learner copy whose exercise is not written yet. The check runs
    quietly; one line says which function the following cells use and why.
    """
    name = _validate.text("name", name)
    if name not in REFERENCE_ANSWERS:
        raise ValueError(
            f"no reference answer for the exercise {name!r}: the exercises with one are "
            f"{sorted(REFERENCE_ANSWERS)}"
        )
    check, reference = REFERENCE_ANSWERS[name]
    verdict = io.StringIO()
    with contextlib.redirect_stdout(verdict):
        passed = check(function)
    if passed:
        print(f"{name}: training with yours (it passes its check)")
        return function
    why = verdict.getvalue().strip().splitlines()
    why = why[-1] if why else "its check did not pass"
    if why.startswith("not implemented yet"):
        why = "yours is not implemented yet"
    else:
        why = f"yours does not pass its check yet ({why})"
    print(f"{name}: training with lrlab's reference answer, {why}")
    return reference


# --- lesson 08: the schedule shoot-out ------------------------------------------------------


def check_plateau_reductions(plateau_reductions: Callable) -> bool:
    """Lesson 08: ``plateau_reductions(metric_values, patience, min_delta)`` returns the epochs
    (counted from 1) at whose end Keras's ``ReduceLROnPlateau(mode="max", cooldown=0)`` lowers
    the rate: after ``patience`` epochs in a row that do not beat the best value so far by more
    than ``min_delta``, the waiting count starting again after each reduction."""

    def cases(function):
        # (metric values, patience, min_delta, expected epochs), by hand from Keras's rule
        # (keras/src/callbacks/reduce_lr_on_plateau.py): epoch 1 sets the best; a bad epoch
        # adds 1 to `wait`; `wait >= patience` reduces and resets `wait`; an improvement resets it.
        # A made-up curve: the best rises at epochs 1, 2, 4, 7, 9 (0.30, 0.50, 0.52, 0.60,
        # 0.70); epoch 5 only equals the best (0.52), which is not beating it, so the bad epochs
        # are 3, 5, 6, 8, 10, 11, 12, 13.
        made_up = [0.30, 0.50, 0.45, 0.52, 0.52, 0.51, 0.60, 0.58, 0.70, 0.70, 0.69, 0.68, 0.67]
        for values, patience, min_delta, expected in (
            # patience 1: every bad epoch reduces
            (made_up, 1, 0.0, [3, 5, 6, 8, 10, 11, 12, 13]),
            # patience 2: wait reaches 2 at 6 (5, 6) and 11 (10, 11), then again at 13 (12, 13)
            # after the reset at 11; 3 and 8 are single bad epochs before an improvement
            (made_up, 2, 0.0, [6, 11, 13]),
            # patience 3: only 10, 11, 12 are three bad epochs in a row
            (made_up, 3, 0.0, [12]),
            # patience 0 acts like patience 1: `wait` is raised before it is compared
            (made_up, 0, 0.0, [3, 5, 6, 8, 10, 11, 12, 13]),
            # the best so far, not the previous epoch: 0.55 and 0.58 are still below 0.6
            ([0.6, 0.5, 0.55, 0.58], 2, 0.0, [3]),
            # min_delta 0.01: only 0.53 (epoch 3) and 0.55 (epoch 6) beat the best by more
            ([0.50, 0.505, 0.53, 0.535, 0.536, 0.55], 1, 0.01, [2, 4, 5]),
            ([0.50, 0.505, 0.53, 0.535, 0.536, 0.55], 2, 0.01, [5]),
            # always improving, a single epoch, no epochs: nothing to reduce
            ([0.1, 0.2, 0.3, 0.4], 1, 0.0, []),
            ([0.5], 1, 0.0, []),
            ([], 1, 0.0, []),
        ):
            call = f"plateau_reductions({values}, patience={patience}, min_delta={min_delta})"
            got = function(list(values), patience, min_delta)
            if [int(epoch) for epoch in got] != expected:
                raise Mismatch(f"{call}: expected {expected}, got {list(got)}")

    return run_check("plateau_reductions", plateau_reductions, cases)


# --- lesson 09: batch size and the learning rate ---------------------------------------------


def check_scaled_learning_rate(scaled_rate: Callable) -> bool:
    """Lesson 09: ``scaled_rate(base_rate, base_batch, batch, rule)`` is ``base_rate * batch /
    base_batch`` for ``rule="linear"`` (Goyal et al. 2017, https://arxiv.org/abs/1706.02677)
    and ``base_rate * sqrt(batch / base_batch)`` for ``rule="sqrt"`` (Hoffer et al. 2017,
    https://arxiv.org/abs/1705.08741; ``lrlab.batch_size.scaled_learning_rate``)."""
    return _check_formula("scaled_rate", scaled_rate, ("rule",), (
        # (base_rate, base_batch, batch, rule, expected), by hand from the two formulas
        (0.1, 256, 8192, "linear", 3.2),  # Goyal et al.'s ImageNet: k = 32, 0.1 * 32
        (0.1, 256, 256, "linear", 0.1),  # k = 1: the base rate
        (0.1, 256, 64, "linear", 0.025),  # a smaller batch: k = 1/4
        (0.05, 16, 48, "linear", 0.15),  # k = 3, not a power of 2
        (1e-3, 64, 256, "sqrt", 2e-3),  # sqrt(4) = 2
        (1e-3, 64, 16, "sqrt", 5e-4),  # sqrt(1/4) = 1/2
        (0.5, 10, 90, "sqrt", 1.5),  # sqrt(9) = 3
        (0.01, 16, 32, "sqrt", 0.01 * 2**0.5),  # sqrt(2) = 1.41421356...: 0.0141421356...
    ))


def check_noise_scale(noise_scale: Callable) -> bool:
    """Lesson 09: ``noise_scale(small_norm_squared, big_norm_squared, batch_small, batch_big)``
    is ``(|G|^2, tr(Sigma), B_simple)`` from the mean squared norms of batch gradients at two
    batch sizes (McCandlish et al. 2018, https://arxiv.org/abs/1812.06162, Appendix A):
    ``|G|^2 = (B * big - b * small) / (B - b)``, ``tr(Sigma) = (small - big) / (1/b - 1/B)``,
    ``B_simple = tr(Sigma) / |G|^2``."""

    def cases(function):
        # Each case is made from a chosen |G|^2 and tr(Sigma): the mean squared norm of a batch
        # of size n is |G|^2 + tr(Sigma) / n, and the function must recover the two.
        for small, big, b_small, b_big, expected in (
            (11.0, 2.0, 10, 100, (1.0, 100.0, 100.0)),  # |G|^2 = 1, tr = 100: 1 + 10, 1 + 1
            (8.0, 5.0, 16, 64, (4.0, 64.0, 16.0)),  # 4 + 64/16, 4 + 64/64
            (5.5, 1.0, 4, 40, (0.5, 20.0, 40.0)),  # 0.5 + 20/4, 0.5 + 20/40
            (4.0, 3.0, 1, 2, (2.0, 2.0, 1.0)),  # 2 + 2/1, 2 + 2/2
            (0.3, 0.3, 8, 512, (0.3, 0.0, 0.0)),  # no noise: both sizes alike, tr = 0
        ):
            call = f"noise_scale({small}, {big}, {b_small}, {b_big})"
            got = function(small, big, b_small, b_big)
            if len(tuple(got)) != 3:
                raise Mismatch(f"{call}: expected 3 values (|G|^2, tr(Sigma), B_simple), "
                               f"got {got!r}")
            for value, wanted, what in zip(got, expected, ("|G|^2", "tr(Sigma)", "B_simple"),
                                           strict=True):
                expect_close(value, wanted, f"{call}, {what}", rtol=1e-9, atol=1e-12)

    return run_check("noise_scale", noise_scale, cases)


# --- lesson 10: one run, many budgets -------------------------------------------------------


def check_steps_with_and_without_branching(steps_with_and_without_branching: Callable) -> bool:
    """Lesson 10: ``steps_with_and_without_branching(budgets, cooldown_fraction)`` returns
    ``(steps with branching, steps from scratch)``: from scratch every budget is its own run,
    ``sum(budgets)``; branched, one trunk runs to the last branch point ``max(b - c(b))`` and
    every budget adds its cool-down ``c(b) = max(1, round(cooldown_fraction * b))``."""

    def cases(function):
        # (budgets, fraction, expected), by hand from the rule above
        for budgets, fraction, expected in (
            # cool-downs 200, 400, 800; trunk to 4000 - 800 = 3200; 3200 + 1400 = 4600
            ([1000, 2000, 4000], 0.2, (4600, 7000)),
            # cool-downs 50, 100, 200; trunk to 3800; 3800 + 350 = 4150
            ([1000, 2000, 4000], 0.05, (4150, 7000)),
            # one budget costs the same either way
            ([500], 0.1, (500, 500)),
            # the order of the budgets does not matter: cool-downs 30, 10; trunk to 270
            ([300, 100], 0.1, (310, 400)),
            # round(0.05 * 10) = 0, so each cool-down is 1 step; trunk to 9; 9 + 2 = 11
            ([10, 10], 0.05, (11, 20)),
            # a cool-down of the whole budget: the trunk is the warm-up only, 0 steps here
            ([100, 200], 1.0, (300, 300)),
        ):
            call = f"steps_with_and_without_branching({budgets}, {fraction})"
            got = function(list(budgets), fraction)
            if tuple(int(value) for value in got) != expected:
                raise Mismatch(f"{call}: expected {expected}, got {tuple(got)}")

    return run_check("steps_with_and_without_branching", steps_with_and_without_branching, cases)


def check_sqrt_cooldown(sqrt_cooldown: Callable) -> bool:
    """Lesson 10: ``sqrt_cooldown(step, start_step, cooldown_steps, peak_learning_rate)`` is
    the 1 - sqrt cool-down of Hägele et al. (2024), https://arxiv.org/abs/2405.18392: the
    peak before ``start_step``, ``peak * (1 - sqrt((step - start_step) / cooldown_steps))``
    during the cool-down, 0 after it (``lrlab.schedules.WarmupStableDecay`` with
    ``decay_shape="sqrt"`` after its warm-up)."""
    keywords = ()
    return _check_formula("sqrt_cooldown", sqrt_cooldown, keywords, (
        # (step, start_step, cooldown_steps, peak, expected), by hand from the formula
        (0, 800, 200, 1e-3, 1e-3),  # before the cool-down: the peak
        (799, 800, 200, 1e-3, 1e-3),
        (800, 800, 200, 1e-3, 1e-3),  # t = 0
        (850, 800, 200, 1e-3, 5e-4),  # t = 1/4, sqrt = 1/2
        (872, 800, 200, 1e-3, 4e-4),  # t = 0.36, sqrt = 0.6
        (928, 800, 200, 2e-2, 4e-3),  # t = 0.64, sqrt = 0.8: 2e-2 * 0.2
        (962, 800, 200, 1e-3, 1e-4),  # t = 0.81, sqrt = 0.9
        (1000, 800, 200, 1e-3, 0.0),  # t = 1: the end
        (1500, 800, 200, 1e-3, 0.0),  # after it: 0
        (9, 0, 100, 1.0, 0.7),  # t = 0.09, sqrt = 0.3
    ))


# --- lesson 11: the practitioner's guide ----------------------------------------------------


def check_starting_schedule(starting_schedule: Callable) -> bool:
    """Lesson 11: ``starting_schedule(total_steps, peak_learning_rate, warmup_fraction=0.05,
    cooldown_fraction=0.2)`` is a ``WarmupStableDecay`` from 0 to 0 with a 1 - sqrt cooldown:
    ``round(warmup_fraction * total_steps)`` warm-up steps, ``round(cooldown_fraction *
    total_steps)`` cooldown steps at the end, the peak held in between."""
    from lrlab.plotting import learning_rate_curve
    from lrlab.schedules import WarmupStableDecay

    def cases(function):
        # (total, peak, warmup_fraction, cooldown_fraction, (warmup, stable, decay) steps,
        #  {step: rate}), by hand from WarmupStableDecay's formula: the warm-up is peak * s / W;
        #  the cooldown is peak * (1 - sqrt(t)) with t = (s - W - S) / D, clipped to [0, 1]
        for total, peak, warmup, cooldown, phases, rates in (
            # the defaults on 1000 steps: W = 50, D = 200, S = 750
            (1000, 1e-3, None, None, (50, 750, 200), {
                0: 0.0, 25: 5e-4,  # 1e-3 * 25 / 50
                50: 1e-3, 800: 1e-3,  # the stable phase; t = 0 at step 800
                850: 5e-4,  # t = 1/4: 1 - 1/2
                950: 1.339745962155614e-4,  # t = 3/4: 1e-3 * (1 - sqrt(3) / 2)
                1000: 0.0, 1200: 0.0,  # t = 1, and clipped after
            }),
            # W = round(0.1 * 200) = 20, D = round(0.5 * 200) = 100, S = 80
            (200, 0.1, 0.1, 0.5, (20, 80, 100), {
                10: 0.05, 100: 0.1, 125: 0.05,  # t = 1/4
                136: 0.04,  # t = 0.36: 1 - 0.6
                200: 0.0,
            }),
            # no warm-up: the peak from step 0; D = 20, S = 80
            (100, 1e-2, 0.0, 0.2, (0, 80, 20), {
                0: 1e-2, 80: 1e-2,
                84: 5.527864045000421e-3,  # t = 0.2: 1e-2 * (1 - sqrt(0.2))
                90: 2.9289321881345243e-3,  # t = 1/2: 1e-2 * (1 - sqrt(1/2))
            }),
            # rounding, not truncation: W = round(8.7) = 9 (int() would give 8), D = 6, S = 15
            (30, 1.0, 0.29, 0.2, (9, 15, 6), {
                3: 1 / 3, 9: 1.0, 24: 1.0,
                27: 0.2928932188134524,  # t = 1/2: 1 - sqrt(1/2)
                30: 0.0,
            }),
        ):
            keywords = {}
            if warmup is not None:
                keywords = {"warmup_fraction": warmup, "cooldown_fraction": cooldown}
            call = _call_text("starting_schedule", (total, peak), keywords)
            schedule = function(total, peak, **keywords)
            if not isinstance(schedule, WarmupStableDecay):
                raise Mismatch(
                    f"{call}: expected a lrlab.schedules.WarmupStableDecay, "
                    f"got {type(schedule).__name__}"
                )
            if schedule.decay_shape != "sqrt":
                raise Mismatch(f"{call}: expected decay_shape 'sqrt', got {schedule.decay_shape!r}")
            for what, expected in zip(("warmup_steps", "stable_steps", "decay_steps"), phases,
                                      strict=True):
                expect_close(getattr(schedule, what), expected, f"{call}.{what}")
            for what, expected in (("peak_learning_rate", peak), ("initial_learning_rate", 0.0),
                                   ("final_learning_rate", 0.0)):
                expect_close(getattr(schedule, what), expected, f"{call}.{what}")
            steps = list(rates)
            # a plain float peak computes in float32 (the schedules' float64 rule): 1e-5
            expect_close(learning_rate_curve(schedule, steps), [rates[s] for s in steps],
                         f"the rates of {call} at steps {steps}", rtol=1e-5, atol=1e-9)

    return run_check("starting_schedule", starting_schedule, cases)
