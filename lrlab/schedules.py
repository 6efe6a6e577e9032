"""Keras 3 learning-rate schedules that Keras itself lacks.

- TFA's cyclical family (tensorflow-addons is end-of-life and does not run on Keras 3):
  ``CyclicalLearningRate``, ``TriangularCyclicalLearningRate``,
  ``Triangular2CyclicalLearningRate``, ``ExponentialCyclicalLearningRate``.
- The schedules Keras 3 removed with ``tf.keras.experimental``: ``LinearCosineDecay``,
  ``NoisyLinearCosineDecay``.
- ``StepDecay`` (the course's step-wise annealing), ``RampSustainDecay`` and its epoch
  function ``ramp_sustain_decay`` (the ramp-up / sustain / decay of many Kaggle notebooks),
  ``OneCycle`` (PyTorch's ``OneCycleLR``), ``WarmupStableDecay``, ``InverseSqrtDecay`` (the
  Transformer's warm-up and inverse-square-root decay), ``LinearRamp`` and
  ``ChainedSchedule`` (PyTorch's ``SequentialLR``).

The Keras or lrlab equivalent of each PyTorch scheduler is ``lrlab.torch_equivalents`` (its
``torch_equivalent`` is also found here, as in lrlab 0.1).

Every class is a ``keras.optimizers.schedules.LearningRateSchedule``: pass it as an
optimizer's ``learning_rate``. ``__call__`` is pure ``keras.ops`` math on the step, with no
Python branch on its value, so it runs inside ``model.fit``, under ``jit_compile=True``, and
on a whole array of steps at once (``schedule(np.arange(n))`` equals the step-by-step
values). A negative step is refused when it is a Python or NumPy number or array (ValueError)
and counts as step 0 when it is a tensor (Keras's ``iterations`` never go below 0).

Arguments are checked when the schedule is built: a number outside its interval, or one that
float32 cannot hold (overflow to inf, underflow to 0), is a ValueError naming it; a scalar
tensor or NumPy scalar is stored as a plain number (so that ``model.save`` writes plain
numbers), and a ``keras.Variable`` is refused (TypeError). ``name=None`` means the class name.

Precision: a schedule computes in float64 when one of its learning-rate arguments is
float64 (``np.float64`` or a float64 tensor), else in float32 like Keras (which converts a
plain Python float through float32). Pass ``np.float64`` values to compare with float64
references. A saved model stores plain numbers, so a reloaded schedule computes in float32.

Each class is registered for Keras serialization (``"lrlab>ClassName"``): a model compiled
with one survives ``model.save("m.keras")`` / ``keras.models.load_model`` once
``lrlab.schedules`` has been imported.
"""

from __future__ import annotations

import math
import types

import keras
import numpy as np
from keras import ops

from lrlab import _ops, _validate

__all__ = [
    "CyclicalLearningRate",
    "TriangularCyclicalLearningRate",
    "Triangular2CyclicalLearningRate",
    "ExponentialCyclicalLearningRate",
    "LinearCosineDecay",
    "NoisyLinearCosineDecay",
    "StepDecay",
    "RampSustainDecay",
    "ramp_sustain_decay",
    "OneCycle",
    "WarmupStableDecay",
    "InverseSqrtDecay",
    "LinearRamp",
    "ChainedSchedule",
]

_register = keras.saving.register_keras_serializable(package="lrlab")


# --- argument checks and precision ------------------------------------------------------


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _plain(name, value):
    """``value`` as a plain number that ``model.save`` stores and ``load_model`` reads back.

    A scalar tensor becomes a Python number (``np.float64`` for a float64 tensor, so that the
    schedule keeps computing in float64); a NumPy float32 or integer scalar becomes a Python
    number; ``np.float64`` is kept (it selects float64 and saves as a plain float). A
    ``keras.Variable`` is refused (TypeError): the schedule would read it once, here, and
    never see a later ``assign``.
    """
    if isinstance(value, keras.Variable):
        raise _validate.ArgumentTypeError(
            f"{name} must be a number, got a keras.Variable ({value.path}): a schedule keeps "
            f"plain numbers (so that model.save works) and would not follow a later assign. "
            f"Pass its value, e.g. float({name}.numpy())"
        )
    if ops.is_tensor(value) or (isinstance(value, np.ndarray) and value.ndim == 0):
        array = np.asarray(keras.ops.convert_to_numpy(value))
        if array.ndim != 0:
            raise _validate.ArgumentTypeError(
                f"{name} must be a scalar number, got an array of shape {array.shape}"
            )
        value = array[()]
    if isinstance(value, np.bool_):
        return value  # refused as a bool by the checks
    if isinstance(value, np.floating):
        return np.float64(value) if value.dtype == np.float64 else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _real(name, value, low=None, high=None, low_open=False, high_open=False):
    """``value`` as a plain number (see ``_plain``) if it is a finite real number in the
    interval (``_validate.real``) that float32 holds (no overflow to inf, no underflow to 0),
    else raise."""
    value = _plain(name, value)
    number = _validate.real(name, value, low, high, low_open, high_open)
    if abs(number) > _FLOAT32_MAX:
        raise ValueError(
            f"{name}={value!r} overflows float32 (largest {_FLOAT32_MAX:.4g}), in which Keras "
            "computes (and a reloaded schedule computes): pass a smaller value"
        )
    if number != 0 and np.float32(number) == 0:
        raise ValueError(
            f"{name}={value!r} underflows to 0 in float32 (smallest positive about 1.4e-45), in "
            "which Keras computes (and a reloaded schedule computes): pass 0 or a larger value"
        )
    return value


def _integer(name, value, minimum, maximum=None):
    """``value`` as a Python int if it is an integer in ``[minimum, maximum]`` (Python, NumPy
    or a scalar integer tensor; ``_validate.integer``), else raise."""
    return _validate.integer(name, _plain(name, value), minimum, maximum)


def _name(value, default):
    """The name scope of a schedule: ``default`` for None, else a str without ``/``."""
    if value is None:
        return default
    _validate.text("name", value, allow_empty=True)
    if "/" in value:
        raise ValueError(f"name must not contain '/' (Keras name scopes refuse it), got {value!r}")
    return value


def _step(step, dtype):
    """The step as a tensor of ``dtype``, counted from 0.

    A concrete negative step (a Python or NumPy integer, a list or an array) raises a
    ValueError naming it; a tensor is clamped at 0, as Keras optimizers' ``iterations``
    never go below 0 (a negative tensor step gives the rate of step 0).
    """
    return _ops.maximum(ops.cast(_check_step(step), dtype), 0)


def _check_step(step):
    """``step``, after a ValueError if it is a concrete (not tensor) step below 0."""
    if isinstance(step, (int, float, np.number, list, tuple, np.ndarray)) and not isinstance(
        step, bool
    ):
        array = np.asarray(step)
        if array.size and np.issubdtype(array.dtype, np.number) and np.min(array) < 0:
            raise ValueError(
                f"step must be >= 0 (steps count optimizer updates from 0), got {step!r}"
            )
    return step


