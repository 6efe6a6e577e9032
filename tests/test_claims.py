"""lrlab.claims: each kind holding and failing, its printed line, its numbers and its errors."""

from __future__ import annotations

import json
import math

import pytest

from lrlab import claims
from lrlab.claims import ClaimFailed

# Two-sided 95% and 99% quantiles of Student's t (the 0.975 / 0.995 quantiles), from the
# standard table (Fisher & Yates; also scipy.stats.t.ppf), 4 decimals.
T_TABLE = [
    (0.95, 1, 12.7062),
    (0.95, 2, 4.3027),
    (0.95, 3, 3.1824),
    (0.95, 4, 2.7764),
    (0.95, 9, 2.2622),
    (0.95, 29, 2.0452),
    (0.99, 4, 4.6041),
    (0.90, 10, 1.8125),
]


@pytest.mark.parametrize(("confidence", "dof", "expected"), T_TABLE)
def test_t_quantile_matches_the_table(confidence, dof, expected):
    assert claims.t_quantile(confidence, dof) == pytest.approx(expected, abs=5e-5)


def test_t_quantile_approaches_the_normal_quantile():
    # 1.959964 is the normal 0.975 quantile; t with 2000 dof is 1.961151 (table value)
    assert claims.t_quantile(0.95, 2000) == pytest.approx(1.961151, abs=1e-5)


@pytest.mark.parametrize(("confidence", "dof"), [(0.95, 0), (0.95, 1.5), (1.0, 3), (0.0, 3)])
def test_t_quantile_rejects_bad_arguments(confidence, dof):
    with pytest.raises(ValueError, match="dof|confidence"):
        claims.t_quantile(confidence, dof)


# --------------------------------------------------------------------------- paired_difference


def test_paired_difference_holds_and_prints_one_machine_independent_line(capsys):
    # differences 0.10, 0.10, 0.11: mean 0.10333, sd 0.005774, t(0.95, 2) = 4.3027,
    # half-width 4.3027 * 0.005774 / sqrt(3) = 0.014343 -> interval [0.08899, 0.11768]
    claim = claims.paired_difference(
        [0.80, 0.82, 0.85], [0.70, 0.72, 0.74], statement="one-cycle ends above constant"
    )
    assert capsys.readouterr().out == (
        "claim holds: one-cycle ends above constant (paired over 3 seeds: the 95% t-interval "
        "of the mean difference lies above 0)\n"
    )
    assert claim.holds and claim.margin == pytest.approx(0.08899, abs=1e-5)
    assert claim.numbers["interval"][1] == pytest.approx(0.11768, abs=1e-5)


def test_paired_difference_fails_with_the_measured_numbers():
    # differences 0.10, -0.02: mean 0.04, sd 0.08485, half-width 12.706 * 0.08485 / sqrt(2)
    # = 0.7624: the interval [-0.72, 0.80] contains 0
    with pytest.raises(ClaimFailed) as failure:
        claims.paired_difference([0.8, 0.7], [0.7, 0.72], statement="a beats b")
    message = str(failure.value)
    assert message.startswith("claim does not hold: a beats b (paired over 2 seeds")
    assert "differences = [0.1, -0.02]" in message and "interval [-0.7224, 0.8024]" in message


def test_paired_difference_less_direction():
    claim = claims.paired_difference(
        [0.1, 0.2, 0.15], [0.5, 0.6, 0.55], statement="lower", direction="less"
    )
    # differences all -0.4, sd 0: the interval is the point -0.4, margin 0.4
    assert claim.margin == pytest.approx(0.4)
    with pytest.raises(ClaimFailed):
        claims.paired_difference([0.5, 0.6], [0.1, 0.2], statement="lower", direction="less")


