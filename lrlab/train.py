"""Train the course's ConvNet on GTSRB with a learning-rate schedule, from the command line.

    python -m lrlab.train -d data/gtsrb-tiny -e 30 --schedule exponential step --seeds 3

The course's ``training.py`` with the same ``-d/--data-dir`` and ``-e/--epochs``
flags. Every (schedule, seed) run trains a fresh ``lrlab.models.build_convnet``
with Adam, logs one line per epoch (loss, accuracy, val_loss, val_accuracy, lr),
and writes into ``--output-dir`` (default ``results/``):

- ``<schedule>_seed<k>_metrics.png``: ``lrlab.plotting.display_metrics`` of the run;
- ``<schedule>_seed<k>_history.csv``: the per-epoch numbers of that figure;
- ``results.csv``: one row per run (see ``RESULT_COLUMNS``).

``--learning-rate`` is the largest rate of every schedule: the constant rate, the
start of a decay, the peak of a warm-up or of a cycle. ``--peak NAME=RATE`` gives one
schedule its own largest rate instead (lesson 08 picks one per schedule from a sweep):

    python -m lrlab.train --schedule constant one_cycle --peak one_cycle=0.01 --seeds 5

A run is reproducible from
its seed alone: the seed sets the train/validation split, the shuffling and the
initial weights (``lrlab.notebook.setup``).
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np

from lrlab import notebook
from lrlab.callbacks import LearningRateLogger, OneCycleMomentum
from lrlab.data import load_gtsrb
from lrlab.models import build_convnet, compile_classifier
from lrlab.paths import default_data_dir
from lrlab.plotting import display_metrics, savefig
from lrlab.schedules import OneCycle, Triangular2CyclicalLearningRate, WarmupStableDecay

logger = logging.getLogger(__name__)

# ``exponential`` and ``step`` both halve the rate every 10 epochs (smoothly / at once).
EPOCHS_PER_HALVING = 10

# ---------------------------------------------------------------------------------------------
# Schedules: builder(learning_rate, steps_per_epoch, epochs) -> (rate or schedule, callbacks)


def constant(learning_rate: float, steps_per_epoch: int, epochs: int):
    """The same rate for every step."""
    return learning_rate, []


def exponential(learning_rate: float, steps_per_epoch: int, epochs: int):
    """Keras ``ExponentialDecay``: learning_rate * 0.5 ** (step / (10 * steps_per_epoch)).

    ``decay_steps`` counts optimizer steps, not epochs: 10 epochs are
    ``10 * steps_per_epoch`` steps, so the rate halves every 10 epochs, smoothly.
    """
    schedule = keras.optimizers.schedules.ExponentialDecay(
        learning_rate, decay_steps=EPOCHS_PER_HALVING * steps_per_epoch, decay_rate=0.5
    )
    return schedule, []


def step(learning_rate: float, steps_per_epoch: int, epochs: int):
    """``LearningRateScheduler``: learning_rate * 0.5 ** (epoch // 10), epochs counted from 0."""

    def halve_every_ten_epochs(epoch: int) -> float:
        return learning_rate * 0.5 ** (epoch // EPOCHS_PER_HALVING)

    return learning_rate, [keras.callbacks.LearningRateScheduler(halve_every_ten_epochs)]


def cosine(learning_rate: float, steps_per_epoch: int, epochs: int):
    """Keras ``CosineDecay`` from learning_rate to 0 over the whole run (Loshchilov & Hutter 2017).

    learning_rate * (1 + cos(pi * step / total_steps)) / 2.
    """
    total_steps = steps_per_epoch * epochs
    return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=total_steps), []


def warmup_cosine(learning_rate: float, steps_per_epoch: int, epochs: int):
    """Keras ``CosineDecay`` with a linear warm-up from 0 over the first 10% of the steps.

    Warm-up (Goyal et al. 2017) then cosine decay to 0 over the remaining steps.
    """
    total_steps = steps_per_epoch * epochs
    warmup_steps = max(1, total_steps // 10)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0,
        decay_steps=max(1, total_steps - warmup_steps),
        warmup_target=learning_rate,
        warmup_steps=warmup_steps,
    )
    return schedule, []


def triangular2(learning_rate: float, steps_per_epoch: int, epochs: int):
    """Smith's triangular2 cycles between learning_rate / 10 and learning_rate, halving the height.

    ``lrlab.schedules.Triangular2CyclicalLearningRate`` with a half-cycle of 5 epochs of steps
    (Smith 2017 advises 2 to 10 epochs).
    """
    schedule = Triangular2CyclicalLearningRate(
        initial_learning_rate=learning_rate / 10,
        maximal_learning_rate=learning_rate,
        step_size=5 * steps_per_epoch,
    )
    return schedule, []


def one_cycle(learning_rate: float, steps_per_epoch: int, epochs: int):
    """The 1cycle policy over the whole run, peaking at learning_rate (``schedules.OneCycle``).

    Smith & Topin 2017 with PyTorch's ``OneCycleLR`` defaults: 30% of the steps rising from
    learning_rate / 25, then a cosine down to learning_rate / 25 / 1e4, while Adam's beta_1
    cycles 0.95 -> 0.85 -> 0.95 against it (``callbacks.OneCycleMomentum``).
    """
    schedule = OneCycle(learning_rate, total_steps=steps_per_epoch * epochs)
    return schedule, [OneCycleMomentum(schedule)]


def wsd(learning_rate: float, steps_per_epoch: int, epochs: int):
    """Warm-up 10% of the steps, stay at learning_rate, decay linearly to 0 over the last 20%.

    ``lrlab.schedules.WarmupStableDecay`` (Hu et al. 2024, MiniCPM).
    """
    total_steps = steps_per_epoch * epochs
    warmup_steps = total_steps // 10
    decay_steps = max(1, total_steps // 5)
    schedule = WarmupStableDecay(
        learning_rate,
        warmup_steps=warmup_steps,
        stable_steps=max(0, total_steps - warmup_steps - decay_steps),
        decay_steps=decay_steps,
    )
    return schedule, []


def plateau(learning_rate: float, steps_per_epoch: int, epochs: int):
    """``ReduceLROnPlateau``: halve the rate after an epoch whose val_accuracy did not improve."""
    reduce = keras.callbacks.ReduceLROnPlateau(
        monitor="val_accuracy", mode="max", factor=0.5, patience=1
    )
    return learning_rate, [reduce]


ScheduleBuilder = Callable[[float, int, int], tuple]

SCHEDULES: dict[str, ScheduleBuilder] = {
    "constant": constant,
    "exponential": exponential,
    "step": step,
    "cosine": cosine,
    "warmup_cosine": warmup_cosine,
    "triangular2": triangular2,
    "one_cycle": one_cycle,
    "plateau": plateau,
    "wsd": wsd,
}

# ---------------------------------------------------------------------------------------------
# One run

RESULT_COLUMNS = (
    "schedule",
    "seed",
    "epochs",
    "learning_rate",
    "final_val_accuracy",
    "best_val_accuracy",
    "best_epoch",
    "test_accuracy",
    "final_lr",
    "seconds",
)
HISTORY_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr")


class EpochLog(keras.callbacks.Callback):
    """Log one line per epoch: loss, accuracy, val_loss, val_accuracy and lr.

    Place it after ``LearningRateLogger``, which writes ``lr`` into the epoch's logs.
    """

    def __init__(self, run_name: str, epochs: int):
        super().__init__()
        self.run_name = run_name
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        logger.info(
            "%s epoch %d/%d: loss %.4f accuracy %.4f val_loss %.4f val_accuracy %.4f lr %.4e",
            self.run_name,
            epoch + 1,
            self.epochs,
            *(logs.get(key, math.nan) for key in HISTORY_COLUMNS[1:]),
        )


@dataclass
class Run:
    """What one training run produced (``fit_schedule``)."""

    model: keras.Model
    history: keras.callbacks.History
    data: object  # lrlab.data.load_gtsrb's result
    learning_rate: object  # the float or schedule object given to Adam
    schedule_callbacks: list
    steps_per_epoch: int
    seconds: float


def fit_schedule(
    schedule_name: str,
    seed: int,
    data_dir,
    epochs: int,
    learning_rate: float,
    batch_size: int = 32,
    group_by_track: bool | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 0,
) -> Run:
    """Train one (schedule, seed) run: seeds, a fresh data pipeline and ConvNet, Adam, the schedule.

    The command line and lesson 08 both train through this function, so a run of the
    lesson and ``python -m lrlab.train`` with the same arguments are the same run. The
    history has the rate of every epoch in ``"lr"`` (``LearningRateLogger``).
    """
    if schedule_name not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule_name!r}; choose from {', '.join(SCHEDULES)}")
    keras.backend.clear_session()  # free the previous run's model and graphs
    notebook.setup(seed=seed)
    data = load_gtsrb(data_dir, batch_size=batch_size, seed=seed, group_by_track=group_by_track)
    if data.validation is None:
        raise ValueError(
            f"{data_dir} has too few images per class for a validation split "
            f"({data.num_train} training images): every run is judged on validation accuracy"
        )
    steps_per_epoch = math.ceil(data.num_train / batch_size)
    rate, schedule_callbacks = SCHEDULES[schedule_name](learning_rate, steps_per_epoch, epochs)
    model = compile_classifier(build_convnet(), keras.optimizers.Adam(rate))
    started = time.perf_counter()
    history = model.fit(
        data.train,
        validation_data=data.validation,
        epochs=epochs,
        shuffle=False,  # data.train reshuffles itself every epoch (seeded)
        callbacks=[*schedule_callbacks, LearningRateLogger(), *callbacks],
        verbose=verbose,
    )
    seconds = time.perf_counter() - started
    return Run(model, history, data, rate, schedule_callbacks, steps_per_epoch, seconds)


def train_once(
    schedule_name: str, seed: int, args: argparse.Namespace, learning_rate: float | None = None
) -> dict:
    """Train one (schedule, seed) run, save its figure and history; return its results row.

    ``learning_rate`` is the schedule's largest rate (default: ``args.learning_rate``).
    """
    learning_rate = args.learning_rate if learning_rate is None else learning_rate
    run_name = f"{schedule_name}_seed{seed}"
    logger.info("%s: data %s, largest rate %g", run_name, args.data_dir, learning_rate)
    run = fit_schedule(
        schedule_name,
        seed,
        args.data_dir,
        args.epochs,
        learning_rate,
        batch_size=args.batch_size,
        group_by_track=args.group_by_track,
        callbacks=[EpochLog(run_name, args.epochs)],
        verbose=0 if args.quiet else 1,
    )
    model, history, data, seconds = run.model, run.history, run.data, run.seconds
    logs = history.history
    logger.info("%s: %s, %d steps per epoch", run_name, data.source, run.steps_per_epoch)

    fig = display_metrics(history, title=f"{schedule_name}, seed {seed}")
    savefig(fig, f"{run_name}_metrics", folder=args.output_dir)
    plt.close(fig)
    rows = [
        {"epoch": epoch + 1, **{key: logs[key][epoch] for key in HISTORY_COLUMNS[1:]}}
        for epoch in range(args.epochs)
    ]
    write_csv(args.output_dir / f"{run_name}_history.csv", HISTORY_COLUMNS, rows)

    val_accuracy = np.asarray(logs["val_accuracy"])
    test_accuracy = (
        model.evaluate(data.test, verbose=0, return_dict=True)["accuracy"]
        if data.test is not None
        else ""
    )
    return {
        "schedule": schedule_name,
        "seed": seed,
        "epochs": args.epochs,
        "learning_rate": learning_rate,
        "final_val_accuracy": float(val_accuracy[-1]),
        "best_val_accuracy": float(val_accuracy.max()),
        "best_epoch": int(val_accuracy.argmax()) + 1,
        "test_accuracy": test_accuracy,
        "final_lr": logs["lr"][-1],
        "seconds": round(seconds, 2),
    }


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict]) -> None:
    """Write ``rows`` under a header of ``columns`` atomically (a temporary file renamed)."""
    handle, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".csv", dir=path.parent)
    try:
        with os.fdopen(handle, "w", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


# ---------------------------------------------------------------------------------------------
# Command line


def _positive(kind: type, name: str) -> Callable[[str], int | float]:
    """An argparse type: ``kind(text)``, which must be greater than 0."""
    kind_name = "an integer" if kind is int else "a number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be {kind_name} greater than 0, got {text!r}"
            ) from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{name} must be greater than 0, got {text}")
        return value

    return parse