def _compute_dtype(*learning_rates) -> str:
    """``"float64"`` if a value is float64 (``np.float64``, a float64 tensor), else float32."""
    for value in learning_rates:
        dtype = getattr(value, "dtype", None)
        if dtype is not None and keras.backend.standardize_dtype(dtype) == "float64":
            return "float64"
    return "float32"


def _tensor(value, dtype):
    return ops.convert_to_tensor(value, dtype=dtype)


# --- the cyclical family (tensorflow-addons) --------------------------------------------


def _is_registered(obj) -> bool:
    """True if Keras finds ``obj`` again by its registered name (register_keras_serializable)."""
    name = keras.saving.get_registered_name(obj)
    return keras.saving.get_registered_object(name) is obj


def _serialize_scale_fn(scale_fn):
    """Keras's serialized form of ``scale_fn``, or a ValueError if ``load_model`` could not find
    it again: only a function, or an instance of a class with ``get_config``, registered with
    ``keras.saving.register_keras_serializable`` is stored (a lambda, a local or unregistered
    function, a bound method, a built-in or a ``functools.partial`` is refused).
    ``CyclicalLearningRate`` calls it when it is built, so a refused ``scale_fn`` never
    reaches ``model.save``."""
    if isinstance(scale_fn, types.FunctionType):
        serializable = scale_fn.__name__ != "<lambda>" and _is_registered(scale_fn)
    else:
        cls = type(scale_fn)
        serializable = (
            not isinstance(scale_fn, (types.MethodType, types.BuiltinFunctionType))
            and hasattr(scale_fn, "get_config")
            and _is_registered(cls)
        )
    if not serializable:
        raise ValueError(
            f"CyclicalLearningRate cannot serialize scale_fn={scale_fn!r}: a lambda, a local or "
            "unregistered function, a bound method, a built-in or a functools.partial cannot be "
            "found again when the model is loaded. Define scale_fn at module level, decorate it "
            "with @keras.saving.register_keras_serializable(package='...') and import its module "
            "before keras.models.load_model; or use TriangularCyclicalLearningRate, "
            "Triangular2CyclicalLearningRate or ExponentialCyclicalLearningRate."
        )
    return keras.saving.serialize_keras_object(scale_fn)


class _Schedule(keras.optimizers.schedules.LearningRateSchedule):
    """The base of lrlab's schedules: ``get_config`` gives the attributes named in
    ``_CONFIG``, in that order (the constructor's arguments, as it checked and stored them),
    and Keras's ``from_config`` (``cls(**config)``) builds the schedule again."""

    _CONFIG: tuple[str, ...] = ()

    def get_config(self):
        return {key: getattr(self, key) for key in self._CONFIG}

    def _tensors(self, step, rates, others=()):
        """The step (``_step``), then the attributes named in ``rates`` and in ``others``, as
        tensors of the schedule's dtype: float64 if one of the ``rates`` is float64
        (``_compute_dtype``), else float32."""
        dtype = _compute_dtype(*(getattr(self, name) for name in rates))
        values = [_tensor(getattr(self, name), dtype) for name in (*rates, *others)]
        return _step(step, dtype), *values


@_register
class CyclicalLearningRate(_Schedule):
    """A cyclical learning rate with a custom amplitude function (TFA's ``CyclicalLearningRate``).

    Smith (2017), "Cyclical Learning Rates for Training Neural Networks", WACV,
    https://arxiv.org/abs/1506.01186; same arguments and values as
    ``tfa.optimizers.CyclicalLearningRate`` (tensorflow-addons 0.23). The rate rises
    linearly from ``initial_learning_rate`` towards ``maximal_learning_rate`` for
    ``step_size`` steps and falls back for ``step_size`` steps; ``scale_fn`` scales the
    height of each cycle:

    ```python
    def learning_rate(step):
        cycle = floor(1 + step / (2 * step_size))        # 1, 2, 3, ...
        x = abs(step / step_size - 2 * cycle + 1)         # 1 -> 0 -> 1 within a cycle
        mode_step = cycle if scale_mode == "cycle" else step
        return initial_learning_rate + (
            maximal_learning_rate - initial_learning_rate
        ) * max(0, 1 - x) * scale_fn(mode_step)
    ```

    Example, a constant height (the triangular policy written out):

    ```python
    @keras.saving.register_keras_serializable(package="my_course")
    def constant_height(cycle):
        return 1.0

    schedule = CyclicalLearningRate(1e-3, 1e-2, step_size=25, scale_fn=constant_height)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=schedule), loss=...)
    ```

    Saving a model needs a ``scale_fn`` that Keras can find again: a module-level function
    registered with ``keras.saving.register_keras_serializable`` (or an instance of a
    registered class with ``get_config``). A lambda, a local or unregistered function, a bound
    method, a built-in or a ``functools.partial`` is refused when the schedule is built, with
    a ``ValueError`` saying what to do: refused later, in ``model.save``, it would leave an
    empty ``.keras`` file (Keras creates the file before it asks for the config).

    Args:
        initial_learning_rate: the lowest rate, at the start of every cycle (>= 0).
        maximal_learning_rate: the rate at the top of the first cycle when
            ``scale_fn`` is 1 (>= ``initial_learning_rate``).
        step_size: steps from the bottom to the top of a cycle (half a cycle, > 0).
        scale_fn: function of ``cycle`` (``scale_mode="cycle"``, 1-based) or of the
            step (``"iterations"``), given as a tensor of the schedule's dtype, that
            returns the cycle's height factor; it must use tensor math (``keras.ops``).
        scale_mode: ``"cycle"`` or ``"iterations"``: what ``scale_fn`` receives.
        name: name scope of the operations.
    """

    def __init__(
        self,
        initial_learning_rate,
        maximal_learning_rate,
        step_size,
        scale_fn,
        scale_mode="cycle",
        name="CyclicalLearningRate",
    ):
        super().__init__()
        initial_learning_rate = _real("initial_learning_rate", initial_learning_rate, low=0)
        maximal_learning_rate = _real(
            "maximal_learning_rate", maximal_learning_rate, low=float(initial_learning_rate)
        )
        step_size = _real("step_size", step_size, low=0, low_open=True)
        if not callable(scale_fn):
            raise _validate.ArgumentTypeError(
                f"scale_fn must be a function of the cycle or step, got {scale_fn!r}"
            )
        self.initial_learning_rate = initial_learning_rate
        self.maximal_learning_rate = maximal_learning_rate
        self.step_size = step_size
        if type(self).get_config is CyclicalLearningRate.get_config:
            # Checked now, not at model.save: Keras opens the .keras file before it asks for
            # the config, so a refusal there would leave an empty file behind.
            _serialize_scale_fn(scale_fn)
        self.scale_fn = scale_fn
        self.scale_mode = _validate.choice("scale_mode", scale_mode, ("cycle", "iterations"))
        self.name = _name(name, type(self).__name__)

    def __call__(self, step):
        with keras.name_scope(self.name):
            dtype = _compute_dtype(self.initial_learning_rate, self.maximal_learning_rate)
            initial_learning_rate = _tensor(self.initial_learning_rate, dtype)
            maximal_learning_rate = _tensor(self.maximal_learning_rate, dtype)
            step_size = _tensor(self.step_size, dtype)
            step = _step(step, dtype)
            cycle = _ops.floor(1 + step / (2 * step_size))
            x = ops.abs(step / step_size - 2 * cycle + 1)
            mode_step = cycle if self.scale_mode == "cycle" else step
            height = _tensor(self.scale_fn(mode_step), dtype)
            return (
                initial_learning_rate
                + (maximal_learning_rate - initial_learning_rate) * _ops.maximum(1 - x, 0) * height
            )

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "maximal_learning_rate": self.maximal_learning_rate,
            "step_size": self.step_size,
            "scale_fn": _serialize_scale_fn(self.scale_fn),
            "scale_mode": self.scale_mode,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("scale_fn"), dict):
            config["scale_fn"] = keras.saving.deserialize_keras_object(config["scale_fn"])
        return cls(**config)


