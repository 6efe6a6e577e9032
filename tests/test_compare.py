"""Tests of lrlab.compare: the results table and the paired verdicts of lesson 08.

Every input is hand-made and every expected value or text is written out (worked by hand
in the comments), so a change in what the tables say shows here, not only in the lesson.
"""

import math

import numpy as np
import pandas as pd
import pytest

from lrlab import _validate, compare


def run(val_accuracy, seconds, test_accuracy):
    return {"val_accuracy": val_accuracy, "seconds": seconds, "test_accuracy": test_accuracy}


# Two rows of two seeds, three epochs each.
RUNS = {
    "constant": [
        run([0.50, 0.70, 0.60], [10.0, 20.0, 30.0], 0.55),
        run([0.40, 0.60, 0.80], [12.0, 24.0, 36.0], 0.65),
    ],
    "one_cycle": [
        run([0.30, 0.80, 0.90], [11.0, 22.0, 33.0], 0.85),
        run([0.20, 0.50, 0.70], [9.0, 18.0, 27.0], 0.75),
    ],
}
PEAKS = {"constant": 0.003, "one_cycle": 0.01}


def test_first_epoch_at_counts_from_one_and_includes_the_level():
    assert compare.first_epoch_at([0.1, 0.5, 0.7], 0.5) == 2
    assert compare.first_epoch_at([0.1, 0.5, 0.7], 0.05) == 1
    assert compare.first_epoch_at([0.1, 0.5, 0.7], 0.71) is None
    assert compare.first_epoch_at([], 0.0) is None


def test_target_is_ninety_percent_of_the_mean_rounded_down():
    # best of constant: 0.70 and 0.80, mean 0.75; 90 * 0.75 = 67.5 -> 67 -> 0.67
    assert compare.target_accuracy([0.70, 0.80]) == 0.67
    assert compare.target_accuracy([0.5], percent=50) == 0.25
    with pytest.raises(ValueError, match="percent must be an integer in \\[1, 100\\], got 0"):
        compare.target_accuracy([0.5], percent=0)


def test_results_table_numbers_worked_by_hand():
    table = compare.results_table(RUNS, PEAKS, target=0.67)
    assert list(table.index) == ["constant", "one_cycle"] and table.index.name == "schedule"
    constant, one_cycle = table.loc["constant"], table.loc["one_cycle"]
    # final val 0.60, 0.80: mean 0.70, sample std sqrt(2 * 0.1**2 / 1) = 0.1414
    assert constant["final val mean"] == pytest.approx(0.70)
    assert constant["final val std"] == pytest.approx(math.sqrt(0.02))
    # best val 0.70, 0.80; test 0.55, 0.65
    assert constant["best val mean"] == pytest.approx(0.75)
    assert constant["test mean"] == pytest.approx(0.60)
    # target 0.67: seed 0 reaches it at epoch 2 (20 s), seed 1 at epoch 3 (36 s)
    assert constant["seeds"] == 2 and constant["seeds at target"] == 2
    assert constant["epochs to target"] == pytest.approx(2.5)
    assert constant["seconds to target"] == pytest.approx(28.0)
    assert constant["seconds per run"] == pytest.approx(33.0)  # (30 + 36) / 2
    # one_cycle: seed 0 at epoch 2 (22 s), seed 1 at epoch 3 (27 s)
    assert one_cycle["epochs to target"] == pytest.approx(2.5)
    assert one_cycle["seconds to target"] == pytest.approx(24.5)
    assert one_cycle["peak"] == 0.01


def test_results_table_without_a_seed_at_target_and_with_one_seed():
    table = compare.results_table({"constant": RUNS["constant"][:1]}, PEAKS, target=0.95)
    row = table.loc["constant"]
    assert row["seeds at target"] == 0
    assert math.isnan(row["epochs to target"]) and math.isnan(row["seconds to target"])
    assert math.isnan(row["final val std"])  # one seed: no sample standard deviation


def test_format_results_prints_the_lesson_table():
    text = compare.format_results(compare.results_table(RUNS, PEAKS, target=0.67)).to_string()
    assert text == (
        "            peak  final val acc   best val acc       test acc at target epochs seconds s/run\n"  # noqa: E501
        "schedule                                                                                    \n"  # noqa: E501
        "constant   0.003  0.700 ± 0.141  0.750 ± 0.071  0.600 ± 0.071       2/2    2.5    28.0    33\n"  # noqa: E501
        "one_cycle   0.01  0.800 ± 0.141  0.800 ± 0.141  0.800 ± 0.071       2/2    2.5    24.5    30"  # noqa: E501
    )
    none = compare.format_results(compare.results_table(RUNS, PEAKS, target=0.95))
    assert list(none["at target"]) == ["0/2", "0/2"] and list(none["epochs"]) == ["nan", "nan"]