def _schedule_rate(text: str) -> tuple[str, float]:
    """An argparse type for ``--peak``: ``NAME=RATE``, a registered schedule and a rate > 0."""
    name, equals, rate = text.partition("=")
    if not equals:
        raise argparse.ArgumentTypeError(f"--peak takes NAME=RATE, got {text!r}")
    if name not in SCHEDULES:
        raise argparse.ArgumentTypeError(
            f"--peak names an unknown schedule {name!r}; choose from {', '.join(sorted(SCHEDULES))}"
        )
    return name, _positive(float, f"the peak of {name}")(rate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lrlab.train",
        description="Train the course's ConvNet on GTSRB with learning-rate schedules.",
    )
    parser.add_argument(
        "-d",
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="GTSRB folder (official or class-folder layout; default: %(default)s)",
    )
    parser.add_argument(
        "-e", "--epochs", type=_positive(int, "epochs"), default=30, help="default: %(default)s"
    )
    parser.add_argument(
        "--schedule",
        nargs="+",
        choices=sorted(SCHEDULES),
        default=["constant"],
        metavar="NAME",
        help=f"one or more of: {', '.join(sorted(SCHEDULES))} (default: constant)",
    )
    parser.add_argument(
        "--batch-size", type=_positive(int, "batch size"), default=32, help="default: %(default)s"
    )
    parser.add_argument(
        "--learning-rate",
        type=_positive(float, "learning rate"),
        default=1e-3,
        help="the largest rate of every schedule (default: %(default)s)",
    )
    parser.add_argument(
        "--peak",
        nargs="+",
        action="extend",
        type=_schedule_rate,
        default=[],
        metavar="NAME=RATE",
        help="the largest rate of one schedule, instead of --learning-rate "
        "(e.g. --peak one_cycle=0.01 cosine=0.003)",
    )
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, default=0, help="the seed of one run (default: 0)")
    seeds.add_argument(
        "--seeds",
        type=_positive(int, "seeds"),
        metavar="N",
        help="repeat every schedule over seeds 0..N-1",
    )
    parser.add_argument(
        "--output-dir", type=Path, default=Path("results"), help="default: %(default)s"
    )
    split = parser.add_mutually_exclusive_group()
    split.add_argument(
        "--group-by-track",
        action="store_const",
        const=True,
        default=None,
        help="require the train/validation split by GTSRB track (the default whenever the "
        "file names carry tracks), so no sign is in both",
    )
    split.add_argument(
        "--random-split",
        dest="group_by_track",
        action="store_const",
        const=False,
        help="split image by image (frames of one sign then land on both sides)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no Keras progress bars (the epoch lines stay)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run every requested (schedule, seed), write the figures and ``results.csv``; return 0."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.data_dir.is_dir():
        parser.error(
            f"data directory {str(args.data_dir)!r} does not exist: "
            "run `make data` to fetch the tiny GTSRB subset, or pass -d DIR"
        )
    if args.seed < 0:
        parser.error(f"--seed must be 0 or more, got {args.seed}")
    peaks = dict(args.peak)
    if len(peaks) < len(args.peak):
        parser.error("--peak gives one schedule more than one rate")
    unused = sorted(set(peaks) - set(args.schedule))
    if unused:
        parser.error(f"--peak names {', '.join(unused)}, which --schedule does not run")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    args.output_dir.mkdir(parents=True, exist_ok=True)
    seeds = range(args.seeds) if args.seeds else [args.seed]

    results = [
        train_once(name, seed, args, peaks.get(name, args.learning_rate))
        for name in args.schedule
        for seed in seeds
    ]
    write_csv(args.output_dir / "results.csv", RESULT_COLUMNS, results)
    for row in results:
        logger.info(
            "%s (largest rate %g) seed %d: final val_accuracy %.4f, best %.4f (epoch %d), "
            "final lr %.4e",
            row["schedule"],
            row["learning_rate"],
            row["seed"],
            row["final_val_accuracy"],
            row["best_val_accuracy"],
            row["best_epoch"],
            row["final_lr"],
        )
    logger.info("results: %s", args.output_dir / "results.csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
