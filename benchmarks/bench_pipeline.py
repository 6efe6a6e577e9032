"""Epoch time of lrlab's input pipeline against the course's, on the same training images.

    python benchmarks/bench_pipeline.py [--epochs 5] [--fit-epochs 4] [--data DIR] [--cores 2]

- course: ``keras.utils.image_dataset_from_directory(train/, validation_split=0.2,
  subset="training")`` then ``.map(lambda x, y: (x / 255, y))``: every epoch reads,
  decodes and resizes every PNG again; nothing is cached.
- lrlab: ``lrlab.data.load_gtsrb(validation_split=0.2)``: decoded once into memory,
  then ``cache`` + per-epoch ``shuffle`` + ``batch`` + ``prefetch``.

Both read the same folder (``data/gtsrb-small/train``, made by
``python -m lrlab.data fetch --subset small --dest data/gtsrb-small``, 4300 PNGs, 80% kept for
training); the decoding of lrlab's single pass is reported
on its own. Timed: pure input (every batch of epochs 2..N pulled on the CPU), then
``model.fit`` of the lessons' ConvNet (epochs 2..M); the pipelines take turns epoch by
epoch and the fastest epoch of each counts. Goal: lrlab at least 3x faster
per input epoch. Prints measured figures only; asserts nothing. Without gtsrb-small it
says so and uses the tiny subset, converted to PNG class folders in a temporary
folder (the course's loader cannot read ``.ppm``) that is removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import lrlab  # noqa: F401  (quiet TensorFlow start-up)
from lrlab.paths import default_data_dir, project_root

SMALL = project_root() / "data" / "gtsrb-small"
BATCH_SIZE = 32
IMAGE_SIZE = 32
VALIDATION_SPLIT = 0.2


def course_pipeline(train_dir: Path, seed: int = 0):
    """The course's loader: image_dataset_from_directory, then a /255 map every epoch."""
    import keras

    dataset = keras.utils.image_dataset_from_directory(
        train_dir,
        image_size=(IMAGE_SIZE, IMAGE_SIZE),
        batch_size=BATCH_SIZE,
        validation_split=VALIDATION_SPLIT,
        subset="training",
        seed=seed,
        verbose=False,
    )
    return dataset.map(lambda images, labels: (images / 255.0, labels))


def class_folders_from_official(data_dir: Path, dest: Path) -> Path:
    """Write the training images of an official-layout folder as PNGs in ``dest/<class>/``."""
    from PIL import Image

    from lrlab.data import list_images

    for record in list_images(data_dir, "train"):
        folder = dest / f"{record.label:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        with Image.open(record.path) as image:
            image.convert("RGB").save(folder / f"{record.path.stem}.png")
    return dest


def limit_threads(cores: int) -> None:
    """Let TensorFlow use ``cores`` threads per op and between ops (2: the lessons' laptop)."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(cores)
    tf.config.threading.set_inter_op_parallelism_threads(cores)


def machine_line(cores: int) -> str:
    """CPU count, TensorFlow threads and load average, for reading timings on a shared machine."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} CPUs, TensorFlow limited to {cores} threads; "
        f"load average (1, 5, 15 min) {load}"
    )


def time_input_epochs(pipelines: dict, epochs: int) -> tuple[dict, dict]:
    """Seconds of each epoch of pulling every batch (no model), pipelines taking turns.

    Returns ``({name: [seconds per epoch]}, {name: images per epoch})``. Taking turns
    epoch by epoch spreads the load of a shared machine over all pipelines alike.
    """
    seconds = {name: [] for name in pipelines}
    images = {}
    for _ in range(epochs):
        for name, dataset in pipelines.items():
            started = time.perf_counter()
            images[name] = sum(int(batch[0].shape[0]) for batch in dataset)
            seconds[name].append(time.perf_counter() - started)
    return seconds, images


def time_fit_epochs(pipelines: dict, epochs: int, seed: int = 0) -> dict:
    """Seconds of each epoch of ``model.fit`` of the ConvNet (Adam 1e-3), pipelines taking turns.

    One model per pipeline, each fitted one epoch at a time in turn; an epoch is timed
    from its ``on_epoch_begin`` to its ``on_epoch_end``.
    """
    import keras

    from lrlab.models import build_convnet, compile_classifier

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self, record: list):
            super().__init__()
            self.record = record

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.record.append(time.perf_counter() - self.started)

    seconds = {name: [] for name in pipelines}
    models = {}
    for name in pipelines:
        keras.utils.set_random_seed(seed)
        models[name] = compile_classifier(build_convnet(), keras.optimizers.Adam(1e-3))
    for epoch in range(epochs):
        for name, dataset in pipelines.items():
            models[name].fit(
                dataset,
                initial_epoch=epoch,
                epochs=epoch + 1,
                callbacks=[EpochTimer(seconds[name])],
                shuffle=False,
                verbose=0,
            )
    return seconds


