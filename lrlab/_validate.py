"""The argument checks of lrlab, one set for every module, with one kind of message.

Every check takes ``(name, value, ...)`` and returns the value in its plain form (a Python
``int``, ``float``, ``bool``, ``str`` or ``Path``), or raises:

- ``ArgumentTypeError`` when the value is of the wrong kind (a string where a number goes, a
  bool where an integer goes). It is a ``TypeError``, and also a ``ValueError``: some modules
  of lrlab 0.1 raised ``ValueError`` for a wrong kind, and code that catches that keeps working.
- ``ValueError`` when the value is of the right kind but outside what is allowed (a negative
  count, ``nan``, a rate above 1).

The message always names the argument, shows the value with ``repr`` and says what is
allowed: ``"beta must be a number in [0, 1), got 1.5"``. Every check words what is allowed
itself; ``allowed=`` replaces that wording (``"a rate in (0, 1]"``), and ``kind=`` replaces it
in the message of a wrong kind only (``"a number"``), so that a module keeps the wording its
users know without a wrapper of its own.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong kind (a TypeError; also a ValueError, see the module doc)."""


def is_number(value) -> bool:
    """True for a real number (Python or NumPy), not a bool."""
    return isinstance(value, (numbers.Real, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def interval(low=None, high=None, low_open: bool = False, high_open: bool = False) -> str:
    """The interval as text: ``interval(0, 1, high_open=True)`` is ``"[0, 1)"``."""
    return (
        ("(" if low_open or low is None else "[")
        + ("-inf" if low is None else f"{low:g}")
        + ", "
        + ("inf" if high is None else f"{high:g}")
        + (")" if high_open or high is None else "]")
    )


def _raise(error: type, name: str, value, what: str):
    raise error(f"{name} must be {what}, got {value!r}")


def real(
    name: str,
    value,
    low=None,
    high=None,
    low_open: bool = False,
    high_open: bool = False,
    allowed: str | None = None,
    kind: str | None = None,
) -> float:
    """``value`` as a float if it is a finite real number in the interval, else raise.

    ``low``/``high`` bound the interval (None: unbounded), ``*_open`` excludes the bound.
    """
    what = allowed or (
        "a finite number"
        if low is None and high is None
        else f"a number in {interval(low, high, low_open, high_open)}"
    )
    if not is_number(value):
        _raise(ArgumentTypeError, name, value, kind or what)
    number = float(value)
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if not math.isfinite(number) or too_low or too_high:
        _raise(ValueError, name, value, what)
    return number


def _integer_wording(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"an integer in [{minimum}, {maximum}]"
    if minimum == 1:
        return "a positive integer"
    if minimum == 0:
        return "a non-negative integer"
    if minimum is not None:
        return f"an integer >= {minimum}"
    if maximum is not None:
        return f"an integer <= {maximum}"
    return "an integer"


def integer(
    name: str,
    value,
    minimum: int | None = None,
    maximum: int | None = None,
    allowed: str | None = None,
    kind: str | None = None,
) -> int:
    """``value`` as an int if it is an integer (Python or NumPy, not a bool) in
    ``[minimum, maximum]``, else raise."""
    what = allowed or _integer_wording(minimum, maximum)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        _raise(ArgumentTypeError, name, value, kind or what)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        _raise(ValueError, name, value, what)
    return int(value)


def flag(name: str, value, allowed: str | None = None) -> bool:
    """``value`` as a bool if it is ``True`` or ``False`` (Python or NumPy), else raise."""
    if not isinstance(value, (bool, np.bool_)):
        _raise(ArgumentTypeError, name, value, allowed or "True or False")
    return bool(value)


def choice(name: str, value, options: Iterable[str], allowed: str | None = None) -> str:
    """``value`` if it is one of the strings ``options``, else raise (listing them)."""
    options = list(options)
    what = allowed or "one of " + ", ".join(repr(option) for option in options)
    if not isinstance(value, str):
        _raise(ArgumentTypeError, name, value, what)
    if value not in options:
        _raise(ValueError, name, value, what)
    return value


def text(name: str, value, allow_empty: bool = False) -> str:
    """``value`` if it is a string (not empty unless ``allow_empty``), else raise."""
    if not isinstance(value, str):
        _raise(ArgumentTypeError, name, value, "a string")
    if not value.strip() and not allow_empty:
        raise ValueError(f"{name} must not be empty, got {value!r}")
    return value


def path(name: str, value, allowed: str | None = None) -> Path:
    """``value`` as a Path if it is a str or ``os.PathLike`` (not empty), else raise."""
    what = allowed or "a path (a str or os.PathLike)"
    if not isinstance(value, (str, os.PathLike)):
        _raise(ArgumentTypeError, name, value, what)
    if not os.fspath(value):
        raise ValueError(f"{name} must be a path, got an empty string")
    return Path(value)
