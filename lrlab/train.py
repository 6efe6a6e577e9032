"""Train the course's ConvNet on GTSRB with a learning-rate schedule, from the command line.

    python -m lrlab.train -d data/gtsrb-tiny -e 30 --schedule exponential step --seeds 3

The course's ``training.py`` with the same ``-d/--data-dir`` and ``-e/--epochs``
flags. Every (schedule, seed) run trains a fresh ``lrlab.models.build_convnet``
with Adam, logs one line per epoch (loss, accuracy, val_loss, val_accuracy, lr),
and writes into ``--output-dir`` (default ``results/``):

- ``<schedule>_seed<k>_metrics.png``: ``lrlab.plotting.display_metrics`` of the run;
- ``<schedule>_seed<k>_history.csv``: the per-epoch numbers of that figure;
- ``results.csv``: one row per finished run (see ``RESULT_COLUMNS``), rewritten as each run
  ends, so an invocation that fails or is interrupted keeps every run it finished;
- ``failed.csv``: one row per run that did not finish (``FAILED_COLUMNS``: a NaN or infinite
  loss or weight, an error), written beside ``results.csv`` and empty when every run finished.

A NaN or infinite loss (training or validation) or weight ends that run with a message naming the
schedule, the seed, the epoch and the step; its numbers are not reported, the other runs go
on, and the invocation exits with status 1. Any other error in a run is written to
``failed.csv`` and then stops the invocation with its traceback. Files are written whole (a
temporary file renamed), with the usual permissions (``0o666`` less the umask).

Before anything trains, the flags and the data are checked: rates from ``MIN_RATE`` to
``MAX_RATE``, seeds from 0 to ``MAX_SEED``, every schedule given at least its
``MIN_TOTAL_STEPS`` (epochs x steps per epoch), a data folder lrlab reads with enough images
for a validation split, and an ``--output-dir`` that can be written and is not inside the data.

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
import shlex
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
from lrlab.data import list_images, load_gtsrb, split_train_validation
from lrlab.models import build_convnet, compile_classifier
from lrlab.paths import atomic_file, default_data_dir
from lrlab.plotting import display_metrics, savefig
from lrlab.schedules import OneCycle, Triangular2CyclicalLearningRate, WarmupStableDecay

logger = logging.getLogger(__name__)

# ``exponential`` and ``step`` both halve the rate every 10 epochs (smoothly / at once).
EPOCHS_PER_HALVING = 10

# The rates the command line accepts for --learning-rate and --peak (Adam's largest rate):
# below 1e-8 a run does not move (and 1e-300 is 0 in float32); above 1 Adam diverges.
MIN_RATE = 1e-8
MAX_RATE = 1.0
# The seeds NumPy and Keras accept.
MAX_SEED = 2**32 - 1
# The share of every class's training images (whole tracks where named) held out for validation.
VALIDATION_SPLIT = 0.2

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

# The fewest optimizer steps (epochs x steps per epoch) a schedule needs; others need 1.
# one_cycle rises over 30% of the steps, which must be more than one step (0.3 x 4 > 1);
# warmup_cosine spends its first step at rate 0, so one step alone would never train.
MIN_TOTAL_STEPS = {"one_cycle": 4, "warmup_cosine": 2}

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


def check_total_steps(schedule_name: str, steps_per_epoch: int, epochs: int) -> None:
    """Raise a ValueError when ``schedule_name`` gets fewer steps than ``MIN_TOTAL_STEPS``."""
    needed = MIN_TOTAL_STEPS.get(schedule_name, 1)
    if steps_per_epoch * epochs < needed:
        raise ValueError(
            f"{schedule_name} needs epochs x steps per epoch >= {needed}, got {epochs} x "
            f"{steps_per_epoch} = {epochs * steps_per_epoch}: train more epochs (-e) or use a "
            "smaller --batch-size (steps per epoch = training images / batch size, rounded up)"
        )


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
FAILED_COLUMNS = ("schedule", "seed", "epochs", "learning_rate", "error")


class RunFailed(RuntimeError):
    """A run that did not finish (a NaN or infinite loss or weight); its message names the run."""


class StopOnNonFinite(keras.callbacks.Callback):
    """Stop training at the first NaN or infinite loss (training step or validation) or weight.

    Unlike ``keras.callbacks.TerminateOnNaN`` it remembers where: ``failure`` is None while
    everything is finite, else a sentence naming the epoch and step (both counted from 1).
    The weights are checked at the end of every epoch: NaN inputs can make NaN weights while
    the loss stays finite (oneDNN's ReLU turns NaN into 0), and such a model learns nothing.
    """

    def __init__(self):
        super().__init__()
        self.failure: str | None = None
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self.failure = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def _stop(self, text: str) -> None:
        if self.failure is None:
            self.failure = text
        self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(np.asarray(loss))):
            self._stop(
                f"the training loss became {float(np.asarray(loss))} at epoch "
                f"{self._epoch + 1}, step {batch + 1} of that epoch"
            )

    def on_epoch_end(self, epoch, logs=None):
        for key in ("loss", "val_loss"):
            value = (logs or {}).get(key)
            if value is not None and not math.isfinite(float(np.asarray(value))):
                self._stop(f"{key} was {float(np.asarray(value))} at the end of epoch {epoch + 1}")
        for weight in self.model.weights:
            if not np.isfinite(keras.ops.convert_to_numpy(weight)).all():
                self._stop(
                    f"the weights {weight.path} were not finite at the end of epoch {epoch + 1} "
                    "(NaN or infinite inputs, or a diverging update)"
                )
                break


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
    history has the rate of every epoch in ``"lr"`` (``LearningRateLogger``). A ValueError
    says so before training when the data has no validation split or the schedule gets fewer
    than its ``MIN_TOTAL_STEPS``.
    """
    if schedule_name not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule_name!r}; choose from {', '.join(SCHEDULES)}")
    keras.backend.clear_session()  # free the previous run's model and graphs
    notebook.setup(seed=seed)
    data = load_gtsrb(
        data_dir,
        batch_size=batch_size,
        validation_split=VALIDATION_SPLIT,
        seed=seed,
        group_by_track=group_by_track,
    )
    if data.validation is None:
        raise ValueError(
            f"{data_dir} has too few images per class for a validation split "
            f"({data.num_train} training images): every run is judged on validation accuracy"
        )
    steps_per_epoch = math.ceil(data.num_train / batch_size)
    check_total_steps(schedule_name, steps_per_epoch, epochs)
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
    Raises ``RunFailed`` (and writes nothing) when a loss or a weight becomes NaN or infinite.
    """
    learning_rate = args.learning_rate if learning_rate is None else learning_rate
    run_name = f"{schedule_name}_seed{seed}"
    logger.info("%s: data %s, largest rate %g", run_name, args.data_dir, learning_rate)
    finite = StopOnNonFinite()
    run = fit_schedule(
        schedule_name,
        seed,
        args.data_dir,
        args.epochs,
        learning_rate,
        batch_size=args.batch_size,
        group_by_track=args.group_by_track,
        callbacks=[EpochLog(run_name, args.epochs), finite],
        verbose=0 if args.quiet else 1,
    )
    if finite.failure is not None:
        raise RunFailed(
            f"run {run_name} (schedule {schedule_name}, seed {seed}, largest rate "
            f"{learning_rate:g}) failed: {finite.failure}; its results are not reported "
            "(try a smaller --learning-rate or --peak)"
        )
    model, history, data, seconds = run.model, run.history, run.data, run.seconds
    logs = history.history
    logger.info("%s: %s, %d steps per epoch", run_name, data.source, run.steps_per_epoch)

    val_accuracy = np.asarray(logs["val_accuracy"])
    test_accuracy = (
        model.evaluate(data.test, verbose=0, return_dict=True)["accuracy"]
        if data.test is not None
        else ""
    )
    fig = display_metrics(history, title=f"{schedule_name}, seed {seed}")
    try:
        savefig(fig, f"{run_name}_metrics", folder=args.output_dir)
    finally:
        plt.close(fig)
    rows = [
        {"epoch": epoch + 1, **{key: logs[key][epoch] for key in HISTORY_COLUMNS[1:]}}
        for epoch in range(args.epochs)
    ]
    write_csv(args.output_dir / f"{run_name}_history.csv", HISTORY_COLUMNS, rows)
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
    """Write ``rows`` under a header of ``columns`` atomically (a temporary file renamed).

    The file gets the usual permissions of a new file, ``0o666`` less the umask (the
    temporary file ``mkstemp`` makes is ``0o600``).
    """
    with atomic_file(path, "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


# ---------------------------------------------------------------------------------------------
# Command line


def _positive(kind: type, name: str, maximum: int | None = None) -> Callable[[str], int | float]:
    """An argparse type: ``kind(text)``, which must be greater than 0 (and at most ``maximum``)."""
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
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{name} must be at most {maximum}, got {text}")
        return value

    return parse


def _rate(name: str) -> Callable[[str], float]:
    """An argparse type: a finite learning rate from ``MIN_RATE`` to ``MAX_RATE``."""

    def parse(text: str) -> float:
        allowed = f"{name} must be a number from {MIN_RATE:g} to {MAX_RATE:g}"
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{allowed}, got {text!r}") from None
        if not MIN_RATE <= value <= MAX_RATE:  # also refuses nan and inf
            raise argparse.ArgumentTypeError(f"{allowed}, got {text}")
        return value

    return parse


def _seed(text: str) -> int:
    """An argparse type for ``--seed``: an integer from 0 to ``MAX_SEED``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seed must be an integer from 0 to {MAX_SEED}, got {text!r}"
        ) from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"--seed must be from 0 to {MAX_SEED}, got {text}")
    return value


