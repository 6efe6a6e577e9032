"""From-scratch NumPy losses and optimisers, written to teach what Keras does.

Losses (float64, with analytic gradients):

- ``Quadratic(hessian, minimum)``: f(x) = 1/2 (x - m)^T H (x - m);
- ``LinearRegression(X, y)``: L(w) = mean((X w - y)^2) / 2;
- ``LogisticRegression(X, y)``: binary cross-entropy of sigmoid(X w) against labels 0/1.

The two regression losses take ``batch`` (an index array) to evaluate a mini-batch.

Optimisers, one update rule each, following Keras 3 exactly (defaults, where epsilon
enters, how weight decay is applied; each docstring says where Keras departs from the
paper): ``SGD``, ``Momentum``, ``Nesterov``, ``AdaGrad``, ``RMSProp`` (plain, centered,
with momentum), ``Adam`` (with or without bias correction, AMSGrad) and ``AdamW``.

``train(loss, optimizer, initial_params, steps=... or epochs=..., batch_size=...)`` runs
the mini-batch loop and records a ``Trajectory``; ``descent`` is that loop one step per
``next()``, for a driver that decides as it goes (``lrlab.finder``'s range test);
``keras_trajectory`` steps the matching Keras optimiser on the same loss, for comparison.
Only ``keras_trajectory`` imports Keras.
"""

from __future__ import annotations

import abc
import itertools
import math
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from lrlab import _validate


def _as_float_matrix(value, name: str) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite values")
    return array


def _as_float_vector(value, name: str, length: int | None = None) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {array.shape}")
    if length is not None and array.shape[0] != length:
        raise ValueError(f"{name} must have length {length}, got length {array.shape[0]}")
    return array


def _finite(array: np.ndarray, name: str) -> np.ndarray:
    """``array``, or a ValueError naming ``name`` and its non-finite entries."""
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise ValueError(
            f"{name} must contain only finite values, got {array[bad].tolist()} at index "
            f"{bad.tolist()} of {array.tolist()}"
        )
    return array


def add_bias(features) -> np.ndarray:
    """``features`` (n, d) with a last column of ones appended (n, d + 1), so w[-1] is the bias."""
    features = _as_float_matrix(features, "features")
    return np.hstack([features, np.ones((features.shape[0], 1))])


class Quadratic:
    """f(x) = 1/2 (x - m)^T H (x - m), gradient H (x - m), Hessian H.

    ``hessian`` is a symmetric (d, d) matrix; ``minimum`` m defaults to the origin.
    ``Quadratic(np.diag([0.2, 4.0]))`` is f = 0.1 x1^2 + 2 x2^2, whose condition
    number is 20: gradient descent converges for a rate below 2 / 4 = 0.5.
    """

    def __init__(self, hessian, minimum=None):
        self._hessian = _as_float_matrix(hessian, "hessian")
        dimension = self._hessian.shape[0]
        if self._hessian.shape != (dimension, dimension):
            raise ValueError(f"hessian must be square, got shape {self._hessian.shape}")
        if not np.allclose(self._hessian, self._hessian.T):
            raise ValueError("hessian must be symmetric")
        self.minimum = (
            np.zeros(dimension)
            if minimum is None
            else _as_float_vector(minimum, "minimum", dimension)
        )
        self.dimension = dimension

    def _offset(self, x) -> np.ndarray:
        return _as_float_vector(x, "x", self.dimension) - self.minimum

    def loss(self, x) -> float:
        offset = self._offset(x)
        return float(0.5 * offset @ self._hessian @ offset)

    def grad(self, x) -> np.ndarray:
        return self._hessian @ self._offset(x)

    def hessian(self) -> np.ndarray:
        return self._hessian.copy()