class _CyclicalPolicy(CyclicalLearningRate):
    """A cyclical schedule whose ``scale_fn`` is its own ``height`` method (TFA's named
    policies, Smith 2017, https://arxiv.org/abs/1506.01186): ``CyclicalLearningRate`` with
    ``scale_fn = height``, saved without ``scale_fn`` (the class is the policy), with the keys
    and values of TFA's configs.

    Args (of every policy):
        initial_learning_rate: the lowest rate (>= 0).
        maximal_learning_rate: the top of the first cycle (>= ``initial_learning_rate``).
        step_size: steps from the bottom to the top of a cycle (> 0).
        scale_mode: ``"cycle"`` or ``"iterations"``: what ``height`` receives.
        name: name scope of the operations (None: the class name).
    """

    def __init__(
        self,
        initial_learning_rate,
        maximal_learning_rate,
        step_size,
        scale_mode="cycle",
        name=None,
    ):
        # A policy is a subclass with a method ``height(mode_step)``: the height factor of the
        # cycle (or step) ``mode_step``, a tensor. The base has none, so it cannot be built.
        height = getattr(self, "height", None)
        if not callable(height):
            raise TypeError(
                f"{type(self).__name__} has no height(mode_step) method: a cyclical policy is a "
                "subclass of _CyclicalPolicy that defines one (see "
                "TriangularCyclicalLearningRate); for a scale function of your own use "
                "CyclicalLearningRate(..., scale_fn=...)"
            )
        super().__init__(
            initial_learning_rate,
            maximal_learning_rate,
            step_size,
            scale_fn=height,
            scale_mode=scale_mode,
            name=name,
        )

    _CONFIG = (
        "initial_learning_rate",
        "maximal_learning_rate",
        "step_size",
        "scale_mode",
        "name",
    )
    get_config = _Schedule.get_config  # not CyclicalLearningRate's: no scale_fn


@_register
class TriangularCyclicalLearningRate(_CyclicalPolicy):
    """The triangular cyclical policy: every cycle has the full height (TFA's class of this name).

    ``scale_fn = lambda x: 1.0``; PyTorch's ``CyclicLR(mode="triangular")`` with
    ``step_size_up=step_size``. ``scale_mode`` changes nothing here. Arguments: those of
    every cyclical policy (``initial_learning_rate``, ``maximal_learning_rate``,
    ``step_size``, ``scale_mode="cycle"``, ``name``). Example:
    ``TriangularCyclicalLearningRate(1e-4, 1e-2, step_size=2000)``.
    """

    def height(self, mode_step):
        """The height factor of a cycle: 1."""
        return ops.ones_like(mode_step)


@_register
class Triangular2CyclicalLearningRate(_CyclicalPolicy):
    """The triangular2 policy: each cycle has half the height of the one before (TFA's class).

    ``scale_fn = lambda x: 1 / (2.0 ** (x - 1))``; PyTorch's ``CyclicLR(mode="triangular2")``
    with ``step_size_up=step_size``. With ``scale_mode="cycle"`` (the default) the height
    halves once per cycle, with ``"iterations"`` every step (as TFA does in that mode).
    Arguments as for ``TriangularCyclicalLearningRate``; example:
    ``Triangular2CyclicalLearningRate(1e-4, 1e-2, step_size=2000)``.
    """

    def height(self, mode_step):
        """The height factor: ``1 / 2 ** (mode_step - 1)``."""
        return 1 / (2.0 ** (mode_step - 1))


@_register
class ExponentialCyclicalLearningRate(_CyclicalPolicy):
    """The exp_range policy: the height shrinks by ``gamma`` every step (TFA's class of this name).

    ``scale_fn = lambda x: gamma ** x``; PyTorch's ``CyclicLR(mode="exp_range")``. TFA's own
    class fails inside ``model.fit`` with the default ``scale_mode="iterations"``: it raises
    ``gamma`` to the integer step. This one casts the step to the schedule's dtype first.
    Arguments as for ``TriangularCyclicalLearningRate``, with ``scale_mode="iterations"``
    (``gamma ** step``, the default, as in TFA and PyTorch) or ``"cycle"`` (``gamma **
    cycle``), and ``gamma``, the height factor per step or cycle, in (0, 1]. Example:
    ``ExponentialCyclicalLearningRate(1e-3, 1e-2, step_size=5, gamma=0.8)``.
    """

    def __init__(
        self,
        initial_learning_rate,
        maximal_learning_rate,
        step_size,
        scale_mode="iterations",
        gamma=1.0,
        name=None,
    ):
        self.gamma = _real("gamma", gamma, low=0, high=1, low_open=True)
        super().__init__(initial_learning_rate, maximal_learning_rate, step_size, scale_mode, name)

    def height(self, mode_step):
        """The height factor: ``gamma ** mode_step``."""
        return ops.power(_tensor(self.gamma, mode_step.dtype), mode_step)

    _CONFIG = (*_CyclicalPolicy._CONFIG, "gamma")


# --- linear-cosine decay (removed from Keras with tf.keras.experimental) ---------------------


