"""Claims: a lesson's conclusion, checked against the numbers a training cell measured.

Training is chaotic: the last bit of a float sum (thread partitioning, SIMD width, kernel
library) moves the third digit of an accuracy after a few epochs, so a cell that prints a
trained number prints another number on another machine. A lesson therefore never prints
such a number in a checked cell. It states what it concludes as a claim::

    claims.paired_difference(
        one_cycle_accuracy, constant_accuracy,
        statement="one-cycle ends above the constant rate",
    )

which prints one line that is the same on every machine where the claim holds::

    claim holds: one-cycle ends above the constant rate (paired over 5 seeds: the
    95% t-interval of the mean difference lies above 0)

and raises ``ClaimFailed`` with the measured numbers where it does not. nbval checks the
line; the cell that trained is ``# NBVAL_IGNORE_OUTPUT``.

Kinds (each as strong as its sentence and no stronger):

- ``paired_difference(a, b)``: per-seed differences ``d_i = a_i - b_i``; the two-sided
  Student-t interval of their mean, ``mean(d) +/- t_{(1+c)/2, n-1} * sd(d) / sqrt(n)``
  (Student 1908), lies above 0 (``direction="greater"``) or below it (``"less"``).
- ``every_pair(a, b)``: ``a_i > b_i`` (or ``<``) for every seed i: a sign claim. Under the
  null hypothesis of no difference, all n signs agree by chance with probability 2^-n.
- ``bounded(values, above=..., below=...)``: every value lies strictly beyond a threshold
  whose ``reason`` is stated (chance accuracy 1/43, a formula, a noise floor measured in
  the lesson), never a number fitted to today's run.
- ``mean_interval(values, above=..., below=...)``: the t-interval of the mean lies beyond
  a threshold (for "on average over seeds" statements).

Every kind takes ``defer``: a sentence saying why the claim cannot be checked with the
numbers at hand (a small budget) and which command checks it. A deferred claim is not
evaluated and prints ``claim deferred: ...``.

With the environment variable ``LRLAB_CLAIMS_LOG`` set to a file name, every claim also
appends one JSON line (statement, kind, holds, margin, numbers) to that file, so the margins
of a whole run of the series can be collected and compared between machines. A folder there is
a ValueError, a file that cannot be opened an OSError naming the variable; neither writes.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from lrlab import _validate

__all__ = [
    "Claim",
    "ClaimFailed",
    "bounded",
    "check_all",
    "every_pair",
    "mean_interval",
    "paired_difference",
    "t_quantile",
]

LOG_VARIABLE = "LRLAB_CLAIMS_LOG"
DIRECTIONS = ("greater", "less")


class ClaimFailed(AssertionError):
    """A lesson's claim does not hold on the numbers measured; the message gives them."""


@dataclass(frozen=True)
class Claim:
    """A checked claim: what was stated, how it was tested, and by how much it held.

    ``margin`` is the distance between the tested quantity and its limit, positive when the
    claim holds (the interval's near end minus 0, the smallest value minus the threshold).
    """

    kind: str
    statement: str
    test: str
    holds: bool
    margin: float
    numbers: dict = field(default_factory=dict)

    def _ipython_display_(self) -> None:
        """Show nothing as a cell's last value: the claim has printed its line already.

        The default repr carries the measured numbers, which differ between machines; a
        notebook cell ending in a claim call must print only the line.
        """

    @property
    def line(self) -> str:
        """The printed line: the same text on every machine where the claim holds."""
        return f"claim holds: {self.statement} ({self.test})"


# --------------------------------------------------------------------------- Student's t