class _Dataset:
    """Features X (n, d) and targets y (n,) with mini-batch selection (both regressions)."""

    def __init__(self, X, y):
        self.features = _as_float_matrix(X, "X")
        self.targets = _as_float_vector(y, "y", self.features.shape[0])
        if not np.all(np.isfinite(self.targets)):
            raise ValueError("y must contain only finite values")
        self.num_examples, self.dimension = self.features.shape

    def _select(self, weights, batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(X_batch, y_batch, w) for ``batch`` (indices) or the full data set when it is None."""
        weights = _as_float_vector(weights, "w", self.dimension)
        if batch is None:
            return self.features, self.targets, weights
        indices = np.asarray(batch)
        if indices.ndim != 1 or indices.size == 0 or not np.issubdtype(indices.dtype, np.integer):
            raise ValueError(
                f"batch must be a non-empty 1-D array of integer indices, got {batch!r}"
            )
        if indices.min() < 0 or indices.max() >= self.num_examples:
            raise ValueError(
                f"batch indices must lie in [0, {self.num_examples - 1}], "
                f"got {indices.min()}..{indices.max()}"
            )
        return self.features[indices], self.targets[indices], weights


class LinearRegression(_Dataset):
    """Mean squared error with the 1/2 convention: L(w) = mean((X w - y)^2) / 2.

    Gradient X^T (X w - y) / n, Hessian X^T X / n (constant), so gradient descent
    on the full batch converges for a rate below 2 / lambda_max(X^T X / n).
    ``w`` includes the bias when ``X`` has a column of ones (``add_bias``).
    ``batch`` (indices into the rows) restricts the mean to a mini-batch.
    """

    def loss(self, w, batch=None) -> float:
        features, targets, w = self._select(w, batch)
        residual = features @ w - targets
        return float(0.5 * np.mean(residual**2))

    def grad(self, w, batch=None) -> np.ndarray:
        features, targets, w = self._select(w, batch)
        return features.T @ (features @ w - targets) / features.shape[0]

    def hessian(self) -> np.ndarray:
        return self.features.T @ self.features / self.num_examples


class LogisticRegression(_Dataset):
    """Binary cross-entropy of p = sigmoid(X w) against labels y in {0, 1}, averaged.

    Per example -y log p - (1 - y) log(1 - p) = log(1 + e^z) - y z with z = x.w,
    evaluated as ``logaddexp(0, z) - y z`` so that no exp overflows.
    Gradient X^T (sigmoid(X w) - y) / n. ``batch`` as in ``LinearRegression``.
    """

    def __init__(self, X, y):
        super().__init__(X, y)
        if not np.all((self.targets == 0) | (self.targets == 1)):
            raise ValueError(
                f"y must hold labels 0 and 1 only, got values {np.unique(self.targets)}"
            )

    def loss(self, w, batch=None) -> float:
        features, targets, w = self._select(w, batch)
        logits = features @ w
        return float(np.mean(np.logaddexp(0.0, logits) - targets * logits))

    def grad(self, w, batch=None) -> np.ndarray:
        features, targets, w = self._select(w, batch)
        probabilities = 0.5 * (1.0 + np.tanh(0.5 * (features @ w)))  # sigmoid, overflow-free
        return features.T @ (probabilities - targets) / features.shape[0]


# --- optimisers -------------------------------------------------------------------------------
#
# Each class is one update rule, written with the symbols of the lesson: w the parameters,
# g the gradient, lr the learning rate of the step, t = step_index + 1 the step number.


def _number(name: str, value, condition: str, **bounds) -> float:
    """``_validate.real`` worded with ``condition`` (">= 0"): "a number >= 0" for a value of
    the wrong kind, "finite and >= 0" for inf or nan."""
    infinite = _validate.is_number(value) and not math.isfinite(value)
    allowed = f"finite and {condition}" if infinite else condition
    return _validate.real(name, value, allowed=allowed, kind=f"a number {condition}", **bounds)


def _non_negative(name: str, value) -> float:
    return _number(name, value, ">= 0", low=0)


def _decay_factor(name: str, value) -> float:
    return _number(name, value, "in [0, 1)", low=0, high=1, high_open=True)


def _integer_at_least(name: str, value, minimum: int) -> int:
    """``_validate.integer`` worded "an integer >= minimum" (lrlab 0.1's wording, which tests
    and learners match) also for 0 and 1."""
    return _validate.integer(name, value, minimum=minimum, allowed=f"an integer >= {minimum}")


def _zeros(shape: tuple[int, ...], *names: str) -> dict[str, np.ndarray]:
    """An optimiser's state: one float64 array of zeros of ``shape`` per name."""
    return {name: np.zeros(shape) for name in names}


class Optimizer(abc.ABC):
    """The contract every optimiser here shares.

    ``learning_rate`` is a number >= 0 or a function of the step index; a Keras or
    lrlab ``LearningRateSchedule`` is such a function, and ``rate(step)`` evaluates it
    as ``float(learning_rate(step))``, at the step Keras would use
    (``optimizer.iterations``: 0 on the first step).

    ``step(params, grads, step_index)`` returns the new parameters (the inputs are
    left unchanged) and advances the optimiser's state (its moving averages).
    ``effective_learning_rate()`` is the per-parameter rate of the last step: the
    factor that multiplied that step's gradient (Adam: its first moment m).
    ``reset()`` forgets the state, to start again from other parameters.
    """

    def __init__(self, learning_rate):
        if not callable(learning_rate):
            learning_rate = _non_negative("learning_rate", learning_rate)
        self.learning_rate = learning_rate
        self.reset()

    def reset(self) -> None:
        self.state: dict[str, np.ndarray] | None = None
        self._shape: tuple[int, ...] | None = None
        self._effective_learning_rate: np.ndarray | None = None

    def rate(self, step_index: int) -> float:
        """The learning rate of step ``step_index``."""
        if not callable(self.learning_rate):
            return self.learning_rate
        value = float(self.learning_rate(step_index))
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(
                f"the learning rate schedule must give a finite rate >= 0, "
                f"got {value!r} at step {step_index}"
            )
        return value

    def step(self, params, grads, step_index: int) -> np.ndarray:
        params = _as_float_vector(params, "params")
        grads = _as_float_vector(grads, "grads", params.shape[0])
        step_index = _integer_at_least("step_index", step_index, 0)
        if self.state is None:
            self.state = self.initial_state(params.shape)
            self._shape = params.shape
        elif params.shape != self._shape:
            raise ValueError(
                f"params have shape {params.shape}, the optimiser's state {self._shape}: "
                "call reset() before optimising other parameters"
            )
        return self.update(params, grads, self.rate(step_index), step_index)

    def effective_learning_rate(self) -> np.ndarray:
        if self._effective_learning_rate is None:
            raise ValueError("effective_learning_rate() needs a step() first")
        return self._effective_learning_rate.copy()

    def initial_state(self, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
        """The state before the first step, for parameters of shape ``shape``."""
        return {}

    @abc.abstractmethod
    def update(self, params, grads, learning_rate: float, step_index: int) -> np.ndarray:
        """The update rule: the new parameters after one step at rate ``learning_rate``."""


class SGD(Optimizer):
    """Gradient descent: w <- w - lr g.

    Keras: ``keras.optimizers.SGD(learning_rate=0.01)`` (``momentum=0``, its default).
    """

    def __init__(self, learning_rate=0.01):
        super().__init__(learning_rate)

    def update(self, params, grads, learning_rate, step_index):
        self._effective_learning_rate = np.full_like(params, learning_rate)
        return params - learning_rate * grads


class Momentum(Optimizer):
    """Heavy-ball momentum as Keras writes it: v <- m v - lr g;  w <- w + v  (v starts at 0).

    Keras: ``keras.optimizers.SGD(learning_rate, momentum=m)``. With a constant rate
    this is Polyak's (1964) heavy ball, w_{t+1} = w_t - lr g_t + m (w_t - w_{t-1}).
    The rate sits inside the velocity, so a schedule changes only the new
    gradient's share; the other common form, v <- m v + g; w <- w - lr v (PyTorch),
    also rescales the velocity already built up. Keras's SGD defaults to
    ``momentum=0`` (plain ``SGD`` here); 0.9 is the usual choice.
    """

    def __init__(self, learning_rate=0.01, momentum=0.9):
        super().__init__(learning_rate)
        self.momentum = _decay_factor("momentum", momentum)

    def initial_state(self, shape):
        return _zeros(shape, "velocity")

    def update(self, params, grads, learning_rate, step_index):
        velocity = self.momentum * self.state["velocity"] - learning_rate * grads
        self.state["velocity"] = velocity
        self._effective_learning_rate = np.full_like(params, learning_rate)
        return params + velocity


class Nesterov(Momentum):
    """Nesterov momentum as Keras writes it: v <- m v - lr g;  w <- w + m v - lr g.

    Keras: ``keras.optimizers.SGD(learning_rate, momentum=m, nesterov=True)``.
    Nesterov (1983) and Sutskever et al. (2013) take the gradient at the look-ahead
    point w + m v; Keras uses the change of variables of Bengio et al. (2013), in
    which the stored w is that look-ahead point, so the gradient is taken at w itself.
    """

    def update(self, params, grads, learning_rate, step_index):
        velocity = self.momentum * self.state["velocity"] - learning_rate * grads
        self.state["velocity"] = velocity
        self._effective_learning_rate = np.full_like(params, learning_rate)
        return params + self.momentum * velocity - learning_rate * grads


class AdaGrad(Optimizer):
    """AdaGrad: c <- c + g^2;  w <- w - lr g / sqrt(c + epsilon)  (c starts at 0.1).

    Keras: ``keras.optimizers.Adagrad(learning_rate=0.001, initial_accumulator_value=0.1,
    epsilon=1e-7)``. Duchi, Hazan and Singer (2011) start the sum c of squared
    gradients at 0 and divide by delta + sqrt(c); Keras starts it at
    ``initial_accumulator_value`` and puts epsilon inside the square root.
    The per-parameter rate lr / sqrt(c + epsilon) can only shrink.
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7):
        super().__init__(learning_rate)
        self.initial_accumulator_value = _non_negative(
            "initial_accumulator_value", initial_accumulator_value
        )
        self.epsilon = _non_negative("epsilon", epsilon)
        if self.initial_accumulator_value + self.epsilon == 0:
            raise ValueError(
                "initial_accumulator_value and epsilon cannot both be 0: the first step "
                "would divide by zero wherever a gradient is 0"
            )

    def initial_state(self, shape):
        return {"accumulator": np.full(shape, self.initial_accumulator_value)}

    def update(self, params, grads, learning_rate, step_index):
        accumulator = self.state["accumulator"] + grads**2
        self.state["accumulator"] = accumulator
        self._effective_learning_rate = learning_rate / np.sqrt(accumulator + self.epsilon)
        return params - self._effective_learning_rate * grads


class RMSProp(Optimizer):
    """RMSProp: v <- rho v + (1 - rho) g^2;  w <- w - lr g / sqrt(v + epsilon)  (v starts at 0).

    Centered (Graves 2013): also a <- rho a + (1 - rho) g, and divide by
    sqrt(v - a^2 + epsilon), an estimate of the gradient's standard deviation.
    With momentum: u <- momentum u + lr g / sqrt(...);  w <- w - u.

    Keras: ``keras.optimizers.RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0,
    epsilon=1e-7, centered=False)``. Tieleman and Hinton (2012, lecture 6e) divide
    by sqrt(v) with no epsilon; Keras adds epsilon inside the square root.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
        super().__init__(learning_rate)
        self.rho = _decay_factor("rho", rho)
        self.momentum = _decay_factor("momentum", momentum)
        self.epsilon = _non_negative("epsilon", epsilon)
        self.centered = _validate.flag("centered", centered)

    def initial_state(self, shape):
        centered = ("mean_gradient",) if self.centered else ()
        return _zeros(shape, "mean_square", "momentum", *centered)

    def update(self, params, grads, learning_rate, step_index):
        rho = self.rho
        mean_square = rho * self.state["mean_square"] + (1 - rho) * grads**2
        self.state["mean_square"] = mean_square
        if self.centered:
            mean_gradient = rho * self.state["mean_gradient"] + (1 - rho) * grads
            self.state["mean_gradient"] = mean_gradient
            denominator = mean_square - mean_gradient**2 + self.epsilon
        else:
            denominator = mean_square + self.epsilon
        self._effective_learning_rate = learning_rate / np.sqrt(denominator)
        increment = self._effective_learning_rate * grads
        if self.momentum == 0:
            return params - increment
        self.state["momentum"] = self.momentum * self.state["momentum"] + increment
        return params - self.state["momentum"]


class Adam(Optimizer):
    """Adam as Keras computes it, with t = step_index + 1:

        m <- beta_1 m + (1 - beta_1) g;   v <- beta_2 v + (1 - beta_2) g^2   (both start at 0)
        alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
        w <- w - alpha m / (sqrt(v) + epsilon)

    Keras: ``keras.optimizers.Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999,
    epsilon=1e-7, amsgrad=False)``. Kingma and Ba (2015, Algorithm 1) divide the
    bias-corrected m / (1 - beta_1^t) by sqrt(v / (1 - beta_2^t)) + epsilon (default
    1e-8); Keras folds both corrections into alpha (the paper's Section 2 variant),
    so its epsilon acts as epsilon sqrt(1 - beta_2^t) in Algorithm 1's terms.
    ``bias_correction=False`` (not in Keras) uses alpha = lr, to show what the
    correction is for. ``amsgrad=True`` divides by the largest v so far
    (Reddi, Kale and Kumar 2018, whose algorithm has no bias correction; Keras keeps it).
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        bias_correction=True,
    ):
        super().__init__(learning_rate)
        self.beta_1, self.beta_2 = _decay_factor("beta_1", beta_1), _decay_factor("beta_2", beta_2)
        self.epsilon = _non_negative("epsilon", epsilon)
        self.amsgrad = _validate.flag("amsgrad", amsgrad)
        self.bias_correction = _validate.flag("bias_correction", bias_correction)

    def initial_state(self, shape):
        return _zeros(shape, "m", "v", *(("v_max",) if self.amsgrad else ()))

    def update(self, params, grads, learning_rate, step_index):
        t = step_index + 1
        m = self.beta_1 * self.state["m"] + (1 - self.beta_1) * grads
        v = self.beta_2 * self.state["v"] + (1 - self.beta_2) * grads**2
        self.state["m"], self.state["v"] = m, v
        if self.amsgrad:
            v = np.maximum(self.state["v_max"], v)
            self.state["v_max"] = v
        if self.bias_correction:
            alpha = learning_rate * np.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        else:
            alpha = learning_rate
        self._effective_learning_rate = alpha / (np.sqrt(v) + self.epsilon)
        return params - self._effective_learning_rate * m


class AdamW(Adam):
    """Adam with decoupled weight decay, as Keras applies it:

        w <- w - lr weight_decay w,   then the Adam step of ``Adam`` (same g, same lr).

    Keras: ``keras.optimizers.AdamW(learning_rate=0.001, weight_decay=0.004, ...)``.
    Loshchilov and Hutter (2019, Algorithm 2) decay by eta_t lambda w, where eta_t is
    the schedule multiplier and not the Adam rate; Keras multiplies by the whole
    learning rate, so its ``weight_decay`` is the paper's lambda divided by the base rate.
    """

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
    ):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad)
        self.weight_decay = _non_negative("weight_decay", weight_decay)

    def update(self, params, grads, learning_rate, step_index):
        decayed = params - learning_rate * self.weight_decay * params
        return super().update(decayed, grads, learning_rate, step_index)


# --- training loop ----------------------------------------------------------------------------

PROGRESS_BAR_MIN_STEPS = 2000  # train() shows a progress bar on runs longer than this


@dataclass(frozen=True)
class Trajectory:
    """What ``train`` records; row k of the per-step arrays belongs to step k.

    ``params`` (steps + 1, d): the start, then the parameters after each step;
    ``grads`` (steps, d): the gradient of step k, taken at ``params[k]``;
    ``losses`` (steps,): the loss at ``params[k]`` on the mini-batch of step k;
    ``learning_rates`` (steps,): the rate of step k (the schedule's value);
    ``effective_learning_rates`` (steps, d): ``optimizer.effective_learning_rate()``
    after step k.
    """

    params: np.ndarray
    grads: np.ndarray
    losses: np.ndarray
    learning_rates: np.ndarray
    effective_learning_rates: np.ndarray


def _mini_batches(num_examples: int, batch_size: int, seed: int):
    """Index arrays of ``batch_size`` (the last of an epoch may be smaller), a new shuffle
    every epoch, without end."""
    generator = np.random.default_rng(seed)
    while True:
        order = generator.permutation(num_examples)
        for start in range(0, num_examples, batch_size):
            yield order[start : start + batch_size]


def _check_loss_and_optimizer(loss, optimizer) -> None:
    if not (callable(getattr(loss, "loss", None)) and callable(getattr(loss, "grad", None))):
        raise TypeError(f"loss must have .loss(params) and .grad(params) methods, got {loss!r}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an lrlab.scratch optimiser, got {optimizer!r}")


def _batch_size(loss, batch_size) -> int | None:
    """``batch_size`` checked against ``loss``'s data set (None: the full batch)."""
    if batch_size is None:
        return None
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    num_examples = getattr(loss, "num_examples", None)
    if num_examples is None:
        raise ValueError(f"batch_size needs a data set loss; {type(loss).__name__} has no data")
    if batch_size > num_examples:
        raise ValueError(
            f"batch_size must be at most {num_examples} (the data set), got {batch_size}"
        )
    return batch_size


def _steps(loss, steps, epochs, batch_size: int | None) -> int:
    """``train``'s number of steps: ``steps``, or ``epochs`` times the batches of an epoch."""
    if (steps is None) == (epochs is None):
        raise ValueError(f"give either steps or epochs, got steps={steps!r}, epochs={epochs!r}")
    if epochs is not None:
        epochs = _validate.integer("epochs", epochs, minimum=1)
        num_examples = getattr(loss, "num_examples", None)
        if num_examples is None:
            raise ValueError(
                f"epochs needs a data set loss; {type(loss).__name__} has no data: give steps"
            )
        steps = epochs * (1 if batch_size is None else -(-num_examples // batch_size))
    return _validate.integer("steps", steps, minimum=1)


def descent(loss, optimizer: Optimizer, initial_params, batch_size: int | None = None, seed=0):
    """The steps of ``optimizer`` on ``loss`` from ``initial_params``, one per ``next()``,
    without end: each gives ``(batch_loss, grads, params)``, the loss and gradient at the
    parameters before the step (on its mini-batch) and the parameters after it.

    The loop of ``train`` and of ``lrlab.finder.range_test_numpy``; the arguments are
    ``train``'s, checked here, and the optimiser is ``reset()`` first.
    """
    _check_loss_and_optimizer(loss, optimizer)
    batch_size = _batch_size(loss, batch_size)
    seed = _integer_at_least("seed", seed, 0)
    params = _finite(_as_float_vector(initial_params, "initial_params"), "initial_params").copy()
    batches = _mini_batches(loss.num_examples, batch_size, seed) if batch_size else None
    optimizer.reset()
    return _descend(loss, optimizer, params, batches)


def _descend(loss, optimizer: Optimizer, params: np.ndarray, batches):
    for step_index in itertools.count():
        batch_args = () if batches is None else (next(batches),)
        batch_loss = loss.loss(params, *batch_args)
        grads = np.asarray(loss.grad(params, *batch_args), dtype=np.float64)
        params = optimizer.step(params, grads, step_index)
        yield batch_loss, grads, params


def train(
    loss,
    optimizer: Optimizer,
    initial_params,
    steps: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    progress: bool | None = None,
) -> Trajectory:
    """Minimise ``loss`` with ``optimizer`` from ``initial_params``; return the ``Trajectory``.

    Give ``steps`` or ``epochs`` (epochs need a data set loss: ``LinearRegression``,
    ``LogisticRegression``). ``batch_size=None`` takes the full batch at every step;
    otherwise each epoch visits the examples in a new order drawn from ``seed``,
    in mini-batches of ``batch_size`` (the last one may be smaller), as ``model.fit``
    does. The optimiser is ``reset()`` first and sees step indices 0, 1, 2, ...,
    so a schedule in its ``learning_rate`` is followed step by step. ``progress``
    shows a tqdm bar; ``None`` shows one only for runs longer than
    ``PROGRESS_BAR_MIN_STEPS`` steps.
    """
    _check_loss_and_optimizer(loss, optimizer)
    steps = _steps(loss, steps, epochs, _batch_size(loss, batch_size))
    if progress is not None:
        progress = _validate.flag("progress", progress)
    stepper = descent(loss, optimizer, initial_params, batch_size, seed)
    history = {
        name: [] for name in ("grads", "losses", "learning_rates", "effective_learning_rates")
    }
    history["params"] = [_as_float_vector(initial_params, "initial_params")]
    show = steps > PROGRESS_BAR_MIN_STEPS if progress is None else progress
    with tqdm(total=steps, disable=not show, desc=type(optimizer).__name__) as bar:
        for step_index, (batch_loss, grads, params) in zip(range(steps), stepper, strict=False):
            history["losses"].append(batch_loss)
            history["grads"].append(grads)
            history["params"].append(params)
            history["learning_rates"].append(optimizer.rate(step_index))
            history["effective_learning_rates"].append(optimizer.effective_learning_rate())
            bar.update(1)
    return Trajectory(**{name: np.array(values) for name, values in history.items()})


def keras_trajectory(keras_optimizer, loss, initial_params, steps: int) -> np.ndarray:
    """The parameters (steps + 1, d) that a Keras optimiser visits on ``loss`` (full batch).

    A float64 ``keras.Variable`` starts at ``initial_params``; each step takes
    ``loss.grad`` at the variable's current value and calls
    ``keras_optimizer.apply_gradients``, the way ``model.fit`` does. The reference
    against which the lessons and tests compare ``train``. Imports Keras.
    """
    import keras

    steps = _validate.integer("steps", steps, minimum=1)
    params = _finite(_as_float_vector(initial_params, "initial_params"), "initial_params")
    variable = keras.Variable(params, dtype="float64")
    visited = [keras.ops.convert_to_numpy(variable)]
    for _ in range(steps):
        grads = keras.ops.convert_to_tensor(loss.grad(visited[-1]), dtype="float64")
        keras_optimizer.apply_gradients([(grads, variable)])
        visited.append(keras.ops.convert_to_numpy(variable))
    return np.array(visited)
