"""The LeNet-style ConvNet of the course exercise (43 GTSRB classes: ``lrlab.data.NUM_CLASSES``)."""

from __future__ import annotations

import keras

from lrlab import _validate
from lrlab.data import NUM_CLASSES

__all__ = ["build_convnet", "compile_classifier"]


def build_convnet(input_shape=(32, 32, 3), num_classes: int = NUM_CLASSES) -> keras.Sequential:
    """Conv 6@3x3 relu, maxpool 2, Conv 16@3x3 relu, maxpool 2, Dense 120, Dense 84, Dense logits.

    The last layer has no softmax: it returns logits, to be compiled with
    ``SparseCategoricalCrossentropy(from_logits=True)`` (see ``compile_classifier``).
    The model is built (it has weights) as soon as it is created.
    """
    num_classes = _validate.integer("num_classes", num_classes)
    if num_classes < 2:  # kept apart from _validate's bounds for its message
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    return keras.Sequential(
        [
            keras.Input(shape=tuple(input_shape)),
            keras.layers.Conv2D(6, 3, activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(2, name="pool1"),
            keras.layers.Conv2D(16, 3, activation="relu", name="conv2"),
            keras.layers.MaxPooling2D(2, name="pool2"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(120, activation="relu", name="dense1"),
            keras.layers.Dense(84, activation="relu", name="dense2"),
            keras.layers.Dense(num_classes, name="logits"),
        ],
        name="convnet",
    )


def compile_classifier(model: keras.Model, optimizer) -> keras.Model:
    """Compile ``model`` (which outputs logits) with sparse cross-entropy on logits and accuracy."""
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model