@_register
class LinearCosineDecay(_Schedule):
    """Linear-cosine decay: a cosine whose amplitude shrinks linearly (``tf.keras.experimental``).

    Bello et al. (2017), "Neural Optimizer Search with Reinforcement Learning", ICML,
    https://arxiv.org/abs/1709.07417. The same operations, in the same order, as
    ``tf.compat.v1.train.linear_cosine_decay`` (TF's ``LinearCosineDecay``), so float32
    values are identical to it:

    ```python
    def decayed_learning_rate(step):
        step = min(step, decay_steps)
        linear_decay = (decay_steps - step) / decay_steps
        cosine_decay = 0.5 * (1 + cos(pi * 2 * num_periods * step / decay_steps))
        decayed = (alpha + linear_decay) * cosine_decay + beta
        return initial_learning_rate * decayed
    ```

    Example:

    ```python
    schedule = LinearCosineDecay(1e-2, decay_steps=1000, num_periods=2)
    ```

    Args:
        initial_learning_rate: the rate at step 0 is ``initial_learning_rate * (1 + alpha + beta)``
            (>= 0).
        decay_steps: steps over which the envelope falls to ``alpha`` (> 0).
        num_periods: periods of the cosine over ``decay_steps`` (>= 0).
        alpha: floor of the linear envelope (>= 0).
        beta: constant floor added to the decayed factor (>= 0).
        name: name scope of the operations.
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        num_periods=0.5,
        alpha=0.0,
        beta=0.001,
        name="LinearCosineDecay",
    ):
        super().__init__()
        self.initial_learning_rate = _real("initial_learning_rate", initial_learning_rate, low=0)
        self.decay_steps = _real("decay_steps", decay_steps, low=0, low_open=True)
        self.num_periods = _real("num_periods", num_periods, low=0)
        self.alpha = _real("alpha", alpha, low=0)
        self.beta = _real("beta", beta, low=0)
        self.name = _name(name, type(self).__name__)

    def __call__(self, step):
        with keras.name_scope(self.name):
            dtype = _compute_dtype(self.initial_learning_rate)
            initial_learning_rate = _tensor(self.initial_learning_rate, dtype)
            decay_steps = _tensor(self.decay_steps, dtype)
            num_periods = _tensor(self.num_periods, dtype)
            alpha = _tensor(self.alpha, dtype)
            beta = _tensor(self.beta, dtype)
            step = _ops.maximum(ops.convert_to_tensor(_check_step(step)), 0)
            clipped_step = _ops.minimum(ops.cast(step, dtype), decay_steps)
            linear_decayed = self._perturb(
                (decay_steps - clipped_step) / decay_steps, step, clipped_step
            )
            completed_fraction = clipped_step / decay_steps
            fraction = 2.0 * num_periods * completed_fraction
            cosine_decayed = 0.5 * (1.0 + _ops.cos(_tensor(math.pi, dtype) * fraction))
            return initial_learning_rate * ((alpha + linear_decayed) * cosine_decayed + beta)

    def _perturb(self, linear_decayed, step, clipped_step):
        """The linear part as it enters the formula (noise-free here)."""
        return linear_decayed

    _CONFIG = (
        "initial_learning_rate",
        "decay_steps",
        "num_periods",
        "alpha",
        "beta",
        "name",
    )


_HASH_MULTIPLIERS = (0x7FEB352D, 0x846CA68B)
_GOLDEN_RATIO_32 = 0x9E3779B9


def _mix32(x):
    """Chris Wellons' "lowbias32" integer hash: a bijection of uint32 with a strong avalanche.

    https://nullprogram.com/blog/2018/07/31/ (public domain).
    """
    for multiplier, shift in zip(_HASH_MULTIPLIERS, (16, 15), strict=True):
        x = ops.bitwise_xor(x, ops.right_shift(x, _tensor(shift, "uint32")))
        x = ops.multiply(x, _tensor(multiplier, "uint32"))
        if keras.backend.standardize_dtype(x.dtype) != "uint32":
            # PyTorch's backend widens a uint32 product instead of wrapping: keep its low
            # 32 bits, which is the wrapped product the other backends compute.
            x = ops.cast(ops.bitwise_and(x, _tensor(0xFFFFFFFF, x.dtype)), "uint32")
    return ops.bitwise_xor(x, ops.right_shift(x, _tensor(16, "uint32")))


def _standard_normal(seed, step, dtype):
    """One N(0, 1) draw per step, a pure function of (seed, step) (counter-based, stateless).

    Two 24-bit uniforms from hashes of the step (taken modulo 2**32) keyed by the seed, then
    Box-Muller: ``z = sqrt(-2 log u1) * cos(2 pi u2)`` with ``u1`` in (0, 1], ``u2`` in [0, 1).
    """
    seed_bits = _tensor(seed, "uint32")
    step_hash = _mix32(ops.cast(ops.cast(step, "int64"), "uint32"))
    bits_1 = _mix32(ops.bitwise_xor(step_hash, _mix32(seed_bits)))
    second_key = _mix32(ops.bitwise_xor(seed_bits, _tensor(_GOLDEN_RATIO_32, "uint32")))
    bits_2 = _mix32(ops.bitwise_xor(step_hash, second_key))
    scale = 2.0**-24
    uniform_1 = (ops.cast(ops.right_shift(bits_1, _tensor(8, "uint32")), dtype) + 1.0) * scale
    uniform_2 = ops.cast(ops.right_shift(bits_2, _tensor(8, "uint32")), dtype) * scale
    return _ops.sqrt(-2.0 * _ops.log(uniform_1)) * _ops.cos(2.0 * math.pi * uniform_2)


@_register
class NoisyLinearCosineDecay(LinearCosineDecay):
    """Linear-cosine decay with Gaussian noise on the linear part (``tf.keras.experimental``).

    Bello et al. (2017), https://arxiv.org/abs/1709.07417. The formula and noise law of
    ``tf.compat.v1.train.noisy_linear_cosine_decay``:

    ```python
    def decayed_learning_rate(step):
        step = min(step, decay_steps)
        linear_decay = (decay_steps - step) / decay_steps
        cosine_decay = 0.5 * (1 + cos(pi * 2 * num_periods * step / decay_steps))
        decayed = (alpha + linear_decay + eps_t) * cosine_decay + beta
        return initial_learning_rate * decayed
    ```

    where ``eps_t`` is Gaussian with mean 0 and variance
    ``initial_variance / (1 + min(step, decay_steps)) ** variance_decay`` (TF's code uses
    the clipped step). TF draws new noise at every call; here the noise of a step is a
    pure function of ``(seed, step)`` (a counter-based generator), so a curve is
    reproducible and the same evaluated vectorised or step by step. With
    ``initial_variance=0`` it equals ``LinearCosineDecay``.

    The noise can make the formula negative (with the defaults, about 3 % of the first 1000
    steps), and an optimizer would follow a negative rate uphill. By default
    (``allow_negative=False``) the rate is clipped at 0: ``max(decayed_learning_rate(step),
    0)``. ``allow_negative=True`` gives the formula's values unclipped, those of
    ``tf.compat.v1.train.noisy_linear_cosine_decay`` (for the same noise).

    Example:

    ```python
    schedule = NoisyLinearCosineDecay(1e-2, decay_steps=1000, initial_variance=0.002, seed=0)
    ```

    Args:
        initial_learning_rate: the noise-free rate at step 0 is
            ``initial_learning_rate * (1 + alpha + beta)`` (>= 0).
        decay_steps: steps over which the envelope falls to ``alpha`` (> 0).
        initial_variance: variance of the noise at step 0 (>= 0).
        variance_decay: exponent of the variance's decay (>= 0).
        num_periods: periods of the cosine over ``decay_steps`` (>= 0).
        alpha: floor of the linear envelope (>= 0).
        beta: constant floor added to the decayed factor (>= 0).
        seed: integer in [0, 2**32) keying the noise; ``None`` draws one from NumPy's global
            generator (seeded by ``lrlab.notebook.setup``), kept in ``self.seed`` and in
            ``get_config`` so that a reloaded schedule gives the same curve.
        allow_negative: False (the default): clip the rate at 0; True: keep the negative
            values of tf.compat.v1's formula.
        name: name scope of the operations.
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        initial_variance=1.0,
        variance_decay=0.55,
        num_periods=0.5,
        alpha=0.0,
        beta=0.001,
        seed=None,
        name="NoisyLinearCosineDecay",
        allow_negative=False,
    ):
        super().__init__(initial_learning_rate, decay_steps, num_periods, alpha, beta, name)
        self.initial_variance = _real("initial_variance", initial_variance, low=0)
        self.variance_decay = _real("variance_decay", variance_decay, low=0)
        if seed is None:
            seed = int(np.random.randint(0, 2**31 - 1))
        self.seed = _integer("seed", seed, 0, 2**32 - 1)
        self.allow_negative = _validate.flag("allow_negative", allow_negative)

    def __call__(self, step):
        rate = super().__call__(step)
        return rate if self.allow_negative else _ops.maximum(rate, 0)

    def _perturb(self, linear_decayed, step, clipped_step):
        dtype = linear_decayed.dtype
        variance = _tensor(self.initial_variance, dtype) / ops.power(
            1.0 + clipped_step, _tensor(self.variance_decay, dtype)
        )
        return linear_decayed + _standard_normal(self.seed, step, dtype) * _ops.sqrt(variance)

    _CONFIG = (
        *LinearCosineDecay._CONFIG,
        "initial_variance",
        "variance_decay",
        "seed",
        "allow_negative",
    )