def _t_central_probability(t: float, dof: int) -> float:
    """P(|T| <= t) for Student's t with an integer number of degrees of freedom ``dof``.

    The closed forms of Abramowitz & Stegun 26.7.3 (odd dof) and 26.7.4 (even dof), with
    theta = atan(t / sqrt(dof)).
    """
    theta = math.atan(t / math.sqrt(dof))
    sine, cosine = math.sin(theta), math.cos(theta)
    if dof % 2 == 1:
        total, term = 0.0, cosine
        if dof > 1:
            total = term
            for k in range(3, dof - 1, 2):  # 2*4*...*(k-1) / (1*3*...*k) cos^k
                term *= (k - 1) / k * cosine * cosine
                total += term
        return 2.0 / math.pi * (theta + sine * total)
    total, term = 1.0, 1.0
    for k in range(2, dof - 1, 2):  # 1*3*...*(k-1) / (2*4*...*k) cos^k
        term *= (k - 1) / k * cosine * cosine
        total += term
    return sine * total


def t_quantile(confidence: float, dof: int) -> float:
    """The t with P(|T| <= t) = ``confidence``: the half-width factor of a two-sided interval.

    ``t_quantile(0.95, 4)`` is 2.7764 (the 0.975 quantile of Student's t with 4 degrees of
    freedom). Found by bisection on the closed-form distribution, to 1e-12.
    """
    dof = _validate.integer("dof", dof, minimum=1)
    confidence = _validate.real(
        "confidence", confidence, low=0, high=1, low_open=True, high_open=True
    )
    low, high = 0.0, 1.0
    while _t_central_probability(high, int(dof)) < confidence:
        high *= 2.0
    while high - low > 1e-12 * max(1.0, high):
        middle = (low + high) / 2.0
        if _t_central_probability(middle, int(dof)) < confidence:
            low = middle
        else:
            high = middle
    return (low + high) / 2.0


# --------------------------------------------------------------------------- helpers


def _values(name: str, values, minimum: int = 1) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise _validate.ArgumentTypeError(
            f"{name} must be a sequence of numbers, got {values!r}"
        ) from None
    if array.size < minimum:
        raise ValueError(f"{name} needs at least {minimum} value(s), got {array.size}")
    if not np.all(np.isfinite(array)):
        raise ClaimFailed(f"{name} holds a value that is not finite: {_format(array)}")
    return array