def _folder(flag: str) -> Callable[[str], Path]:
    """An argparse type: a non-empty path (an empty one would silently mean the working folder)."""

    def parse(text: str) -> Path:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"{flag} must name a folder, got {text!r}")
        return Path(text)

    return parse


def _schedule_rate(text: str) -> tuple[str, float]:
    """An argparse type for ``--peak``: ``NAME=RATE``, a registered schedule and a rate."""
    name, equals, rate = text.partition("=")
    if not equals:
        raise argparse.ArgumentTypeError(f"--peak takes NAME=RATE, got {text!r}")
    if name not in SCHEDULES:
        raise argparse.ArgumentTypeError(
            f"--peak names an unknown schedule {name!r}; choose from {', '.join(sorted(SCHEDULES))}"
        )
    return name, _rate(f"the peak of {name}")(rate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lrlab.train",
        description="Train the course's ConvNet on GTSRB with learning-rate schedules.",
    )
    parser.add_argument(
        "-d",
        "--data-dir",
        type=_folder("--data-dir"),
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
        type=_rate("learning rate"),
        default=1e-3,
        help=f"the largest rate of every schedule, from {MIN_RATE:g} to {MAX_RATE:g} "
        "(default: %(default)s)",
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
    seeds.add_argument(
        "--seed", type=_seed, default=0, help=f"the seed of one run, 0 to {MAX_SEED} (default: 0)"
    )
    seeds.add_argument(
        "--seeds",
        type=_positive(int, "seeds", maximum=MAX_SEED + 1),
        metavar="N",
        help="repeat every schedule over seeds 0..N-1",
    )
    parser.add_argument(
        "--output-dir",
        type=_folder("--output-dir"),
        default=Path("results"),
        help="default: %(default)s; not inside the data folder",
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


def _check_runs(args: argparse.Namespace, seeds: Sequence[int]) -> str | None:
    """The first reason the data or the budget cannot train every run, else None.

    The same listing and split as ``load_gtsrb`` in ``fit_schedule``, without decoding an
    image, so that every run is checked before the first one trains.
    """
    try:
        records = list_images(args.data_dir, "train")
        list_images(args.data_dir, "test")  # a broken test part fails here, not after training
    except (ValueError, OSError) as error:  # the data module's errors name the file and the fix
        return str(error)
    unnamed = [record.path.name for record in records if record.track is None]
    if unnamed and args.group_by_track:
        return (
            f"--group-by-track needs training files named <track>_<frame>.<ext>, and "
            f"{len(unnamed)} in {args.data_dir} are not (e.g. {unnamed[0]!r}): use --random-split"
        )
    use_tracks = args.group_by_track is not False and not unnamed
    tracks = [record.track for record in records] if use_tracks else None
    labels = [record.label for record in records]
    for seed in seeds:
        train_indices, validation_indices = split_train_validation(
            labels, VALIDATION_SPLIT, seed, tracks
        )
        if not len(validation_indices):
            return (
                f"{args.data_dir} has too few images per class for a validation split "
                f"({len(train_indices)} training images): every run is judged on validation "
                "accuracy"
            )
        steps_per_epoch = math.ceil(len(train_indices) / args.batch_size)
        for name in args.schedule:
            try:
                check_total_steps(name, steps_per_epoch, args.epochs)
            except ValueError as error:
                return f"{error} (seed {seed})" if len(seeds) > 1 else str(error)
    return None


def _check_output_dir(out: Path, data_dir: Path) -> str | None:
    """The reason ``--output-dir`` cannot take the results, else None (it then exists)."""
    resolved, data = out.resolve(), data_dir.resolve()
    if resolved == data or data in resolved.parents:
        return (
            f"--output-dir {str(out)!r} is inside the data folder {str(data_dir)!r}: the figures "
            "and CSVs would be mixed with the images; choose a folder outside it"
        )
    if out.exists() and not out.is_dir():
        return f"--output-dir {str(out)!r} is a file, not a folder: choose a folder"
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):  # can a file be written there?
            pass
    except OSError as error:
        return f"cannot write in --output-dir {str(out)!r}: {error.strerror or error}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run every requested (schedule, seed), write the figures, ``results.csv`` and ``failed.csv``.

    Returns 0 when every run finished, 1 when some failed (a NaN or infinite loss or weight: the
    others still ran). Bad flags or data end it before anything trains (argparse's exit status 2);
    any other error in a run is re-raised once ``failed.csv`` records it.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.data_dir.exists() and not args.data_dir.is_dir():
        parser.error(f"data directory {str(args.data_dir)!r} is a file, not a folder: pass -d DIR")
    if not args.data_dir.is_dir():
        parser.error(
            f"data directory {str(args.data_dir)!r} does not exist: "
            "fetch the tiny GTSRB subset into it with `python -m lrlab.data fetch --dest "
            f"{shlex.quote(str(args.data_dir))}`, or pass -d DIR"
        )
    repeated = sorted({name for name in args.schedule if args.schedule.count(name) > 1})
    if repeated:
        parser.error(f"--schedule lists {', '.join(repeated)} more than once; name each once")
    peaks = dict(args.peak)
    if len(peaks) < len(args.peak):
        names = [name for name, _ in args.peak]
        twice = sorted({name for name in names if names.count(name) > 1})
        parser.error(
            f"--peak gives {', '.join(twice)} more than one rate: give each schedule at most "
            "one NAME=RATE"
        )
    unused = sorted(set(peaks) - set(args.schedule))
    if unused:
        parser.error(
            f"--peak names {', '.join(unused)}, which --schedule does not run; the schedules "
            f"run are {', '.join(args.schedule)}, and --peak must name one of them (or add "
            f"{unused[0]} to --schedule)"
        )
    seeds = range(args.seeds) if args.seeds else [args.seed]
    problem = _check_runs(args, seeds) or _check_output_dir(args.output_dir, args.data_dir)
    if problem:
        parser.error(problem)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")

    results: list[dict] = []
    failed: list[dict] = []

    def save() -> None:  # after every run, so a later failure loses nothing finished
        write_csv(args.output_dir / "results.csv", RESULT_COLUMNS, results)
        write_csv(args.output_dir / "failed.csv", FAILED_COLUMNS, failed)

    for name in args.schedule:
        for seed in seeds:
            rate = peaks.get(name, args.learning_rate)
            try:
                results.append(train_once(name, seed, args, rate))
            except Exception as error:
                failed.append(
                    {
                        "schedule": name,
                        "seed": seed,
                        "epochs": args.epochs,
                        "learning_rate": rate,
                        "error": str(error) or type(error).__name__,
                    }
                )
                save()
                if not isinstance(error, RunFailed):
                    raise  # not a diverged run: a fault to see in full (finished runs are kept)
                logger.error("%s", error)
                continue
            save()
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
    if failed:
        logger.error(
            "%d of %d runs failed (%s): see %s",
            len(failed),
            len(failed) + len(results),
            ", ".join(f"{row['schedule']}_seed{row['seed']}" for row in failed),
            args.output_dir / "failed.csv",
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