# --- step-wise and ramp schedules of the course --------------------------------------------


@_register
class StepDecay(_Schedule):
    """The course's step-wise annealing: multiply by ``decay_rate`` every ``decay_steps`` steps.

    ``eta_n = eta_0 * d ** floor((1 + n) / r)`` (n = step, r = ``decay_steps``,
    d = ``decay_rate``), the step-decay formula of the course (also the classic Keras
    ``step_decay`` epoch function). The first drop comes at step ``r - 1``, one step
    earlier than ``ExponentialDecay(staircase=True)``, which uses ``floor(n / r)``:

    ```python
    def decayed_learning_rate(step):
        return initial_learning_rate * decay_rate ** floor((1 + step) / decay_steps)
    ```

    Example:

    ```python
    schedule = StepDecay(0.1, decay_rate=0.5, decay_steps=10)
    ```

    Args:
        initial_learning_rate: eta_0 (> 0).
        decay_rate: the factor d of each drop, in (0, 1].
        decay_steps: r, the steps between drops (> 0).
        name: name scope of the operations.
    """

    def __init__(self, initial_learning_rate, decay_rate, decay_steps, name="StepDecay"):
        super().__init__()
        self.initial_learning_rate = _real(
            "initial_learning_rate", initial_learning_rate, low=0, low_open=True
        )
        self.decay_rate = _real("decay_rate", decay_rate, low=0, high=1, low_open=True)
        self.decay_steps = _real("decay_steps", decay_steps, low=0, low_open=True)
        self.name = _name(name, type(self).__name__)

    def __call__(self, step):
        with keras.name_scope(self.name):
            dtype = _compute_dtype(self.initial_learning_rate)
            drops = _ops.floor((1 + _step(step, dtype)) / _tensor(self.decay_steps, dtype))
            return _tensor(self.initial_learning_rate, dtype) * ops.power(
                _tensor(self.decay_rate, dtype), drops
            )

    _CONFIG = (
        "initial_learning_rate",
        "decay_rate",
        "decay_steps",
        "name",
    )


def _check_ramp_sustain_decay(
    unit, start, maximum, minimum, ramp, sustain, decay_rate, decay_every
):
    """The seven arguments as plain numbers (``_real``), by their names (``unit``: "steps"
    or "epochs", in ``ramp_<unit>``, ``sustain_<unit>`` and ``decay_every_<unit>``)."""
    start = _real("start_learning_rate", start, low=0)
    maximum = _real(
        "max_learning_rate", maximum, low=max(float(start), 0.0), low_open=float(start) == 0
    )
    return {
        "start_learning_rate": start,
        "max_learning_rate": maximum,
        "min_learning_rate": _real("min_learning_rate", minimum, low=0, high=float(maximum)),
        f"ramp_{unit}": _real(f"ramp_{unit}", ramp, low=0),
        f"sustain_{unit}": _real(f"sustain_{unit}", sustain, low=0),
        "decay_rate": _real("decay_rate", decay_rate, low=0, high=1, low_open=True),
        f"decay_every_{unit}": _real(f"decay_every_{unit}", decay_every, low=0, low_open=True),
    }


@_register
class RampSustainDecay(_Schedule):
    """Linear ramp-up, a plateau, then a step-wise exponential decay towards a floor.

    The ramp / sustain / decay schedule of many Kaggle TPU notebooks (the ``lrfn`` passed to
    ``LearningRateScheduler``), counted in steps and with the decay applied every
    ``decay_every_steps`` steps (with ``decay_every_steps`` = one epoch it is that function):

    ```python
    def learning_rate(step):
        if step < ramp_steps:                                  # linear ramp
            return (max_learning_rate - start_learning_rate) / ramp_steps * step + (
                start_learning_rate
            )
        if step < ramp_steps + sustain_steps:                  # plateau
            return max_learning_rate
        drops = floor((step - ramp_steps - sustain_steps) / decay_every_steps)
        return (max_learning_rate - min_learning_rate) * decay_rate ** drops + min_learning_rate
    ```

    With ``ramp_steps = R * steps_per_epoch``, ``sustain_steps = S * steps_per_epoch`` and
    ``decay_every_steps = E * steps_per_epoch`` it equals ``ramp_sustain_decay`` (R, S, E
    in epochs) at every epoch boundary, and ramps smoothly within the ramp epochs.

    Example (the Kaggle defaults, with 50 steps per epoch):

    ```python
    schedule = RampSustainDecay(ramp_steps=100, sustain_steps=50, decay_every_steps=100)
    ```

    Args:
        start_learning_rate: the rate at step 0 (>= 0).
        max_learning_rate: the plateau (>= ``start_learning_rate``, > 0).
        ramp_steps: steps of the linear ramp (>= 0; keyword only).
        sustain_steps: steps at ``max_learning_rate`` (>= 0; keyword only).
        decay_rate: factor of each drop, in (0, 1].
        decay_every_steps: steps between drops (> 0; keyword only).
        min_learning_rate: the floor the decay tends to, in [0, ``max_learning_rate``].
        name: name scope of the operations.
    """

    def __init__(
        self,
        start_learning_rate=1e-5,
        max_learning_rate=1e-2,
        *,
        ramp_steps,
        sustain_steps,
        decay_rate=0.75,
        decay_every_steps,
        min_learning_rate=1e-5,
        name="RampSustainDecay",
    ):
        super().__init__()
        checked = _check_ramp_sustain_decay(
            "steps",
            start_learning_rate,
            max_learning_rate,
            min_learning_rate,
            ramp_steps,
            sustain_steps,
            decay_rate,
            decay_every_steps,
        )
        for key, value in checked.items():
            setattr(self, key, value)
        self.name = _name(name, type(self).__name__)

    def __call__(self, step):
        with keras.name_scope(self.name):
            rates = ("start_learning_rate", "max_learning_rate", "min_learning_rate")
            others = ("ramp_steps", "sustain_steps", "decay_every_steps", "decay_rate")
            step, start, maximum, minimum, ramp_steps, sustain_steps, decay_every, decay_rate = (
                self._tensors(step, rates, others)
            )
            plateau_end = ramp_steps + sustain_steps
            # ramp_steps = 0 never selects the ramp; max(., 1) only keeps the unused branch finite.
            ramp = (maximum - start) / _ops.maximum(ramp_steps, 1) * step + start
            drops = _ops.floor((step - plateau_end) / decay_every)
            decayed = (maximum - minimum) * ops.power(decay_rate, _ops.maximum(drops, 0)) + minimum
            plateau_or_decay = ops.where(step < plateau_end, maximum, decayed)
            return ops.where(step < ramp_steps, ramp, plateau_or_decay)

    _CONFIG = (
        "start_learning_rate",
        "max_learning_rate",
        "ramp_steps",
        "sustain_steps",
        "decay_rate",
        "decay_every_steps",
        "min_learning_rate",
        "name",
    )


