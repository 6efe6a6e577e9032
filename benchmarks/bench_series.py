"""Training throughput of the lessons' ConvNet on 2 CPU threads, and the share spent on input.

    python benchmarks/bench_series.py [--fit-epochs 5] [--data DIR] [--cores 2]

The ConvNet (``lrlab.models.build_convnet``, Adam) is fitted on the same training
images served three ways:

- memory: the full batches of one epoch materialised as tensors beforehand (and
  prefetched), so an epoch is pure training (the reference: no input work to speak of);
- lrlab: ``lrlab.data.load_gtsrb``'s ``train`` (cache + shuffle + batch + prefetch);
- course: ``image_dataset_from_directory`` + a ``/255`` map (see ``bench_pipeline.py``).

The three take turns epoch by epoch and the fastest of epochs 2..M counts. For each:
images per second of training, and the fraction of the epoch spent waiting for input,
measured two ways: the slowdown against memory, ``1 - (seconds per image on memory) /
(seconds per image on it)``, and the input work alone (every batch of an epoch pulled
without a model) as a share of the training epoch, an upper bound when ``prefetch``
overlaps input with training. Prints measured figures only; asserts nothing. The data
rule is the one of ``bench_pipeline.py`` (gtsrb-small beside the checkout, else the tiny
subset).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from bench_pipeline import (
    BATCH_SIZE,
    VALIDATION_SPLIT,
    course_pipeline,
    fastest_after_first,
    limit_threads,
    machine_line,
    resolve_data,
    time_fit_epochs,
    time_input_epochs,
)


def in_memory_batches(dataset):
    """The full batches of one epoch of ``dataset`` as one tensor per batch, ready to train on."""
    import tensorflow as tf

    images, labels = [], []
    for batch_images, batch_labels in dataset:
        if int(batch_images.shape[0]) == BATCH_SIZE:
            images.append(batch_images.numpy())
            labels.append(batch_labels.numpy())
    batches = tf.data.Dataset.from_tensor_slices((np.stack(images), np.stack(labels)))
    return batches.prefetch(tf.data.AUTOTUNE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit-epochs", type=int, default=5, help="fit epochs (2..M timed)")
    parser.add_argument("--data", type=Path, default=None, help="default: gtsrb-small, else tiny")
    parser.add_argument("--cores", type=int, default=2, help="TensorFlow threads (default 2)")
    args = parser.parse_args(argv)
    if args.fit_epochs < 2:
        parser.error("--fit-epochs must be at least 2 (epoch 1 is not timed)")

    limit_threads(args.cores)
    from lrlab.data import load_gtsrb

    with tempfile.TemporaryDirectory(prefix="lrlab-bench-") as workspace:
        data_dir, train_dir, description = resolve_data(args.data, Path(workspace))
        print(f"data: {description}")
        print(machine_line(args.cores))
        lrlab_data = load_gtsrb(data_dir, batch_size=BATCH_SIZE, validation_split=VALIDATION_SPLIT)
        pipelines = {
            "memory": in_memory_batches(lrlab_data.train),
            "lrlab": lrlab_data.train,
            "course": course_pipeline(train_dir),
        }
        input_seconds, images = time_input_epochs(pipelines, args.fit_epochs)
        fit_seconds = time_fit_epochs(pipelines, args.fit_epochs)
        seconds = {name: fastest_after_first(fit_seconds[name]) for name in pipelines}
        input_only = {name: fastest_after_first(input_seconds[name]) for name in pipelines}

    reference = seconds["memory"] / images["memory"]
    print(f"fastest of epochs 2-{args.fit_epochs}:")
    print(f"{'input':<8} {'images':>7} {'fit epoch':>10} {'images/s':>9} "
          f"{'slowdown vs memory':>19} {'input alone':>12} {'input / fit':>12}")
    for name in pipelines:
        per_image = seconds[name] / images[name]
        print(
            f"{name:<8} {images[name]:>7d} {seconds[name]:>8.3f} s {1 / per_image:>9.0f} "
            f"{1 - reference / per_image:>19.0%} {input_only[name]:>10.3f} s "
            f"{input_only[name] / seconds[name]:>12.0%}"
        )
    print(
        f"ConvNet training throughput on {args.cores} threads, epochs 2-{args.fit_epochs}: "
        f"{images['lrlab'] / seconds['lrlab']:.0f} images/s with lrlab's pipeline, "
        f"{images['memory'] / seconds['memory']:.0f} images/s with no input work"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
