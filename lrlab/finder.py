"""The learning-rate range test: raise the rate step by step, record the loss, suggest a rate.

Leslie Smith's range test (Cyclical Learning Rates for Training Neural Networks,
WACV 2017, section 3.3) trains for a short while with a rate that grows from
``start_lr`` to ``end_lr``; the loss first barely moves, then falls, then
diverges. fastai's ``lr_find`` (fastai/callback/schedule.py) made it exponential,
smoothed, stopped at divergence and reduced to named suggestions. Here:

- ``learning_rate_ramp``: the rate of each step, exponential or linear;
- ``LossSmoother`` / ``smooth_losses``: the bias-corrected exponential average;
- ``RangeTestState``: records step losses, smooths them, decides when to stop;
- ``valley``, ``steep``, ``minimum``, ``slide``: the suggestions of a curve;
- ``RangeTestResult``: rates, raw and smoothed losses, ``suggestions``, ``plot()``;
- ``run_range_test``: the loop itself, train at each rate until the state says stop;
- ``LRFinder`` (a Keras callback) and ``find_lr(model, data)`` for Keras models;
- ``range_test_numpy(loss, initial_params)`` for the ``lrlab.scratch`` losses.

Both drivers share the ramp, the state (smoothing and stopping) and the
suggestions. ``find_lr`` restores the model's variables (BatchNorm statistics
and dropout seeds included), the optimizer's variables and its learning rate in
memory, whether the test ends, diverges or raises; it writes no file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import matplotlib.pyplot as plt
import numpy as np

from lrlab import _validate, scratch
from lrlab.callbacks import unwrap_optimizer
from lrlab.scratch import _integer_at_least

RAMP_MODES = ("exponential", "linear")
SUGGESTION_NAMES = ("valley", "steep", "minimum", "slide")
EPOCH = "epoch"  # batches_per_step=EPOCH: one rate per epoch


# --- arguments ---------------------------------------------------------------------------------


def _check_beta(beta) -> float:
    return _validate.real("beta", beta, 0, 1, high_open=True, allowed="in [0, 1) (0: no smoothing)")


def _check_stop_factor(stop_factor) -> float | None:
    if stop_factor is None:
        return None
    allowed = "a number > 1 (or None: never stop early)"
    return _validate.real("stop_factor", stop_factor, low=1, low_open=True, allowed=allowed)


def _check_batches_per_step(batches_per_step) -> int | None:
    """A positive int, or None for ``EPOCH`` (the driver ends each step at the end of an epoch)."""
    if batches_per_step == EPOCH:
        return None
    if isinstance(batches_per_step, str):
        raise ValueError(
            f"batches_per_step must be a positive integer or {EPOCH!r}, got {batches_per_step!r}"
        )
    return _integer_at_least("batches_per_step", batches_per_step, 1)


# --- the ramp ----------------------------------------------------------------------------------


def learning_rate_ramp(
    start_lr: float = 1e-7, end_lr: float = 10.0, num_steps: int = 100, mode: str = "exponential"
) -> np.ndarray:
    """The rates of the ``num_steps`` steps of a range test, from ``start_lr`` to ``end_lr``.

    exponential: r_i = start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))
    linear:      r_i = start_lr + (end_lr - start_lr) * i / (num_steps - 1)  (Smith 2017, 3.3)

    for i = 0 .. num_steps - 1 (``numpy.geomspace`` / ``numpy.linspace``): the first step
    uses ``start_lr`` and the last ``end_lr`` (fastai's exponential ramp uses i / num_steps
    and stops one step short of ``end_lr``).
    """
    start_lr = _validate.real("start_lr", start_lr, low=0, low_open=True, allowed="> 0")
    end_lr = _validate.real(
        "end_lr", end_lr, low=start_lr, low_open=True, allowed=f"greater than {start_lr=}"
    )
    num_steps = _integer_at_least("num_steps", num_steps, 2)
    mode = _validate.choice("mode", mode, RAMP_MODES)
    fraction = np.arange(num_steps, dtype=np.float64) / (num_steps - 1)
    if mode == "exponential":
        return start_lr * (end_lr / start_lr) ** fraction
    return start_lr + (end_lr - start_lr) * fraction


# --- smoothing and stopping --------------------------------------------------------------------


class LossSmoother:
    """Bias-corrected exponential moving average of the losses (Adam's correction; fastai).

    a_0 = 0, a_t = beta a_{t-1} + (1 - beta) x_t, and the smoothed value is
    a_t / (1 - beta ** t): the weighted mean of x_1..x_t with weights beta ** (t - i),
    free of the pull towards 0 that a_0 = 0 gives the first values. beta = 0 keeps x_t.
    """

    def __init__(self, beta: float = 0.98):
        self.beta = _check_beta(beta)
        self._average = 0.0
        self._count = 0

    def update(self, value: float) -> float:
        """Add the next loss; return the smoothed loss up to it."""
        self._count += 1
        self._average = self.beta * self._average + (1 - self.beta) * float(value)
        return self._average / (1 - self.beta**self._count)


def smooth_losses(losses, beta: float = 0.98) -> np.ndarray:
    """``LossSmoother(beta)`` applied to ``losses`` in order; the smoothed curve as float64."""
    smoother = LossSmoother(beta)
    return np.array([smoother.update(value) for value in losses], dtype=np.float64)


class RangeTestState:
    """What a range test has seen so far, and whether it should stop; shared by both drivers.

    A step trains ``batches_per_step`` batches at ``learning_rates[step]`` (``None``:
    the driver ends each step, at the end of an epoch). A step's loss is the mean of
    its batches' losses; it is smoothed by ``LossSmoother(beta)``. The test stops
    after the last rate, when a loss is NaN or infinite, or when the smoothed loss
    exceeds ``stop_factor`` times the lowest smoothed loss so far (fastai's rule,
    factor 4; ``None`` never stops early).
    """

    def __init__(
        self,
        learning_rates,
        batches_per_step: int | str = 1,
        beta: float = 0.98,
        stop_factor: float | None = 4.0,
    ):
        self.learning_rates = np.asarray(learning_rates, dtype=np.float64)
        if self.learning_rates.ndim != 1 or self.learning_rates.size < 2:
            raise ValueError("learning_rates must be a 1-D sequence of at least 2 rates")
        self.batches_per_step = _check_batches_per_step(batches_per_step)
        self.beta = _check_beta(beta)
        self.stop_factor = _check_stop_factor(stop_factor)
        self._smoother = LossSmoother(self.beta)
        self.batch_losses: list[float] = []
        self.step_losses: list[float] = []
        self.smoothed_losses: list[float] = []
        self.validation_losses: list[float] = []
        self._current_step_losses: list[float] = []
        self._best_smoothed = np.inf
        self.stop_reason: str | None = None

    @property
    def step(self) -> int:
        """The index of the step in progress (the number of completed steps)."""
        return len(self.step_losses)

    @property
    def finished(self) -> bool:
        return self.stop_reason is not None

    @property
    def learning_rate(self) -> float:
        """The rate of the step in progress."""
        return float(self.learning_rates[self.step])

    @property
    def starting_step(self) -> bool:
        """True before the first batch of a step: the moment to set its rate."""
        return not self._current_step_losses

    def add_batch_loss(self, loss: float) -> bool:
        """Record one batch's loss; True when it completes the step (the driver then calls
        ``end_step``). A non-finite loss completes the step at once."""
        if self.finished:
            raise RuntimeError("the range test has finished: no more batches")
        loss = float(loss)
        self.batch_losses.append(loss)
        self._current_step_losses.append(loss)
        return not np.isfinite(loss) or len(self._current_step_losses) == self.batches_per_step

    def end_step(self, validation_loss: float | None = None) -> None:
        """Close the step in progress: its loss, the smoothed loss, and the stopping rule."""
        if not self._current_step_losses:
            raise RuntimeError("end_step() needs at least one batch in the step")
        loss = float(np.mean(self._current_step_losses))
        self._current_step_losses = []
        smoothed = self._smoother.update(loss)
        self.step_losses.append(loss)
        self.smoothed_losses.append(smoothed)
        if validation_loss is not None:
            self.validation_losses.append(float(validation_loss))
        self._best_smoothed = min(self._best_smoothed, smoothed)
        if not (np.isfinite(loss) and np.isfinite(smoothed)):
            self.stop_reason = "non-finite loss"
        elif self.stop_factor is not None and smoothed > self.stop_factor * self._best_smoothed:
            self.stop_reason = "diverged"
        elif self.step == self.learning_rates.size:
            self.stop_reason = "completed"

    def result(self, mode: str = "exponential") -> RangeTestResult:
        """The steps completed so far as a ``RangeTestResult``."""
        steps = self.step
        return RangeTestResult(
            learning_rates=self.learning_rates[:steps].copy(),
            losses=np.array(self.step_losses, dtype=np.float64),
            smoothed_losses=np.array(self.smoothed_losses, dtype=np.float64),
            batch_losses=np.array(self.batch_losses, dtype=np.float64),
            validation_losses=(
                np.array(self.validation_losses, dtype=np.float64)
                if self.validation_losses
                else None
            ),
            num_steps=int(self.learning_rates.size),
            stop_reason=self.stop_reason or "interrupted",
            beta=self.beta,
            mode=mode,
        )


# --- suggestions -------------------------------------------------------------------------------


def _curve(learning_rates, losses, minimum_points: int, rule: str) -> tuple[np.ndarray, np.ndarray]:
    rates = np.asarray(learning_rates, dtype=np.float64)
    values = np.asarray(losses, dtype=np.float64)
    if rates.ndim != 1 or rates.shape != values.shape:
        raise ValueError(
            f"{rule}: learning_rates and losses must be 1-D of the same length, "
            f"got shapes {rates.shape} and {values.shape}"
        )
    if rates.size < minimum_points:
        raise ValueError(f"{rule} needs at least {minimum_points} points, got {rates.size}")
    if np.any(rates <= 0):
        raise ValueError(f"{rule}: learning_rates must be > 0")
    return rates, values


def valley(learning_rates, losses) -> float:
    """fastai's default suggestion: about half-way along the longest valley.

    For each point i, L_i is the length of the longest strictly decreasing
    subsequence of the losses that ends at i (L_i = 1 + max L_j over j < i with
    loss_j > loss_i, else 1). With e the first index of the largest L and
    s = e - L_e, the suggestion is the rate at s + floor(L_e / 3) + floor(L_e / 6)
    (fastai ``valley``; the subsequence need not be contiguous).
    """
    rates, values = _curve(learning_rates, losses, 1, "valley")
    lengths = np.ones(values.size, dtype=np.int64)
    for i in range(1, values.size):
        higher_before = values[:i] > values[i]
        if higher_before.any():
            lengths[i] = 1 + lengths[:i][higher_before].max()
    end = int(np.argmax(lengths))  # the first index of the longest
    length = int(lengths[end])
    return float(rates[end - length + length // 3 + length // 6])


def steep(learning_rates, losses) -> float:
    """The rate where the loss falls fastest against log(rate) (fastai ``steep``).

    slope_i = (loss_{i+1} - loss_i) / (ln rate_{i+1} - ln rate_i); the suggestion is
    rate_i at the most negative slope (the left end of the steepest segment).
    """
    rates, values = _curve(learning_rates, losses, 2, "steep")
    slopes = np.diff(values) / np.diff(np.log(rates))
    return float(rates[int(np.argmin(slopes))])


def minimum(learning_rates, losses) -> float:
    """The rate of the lowest loss divided by 10 (fastai ``minimum``)."""
    rates, values = _curve(learning_rates, losses, 1, "minimum")
    return float(rates[int(np.argmin(values))] / 10)


def slide(
    learning_rates, losses, lr_diff: int = 15, threshold: float = 0.005, adjust_value: float = 1.0
) -> float:
    """fastai's interval slide rule.

    g = numpy.gradient(losses) (per point, not per rate). A window of ``lr_diff``
    points, right end r = n - 1 and left end l = r - lr_diff, slides left while
    l >= 0 and |g_r - g_l| > ``threshold`` (in loss units); the suggestion is
    ``adjust_value`` times the rate at the last left end l for which that held,
    or at n - 1 - lr_diff when it never held.
    """
    lr_diff = _integer_at_least("lr_diff", lr_diff, 1)
    threshold = _validate.real("threshold", threshold)
    rates, values = _curve(learning_rates, losses, max(lr_diff + 1, 2), "slide")
    gradient = np.gradient(values)
    right = values.size - 1
    left = right - lr_diff
    suggestion = rates[left]
    while left >= 0 and abs(gradient[right] - gradient[left]) > threshold:
        suggestion = rates[left]
        right -= 1
        left -= 1
    return float(suggestion) * float(adjust_value)


SUGGESTIONS: dict[str, Callable] = {
    "valley": valley,
    "steep": steep,
    "minimum": minimum,
    "slide": slide,
}


# --- the result --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RangeTestResult:
    """A range test: one entry per completed step in ``learning_rates``, ``losses`` (the
    step's mean batch loss), ``smoothed_losses`` and ``validation_losses`` (or None);
    ``batch_losses`` has every batch. ``stop_reason`` is "completed", "diverged",
    "non-finite loss" or "interrupted" (training raised).

    The suggestions (``suggestions``, ``suggest``) read the smoothed curve the way
    fastai's ``lr_find`` does: without the first ``num_steps // 10`` steps and the
    last 5, and cut before the first non-finite value.
    """

    learning_rates: np.ndarray
    losses: np.ndarray
    smoothed_losses: np.ndarray
    batch_losses: np.ndarray
    validation_losses: np.ndarray | None
    num_steps: int
    stop_reason: str
    beta: float
    mode: str = "exponential"

    @property
    def divergence_learning_rate(self) -> float | None:
        """The rate of the step at which the test stopped for divergence, else None."""
        if self.stop_reason in ("diverged", "non-finite loss"):
            return float(self.learning_rates[-1])
        return None

    def suggestion_curve(self) -> tuple[np.ndarray, np.ndarray]:
        """The (rates, smoothed losses) the suggestions are computed on."""
        rates = self.learning_rates[self.num_steps // 10 : -5]
        losses = self.smoothed_losses[self.num_steps // 10 : -5]
        bad = np.flatnonzero(~np.isfinite(losses))
        if bad.size:
            rates, losses = rates[: bad[0]], losses[: bad[0]]
        return rates, losses

    def suggest(self, name: str) -> float:
        """The suggestion ``name`` (one of ``SUGGESTION_NAMES``); ValueError if the curve is too
        short for its rule."""
        if name not in SUGGESTIONS:
            raise ValueError(f"suggestion must be one of {SUGGESTION_NAMES}, got {name!r}")
        rates, losses = self.suggestion_curve()
        try:
            return SUGGESTIONS[name](rates, losses)
        except ValueError as error:
            raise ValueError(
                f"{error} (the test completed {self.learning_rates.size} steps and the "
                f"suggestions skip the first {self.num_steps // 10} and the last 5): "
                "start lower or use more steps"
            ) from None

    @property
    def suggestions(self) -> dict[str, float]:
        """Every suggestion by name; NaN for a rule that needs more points than the curve has."""
        values = {}
        for name in SUGGESTIONS:
            try:
                values[name] = self.suggest(name)
            except ValueError:
                values[name] = float("nan")
        return values

    def plot(
        self, ax=None, suggestions: Sequence[str] = SUGGESTION_NAMES, title: str | None = None
    ):
        """Raw and smoothed loss against the rate, the named suggestions marked; the figure.

        The y-axis runs from the lowest loss to the start of the curve (and the marked
        suggestions), so the explosion at the end does not flatten the rest.
        """
        unknown = [name for name in suggestions if name not in SUGGESTIONS]
        if unknown:
            raise ValueError(f"suggestions must be among {SUGGESTION_NAMES}, got {unknown}")
        if ax is None:
            fig, ax = plt.subplots(figsize=(7, 4.2))
        else:
            fig = ax.figure
        finite = np.isfinite(self.losses)
        ax.plot(
            self.learning_rates[finite], self.losses[finite], color="0.7", lw=1, label="raw loss"
        )
        ax.plot(
            self.learning_rates,
            self.smoothed_losses,
            color="C0",
            lw=2,
            label=f"smoothed loss (beta={self.beta:g})",
        )
        if self.validation_losses is not None:
            ax.plot(
                self.learning_rates, self.validation_losses, color="C1", label="validation loss"
            )
        marked = self._mark_suggestions(ax, suggestions)
        divergence = self.divergence_learning_rate
        if divergence is not None:
            ax.axvline(divergence, color="C3", ls=":", label=f"stopped ({self.stop_reason})")
        if finite.any():
            self._fit_y_axis(ax, self.losses[finite], marked)
        if self.mode == "exponential":
            ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss")
        ax.set_title(title or f"LR range test ({self.learning_rates.size} steps)")
        ax.legend()
        return fig

    def _mark_suggestions(self, ax, suggestions: Sequence[str]) -> list[float]:
        """Mark each named suggestion on the smoothed curve; the losses marked."""
        curve_rates, curve_losses = self.suggestion_curve()
        values = self.suggestions
        marked = []
        for color, name in enumerate(suggestions, start=2):
            rate = values[name]
            if not np.isfinite(rate):
                continue
            at = float(np.interp(np.log(rate), np.log(curve_rates), curve_losses))
            marked.append(at)
            ax.plot(rate, at, "o", ms=8, color=f"C{color}", label=f"{name}: {rate:.2e}")
        return marked

    def _fit_y_axis(self, ax, shown: np.ndarray, marked: list[float]) -> None:
        """The y-axis from the lowest loss to the start of the curve (and the marks)."""
        low = min(shown.min(), np.nanmin(self.smoothed_losses), *marked)
        high = max(shown[: max(1, shown.size // 10)].max(), self.smoothed_losses[0], *marked)
        if high > low:
            margin = 0.1 * (high - low)
            ax.set_ylim(low - margin, high + margin)


# --- Keras -------------------------------------------------------------------------------------


def _settable_learning_rate(optimizer):
    """The optimizer's learning-rate variable; TypeError if the rate is a schedule or callable.

    Under mixed precision it is the rate of the optimizer inside Keras's LossScaleOptimizer.
    """
    inner = unwrap_optimizer(optimizer)
    rate = inner.learning_rate
    if isinstance(rate, keras.Variable):
        return rate
    given = inner.get_config().get("learning_rate")
    described = given.get("class_name", "a schedule") if isinstance(given, dict) else "a callable"
    name = type(inner).__name__
    wrapped = (
        " (inside the LossScaleOptimizer that Keras adds under mixed precision)"
        if inner is not optimizer
        else ""
    )
    raise TypeError(
        f"the range test sets the learning rate itself at every step, but this {name}{wrapped} "
        f"was built with learning_rate={described}, which cannot be set. Compile the model "
        f"with a float rate for the test, e.g. {name}(learning_rate=1e-3), then put the rate "
        f"it suggests into your schedule."
    )


def _check_finite_epochs(x, batches_per_step) -> None:
    """With one rate per epoch the data must have an end: ValueError for an infinite dataset."""
    if batches_per_step is not None:
        return
    if hasattr(x, "cardinality") and hasattr(x, "element_spec"):  # tf.data.Dataset
        import tensorflow as tf

        infinite = int(x.cardinality()) == tf.data.INFINITE_CARDINALITY
    elif isinstance(x, keras.utils.PyDataset):
        infinite = x.num_batches is None
    else:
        return
    if infinite:
        raise ValueError(
            f"batches_per_step={EPOCH!r} ends each step at the end of an epoch, but the data is "
            "infinite (a tf.data.Dataset made with .repeat(), or a PyDataset without "
            "num_batches), so the first epoch would never end. Pass batches_per_step=<number of "
            "batches per rate> (e.g. batches_per_step=10), or finite data (drop .repeat(), or "
            "use dataset.take(n))."
        )


def _loss_tracker(model):
    tracker = next((metric for metric in model.metrics if metric.name == "loss"), None)
    if tracker is None:
        raise ValueError("the model has no loss tracker: compile it with a loss first")
    return tracker


def _split_pair(data):
    """(x, y) from an (x, y) pair of arrays, else (data, None) for a dataset."""
    return data if isinstance(data, tuple) and len(data) == 2 else (data, None)


def _first_batch_inputs(x, batch_size: int | None):
    """The inputs of the first batch of ``x`` (arrays, a tf.data.Dataset or a PyDataset)."""
    if isinstance(x, keras.utils.PyDataset):
        batch = x[0]
    elif hasattr(x, "take") and hasattr(x, "element_spec"):  # tf.data.Dataset
        batch = next(iter(x.take(1)))
    else:
        return keras.tree.map_structure(lambda array: array[: batch_size or 32], x)
    return batch[0] if isinstance(batch, (tuple, list)) else batch


class LRFinder(keras.callbacks.Callback):
    """Keras callback running a range test inside ``model.fit``; ``find_lr`` drives it.

    Before each batch it resets the model's loss tracker (the ``Mean`` metric behind
    ``logs["loss"]``), so ``logs["loss"]`` after the batch is that batch's own loss
    rather than Keras's running mean since the epoch began (a mean weighted by the
    number of samples per batch). Steps are ``batches_per_step`` batches, or one
    epoch with ``batches_per_step="epoch"``; ``validation_data`` is evaluated after
    every step. When the test finishes it sets ``model.stop_training``.

    ``on_train_begin`` keeps a copy of ``model.variables`` (weights, BatchNorm
    statistics, dropout seeds) and ``optimizer.variables`` (iterations, learning
    rate, moments); ``on_train_end`` and ``restore()`` assign them back. fit does
    not call ``on_train_end`` when training raises: call ``restore()`` in a
    ``finally`` block, as ``find_lr`` does. ``result`` holds the test so far.
    """

    def __init__(
        self,
        start_lr: float = 1e-7,
        end_lr: float = 10.0,
        num_steps: int = 100,
        mode: str = "exponential",
        batches_per_step: int | str = 1,
        beta: float = 0.98,
        stop_factor: float | None = 4.0,
        validation_data=None,
    ):
        super().__init__()
        self.mode = mode
        self.learning_rates = learning_rate_ramp(start_lr, end_lr, num_steps, mode)
        self.batches_per_step = batches_per_step
        self.beta = beta
        self.stop_factor = stop_factor
        self.validation_data = validation_data
        self._state = RangeTestState(self.learning_rates, batches_per_step, beta, stop_factor)
        self._snapshot = None

    @property
    def state(self) -> RangeTestState:
        """The test so far: its steps, losses and whether it has stopped."""
        return self._state

    @property
    def result(self) -> RangeTestResult:
        return self._state.result(self.mode)

    def on_train_begin(self, logs=None):
        optimizer = self.model.optimizer
        self._rate_variable = _settable_learning_rate(optimizer)
        if getattr(self.model, "steps_per_execution", 1) != 1:
            raise ValueError(
                "the range test needs one batch per callback call: compile with "
                f"steps_per_execution=1, got {self.model.steps_per_execution}"
            )
        self._tracker = _loss_tracker(self.model)
        if not self.model.built:
            raise ValueError(
                "LRFinder needs a built model, to keep its weights before the first batch: "
                "call the model on a batch first (find_lr does this for you)"
            )
        if not optimizer.built:  # Keras would build it in the first step, after our snapshot
            optimizer.build(self.model.trainable_variables)
        self._state = RangeTestState(
            self.learning_rates, self.batches_per_step, self.beta, self.stop_factor
        )
        self._snapshot = [
            (variable, np.array(variable.numpy(), copy=True))
            for variable in (*self.model.variables, *optimizer.variables)
        ]

    def on_train_batch_begin(self, batch, logs=None):
        self._tracker.reset_state()
        if self._state.starting_step:
            self._rate_variable.assign(self._state.learning_rate)

    def on_train_batch_end(self, batch, logs=None):
        if self._state.add_batch_loss(logs["loss"]):
            self._end_step()

    def on_epoch_end(self, epoch, logs=None):
        if self._state.batches_per_step is None and not self._state.starting_step:
            self._end_step()

    def _end_step(self):
        validation_loss = None
        if self.validation_data is not None:
            x, y = _split_pair(self.validation_data)
            validation_loss = self.model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
        self._state.end_step(validation_loss)
        if self._state.finished:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.restore()

    def restore(self) -> None:
        """Assign back the model's and the optimizer's variables kept at the start (once)."""
        if self._snapshot is None:
            return
        for variable, value in self._snapshot:
            variable.assign(value)
        self._snapshot = None


def find_lr(
    model: keras.Model,
    data,
    *settings,
    batch_size: int | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    **named_settings,
) -> RangeTestResult:
    """A range test of a compiled Keras ``model``, which comes back as it was, optimizer included.

    ``data`` is what ``fit`` takes as ``x`` (a batched ``tf.data.Dataset``, a
    ``keras.utils.PyDataset``) or an ``(x, y)`` pair of arrays (then ``batch_size``,
    32 by default). The settings are ``LRFinder``'s, in its order: ``start_lr=1e-7,
    end_lr=10.0, num_steps=100, mode="exponential", batches_per_step=1, beta=0.98,
    stop_factor=4.0, validation_data=None``. The test trains ``num_steps`` steps of
    ``batches_per_step`` batches (or of one epoch each, ``batches_per_step="epoch"``),
    going round the data as often as needed, at the rates of ``learning_rate_ramp``, and
    stops early as ``RangeTestState`` says. An unbuilt model is built from the first batch;
    the optimizer needs a float rate (a schedule cannot be set: TypeError); under mixed
    precision the test sets the rate inside Keras's ``LossScaleOptimizer``. With
    ``batches_per_step="epoch"`` infinite data (``dataset.repeat()``) is a ValueError: its
    epoch never ends. Extra ``callbacks`` run after the finder.
    """
    if getattr(model, "optimizer", None) is None:
        raise ValueError("find_lr needs a compiled model: call model.compile(optimizer, loss)")
    _settable_learning_rate(model.optimizer)
    finder = LRFinder(*settings, **named_settings)
    batches, num_steps = finder.state.batches_per_step, finder.learning_rates.size
    if batch_size is not None:
        batch_size = _integer_at_least("batch_size", batch_size, 1)
    x, y = _split_pair(data)
    _check_finite_epochs(x, batches)
    epochs = num_steps if batches is None else num_steps * batches  # the finder stops the fit
    if not model.built:
        model(_first_batch_inputs(x, batch_size))
    try:
        model.fit(
            x,
            y,
            batch_size=batch_size,
            epochs=epochs,
            verbose=0,
            shuffle=y is not None,  # arrays: a new order every epoch; a dataset brings its own
            callbacks=[finder, *callbacks],
        )
    finally:
        finder.restore()
    return finder.result


# --- NumPy -------------------------------------------------------------------------------------


def run_range_test(state: RangeTestState, train_batch: Callable, validation_loss=None) -> None:
    """The range test's loop: train at each rate of the ramp until ``state`` says stop.

    ``train_batch(rate)`` trains one batch at ``rate`` and returns its loss (taken before
    the update); ``validation_loss()``, if given, is taken after each step. ``LRFinder``
    runs the same loop inside ``model.fit``, one callback call per batch.
    """
    while not state.finished:
        rate = state.learning_rate  # the rate of the step in progress, from the ramp
        step_complete = False
        while not step_complete:  # batches_per_step batches, fewer if a loss is not finite
            step_complete = state.add_batch_loss(train_batch(rate))
        state.end_step(None if validation_loss is None else validation_loss())


def range_test_numpy(
    loss,
    initial_params,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    mode: str = "exponential",
    *,
    batch_size: int | None = None,
    batches_per_step: int | str = 1,
    beta: float = 0.98,
    stop_factor: float | None = 4.0,
    seed: int = 0,
    validation_loss: Callable[[np.ndarray], float] | None = None,
) -> RangeTestResult:
    """The range test with gradient descent on an ``lrlab.scratch`` loss (``.loss``, ``.grad``).

    ``run_range_test`` drives ``scratch.SGD`` on the steps of ``scratch.descent``: step k
    uses ``learning_rate_ramp(...)[k]`` for ``batches_per_step`` mini-batches of
    ``batch_size`` (None: the full batch), or for one epoch each with
    ``batches_per_step="epoch"``; the batch order is drawn from ``seed``. Each batch
    loss (taken before its update, as in Keras) goes through ``RangeTestState``, which
    stops the test. ``validation_loss(params)``, if given, is taken after each step.
    """
    rates = learning_rate_ramp(start_lr, end_lr, num_steps, mode)
    batches_per_rate = _check_batches_per_step(batches_per_step)
    num_examples = getattr(loss, "num_examples", None)
    if batches_per_rate is None:  # one epoch per rate
        full_batch = batch_size is None or num_examples is None
        batches_per_rate = (
            1 if full_batch else -(-num_examples // _integer_at_least("batch_size", batch_size, 1))
        )
    state = RangeTestState(rates, batches_per_rate, beta, stop_factor)
    rate_now, params = rates[0], None  # SGD's rate reads rate_now: the rate train_batch was given
    steps = scratch.descent(
        loss, scratch.SGD(lambda step_index: rate_now), initial_params, batch_size, seed
    )

    def train_batch(rate):
        nonlocal rate_now, params
        rate_now = rate
        batch_loss, _, params = next(steps)
        return batch_loss

    def after_step():
        return validation_loss(params)

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        run_range_test(state, train_batch, None if validation_loss is None else after_step)
    return state.result(mode)


def _batches(batch_size) -> int:
    return _integer_at_least("batch_size", batch_size, 1)