def ramp_sustain_decay(
    epoch,
    *,
    start_learning_rate=1e-5,
    max_learning_rate=1e-2,
    ramp_epochs=2,
    sustain_epochs=1,
    decay_rate=0.75,
    decay_every_epochs=2,
    min_learning_rate=1e-5,
) -> float:
    """The rate of ``epoch`` under ramp-up / sustain / step decay, for ``LearningRateScheduler``.

    ``RampSustainDecay`` counted in epochs and evaluated in float64 (formula there): a
    linear ramp from ``start_learning_rate`` to ``max_learning_rate`` over ``ramp_epochs``,
    ``sustain_epochs`` at the maximum, then ``(max - min) * decay_rate ** drops + min`` with
    one drop every ``decay_every_epochs``. The defaults (1e-5 to 1e-2 in 2 epochs, 1 epoch
    at the top, x0.75 every 2 epochs) are the course's; with ``decay_every_epochs=1`` it is
    the popular Kaggle ``lrfn`` (``(LR_MAX - LR_MIN) * LR_EXP_DECAY ** (epoch - LR_RAMPUP_EPOCHS
    - LR_SUSTAIN_EPOCHS) + LR_MIN`` after the plateau).

    The settings are keyword-only, so Keras's ``LearningRateScheduler``, which first tries
    ``schedule(epoch, current_rate)``, falls back to ``schedule(epoch)``:

    ```python
    callback = keras.callbacks.LearningRateScheduler(ramp_sustain_decay)
    callback = keras.callbacks.LearningRateScheduler(
        functools.partial(ramp_sustain_decay, max_learning_rate=3e-3))
    ```
    """
    _integer("epoch", epoch, 0)
    checked = _check_ramp_sustain_decay(
        "epochs",
        start_learning_rate,
        max_learning_rate,
        min_learning_rate,
        ramp_epochs,
        sustain_epochs,
        decay_rate,
        decay_every_epochs,
    )
    # the same arguments counted in steps (one step an epoch), the rates in float64
    arguments = {key.replace("_epochs", "_steps"): value for key, value in checked.items()}
    for key in ("start_learning_rate", "max_learning_rate", "min_learning_rate", "decay_rate"):
        arguments[key] = np.float64(arguments[key])
    return float(RampSustainDecay(**arguments)(epoch))


# --- one-cycle, warm-up / stable / decay, ramps and chains -----------------------------------


@_register
class OneCycle(_Schedule):
    """The 1cycle policy, with the learning rates of PyTorch's ``OneCycleLR``.

    Smith & Topin (2017), "Super-Convergence", https://arxiv.org/abs/1708.07120; the closed
    form of ``torch.optim.lr_scheduler.OneCycleLR`` (torch 2.13). The rate goes from
    ``initial = max_learning_rate / div_factor`` up to ``max_learning_rate`` and down to
    ``minimum = initial / final_div_factor``, in phases that end at (torch's end steps)

    ```python
    # two phases:   initial -> max -> minimum
    ends = [pct_start * total_steps - 1, total_steps - 1]
    # three_phase:  initial -> max -> initial -> minimum
    ends = [pct_start * total_steps - 1, 2 * pct_start * total_steps - 2, total_steps - 1]

    def learning_rate(step):                      # step = min(step, total_steps - 1)
        phase = first phase with step <= its end (else the last one)
        pct = (step - start of phase) / (end of phase - start of phase)  # start of phase 0 is 0
        if anneal_strategy == "cos":
            return end_value + (start_value - end_value) / 2 * (cos(pi * pct) + 1)
        return (end_value - start_value) * pct + start_value
    ```

    After ``total_steps - 1`` the rate stays at ``minimum`` (torch raises an error instead).
    ``momentum`` gives torch's cycled momentum (``lrlab.callbacks.OneCycleMomentum`` applies
    it to an optimizer).

    Example:

    ```python
    schedule = OneCycle(0.1, total_steps=epochs * steps_per_epoch)
    ```

    Args:
        max_learning_rate: the peak rate (> 0).
        total_steps: the length of the cycle, an integer >= 2.
        pct_start: the fraction of the steps spent rising, in (0, 1) (three_phase:
            (0, 0.5]); the rise needs more than one step: ``pct_start * total_steps > 1``.
        div_factor: ``initial = max_learning_rate / div_factor`` (> 0).
        final_div_factor: ``minimum = initial / final_div_factor`` (> 0).
        anneal_strategy: ``"cos"`` or ``"linear"``.
        three_phase: if True, come back to ``initial`` symmetrically, then anneal to ``minimum``.
        name: name scope of the operations.
    """

    def __init__(
        self,
        max_learning_rate,
        total_steps,
        pct_start=0.3,
        div_factor=25.0,
        final_div_factor=1e4,
        anneal_strategy="cos",
        three_phase=False,
        name="OneCycle",
    ):
        super().__init__()
        self.max_learning_rate = _real("max_learning_rate", max_learning_rate, low=0, low_open=True)
        self.total_steps = _integer("total_steps", total_steps, 2)
        self.three_phase = _validate.flag("three_phase", three_phase)
        if self.three_phase:
            pct_start = _real("pct_start", pct_start, low=0, high=0.5, low_open=True)
        else:
            pct_start = _real("pct_start", pct_start, low=0, high=1, low_open=True, high_open=True)
        if pct_start * total_steps <= 1:
            raise ValueError(
                "pct_start * total_steps must be > 1 (the rise needs more than one step), got "
                f"pct_start={pct_start!r}, total_steps={total_steps!r}"
            )
        self.pct_start = pct_start
        self.div_factor = _real("div_factor", div_factor, low=0, low_open=True)
        self.final_div_factor = _real("final_div_factor", final_div_factor, low=0, low_open=True)
        self.anneal_strategy = _validate.choice(
            "anneal_strategy", anneal_strategy, ("cos", "linear")
        )
        self.name = _name(name, type(self).__name__)

    def _phase_ends(self):
        """torch's end steps of the phases (Python float64, as torch computes them)."""
        rise_end = float(self.pct_start * self.total_steps) - 1
        if self.three_phase:
            fall_end = float(2 * self.pct_start * self.total_steps) - 2
            return [rise_end, fall_end, self.total_steps - 1]
        return [rise_end, self.total_steps - 1]

    def _annealed(self, step, phase_values, dtype):
        """The value at ``step`` when phase i goes from ``phase_values[i][0]`` to ``[i][1]``."""
        step = _ops.minimum(_step(step, dtype), self.total_steps - 1)
        ends = self._phase_ends()
        starts = [0.0, *ends[:-1]]
        value = None
        phases = list(zip(phase_values, starts, ends, strict=True))
        for (start_value, end_value), start, end in reversed(phases):
            pct = (step - _tensor(start, dtype)) / _tensor(end - start, dtype)
            if self.anneal_strategy == "cos":
                phase_value = end_value + (start_value - end_value) / 2.0 * (
                    _ops.cos(math.pi * pct) + 1
                )
            else:
                phase_value = (end_value - start_value) * pct + start_value
            value = phase_value if value is None else ops.where(step <= end, phase_value, value)
        return value

    def __call__(self, step):
        with keras.name_scope(self.name):
            dtype = _compute_dtype(self.max_learning_rate)
            maximum = _tensor(self.max_learning_rate, dtype)
            initial = maximum / _tensor(self.div_factor, dtype)
            minimum = initial / _tensor(self.final_div_factor, dtype)
            if self.three_phase:
                phases = [(initial, maximum), (maximum, initial), (initial, minimum)]
            else:
                phases = [(initial, maximum), (maximum, minimum)]
            return self._annealed(step, phases, dtype)

    def momentum(self, step, base_momentum=0.85, max_momentum=0.95):
        """torch's cycled momentum at ``step``: max -> base while the rate rises, then back.

        Phases as for the rate: ``max_momentum -> base_momentum -> max_momentum`` (three
        phase: ``... -> max_momentum -> max_momentum``), annealed the same way.
        """
        dtype = _compute_dtype(self.max_learning_rate, base_momentum, max_momentum)
        base = _tensor(base_momentum, dtype)
        top = _tensor(max_momentum, dtype)
        phases = [(top, base), (base, top)] + ([(top, top)] if self.three_phase else [])
        return self._annealed(step, phases, dtype)

    _CONFIG = (
        "max_learning_rate",
        "total_steps",
        "pct_start",
        "div_factor",
        "final_div_factor",
        "anneal_strategy",
        "three_phase",
        "name",
    )