def _paired(a, b, minimum: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` as arrays (``_values``) of the same size: one value per seed each."""
    a, b = _values("a", a, minimum), _values("b", b, minimum)
    if a.size != b.size:
        raise ValueError(f"a and b must be paired (one value per seed each): {a.size} vs {b.size}")
    return a, b


def _text(name: str, value) -> str:
    """``value`` stripped if it is a non-empty str (``_validate.text``), else raise."""
    try:
        return _validate.text(name, value).strip()
    except ValueError as error:  # an ArgumentTypeError too
        raise type(error)(f"{name} must be a non-empty sentence, got {value!r}") from None


def _confidence(confidence) -> float:
    return _validate.real(
        "confidence", confidence, low=0.5, high=1, high_open=True, allowed="in [0.5, 1)"
    )


def _format(array) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in np.asarray(array, dtype=np.float64).ravel()) + "]"


def _threshold(name: str, value) -> float | None:
    """None, or ``value`` as a float if it is a finite number (``_validate.real``)."""
    if value is None:
        return None
    try:
        return _validate.real(name, value, allowed="a finite number or None")
    except _validate.ArgumentTypeError:
        raise _validate.ArgumentTypeError(
            f"{name} must be a number or None, got {value!r}"
        ) from None


def _thresholds(kind: str, statement, reason, above, below) -> tuple[str, str, float, float]:
    """The checked ``statement``, ``reason``, ``above`` and ``below`` of a threshold claim
    (``bounded``, ``mean_interval``), at least one threshold given."""
    statement, reason = _text("statement", statement), _text("reason", reason)
    above, below = _threshold("above", above), _threshold("below", below)
    if above is None and below is None:
        raise ValueError(f"{kind} needs a threshold: give above=, below= or both")
    return statement, reason, above, below


def _settle(claim: Claim, failure: str) -> Claim:
    """Log the claim, then print its line when it holds or raise ClaimFailed with the numbers."""
    log = os.environ.get(LOG_VARIABLE)
    if log:
        _append_to_log(log, json.dumps(asdict(claim)) + "\n")
    if not claim.holds:
        raise ClaimFailed(f"claim does not hold: {claim.statement} ({claim.test})\n{failure}")
    print(claim.line)
    return claim


def _append_to_log(log: str, line: str) -> None:
    """Append ``line`` to the file ``log`` names, or say that ``LRLAB_CLAIMS_LOG`` is wrong."""
    if os.path.isdir(log):
        raise ValueError(
            f"{LOG_VARIABLE} must name a file to append claims to, got the folder {log!r}: "
            f"set it to a file path such as {os.path.join(log, 'claims.jsonl')!r}"
        )
    try:
        stream = open(log, "a", encoding="utf-8")
    except OSError as error:
        raise OSError(
            error.errno,
            f"{LOG_VARIABLE}={log!r} cannot be opened to append claims ({error.strerror}): "
            "set it to a writable file path in an existing folder, or unset it",
        ) from error
    with stream:
        stream.write(line)


def check_all(*makers) -> list[Claim]:
    """Call every one of ``makers`` (functions of no argument that make a claim, such as
    ``lambda: bounded(...)``), then raise one ClaimFailed with every failure's message, if any.

    A cell that states several claims uses it so that one failing claim does not hide the
    others' numbers: the lines of those that hold are printed first, in order. Returns the
    claims when all hold.
    """
    held, failures = [], []
    for make in makers:
        if not callable(make):
            raise _validate.ArgumentTypeError(
                f"every argument must be a function that makes a claim (lambda: bounded(...)), "
                f"got {make!r}"
            )
        try:
            held.append(make())
        except ClaimFailed as failure:
            failures.append(str(failure))
    if failures:
        raise ClaimFailed("\n\n".join(failures))
    return held


def _deferred(statement: str, defer) -> bool:
    if defer is None:
        return False
    print(f"claim deferred: {statement} ({_text('defer', defer)})")
    return True


# --------------------------------------------------------------------------- the kinds


def paired_difference(
    a: Sequence[float],
    b: Sequence[float],
    *,
    statement: str,
    direction: str = "greater",
    confidence: float = 0.95,
    defer: str | None = None,
) -> Claim | None:
    """``a`` is above ``b`` (or below, ``direction="less"``), judged on paired differences.

    ``a[i]`` and ``b[i]`` are measured under the same seed (same split, same initial
    weights, same batch order). With ``d = a - b`` over n >= 2 seeds the claim holds when
    the two-sided ``confidence`` t-interval ``mean(d) +/- t * sd(d) / sqrt(n)`` lies
    entirely above 0 (below 0 for ``"less"``). ``margin`` is the interval's end nearest 0,
    signed so that positive means the claim holds.
    """
    statement, direction = (
        _text("statement", statement),
        _validate.choice("direction", direction, DIRECTIONS),
    )
    confidence = _confidence(confidence)
    if _deferred(statement, defer):
        return None
    a, b = _paired(a, b, minimum=2)
    differences = a - b
    n = differences.size
    mean = float(differences.mean())
    half_width = t_quantile(confidence, n - 1) * float(differences.std(ddof=1)) / math.sqrt(n)
    low, high = mean - half_width, mean + half_width
    margin = low if direction == "greater" else -high
    side = "above" if direction == "greater" else "below"
    test = (
        f"paired over {n} seeds: the {confidence:.0%} t-interval of the mean difference "
        f"lies {side} 0"
    )
    claim = Claim(
        "paired_difference",
        statement,
        test,
        margin > 0,
        margin,
        {"a": a.tolist(), "b": b.tolist(), "mean": mean, "interval": [low, high]},
    )
    failure = (
        f"measured: a = {_format(a)}, b = {_format(b)}, differences = {_format(differences)}, "
        f"mean {mean:.4g}, {confidence:.0%} interval [{low:.4g}, {high:.4g}]"
    )
    return _settle(claim, failure)


def every_pair(
    a: Sequence[float],
    b: Sequence[float],
    *,
    statement: str,
    direction: str = "greater",
    defer: str | None = None,
) -> Claim | None:
    """``a[i] > b[i]`` for every seed i (``a[i] < b[i]`` with ``direction="less"``).

    A sign claim ("on every seed"): with n seeds and no real difference, all n signs agree
    by chance with probability 2^-n (1/32 for 5 seeds, 1/4 for 2). ``margin`` is the
    smallest difference in the claimed direction.
    """
    statement, direction = (
        _text("statement", statement),
        _validate.choice("direction", direction, DIRECTIONS),
    )
    if _deferred(statement, defer):
        return None
    a, b = _paired(a, b)
    differences = a - b if direction == "greater" else b - a
    margin = float(differences.min())
    word = "above" if direction == "greater" else "below"
    test = f"{word} on each of {a.size} seeds"
    claim = Claim(
        "every_pair", statement, test, margin > 0, margin, {"a": a.tolist(), "b": b.tolist()}
    )
    failure = f"measured: a = {_format(a)}, b = {_format(b)}, a - b = {_format(a - b)}"
    return _settle(claim, failure)


def bounded(
    values,
    *,
    statement: str,
    reason: str,
    above: float | None = None,
    below: float | None = None,
    defer: str | None = None,
) -> Claim | None:
    """Every one of ``values`` is strictly greater than ``above`` and less than ``below``.

    ``reason`` says where each threshold comes from (a formula, chance level, a noise floor
    measured in the lesson); it is printed with the claim, so it must not quote a number that
    only training produced. ``margin`` is the smallest distance to a threshold, relative to
    the threshold's size when that is not zero.
    """
    statement, reason, above, below = _thresholds("bounded", statement, reason, above, below)
    if above is not None and below is not None and not above < below:
        raise ValueError(f"above must be less than below, got above={above!r}, below={below!r}")
    if _deferred(statement, defer):
        return None
    values = _values("values", values)
    margins = []
    if above is not None:
        margins.append((values.min() - above) / (abs(above) or 1.0))
    if below is not None:
        margins.append((below - values.max()) / (abs(below) or 1.0))
    margin = float(min(margins))
    count = "the value" if values.size == 1 else f"all {values.size} values"
    test = f"{count}; {reason}"
    claim = Claim(
        "bounded",
        statement,
        test,
        margin > 0,
        margin,
        {"values": values.tolist(), "above": above, "below": below},
    )
    failure = f"measured: {_format(values)}; allowed: above {above}, below {below}"
    return _settle(claim, failure)


def mean_interval(
    values,
    *,
    statement: str,
    reason: str,
    above: float | None = None,
    below: float | None = None,
    confidence: float = 0.95,
    defer: str | None = None,
) -> Claim | None:
    """The ``confidence`` t-interval of the mean of ``values`` (n >= 2) lies beyond thresholds.

    For "on average over seeds" statements: ``mean +/- t * sd / sqrt(n)`` lies above
    ``above`` and below ``below``. ``reason`` as in ``bounded``.
    """
    statement, reason, above, below = _thresholds("mean_interval", statement, reason, above, below)
    confidence = _confidence(confidence)
    if _deferred(statement, defer):
        return None
    values = _values("values", values, minimum=2)
    n = values.size
    mean = float(values.mean())
    half_width = t_quantile(confidence, n - 1) * float(values.std(ddof=1)) / math.sqrt(n)
    low, high = mean - half_width, mean + half_width
    margins = []
    if above is not None:
        margins.append(low - above)
    if below is not None:
        margins.append(below - high)
    margin = float(min(margins))
    test = f"{confidence:.0%} t-interval of the mean over {n} seeds; {reason}"
    claim = Claim(
        "mean_interval",
        statement,
        test,
        margin > 0,
        margin,
        {"values": values.tolist(), "interval": [low, high], "above": above, "below": below},
    )
    failure = (
        f"measured: {_format(values)}, mean {mean:.4g}, {confidence:.0%} interval "
        f"[{low:.4g}, {high:.4g}]; allowed: above {above}, below {below}"
    )
    return _settle(claim, failure)
