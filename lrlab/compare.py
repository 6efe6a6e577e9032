"""Compare training runs repeated over seeds: a table of results, and paired verdicts.

Lesson 08 trains every row (a schedule at a peak rate) on the same seeds and reads two tables
made here:

- ``results_table``: per row, the mean and sample standard deviation over the seeds of the
  final and best validation accuracy and of the test accuracy, and the time to a target
  validation accuracy (``target_accuracy``): how many seeds reach it, after how many epochs
  and seconds on average; ``format_results`` writes it as ``mean ± std`` text.
- ``paired_table``: per pair of rows (a, b), the mean of the seed-by-seed differences
  ``d = a - b``, its two-sided t-interval ``mean(d) ± t · sd(d) / √n`` (Student's t with
  n − 1 degrees of freedom, ``lrlab.claims.t_quantile``, as ``claims.paired_difference``
  tests it), on how many seeds a was ahead, and the ``verdict``: "above" when the interval
  lies above 0, "below" when below, else "within the spread". ``by_verdict`` groups the
  rows compared with one baseline by their verdict.

A run is given as a mapping with ``"val_accuracy"`` (one value per epoch), ``"seconds"``
(the seconds since the start of training at the end of each epoch) and ``"test_accuracy"``;
a Keras ``History.history`` merged with the test accuracy, ``{**logs, "test_accuracy": t}``,
is one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from lrlab import _validate
from lrlab.claims import t_quantile

__all__ = [
    "VERDICTS",
    "by_verdict",
    "first_epoch_at",
    "format_results",
    "paired_difference",
    "paired_table",
    "results_table",
    "seed_table",
    "target_accuracy",
    "verdict",
]

# What a paired interval says of a - b: above 0, below 0, or containing 0.
VERDICTS = ("above", "below", "within the spread")

Run = Mapping[str, object]


def first_epoch_at(values: Sequence[float], level: float) -> int | None:
    """The first epoch (from 1) whose value reaches ``level`` (``>=``), else None."""
    return next((epoch for epoch, value in enumerate(values, start=1) if value >= level), None)


def target_accuracy(best_accuracies: Sequence[float], percent: int = 90) -> float:
    """``percent``% of the mean of ``best_accuracies``, rounded down to two decimals.

    ``floor(percent * mean) / 100``: lesson 08's target is 90% of the constant rate's mean
    best validation accuracy (``target_accuracy([0.8, 0.7])`` is 0.67).
    """
    percent = _validate.integer("percent", percent, minimum=1, maximum=100)
    return math.floor(percent * float(np.mean(best_accuracies))) / 100


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    """The mean and the sample standard deviation (ddof 1; NaN for a single value)."""
    values = np.asarray(values, dtype=float)
    return values.mean(), values.std(ddof=1) if values.size > 1 else math.nan


def _row(peak: float, runs: Sequence[Run], target: float) -> dict:
    """One row of ``results_table``: the statistics of ``runs`` (the seeds of one row)."""
    columns = {"peak": peak}
    for label, metric in (
        ("final val", lambda run: run["val_accuracy"][-1]),
        ("best val", lambda run: max(run["val_accuracy"])),
        ("test", lambda run: run["test_accuracy"]),
    ):
        columns[f"{label} mean"], columns[f"{label} std"] = _mean_std([metric(r) for r in runs])
    reached = []  # (epoch, seconds) of every seed that reached the target
    for run in runs:
        epoch = first_epoch_at(run["val_accuracy"], target)
        if epoch is not None:
            reached.append((epoch, run["seconds"][epoch - 1]))
    columns["seeds"] = len(runs)
    columns["seeds at target"] = len(reached)
    columns["epochs to target"] = np.mean([e for e, _ in reached]) if reached else math.nan
    columns["seconds to target"] = np.mean([s for _, s in reached]) if reached else math.nan
    columns["seconds per run"] = np.mean([run["seconds"][-1] for run in runs])
    return columns


def results_table(
    runs: Mapping[str, Sequence[Run]], peaks: Mapping[str, float], target: float
) -> pd.DataFrame:
    """The numbers of every row over its seeds, one table row per key of ``runs``.

    ``runs[name]`` lists the runs of row ``name``, one per seed; ``peaks[name]`` is its peak
    rate; ``target`` the validation accuracy to reach. Columns: ``peak``, ``<m> mean`` and
    ``<m> std`` for m in final val, best val, test; ``seeds``, ``seeds at target``,
    ``epochs to target`` and ``seconds to target`` (means over the seeds that reached it,
    NaN if none did), ``seconds per run``. Indexed by ``schedule``.
    """
    target = _validate.real("target", target)
    rows = [
        {"schedule": name, **_row(peaks[name], seed_runs, target)}
        for name, seed_runs in runs.items()
    ]
    return pd.DataFrame(rows).set_index("schedule")


def format_results(table: pd.DataFrame) -> pd.DataFrame:
    """``results_table``'s numbers as the text lesson 08 prints (``.to_string()``).

    The peak as ``{:g}``; accuracies as ``0.750 ± 0.035``; ``at target`` as seeds reached
    over seeds; epochs and seconds to the target with one decimal; seconds per run whole.
    """
    accuracies = {
        f"{label} acc": [
            f"{mean:.3f} ± {std:.3f}"
            for mean, std in zip(table[f"{label} mean"], table[f"{label} std"], strict=True)
        ]
        for label in ("final val", "best val", "test")
    }
    return pd.DataFrame(
        {
            "peak": table["peak"].map("{:g}".format),
            **accuracies,
            "at target": [
                f"{count}/{seeds}"
                for count, seeds in zip(table["seeds at target"], table["seeds"], strict=True)
            ],
            "epochs": table["epochs to target"].map("{:.1f}".format),
            "seconds": table["seconds to target"].map("{:.1f}".format),
            "s/run": table["seconds per run"].map("{:.0f}".format),
        },
        index=table.index,
    )


def paired_difference(
    a: Sequence[float], b: Sequence[float], confidence: float = 0.95
) -> tuple[float, float, float, int]:
    """``(mean, low, high, ahead)`` of the differences ``a - b``, paired seed by seed.

    ``low, high = mean ± t · sd / √n`` with ``t = claims.t_quantile(confidence, n - 1)`` and
    the sample standard deviation; ``ahead`` counts the seeds where ``a > b``. Needs n >= 2.
    """
    differences = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = differences.size
    if n < 2:
        raise ValueError(f"a and b must hold at least 2 paired values each, got {n}")
    mean = differences.mean()
    half = t_quantile(confidence, n - 1) * differences.std(ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half, int(np.sum(differences > 0))


def verdict(low: float, high: float) -> str:
    """ "above" when the interval ``[low, high]`` lies above 0, "below" when below, else
    "within the spread" (it contains 0: no evidence either way)."""
    return VERDICTS[0] if low > 0 else VERDICTS[1] if high < 0 else VERDICTS[2]


def paired_table(
    values: Mapping[str, Sequence[float]],
    pairs: Sequence[tuple[str, str]],
    confidence: float = 0.95,
    label: str = "test accuracy",
) -> pd.DataFrame:
    """One row ``"a - b"`` per pair: ``mean``, ``low``, ``high`` (``paired_difference`` of
    ``values[a]`` and ``values[b]``), ``ahead`` as ``"k/n"`` and the ``verdict``.

    The index is named ``label`` (what the values are).
    """
    rows = []
    for a, b in pairs:
        mean, low, high, ahead = paired_difference(values[a], values[b], confidence)
        rows.append(
            (f"{a} - {b}", mean, low, high, f"{ahead}/{len(values[a])}", verdict(low, high))
        )
    columns = [label, "mean", "low", "high", "ahead", "verdict"]
    return pd.DataFrame(rows, columns=columns).set_index(label)


def by_verdict(table: pd.DataFrame, baseline: str) -> dict[str, list[str]]:
    """The rows ``"a - <baseline>"`` of ``paired_table`` grouped by verdict: side -> [a, ...].

    Every side of ``VERDICTS`` is a key, in that order (an empty list when no row has it).
    """
    suffix = f" - {baseline}"
    against = [
        (row[: -len(suffix)], side)
        for row, side in table["verdict"].items()
        if row.endswith(suffix)
    ]
    return {side: [name for name, has in against if has == side] for side in VERDICTS}


def seed_table(values: Mapping[str, Sequence[float]]) -> pd.DataFrame:
    """``values`` (row -> one value per seed) as a table: a row per key, a column per seed."""
    seeds = len(next(iter(values.values()))) if values else 0
    return pd.DataFrame(values, index=pd.Index(range(seeds), name="seed")).T