def fastest_after_first(seconds: list[float]) -> float:
    """The fastest of epochs 2.. (epoch 1 pays for tracing and filling caches; on a shared
    machine the fastest epoch is the one least slowed by other work, as ``timeit`` advises)."""
    return min(seconds[1:])


def resolve_data(requested: Path | None, workspace: Path) -> tuple[Path, Path, str]:
    """(folder for load_gtsrb, class-folder train/ for the course's loader, description)."""
    if requested is None:
        if SMALL.is_dir():
            requested = SMALL
        else:
            requested = default_data_dir()
            print(
                f"gtsrb-small not found at {SMALL} (python -m lrlab.data fetch --subset small "
                f"--dest {SMALL}): using the tiny subset {requested}"
            )
    if (requested / "train").is_dir():
        return requested, requested / "train", f"{requested} (class folders)"
    print(
        f"{requested} is not in class folders: its training images are converted to PNG "
        "class folders in a temporary folder for the course's loader"
    )
    train_dir = class_folders_from_official(requested, workspace / "train")
    return requested, train_dir, f"{requested} (official layout; PNG copy for the course's loader)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="input epochs (2..N are timed)")
    parser.add_argument("--fit-epochs", type=int, default=4, help="fit epochs (2..M timed)")
    parser.add_argument("--data", type=Path, default=None, help="default: gtsrb-small, else tiny")
    parser.add_argument("--cores", type=int, default=2, help="TensorFlow threads (default 2)")
    args = parser.parse_args(argv)
    if args.epochs < 2 or args.fit_epochs < 2:
        parser.error("--epochs and --fit-epochs must be at least 2 (epoch 1 is not timed)")

    limit_threads(args.cores)
    from lrlab.data import load_gtsrb

    with tempfile.TemporaryDirectory(prefix="lrlab-bench-") as workspace:
        data_dir, train_dir, description = resolve_data(args.data, Path(workspace))
        print(f"data: {description}")
        print(machine_line(args.cores))

        started = time.perf_counter()
        lrlab_data = load_gtsrb(data_dir, batch_size=BATCH_SIZE, validation_split=VALIDATION_SPLIT)
        lrlab_decode = time.perf_counter() - started
        course = course_pipeline(train_dir)

        pipelines = {"course": course, "lrlab": lrlab_data.train}
        input_seconds, images = time_input_epochs(pipelines, args.epochs)
        fit_seconds = time_fit_epochs(pipelines, args.fit_epochs)
        input_times = {name: fastest_after_first(input_seconds[name]) for name in pipelines}
        fit_times = {name: fastest_after_first(fit_seconds[name]) for name in pipelines}

    print(f"lrlab's one-off decode into memory (load_gtsrb): {lrlab_decode:.2f} s")
    print(f"fastest epoch of 2-{args.epochs} (input only) and of 2-{args.fit_epochs} (fit):")
    print(f"{'pipeline':<8} {'images':>7} {'input epoch':>12} {'images/s':>10} "
          f"{'fit epoch':>10} {'images/s':>10}")
    for name in pipelines:
        print(
            f"{name:<8} {images[name]:>7d} {input_times[name]:>10.3f} s "
            f"{images[name] / input_times[name]:>10.0f} {fit_times[name]:>8.3f} s "
            f"{images[name] / fit_times[name]:>10.0f}"
        )
    per_image = {name: input_times[name] / images[name] for name in pipelines}
    per_image_fit = {name: fit_times[name] / images[name] for name in pipelines}
    speedup = per_image["course"] / per_image["lrlab"]
    print(
        f"input only, epochs 2-{args.epochs}: lrlab is {speedup:.1f}x faster per image "
        "than the course's pipeline (goal: at least 3x)"
    )
    print(
        f"with the ConvNet training, epochs 2-{args.fit_epochs}: lrlab is "
        f"{per_image_fit['course'] / per_image_fit['lrlab']:.2f}x faster per image"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