@_register
class WarmupStableDecay(_Schedule):
    """Warm-up, a long stable phase at the peak, then a short decay (the "WSD" schedule).

    Hu et al. (2024), "MiniCPM", https://arxiv.org/abs/2404.06395; the "1-sqrt" cool-down
    of Hägele et al. (2024), https://arxiv.org/abs/2405.18392:

    ```python
    def learning_rate(step):
        if step < warmup_steps:
            completed = step / warmup_steps
            return initial_learning_rate + (peak_learning_rate - initial_learning_rate) * completed
        t = clip((step - warmup_steps - stable_steps) / decay_steps, 0, 1)  # 0 while stable
        shape = {"linear": 1 - t, "cosine": (1 + cos(pi * t)) / 2, "sqrt": 1 - sqrt(t)}[decay_shape]
        return final_learning_rate + (peak_learning_rate - final_learning_rate) * shape
    ```

    Example:

    ```python
    schedule = WarmupStableDecay(1e-3, warmup_steps=100, stable_steps=800, decay_steps=100)
    ```

    Args:
        peak_learning_rate: the rate of the stable phase (> 0).
        warmup_steps: steps of the linear warm-up (>= 0).
        stable_steps: steps at the peak (>= 0).
        decay_steps: steps of the decay (> 0); the rate stays at ``final_learning_rate`` after.
        initial_learning_rate: the rate at step 0 (>= 0).
        final_learning_rate: the rate at the end of the decay (>= 0).
        decay_shape: ``"linear"``, ``"cosine"`` or ``"sqrt"``.
        name: name scope of the operations.
    """

    def __init__(
        self,
        peak_learning_rate,
        warmup_steps,
        stable_steps,
        decay_steps,
        initial_learning_rate=0.0,
        final_learning_rate=0.0,
        decay_shape="linear",
        name="WarmupStableDecay",
    ):
        super().__init__()
        self.peak_learning_rate = _real(
            "peak_learning_rate", peak_learning_rate, low=0, low_open=True
        )
        self.warmup_steps = _real("warmup_steps", warmup_steps, low=0)
        self.stable_steps = _real("stable_steps", stable_steps, low=0)
        self.decay_steps = _real("decay_steps", decay_steps, low=0, low_open=True)
        self.initial_learning_rate = _real("initial_learning_rate", initial_learning_rate, low=0)
        self.final_learning_rate = _real("final_learning_rate", final_learning_rate, low=0)
        self.decay_shape = _validate.choice(
            "decay_shape", decay_shape, ("linear", "cosine", "sqrt")
        )
        self.name = _name(name, type(self).__name__)

    def __call__(self, step):
        with keras.name_scope(self.name):
            rates = ("peak_learning_rate", "initial_learning_rate", "final_learning_rate")
            others = ("warmup_steps", "stable_steps", "decay_steps")
            step, peak, initial, final, warmup_steps, stable_steps, decay_steps = self._tensors(
                step, rates, others
            )
            # warmup_steps = 0 never selects the warm-up; max(., 1) keeps that branch finite.
            warmup = initial + (peak - initial) * step / _ops.maximum(warmup_steps, 1)
            t = ops.clip((step - warmup_steps - stable_steps) / decay_steps, 0, 1)
            if self.decay_shape == "linear":
                shape = 1 - t
            elif self.decay_shape == "cosine":
                shape = 0.5 * (1 + _ops.cos(math.pi * t))
            else:
                shape = 1 - _ops.sqrt(t)
            return ops.where(step < warmup_steps, warmup, final + (peak - final) * shape)

    _CONFIG = (
        "peak_learning_rate",
        "warmup_steps",
        "stable_steps",
        "decay_steps",
        "initial_learning_rate",
        "final_learning_rate",
        "decay_shape",
        "name",
    )