def test_paired_difference_needs_pairs_and_two_seeds():
    with pytest.raises(ValueError, match="a needs at least 2 value"):
        claims.paired_difference([0.5], [0.4], statement="x")
    with pytest.raises(ValueError, match="paired .* 3 vs 2"):
        claims.paired_difference([0.5, 0.6, 0.7], [0.4, 0.5], statement="x")
    with pytest.raises(ValueError, match="direction must be one of"):
        claims.paired_difference([0.5, 0.6], [0.4, 0.5], statement="x", direction="up")
    with pytest.raises(ValueError, match="statement must be a non-empty sentence"):
        claims.paired_difference([0.5, 0.6], [0.4, 0.5], statement=" ")
    with pytest.raises(ValueError, match=r"confidence must be in \[0.5, 1\), got 0.2"):
        claims.paired_difference([0.5, 0.6], [0.4, 0.5], statement="x", confidence=0.2)


def test_a_nan_measurement_fails_the_claim_and_says_so():
    with pytest.raises(ClaimFailed, match="a holds a value that is not finite: \\[0.5, nan\\]"):
        claims.paired_difference([0.5, math.nan], [0.4, 0.5], statement="x")


# --------------------------------------------------------------------------- every_pair


def test_every_pair_holds_and_fails(capsys):
    claim = claims.every_pair([0.8, 0.7, 0.9], [0.6, 0.65, 0.5], statement="a above b")
    assert capsys.readouterr().out == "claim holds: a above b (above on each of 3 seeds)\n"
    assert claim.margin == pytest.approx(0.05)  # the smallest difference, 0.7 - 0.65
    with pytest.raises(ClaimFailed, match=r"a - b = \[0.2, -0.05\]"):
        claims.every_pair([0.8, 0.6], [0.6, 0.65], statement="a above b")
    claims.every_pair([0.1], [0.2], statement="a below b", direction="less")


# --------------------------------------------------------------------------- bounded


def test_bounded_holds_prints_its_reason_and_fails_below_the_threshold(capsys):
    chance = 1 / 43
    claims.bounded(
        [0.3, 0.25], above=chance, statement="every run learns", reason="chance is 1/43"
    )
    assert capsys.readouterr().out == (
        "claim holds: every run learns (all 2 values; chance is 1/43)\n"
    )
    with pytest.raises(ClaimFailed, match=r"measured: \[0.3, 0.02\]; allowed: above 0.0232"):
        claims.bounded([0.3, 0.02], above=chance, statement="learns", reason="chance is 1/43")


def test_bounded_interval_and_margin():
    claim = claims.bounded(
        0.5, above=0.25, below=1.0, statement="in range", reason="between 1/4 and 1"
    )
    # min((0.5 - 0.25) / 0.25, (1 - 0.5) / 1) = min(1.0, 0.5)
    assert claim.margin == pytest.approx(0.5)
    assert claim.line == "claim holds: in range (the value; between 1/4 and 1)"
    with pytest.raises(ClaimFailed):
        claims.bounded([0.5, 1.5], below=1.0, statement="x", reason="r")


def test_bounded_rejects_bad_thresholds():
    with pytest.raises(ValueError, match="bounded needs a threshold"):
        claims.bounded([1.0], statement="x", reason="r")
    with pytest.raises(ValueError, match="above must be less than below"):
        claims.bounded([1.0], above=2.0, below=1.0, statement="x", reason="r")
    with pytest.raises(TypeError, match="above must be a number or None, got '1'"):
        claims.bounded([1.0], above="1", statement="x", reason="r")
    with pytest.raises(ValueError, match="reason must be a non-empty sentence"):
        claims.bounded([1.0], above=0.0, statement="x", reason="")


# --------------------------------------------------------------------------- mean_interval


def test_mean_interval_holds_and_fails():
    # mean 0.5, sd sqrt(0.02 / 3) = 0.08165, n 4, t(0.95, 3) = 3.1824:
    # half-width 3.1824 * 0.08165 / 2 = 0.12992 -> interval [0.37008, 0.62992]
    values = [0.4, 0.5, 0.6, 0.5]
    claim = claims.mean_interval(values, above=0.3, statement="above 0.3", reason="a bound")
    half = 3.1824 * 0.0816497 / 2
    assert claim.numbers["interval"][0] == pytest.approx(0.5 - half, abs=1e-4)
    assert claim.margin == pytest.approx(0.5 - half - 0.3, abs=1e-4)
    with pytest.raises(ClaimFailed, match="interval"):
        claims.mean_interval(values, above=0.45, statement="above 0.45", reason="a bound")


