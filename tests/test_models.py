"""Tests of lrlab.models: the LeNet-style ConvNet and its compilation on logits."""

import keras
import numpy as np
import pytest

from lrlab.data import NUM_CLASSES
from lrlab.models import build_convnet, compile_classifier

# Output shape and parameter count of each layer for a 32x32x3 input, by hand:
# a 3x3 'valid' convolution takes 2 pixels off each side length, a 2x2 max-pool halves it
# (floor), and a layer has (inputs per unit) * units weights + units biases.
EXPECTED_LAYERS = {
    "conv1": ((None, 30, 30, 6), 3 * 3 * 3 * 6 + 6),  # 168
    "pool1": ((None, 15, 15, 6), 0),
    "conv2": ((None, 13, 13, 16), 3 * 3 * 6 * 16 + 16),  # 880
    "pool2": ((None, 6, 6, 16), 0),
    "flatten": ((None, 6 * 6 * 16), 0),  # 576 features
    "dense1": ((None, 120), 576 * 120 + 120),  # 69240
    "dense2": ((None, 84), 120 * 84 + 84),  # 10164
    "logits": ((None, 43), 84 * 43 + 43),  # 3655
}
EXPECTED_TOTAL_PARAMETERS = 84107  # 168 + 880 + 69240 + 10164 + 3655


def test_layers_have_the_shapes_and_parameter_counts_computed_by_hand():
    model = build_convnet()
    assert [layer.name for layer in model.layers] == list(EXPECTED_LAYERS)
    for layer in model.layers:
        shape, parameters = EXPECTED_LAYERS[layer.name]
        assert tuple(layer.output.shape) == shape, layer.name
        assert layer.count_params() == parameters, layer.name
    assert sum(parameters for _, parameters in EXPECTED_LAYERS.values()) == 84107
    assert model.count_params() == EXPECTED_TOTAL_PARAMETERS
    assert tuple(model.compute_output_shape((None, 32, 32, 3))) == (None, NUM_CLASSES) == (None, 43)


def test_last_layer_outputs_logits_not_probabilities():
    assert build_convnet().get_layer("logits").activation is keras.activations.linear


def test_other_input_size_and_class_count():
    model = build_convnet(input_shape=(48, 48, 1), num_classes=5)
    # 48 -> conv 46 -> pool 23 -> conv 21 -> pool 10: 10 * 10 * 16 = 1600 features
    assert tuple(model.get_layer("flatten").output.shape) == (None, 1600)
    assert tuple(model.compute_output_shape((None, 48, 48, 1))) == (None, 5)


@pytest.mark.parametrize("num_classes", [1, 0, -3])
def test_fewer_than_two_classes_is_rejected(num_classes):
    with pytest.raises(ValueError, match=f"num_classes must be at least 2, got {num_classes}"):
        build_convnet(num_classes=num_classes)


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """-log softmax(z)_y = logsumexp(z) - z_y per example, in float64 (the definition)."""
    largest = logits.max(axis=1, keepdims=True)
    log_sum_exp = largest[:, 0] + np.log(np.exp(logits - largest).sum(axis=1))
    return log_sum_exp - logits[np.arange(len(labels)), labels]


def test_compiled_loss_is_softmax_cross_entropy_of_the_logits():
    keras.utils.set_random_seed(0)
    model = compile_classifier(build_convnet(), keras.optimizers.Adam(1e-3))
    images = np.random.default_rng(0).uniform(0.0, 1.0, size=(16, 32, 32, 3)).astype("float32")
    labels = np.arange(16, dtype="int32") * 2  # labels 0..30, all < 43
    logits = model.predict(images, verbose=0).astype(np.float64)
    expected = softmax_cross_entropy(logits, labels)

    loss = model.loss
    assert isinstance(loss, keras.losses.SparseCategoricalCrossentropy)
    assert loss.get_config()["from_logits"] is True
    np.testing.assert_allclose(float(loss(labels, logits)), expected.mean(), rtol=1e-5)
    evaluated = model.evaluate(images, labels, batch_size=16, verbose=0, return_dict=True)
    np.testing.assert_allclose(evaluated["loss"], expected.mean(), rtol=1e-5)

    # The course's from_logits=False reads the logits as probabilities, which is not the
    # cross-entropy of the model. On TensorFlow Keras clips them to [1e-7, 1 - 1e-7], then
    # renormalises; on JAX and PyTorch it divides by their sum first, then clips
    # (keras/src/backend/*/nn.py, sparse_categorical_crossentropy): a backend fact lesson 07
    # depends on.
    rows = np.arange(16)
    if keras.backend.backend() == "tensorflow":
        clipped = np.clip(logits, 1e-7, 1 - 1e-7)
        as_probabilities = -np.log(clipped[rows, labels] / clipped.sum(axis=1))
    else:
        normalised = logits / logits.sum(axis=1, keepdims=True)
        as_probabilities = -np.log(np.clip(normalised, 1e-7, 1 - 1e-7)[rows, labels])
    wrong_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=False)
    wrong_value = float(wrong_loss(labels, logits))
    np.testing.assert_allclose(wrong_value, as_probabilities.mean(), rtol=1e-4)
    assert abs(as_probabilities.mean() - expected.mean()) > 0.1


def test_compile_classifier_reports_accuracy_and_keeps_the_optimizer():
    optimizer = keras.optimizers.SGD(0.05)
    model = compile_classifier(build_convnet(num_classes=3), optimizer)
    assert model.optimizer is optimizer
    images = np.zeros((4, 32, 32, 3), dtype="float32")
    result = model.evaluate(images, np.zeros(4, dtype="int32"), verbose=0, return_dict=True)
    assert set(result) == {"loss", "accuracy"}
