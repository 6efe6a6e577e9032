"""PyTorch's learning-rate schedulers and their Keras or lrlab equivalents, as one table.

``TABLE`` has one row per class of ``torch.optim.lr_scheduler`` (torch 2.13): the torch
signature, the Keras or lrlab schedule with the same values (η is the optimizer's rate, γ
torch's ``gamma``), a note, and the function that builds that schedule from torch's
arguments. Lesson 03 displays it (``markdown_table``), ``torch_equivalent`` builds from it,
and ``schedule_of_case`` rebuilds a case of ``lrlab/reference/torch_schedulers.json``
(recorded by ``tools/reference_torch.py``), so that the lesson and the tests compare
lrlab with PyTorch through the same code.

The result of a builder at Keras step k equals torch's rate for optimizer step k
(``get_last_lr()`` after k calls of ``scheduler.step()``, each after ``optimizer.step()``).
``ReduceLROnPlateau`` is a rule on a metric, not a function of the step: its row has no
builder (see ``lrlab.plateau``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import keras
import numpy as np

from lrlab import schedules

__all__ = [
    "TorchEquivalent",
    "TABLE",
    "RECORDED_LR_LAMBDAS",
    "torch_equivalent",
    "markdown_table",
    "recorded_arguments",
    "schedule_of_case",
]

_KERAS = keras.optimizers.schedules


@dataclass(frozen=True)
class TorchEquivalent:
    """One row of the table: ``torch`` (the torch class with its arguments), ``keras`` (its
    equivalent), ``note``, and ``build(learning_rate, arguments)`` (None: not a function of
    the step). ``name`` is the torch class name."""

    torch: str
    keras: str
    note: str
    build: Callable | None

    @property
    def name(self) -> str:
        return self.torch.split("(")[0]


class _TorchArguments(dict):
    """The arguments of one torch scheduler; a missing one is a clear ValueError."""

    def __init__(self, scheduler, arguments):
        super().__init__(arguments)
        self._scheduler = scheduler

    def __missing__(self, key):
        given = ", ".join(repr(k) for k in self) or "none"
        raise ValueError(
            f"torch_equivalent({self._scheduler!r}) needs the argument {key!r} in arguments "
            f"(given: {given}); pass it by its torch name, e.g. {{{key!r}: ...}}"
        )


# --- the builders, one per torch class (base: the optimizer's rate, args: torch's) -----------


def _step_lr(base, args):
    return _KERAS.ExponentialDecay(base, args["step_size"], args["gamma"], staircase=True)


def _multi_step_lr(base, args):
    # torch lowers the rate at step m; PiecewiseConstantDecay switches after step m - 1.
    values = [base * args["gamma"] ** i for i in range(len(args["milestones"]) + 1)]
    return _KERAS.PiecewiseConstantDecay([m - 1 for m in args["milestones"]], values)


def _constant_lr(base, args):
    # torch restores the rate at step total_iters: the switch is after total_iters - 1.
    values = [base * args["factor"], base]
    return _KERAS.PiecewiseConstantDecay([args["total_iters"] - 1], values)


def _linear_lr(base, args):
    start, end = base * args["start_factor"], base * args["end_factor"]
    return schedules.LinearRamp(start, end, args["total_iters"])


def _exponential_lr(base, args):
    return _KERAS.ExponentialDecay(base, 1, args["gamma"])


def _polynomial_lr(base, args):
    zero = base * 0  # keeps base's dtype (float64 stays float64)
    return _KERAS.PolynomialDecay(base, args["total_iters"], zero, power=args["power"])


def _cosine_annealing_lr(base, args):
    return _KERAS.CosineDecay(base, args["T_max"], alpha=args["eta_min"] / base)


def _cosine_annealing_warm_restarts(base, args):
    return _KERAS.CosineDecayRestarts(
        base, args["T_0"], t_mul=args["T_mult"], m_mul=base / base, alpha=args["eta_min"] / base
    )


_CYCLIC_MODES = {
    "triangular": schedules.TriangularCyclicalLearningRate,
    "triangular2": schedules.Triangular2CyclicalLearningRate,
    "exp_range": schedules.ExponentialCyclicalLearningRate,
}


def _cyclic_lr(base, args):
    bounds = (args["base_lr"], args["max_lr"], args["step_size_up"])
    mode = args["mode"]
    if mode not in _CYCLIC_MODES:
        raise ValueError(
            f"torch_equivalent('CyclicLR'): mode must be one of "
            f"{', '.join(map(repr, _CYCLIC_MODES))}; got {mode!r}"
        )
    if mode == "exp_range":
        return _CYCLIC_MODES[mode](*bounds, gamma=args["gamma"])
    return _CYCLIC_MODES[mode](*bounds)


def _one_cycle_lr(base, args):
    options = ("pct_start", "div_factor", "final_div_factor", "anneal_strategy", "three_phase")
    return schedules.OneCycle(
        args["max_lr"], args["total_steps"], **{k: args[k] for k in options if k in args}
    )


def _sequential_lr(base, args):
    children = [torch_equivalent(name, base, child) for name, child in args["schedulers"]]
    return schedules.ChainedSchedule(children, args["milestones"])


def _chained_scheduler(base, args):
    # each child multiplies the rate by its own factor: its schedule on a base rate of 1
    factors = [torch_equivalent(name, base / base, child) for name, child in args["schedulers"]]
    return lambda step: base * math.prod(factor(step) for factor in factors)


def _lambda_lr(base, args):
    lr_lambda = args["lr_lambda"]
    return lambda step: base * lr_lambda(step)


def _multiplicative_lr(base, args):
    """base * lr_lambda(1) * ... * lr_lambda(step), for a step or an array of steps."""
    lr_lambda = args["lr_lambda"]

    def learning_rate(step):
        steps = np.asarray(step)
        rates = [math.prod(map(lr_lambda, range(1, int(k) + 1)), start=base) for k in steps.ravel()]
        return np.reshape(rates, steps.shape)

    return learning_rate


#: The table, in the order lesson 03 shows it.
TABLE: tuple[TorchEquivalent, ...] = (
    TorchEquivalent(
        "StepLR(step_size, gamma)",
        "ExponentialDecay(η, step_size, γ, staircase=True)",
        "",
        _step_lr,
    ),
    TorchEquivalent(
        "MultiStepLR(milestones, gamma)",
        "PiecewiseConstantDecay([m - 1 for m in milestones], [η·γ^i])",
        "Keras keeps the old value *at* a boundary, hence m − 1",
        _multi_step_lr,
    ),
    TorchEquivalent(
        "ConstantLR(factor, total_iters)",
        "PiecewiseConstantDecay([total_iters - 1], [η·factor, η])",
        "torch restores η at step total_iters, hence total_iters − 1",
        _constant_lr,
    ),
    TorchEquivalent(
        "LinearLR(start_factor, end_factor, total_iters)",
        "LinearRamp(η·start_factor, η·end_factor, total_iters)",
        "lrlab",
        _linear_lr,
    ),
    TorchEquivalent("ExponentialLR(gamma)", "ExponentialDecay(η, 1, γ)", "", _exponential_lr),
    TorchEquivalent(
        "PolynomialLR(total_iters, power)",
        "PolynomialDecay(η, total_iters, 0.0, power)",
        "",
        _polynomial_lr,
    ),
    TorchEquivalent(
        "CosineAnnealingLR(T_max, eta_min)",
        "CosineDecay(η, T_max, alpha=eta_min/η)",
        "equal up to T_max; after it torch's rate rises again, Keras's stays at eta_min",
        _cosine_annealing_lr,
    ),
    TorchEquivalent(
        "CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)",
        "CosineDecayRestarts(η, T_0, t_mul=T_mult, m_mul=1, alpha=eta_min/η)",
        "",
        _cosine_annealing_warm_restarts,
    ),
    TorchEquivalent(
        "CyclicLR(base_lr, max_lr, step_size_up, mode)",
        "TriangularCyclicalLearningRate, Triangular2CyclicalLearningRate, "
        "ExponentialCyclicalLearningRate",
        "lrlab (lesson 04); torch also cycles the momentum unless cycle_momentum=False",
        _cyclic_lr,
    ),
    TorchEquivalent(
        "OneCycleLR(max_lr, total_steps, ...)",
        "OneCycle + OneCycleMomentum",
        "lrlab (section 5)",
        _one_cycle_lr,
    ),
    TorchEquivalent(
        "SequentialLR(schedulers, milestones)",
        "ChainedSchedule(schedules, boundaries)",
        "lrlab (section 4)",
        _sequential_lr,
    ),
    TorchEquivalent(
        "ChainedScheduler(schedulers)",
        "lambda step: η * a(step) * b(step)",
        "a, b: the children's equivalents built with η = 1 (their factors); "
        "to train with it, write it as a schedule object (section 3)",
        _chained_scheduler,
    ),
    TorchEquivalent(
        "ReduceLROnPlateau(...)",
        "keras.callbacks.ReduceLROnPlateau(...)",
        "float rate only; Keras lowers after `patience` bad epochs, torch after `patience + 1`",
        None,
    ),
    TorchEquivalent(
        "LambdaLR(lr_lambda)",
        "lambda step: η * lr_lambda(step)",
        "any function; `0.95 ** step` is `ExponentialDecay(η, 1, 0.95)`; per epoch, "
        "`LearningRateScheduler(lambda epoch: η * lr_lambda(epoch))`",
        _lambda_lr,
    ),
    TorchEquivalent(
        "MultiplicativeLR(lr_lambda)",
        "ExponentialDecay(η, 1, f)",
        "for a constant factor f; in general η · lr_lambda(1) ··· lr_lambda(k), "
        "torch does not multiply at step 0; "
        "per epoch, `LearningRateScheduler(lambda epoch, rate: "
        "rate * lr_lambda(epoch) if epoch else rate)`",
        _multiplicative_lr,
    ),
)

_BUILDERS = {row.name: row.build for row in TABLE if row.build is not None}


def torch_equivalent(scheduler: str, learning_rate, arguments: Mapping):
    """The Keras or lrlab schedule (or function of the step) equal to a PyTorch scheduler.

    ``scheduler`` is the name of a ``torch.optim.lr_scheduler`` class (a row of ``TABLE``),
    ``learning_rate`` the optimizer's rate, ``arguments`` the scheduler's constructor
    arguments by their torch names (``LambdaLR``/``MultiplicativeLR`` take the ``lr_lambda``
    callable; ``SequentialLR``/``ChainedScheduler`` take ``schedulers`` as a list of
    ``(name, arguments)`` pairs). The result at Keras step k equals torch's rate for
    optimizer step k: proven against torch 2.13 in ``tests/test_schedules.py``. Pass
    ``np.float64`` values for float64 parity. ``ReduceLROnPlateau`` is a rule on a metric,
    not a function of the step: see ``lrlab.plateau``.
    """
    if not isinstance(arguments, Mapping):
        raise TypeError(
            f"torch_equivalent({scheduler!r}): arguments must be a dict of the scheduler's "
            f"constructor arguments by their torch names (e.g. {{'step_size': 3, 'gamma': 0.5}}), "
            f"got {arguments!r} (a {type(arguments).__name__})"
        )
    if not isinstance(scheduler, str) or scheduler not in _BUILDERS:
        raise ValueError(f"scheduler must be one of {', '.join(_BUILDERS)}; got {scheduler!r}")
    return _BUILDERS[scheduler](learning_rate, _TorchArguments(scheduler, arguments))


def markdown_table() -> str:
    """``TABLE`` as a Markdown table (torch class, Keras / lrlab equivalent, note)."""
    rows = ["| `torch.optim.lr_scheduler` | Keras / lrlab | note |", "|---|---|---|"]
    rows += [f"| `{row.torch}` | `{row.keras}` | {row.note} |" for row in TABLE]
    return "\n".join(rows)


# --- the recorded cases of lrlab/reference/torch_schedulers.json ------------------------------

#: ``tools/reference_torch.py``'s ``lr_lambda`` functions, by the source the JSON records for
#: each (JSON holds no functions), in float64.
RECORDED_LR_LAMBDAS = {
    "lambda epoch: 0.95 ** epoch": lambda step: np.float64(0.95) ** step,
    "lambda epoch: 0.95": lambda step: np.float64(0.95),
}


def recorded_arguments(recorded: Mapping) -> dict:
    """A recorded case's arguments as ``torch_equivalent`` takes them: floats as
    ``np.float64``, each ``lr_lambda`` (recorded by its source) as its function from
    ``RECORDED_LR_LAMBDAS``, the children of ``schedulers`` likewise."""
    arguments = {}
    for key, value in recorded.items():
        if key == "lr_lambda":
            value = RECORDED_LR_LAMBDAS[value]
        elif key == "schedulers":
            value = [(name, recorded_arguments(child)) for name, child in value]
        elif isinstance(value, float):
            value = np.float64(value)
        arguments[key] = value
    return arguments


def schedule_of_case(case: Mapping):
    """``torch_equivalent`` of a recorded case (``load_reference("torch_schedulers")["cases"]``),
    in float64: its ``scheduler``, ``optimizer_learning_rate`` and ``arguments``."""
    return torch_equivalent(
        case["scheduler"],
        np.float64(case["optimizer_learning_rate"]),
        recorded_arguments(case["arguments"]),
    )