def test_paired_difference_worked_by_hand():
    # d = (0.1, 0.3, 0.2): mean 0.2, sd 0.1, t(0.95, 2) = 4.3027; half = 4.3027 * 0.1 / sqrt 3
    mean, low, high, ahead = compare.paired_difference([0.6, 0.8, 0.7], [0.5, 0.5, 0.5])
    half = 4.302652729911275 * 0.1 / math.sqrt(3)
    assert mean == pytest.approx(0.2)
    assert (low, high) == pytest.approx((0.2 - half, 0.2 + half))
    assert ahead == 3
    assert compare.paired_difference([0.5, 0.4], [0.5, 0.6])[3] == 0  # a tie is not ahead
    with pytest.raises(ValueError, match="at least 2 paired values each, got 1"):
        compare.paired_difference([0.5], [0.4])


@pytest.mark.parametrize(
    "low, high, expected",
    [
        (0.01, 0.2, "above"),
        (-0.2, -0.01, "below"),
        (-0.1, 0.1, "within the spread"),
        (0.0, 0.1, "within the spread"),
        (-0.1, 0.0, "within the spread"),
    ],
)
def test_verdict_is_above_or_below_only_when_the_interval_excludes_zero(low, high, expected):
    assert compare.verdict(low, high) == expected


VALUES = {
    "constant": np.array([0.50, 0.50, 0.50]),
    "one_cycle": np.array([0.60, 0.80, 0.70]),  # d = 0.1, 0.3, 0.2: half-width 0.248
    "cosine": np.array([0.40, 0.60, 0.45]),  # d = -0.1, 0.1, -0.05: within the spread
    "plateau": np.array([0.40, 0.30, 0.35]),  # d = -0.1, -0.2, -0.15: below
}
PAIRS = [
    ("one_cycle", "constant"),
    ("cosine", "constant"),
    ("plateau", "constant"),
    ("one_cycle", "cosine"),
]


def test_paired_table_prints_the_lesson_comparison():
    table = compare.paired_table(VALUES, PAIRS)
    assert table.index.name == "test accuracy"
    # cosine - constant: d = (-0.1, 0.1, -0.05), mean -0.0167, sd 0.1041, half 0.2586;
    # plateau: mean -0.15, sd 0.05, half 0.1242; one_cycle - cosine: d = (0.2, 0.2, 0.25),
    # mean 0.2167, sd 0.0289, half 0.0717. With three seeds even d = 0.1..0.3 is "within".
    assert table.to_string(float_format="{:+.3f}".format) == (
        "                       mean    low   high ahead            verdict\n"
        "test accuracy                                                     \n"
        "one_cycle - constant +0.200 -0.048 +0.448   3/3  within the spread\n"
        "cosine - constant    -0.017 -0.275 +0.242   1/3  within the spread\n"
        "plateau - constant   -0.150 -0.274 -0.026   0/3              below\n"
        "one_cycle - cosine   +0.217 +0.145 +0.288   3/3              above"
    )


def test_by_verdict_groups_the_rows_against_one_baseline_in_order():
    groups = compare.by_verdict(compare.paired_table(VALUES, PAIRS), "constant")
    assert groups == {
        "above": [],
        "below": ["plateau"],
        "within the spread": ["one_cycle", "cosine"],
    }
    assert compare.by_verdict(compare.paired_table(VALUES, PAIRS), "cosine") == {
        "above": ["one_cycle"],
        "below": [],
        "within the spread": [],
    }


def test_seed_table_has_a_row_per_name_and_a_column_per_seed():
    text = compare.seed_table({"constant": [0.5, 0.25], "wsd": [0.75, 1.0]}).to_string()
    assert text == ("seed         0     1\nconstant  0.50  0.25\nwsd       0.75  1.00")
    assert compare.seed_table({}).empty
    assert isinstance(compare.seed_table({"a": [1.0, 2.0]}), pd.DataFrame)


def test_a_bad_target_is_refused():
    with pytest.raises(_validate.ArgumentTypeError, match="target must be a finite number"):
        compare.results_table(RUNS, PEAKS, target="0.5")
