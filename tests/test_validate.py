"""Tests of lrlab._validate (the argument checks), of lrlab.notebook.source_of / show_source,
and of lrlab.reference.max_relative_error.

Every expected message is written out: "<name> must be <allowed>, got <repr>".
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from lrlab import _validate, notebook
from lrlab.reference import max_relative_error

# --- ArgumentTypeError -----------------------------------------------------------------------


def test_argument_type_error_is_a_type_error_and_a_value_error():
    assert issubclass(_validate.ArgumentTypeError, TypeError)
    assert issubclass(_validate.ArgumentTypeError, ValueError)
    for expected in (TypeError, ValueError):
        with pytest.raises(expected):
            _validate.real("beta", "0.5")


# --- interval --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "text"),
    [
        ((0, 1), "[0, 1]"),
        ((0, 1, False, True), "[0, 1)"),
        ((0, 1, True, False), "(0, 1]"),
        ((0, None), "[0, inf)"),
        ((None, 2.5), "(-inf, 2.5]"),
        ((None, None), "(-inf, inf)"),
        ((1e-3, 1e3, True, True), "(0.001, 1000)"),
    ],
)
def test_interval_writes_the_bounds(arguments, text):
    assert _validate.interval(*arguments) == text


# --- real ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "bounds", "expected"),
    [
        (0.5, {}, 0.5),
        (3, {}, 3.0),
        (np.float32(0.25), {"low": 0, "high": 1}, 0.25),
        (np.int64(2), {"low": 2}, 2.0),
        (0.0, {"low": 0}, 0.0),
        (1.0, {"high": 1}, 1.0),
    ],
)
def test_real_holds(value, bounds, expected):
    result = _validate.real("beta", value, **bounds)
    assert result == expected and type(result) is float


@pytest.mark.parametrize(
    ("value", "bounds", "error", "message"),
    [
        ("0.5", {}, _validate.ArgumentTypeError, "beta must be a finite number, got '0.5'"),
        (True, {}, _validate.ArgumentTypeError, "beta must be a finite number, got True"),
        (None, {}, _validate.ArgumentTypeError, "beta must be a finite number, got None"),
        (float("nan"), {}, ValueError, "beta must be a finite number, got nan"),
        (float("inf"), {"low": 0}, ValueError, "beta must be a number in [0, inf), got inf"),
        (
            1.5,
            {"low": 0, "high": 1, "high_open": True},
            ValueError,
            "beta must be a number in [0, 1), got 1.5",
        ),
        (
            0.0,
            {"low": 0, "low_open": True},
            ValueError,
            "beta must be a number in (0, inf), got 0.0",
        ),
        (-1, {"low": 0}, ValueError, "beta must be a number in [0, inf), got -1"),
        (
            2.0,
            {"low": 0, "high": 1, "low_open": True, "allowed": "a rate in (0, 1]"},
            ValueError,
            "beta must be a rate in (0, 1], got 2.0",
        ),
        (
            "x",
            {"allowed": "a rate in (0, 1]"},
            _validate.ArgumentTypeError,
            "beta must be a rate in (0, 1], got 'x'",
        ),
    ],
)
def test_real_fails_with_name_value_and_allowed(value, bounds, error, message):
    with pytest.raises(error, match=f"^{re.escape(message)}$") as raised:
        _validate.real("beta", value, **bounds)
    if error is ValueError:  # a bad value of the right kind is not a type error
        assert not isinstance(raised.value, TypeError)


# --- integer ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "bounds", "expected"),
    [(3, {}, 3), (np.int32(7), {"minimum": 1}, 7), (0, {"minimum": 0}, 0), (5, {"maximum": 5}, 5)],
)
def test_integer_holds(value, bounds, expected):
    result = _validate.integer("count", value, **bounds)
    assert result == expected and type(result) is int


@pytest.mark.parametrize(
    ("value", "bounds", "error", "message"),
    [
        (2.0, {}, _validate.ArgumentTypeError, "count must be an integer, got 2.0"),
        (
            True,
            {"minimum": 0},
            _validate.ArgumentTypeError,
            "count must be a non-negative integer, got True",
        ),
        (
            "3",
            {"minimum": 1},
            _validate.ArgumentTypeError,
            "count must be a positive integer, got '3'",
        ),
        (0, {"minimum": 1}, ValueError, "count must be a positive integer, got 0"),
        (-1, {"minimum": 0}, ValueError, "count must be a non-negative integer, got -1"),
        (1, {"minimum": 2}, ValueError, "count must be an integer >= 2, got 1"),
        (9, {"maximum": 8}, ValueError, "count must be an integer <= 8, got 9"),
        (
            11,
            {"minimum": 1, "maximum": 10},
            ValueError,
            "count must be an integer in [1, 10], got 11",
        ),
    ],
)
def test_integer_fails_with_name_value_and_allowed(value, bounds, error, message):
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        _validate.integer("count", value, **bounds)


# --- flag, choice, text, path ----------------------------------------------------------------


def test_flag_holds_for_python_and_numpy_bools():
    assert _validate.flag("verbose", True) is True
    assert _validate.flag("verbose", np.bool_(False)) is False


@pytest.mark.parametrize("value", [1, 0, "yes", None])
def test_flag_fails_for_anything_else(value):
    message = f"verbose must be True or False, got {value!r}"
    with pytest.raises(_validate.ArgumentTypeError, match=f"^{re.escape(message)}$"):
        _validate.flag("verbose", value)


def test_choice_holds_and_fails_listing_the_options():
    assert _validate.choice("mode", "max", ("min", "max")) == "max"
    with pytest.raises(ValueError, match=re.escape("mode must be one of 'min', 'max', got 'auto'")):
        _validate.choice("mode", "auto", ("min", "max"))
    with pytest.raises(
        _validate.ArgumentTypeError, match=re.escape("mode must be one of 'min', 'max', got 1")
    ):
        _validate.choice("mode", 1, ["min", "max"])


def test_text_holds_and_fails():
    assert _validate.text("title", "Loss") == "Loss"
    assert _validate.text("title", "", allow_empty=True) == ""
    with pytest.raises(
        _validate.ArgumentTypeError, match=re.escape("title must be a string, got 5")
    ):
        _validate.text("title", 5)
    with pytest.raises(ValueError, match=re.escape("title must not be empty, got '  '")):
        _validate.text("title", "  ")


def test_path_holds_and_fails(tmp_path):
    assert _validate.path("folder", "a/b") == Path("a/b")
    assert _validate.path("folder", tmp_path) == tmp_path
    with pytest.raises(
        _validate.ArgumentTypeError,
        match=re.escape("folder must be a path (a str or os.PathLike), got 3"),
    ):
        _validate.path("folder", 3)
    with pytest.raises(ValueError, match=re.escape("folder must be a path, got an empty string")):
        _validate.path("folder", "")


# --- lrlab.notebook.source_of / show_source --------------------------------------------------


def _sample_function(x):
    """A function whose source the tests read back."""
    return x + 1


class _SampleClass:
    def method(self):
        return 2


def test_source_of_gives_the_dedented_source():
    assert notebook.source_of(_sample_function) == (
        "def _sample_function(x):\n"
        '    """A function whose source the tests read back."""\n'
        "    return x + 1\n"
    )
    assert notebook.source_of(_SampleClass.method).startswith("def method(self):\n")
    assert notebook.source_of(_SampleClass).startswith("class _SampleClass:\n")


def test_show_source_prints_each_source_under_its_name_with_a_blank_line_between(capsys):
    notebook.show_source(_sample_function, _SampleClass.method)
    assert capsys.readouterr().out == (
        "# test_validate._sample_function\n"
        "def _sample_function(x):\n"
        '    """A function whose source the tests read back."""\n'
        "    return x + 1\n"
        "\n"
        "# test_validate._SampleClass.method\n"
        "def method(self):\n"
        "    return 2\n"
    )


@pytest.mark.parametrize("obj", [3, "def f(): pass", len])
def test_source_of_refuses_what_is_not_a_function_or_class(obj):
    with pytest.raises(TypeError, match="obj must be a function, method or class"):
        notebook.show_source(obj)


def test_show_source_needs_at_least_one_object():
    with pytest.raises(TypeError, match="show_source needs at least one function"):
        notebook.show_source()


# --- lrlab.reference.max_relative_error ------------------------------------------------------


def test_max_relative_error_of_hand_values():
    # |1.1 - 1| / 1 = 0.1 and |2 - 2| / 2 = 0: the largest is 0.1
    assert max_relative_error([1.1, 2], [1, 2]) == pytest.approx(0.1, abs=1e-12)


def test_max_relative_error_counts_the_absolute_difference_at_a_zero_reference():
    # reference 0: the absolute difference 0.5 (not a division by 0); 0.2 / 4 = 0.05 elsewhere
    assert max_relative_error([0.5, 4.2], [0.0, 4.0]) == pytest.approx(0.5, abs=1e-12)
    assert max_relative_error([0.0], [0.0]) == 0.0


def test_max_relative_error_refuses_shapes_that_differ():
    with pytest.raises(ValueError, match=r"same shape, got \(2,\) and \(3,\)"):
        max_relative_error([1.0, 2.0], [1.0, 2.0, 3.0])
