"""Feedback for the exercises of the lessons.

Each ``check_*`` function takes the learner's function, runs it on cases whose
answers are known, and prints one of three verdicts:

- ``correct: ...`` when every case matches;
- ``not right yet: ...`` with the first case that differs (inputs, expected, got);
- ``not implemented yet: ...`` when the function still raises ``NotImplementedError``
  (the scaffold written by ``make exercises``).

It returns ``True`` only when the function is right, and never raises for a
wrong or missing answer, so the notebook keeps running.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class Mismatch(AssertionError):
    """A case whose result differs from the expected one; the message says how."""


def expect_close(got, expected, what: str, rtol: float = 1e-6, atol: float = 1e-12) -> None:
    """Raise ``Mismatch`` naming ``what`` unless ``got`` equals ``expected`` to ``rtol``/``atol``."""
    got_array = np.asarray(got, dtype=np.float64)
    expected_array = np.asarray(expected, dtype=np.float64)
    if got_array.shape != expected_array.shape:
        raise Mismatch(f"{what}: expected shape {expected_array.shape}, got shape {got_array.shape}")
    if not np.allclose(got_array, expected_array, rtol=rtol, atol=atol, equal_nan=True):
        worst = int(np.argmax(np.abs(got_array - expected_array).ravel()))
        raise Mismatch(
            f"{what}: expected {expected_array.ravel()[worst]!r}, got {got_array.ravel()[worst]!r}"
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