@_register
class InverseSqrtDecay(_Schedule):
    """A linear warm-up, then a decay with the inverse square root of the step.

    The schedule of the Transformer (Vaswani et al. 2017, "Attention Is All You Need",
    https://arxiv.org/abs/1706.03762, eq. 3: ``d_model ** -0.5 * min(step ** -0.5,
    step * warmup_steps ** -1.5)``, which is this schedule with ``peak_learning_rate =
    (d_model * warmup_steps) ** -0.5`` and ``initial_learning_rate = 0``), and fairseq's
    ``inverse_sqrt`` scheduler:

    ```python
    def learning_rate(step):
        if step < warmup_steps:
            completed = step / warmup_steps
            return initial_learning_rate + (peak_learning_rate - initial_learning_rate) * completed
        return peak_learning_rate * sqrt(warmup_steps / step)
    ```

    It has no end: the rate keeps falling, by half every time the step grows fourfold.

    Example:

    ```python
    schedule = InverseSqrtDecay(1e-3, warmup_steps=500)
    ```

    Args:
        peak_learning_rate: the rate at the end of the warm-up, step ``warmup_steps`` (> 0).
        warmup_steps: steps of the linear warm-up (an integer >= 1).
        initial_learning_rate: the rate at step 0 (in [0, peak_learning_rate]).
        name: name scope of the operations.
    """

    def __init__(
        self,
        peak_learning_rate,
        warmup_steps,
        initial_learning_rate=0.0,
        name="InverseSqrtDecay",
    ):
        super().__init__()
        self.peak_learning_rate = _real(
            "peak_learning_rate", peak_learning_rate, low=0, low_open=True
        )
        self.warmup_steps = _integer("warmup_steps", warmup_steps, minimum=1)
        self.initial_learning_rate = _real(
            "initial_learning_rate", initial_learning_rate, low=0, high=self.peak_learning_rate
        )
        self.name = _name(name, type(self).__name__)

    def __call__(self, step):
        with keras.name_scope(self.name):
            rates = ("peak_learning_rate", "initial_learning_rate")
            step, peak, initial, warmup_steps = self._tensors(step, rates, ("warmup_steps",))
            warmup = initial + (peak - initial) * step / warmup_steps
            decay = peak * _ops.sqrt(warmup_steps / _ops.maximum(step, warmup_steps))
            return ops.where(step < warmup_steps, warmup, decay)

    _CONFIG = ("peak_learning_rate", "warmup_steps", "initial_learning_rate", "name")


@_register
class LinearRamp(_Schedule):
    """A straight line from one rate to another over ``ramp_steps``, constant after.

    A linear warm-up (Goyal et al. 2017, https://arxiv.org/abs/1706.02677), or a linear
    decay; PyTorch's ``LinearLR(start_factor, end_factor, total_iters)`` on a base rate
    ``eta`` is ``LinearRamp(eta * start_factor, eta * end_factor, total_iters)``:

    ```python
    def learning_rate(step):
        return initial_learning_rate + (
            final_learning_rate - initial_learning_rate
        ) * min(step, ramp_steps) / ramp_steps
    ```

    Example, a warm-up before a cosine decay (see ``ChainedSchedule``):

    ```python
    warmup = LinearRamp(1e-4, 1e-2, ramp_steps=500)
    ```

    Args:
        initial_learning_rate: the rate at step 0 (>= 0).
        final_learning_rate: the rate from ``ramp_steps`` on (>= 0).
        ramp_steps: the length of the ramp (> 0).
        name: name scope of the operations.
    """

    def __init__(self, initial_learning_rate, final_learning_rate, ramp_steps, name="LinearRamp"):
        super().__init__()
        self.initial_learning_rate = _real("initial_learning_rate", initial_learning_rate, low=0)
        self.final_learning_rate = _real("final_learning_rate", final_learning_rate, low=0)
        self.ramp_steps = _real("ramp_steps", ramp_steps, low=0, low_open=True)
        self.name = _name(name, type(self).__name__)

    def __call__(self, step):
        with keras.name_scope(self.name):
            rates = ("initial_learning_rate", "final_learning_rate")
            step, initial, final, ramp_steps = self._tensors(step, rates, ("ramp_steps",))
            completed = _ops.minimum(step, ramp_steps) / ramp_steps
            return initial + (final - initial) * completed

    _CONFIG = (
        "initial_learning_rate",
        "final_learning_rate",
        "ramp_steps",
        "name",
    )


@_register
class ChainedSchedule(_Schedule):
    """Schedules one after another, switching at ``boundaries`` (like PyTorch's ``SequentialLR``).

    Schedule i runs from ``boundaries[i - 1]`` (0 for the first) and sees the step counted
    from there, so each schedule starts at its own step 0 (optax's ``join_schedules``):

    ```python
    def learning_rate(step):
        i = number of boundaries <= step
        start = 0 if i == 0 else boundaries[i - 1]
        return schedules[i](step - start)
    ```

    Example, warm-up then cosine decay, equal to torch's
    ``SequentialLR([LinearLR(...), CosineAnnealingLR(...)], milestones=[500])``:

    ```python
    schedule = ChainedSchedule(
        [LinearRamp(1e-4, 1e-2, ramp_steps=500),
         keras.optimizers.schedules.CosineDecay(1e-2, decay_steps=4500)],
        boundaries=[500],
    )
    ```

    Every schedule is evaluated on every step (each at ``max(step - start, 0)``) and the
    right value is selected, so a vectorised call needs schedules that accept an array of
    steps. The values take the dtype of the first schedule's values.

    Args:
        schedules: a non-empty list of ``LearningRateSchedule`` objects; saving a model
            saves them with ``keras.saving.serialize_keras_object``.
        boundaries: ``len(schedules) - 1`` strictly increasing integers > 0.
        name: name scope of the operations.
    """

    def __init__(self, schedules, boundaries, name="ChainedSchedule"):
        super().__init__()
        schedules = list(schedules)
        boundaries = list(boundaries)
        if not schedules:
            raise ValueError("schedules must hold at least one LearningRateSchedule, got []")
        for index, schedule in enumerate(schedules):
            if not isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
                raise _validate.ArgumentTypeError(
                    f"schedules[{index}] must be a keras LearningRateSchedule, got {schedule!r}"
                )
        if len(boundaries) != len(schedules) - 1:
            raise ValueError(
                f"boundaries must hold len(schedules) - 1 = {len(schedules) - 1} steps, "
                f"got {len(boundaries)}: {boundaries!r}"
            )
        for index, boundary in enumerate(boundaries):
            smallest = 1 if index == 0 else boundaries[index - 1] + 1
            _integer(f"boundaries[{index}]", boundary, smallest)
        self.schedules = schedules
        self.boundaries = [int(boundary) for boundary in boundaries]
        self.name = _name(name, type(self).__name__)

    def __call__(self, step):
        with keras.name_scope(self.name):
            step = _ops.maximum(ops.convert_to_tensor(_check_step(step)), 0)
            starts = [0, *self.boundaries]
            values = [
                schedule(_ops.maximum(step - start, 0))
                for schedule, start in zip(self.schedules, starts, strict=True)
            ]
            dtype = ops.convert_to_tensor(values[0]).dtype
            value = ops.cast(values[-1], dtype)
            for index in reversed(range(len(self.boundaries))):
                earlier = ops.cast(values[index], dtype)
                value = ops.where(step < self.boundaries[index], earlier, value)
            return value

    def get_config(self):
        return {
            "schedules": [keras.saving.serialize_keras_object(s) for s in self.schedules],
            "boundaries": list(self.boundaries),
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["schedules"] = [
            keras.saving.deserialize_keras_object(s) if isinstance(s, dict) else s
            for s in config["schedules"]
        ]
        return cls(**config)


# --- PyTorch's schedulers: lrlab.torch_equivalents --------------------------------------------


def __getattr__(name):
    """``torch_equivalent`` lives in ``lrlab.torch_equivalents`` (the translation table); it
    is found here too, as in lrlab 0.1 (imported on first use: that module imports this one)."""
    if name == "torch_equivalent":
        from lrlab.torch_equivalents import torch_equivalent

        return torch_equivalent
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