# --------------------------------------------------------------------------- defer and the log


def test_a_deferred_claim_is_not_evaluated(capsys):
    result = claims.paired_difference(
        [0.1, 0.2], [0.9, 0.9], statement="a beats b", defer="needs 5 seeds: make check-08"
    )
    assert result is None
    assert capsys.readouterr().out == "claim deferred: a beats b (needs 5 seeds: make check-08)\n"


def test_the_log_collects_every_claim_with_its_margin(tmp_path, monkeypatch):
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv(claims.LOG_VARIABLE, str(log))
    claims.every_pair([0.8, 0.9], [0.7, 0.6], statement="first")
    with pytest.raises(ClaimFailed):
        claims.every_pair([0.8, 0.5], [0.7, 0.6], statement="second")
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["statement"], r["holds"]) for r in rows] == [("first", True), ("second", False)]
    assert rows[0]["margin"] == pytest.approx(0.1) and rows[1]["margin"] == pytest.approx(-0.1)


def test_a_claim_as_a_cells_last_value_displays_nothing_more():
    # IPython calls _ipython_display_ instead of showing the repr (which holds the numbers)
    from IPython.core.formatters import DisplayFormatter

    claim = claims.every_pair([0.8], [0.7], statement="a above b")
    assert DisplayFormatter().format(claim) == ({}, {})


# Round 2 (issue 11 probe): LRLAB_CLAIMS_LOG naming a folder raised a bare IsADirectoryError.
def test_a_folder_as_the_log_is_a_clear_error_and_writes_nothing(tmp_path, monkeypatch):
    # Input: LRLAB_CLAIMS_LOG=<an empty folder>, a claim that holds. Expected: ValueError naming
    # the variable and the folder and asking for a file path; the folder stays empty.
    monkeypatch.setenv(claims.LOG_VARIABLE, str(tmp_path))
    with pytest.raises(ValueError, match=r"LRLAB_CLAIMS_LOG must name a file .*folder") as raised:
        claims.every_pair([0.8], [0.7], statement="a above b")
    assert str(tmp_path) in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_a_log_in_a_missing_folder_names_the_variable(tmp_path, monkeypatch):
    # Input: LRLAB_CLAIMS_LOG=<missing folder>/claims.jsonl. Expected: OSError (FileNotFoundError's
    # errno) naming the variable and the path; nothing is created.
    log = tmp_path / "missing" / "claims.jsonl"
    monkeypatch.setenv(claims.LOG_VARIABLE, str(log))
    with pytest.raises(OSError, match="LRLAB_CLAIMS_LOG=.*cannot be opened") as raised:
        claims.every_pair([0.8], [0.7], statement="a above b")
    assert str(log) in str(raised.value)
    assert not (tmp_path / "missing").exists()


def test_check_all_prints_every_holding_claim_then_raises_every_failure(capsys):
    # two failing claims around a holding one: the holding line is printed, both failures
    # are in the one ClaimFailed, in order
    with pytest.raises(claims.ClaimFailed) as failure:
        claims.check_all(
            lambda: claims.bounded([0.5], above=1.0, statement="first fails", reason="r"),
            lambda: claims.bounded([2.0], above=1.0, statement="second holds", reason="r"),
            lambda: claims.bounded([0.2], above=1.0, statement="third fails", reason="r"),
        )
    message = str(failure.value)
    assert message.index("first fails") < message.index("third fails")
    assert "second holds" not in message
    assert capsys.readouterr().out == "claim holds: second holds (the value; r)\n"


def test_check_all_returns_the_claims_and_refuses_a_claim_instead_of_a_function():
    held = claims.check_all(lambda: claims.bounded([2.0], above=1.0, statement="s", reason="r"))
    assert [claim.holds for claim in held] == [True]
    made = claims.bounded([2.0], above=1.0, statement="s", reason="r")
    with pytest.raises(TypeError, match="every argument must be a function"):
        claims.check_all(made)
