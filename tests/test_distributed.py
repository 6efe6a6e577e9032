"""Tests of lrlab.distributed: one training data-parallel on N devices against one device.

The comparisons run for real, in child processes (MirroredStrategy over 2 logical CPU
devices; keras.distribution.DataParallel over 2 JAX host devices), on a small GTSRB-layout
folder made here, for 2 epochs of 3 steps. What they must show, and why:

- the initial weights are equal (0 difference): both runs seed Keras' initialisers alike;
- the first update of the distributed run equals the single-device update to
  ``FIRST_STEP_TOLERANCE`` (relative): the ConvNet has no BatchNorm and no dropout, so the
  mean of the 2 replicas' mean gradients over equal halves is the global mean gradient,
  up to the order of float32 sums (``FIRST_STEP_REASON`` words it);
- the optimizer counts global steps: epochs x (training images // global batch) in both runs;
- the epoch losses differ no more than a reordering of the same sums makes them differ on
  one device (``loss_ratio`` below ``LOSS_RATIO_BOUND``, ``LOSS_REASON``). The weights'
  divergence is reported, not bounded (lrlab.distributed's docstring says why).
"""

import concurrent.futures
import csv
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from lrlab import distributed
from lrlab.data import list_images, split_train_validation

# The folder below: 4 classes x 4 tracks x 4 frames for training; the split by track sends
# one track (4 frames) of each class to validation (target 0.2 x 16 = 3.2: 4 is nearer than 0),
# leaving 4 x 12 = 48 training images: 3 steps of the global batch 16.
CLASSES = (0, 7, 19, 42)
TRAIN_TRACKS, TRAIN_FRAMES = 4, 4
GLOBAL_BATCH = 16
EPOCHS = 2
STEPS_PER_EPOCH = 48 // GLOBAL_BATCH


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A small GTSRB in the class-folder layout, 32x32 noisy colours (one per class)."""
    root = tmp_path_factory.mktemp("gtsrb")
    rng = np.random.default_rng(0)
    for split, tracks, frames in (("train", TRAIN_TRACKS, TRAIN_FRAMES), ("test", 1, 2)):
        for index, label in enumerate(CLASSES):
            folder = root / split / f"{label:05d}"
            folder.mkdir(parents=True)
            colour = np.array([60 * index + 20, 200 - 40 * index, 90])
            for track in range(tracks):
                for frame in range(frames):
                    noise = rng.integers(-40, 41, size=(32, 32, 3))
                    pixels = np.clip(colour + noise, 0, 255).astype(np.uint8)
                    Image.fromarray(pixels).save(folder / f"{track:05d}_{frame:05d}.png")
    return root


def test_the_fixture_has_the_training_images_the_step_counts_assume(data_dir):
    records = list_images(data_dir, "train")
    train_indices, _ = split_train_validation(
        [r.label for r in records], 0.2, 0, [r.track for r in records]
    )
    assert len(train_indices) == 48


@pytest.fixture(scope="module")
def comparisons(data_dir):
    """``compare_with_single_device`` on 2 devices for each backend, the two at once (each
    waits on its child processes, so threads overlap them)."""
    with concurrent.futures.ThreadPoolExecutor(len(distributed.BACKENDS)) as pool:
        futures = {
            backend: pool.submit(
                distributed.compare_with_single_device,
                data_dir,
                devices=2,
                global_batch=GLOBAL_BATCH,
                epochs=EPOCHS,
                seed=0,
                backend=backend,
                learning_rate=0.05,
                timeout=300,
            )
            for backend in distributed.BACKENDS
        }
        return {backend: future.result() for backend, future in futures.items()}


@pytest.fixture(params=distributed.BACKENDS)
def comparison(request, comparisons):
    return comparisons[request.param]


def test_the_engines_split_the_global_batch(comparison):
    run = comparison.distributed
    assert run.engine == distributed.ENGINES[comparison.backend]
    assert (run.replicas, run.global_batch, run.per_replica_batch) == (2, 16, 8)
    assert (comparison.single.engine, comparison.single.replicas) == ("none", 1)
    assert comparison.reordered.reversed_batches and not comparison.single.reversed_batches
    assert comparison.describe().startswith(
        f"{distributed.ENGINES[comparison.backend]} ({comparison.backend}) on 2 replicas "
        "against one device: global batch 16 = 2 x 8 per replica, 3 global steps per epoch"
    )


def test_the_optimizer_counts_global_steps_in_every_run(comparison):
    # epochs x (48 training images // global batch 16), whatever the replica count
    for run in (comparison.single, comparison.distributed, comparison.reordered):
        assert run.steps_per_epoch == STEPS_PER_EPOCH
        assert run.optimizer_steps == EPOCHS * STEPS_PER_EPOCH
        assert len(run.loss) == len(run.accuracy) == EPOCHS


def test_the_same_seed_builds_the_same_initial_weights(comparison):
    assert comparison.initial_difference == 0.0


def test_the_first_step_equals_the_single_device_step(comparison):
    assert comparison.first_step_difference < distributed.FIRST_STEP_TOLERANCE
    # reordering the sums on one device is of the same kind: also within the tolerance
    assert comparison.first_step_floor < distributed.FIRST_STEP_TOLERANCE


def test_the_epoch_losses_agree_within_the_reorder_noise(comparison):
    assert len(comparison.loss_difference) == len(comparison.loss_floor) == EPOCHS
    assert max(comparison.loss_ratio) < distributed.LOSS_RATIO_BOUND
    assert len(comparison.divergence) == len(comparison.divergence_floor) == EPOCHS
    table = comparison.table()
    assert list(table.index) == [1, 2]
    assert list(table.columns) == [
        "single loss",
        "distributed loss",
        "reordered loss",
        "divergence",
        "divergence floor",
    ]


def test_accuracies_are_fractions_of_the_images(comparison):
    # 16 validation and 8 test images: every accuracy is a multiple of 1/16 or 1/8
    for run in (comparison.single, comparison.distributed):
        assert (run.val_accuracy * 16) % 1 == 0 and (run.test_accuracy * 8) % 1 == 0


# --- the measures, on numbers whose answer is known --------------------------------------


def test_the_update_difference_is_relative_to_the_update():
    initial = np.array([1.0, -2.0, 0.5])
    update = np.array([0.3, 0.0, -0.4])  # norm 0.5
    single = {"initial": initial, "first_step": initial + update}
    doubled = {"initial": initial, "first_step": initial + 2 * update}
    # ||2u - u|| / ||u|| = 1: a rate twice too large (e.g. scaled per replica) is caught
    assert distributed._relative_update_difference(doubled, single) == pytest.approx(1.0)
    halved = {"initial": initial, "first_step": initial + update / 2}
    assert distributed._relative_update_difference(halved, single) == pytest.approx(0.5)
    with pytest.raises(RuntimeError, match="did not move"):
        distributed._relative_update_difference(single, {"initial": initial, "first_step": initial})


def test_the_divergence_is_relative_to_how_far_training_moved():
    base = {
        "initial": np.zeros(2),
        "epoch_1": np.array([3.0, 4.0]),
        "epoch_2": np.array([6.0, 8.0]),
    }
    other = {
        "initial": np.zeros(2),
        "epoch_1": np.array([3.0, 4.5]),
        "epoch_2": np.array([6.0, 9.0]),
    }
    # 0.5 / 5 and 1 / 10
    assert distributed._divergence(other, base, 2) == pytest.approx((0.1, 0.1))


def test_an_epoch_order_is_whole_batches_and_reversal_keeps_each_batch():
    order = distributed._epoch_order(50, 16, seed=3, epoch=1, reverse=False)
    reversed_order = distributed._epoch_order(50, 16, seed=3, epoch=1, reverse=True)
    assert len(order) == 48 and len(set(order.tolist())) == 48 and order.max() < 50
    for batch in range(3):
        plain = order[16 * batch : 16 * (batch + 1)]
        assert (reversed_order[16 * batch : 16 * (batch + 1)] == plain[::-1]).all()
    assert not (distributed._epoch_order(50, 16, 3, 2, False) == order).all()  # a new epoch


def test_the_child_environment_names_the_backend_and_the_host_devices():
    base = {"XLA_FLAGS": "--xla_cpu_fast_math=false --xla_force_host_platform_device_count=8"}
    jax_env = distributed.child_environment("jax", 2, base)
    assert jax_env["KERAS_BACKEND"] == "jax" and jax_env["JAX_PLATFORMS"] == "cpu"
    assert jax_env["XLA_FLAGS"] == (
        "--xla_cpu_fast_math=false --xla_force_host_platform_device_count=2"
    )
    tf_env = distributed.child_environment("tensorflow", 2, {})
    assert tf_env["KERAS_BACKEND"] == "tensorflow" and "XLA_FLAGS" not in tf_env
    assert tf_env["CUDA_VISIBLE_DEVICES"] == "-1"  # one device means one CPU, not a GPU


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        ({"devices": 1}, ValueError, "devices must be at least 2 to compare with one device"),
        ({"devices": 0}, ValueError, "devices must be an integer in \\[1, 64\\], got 0"),
        ({"devices": "2"}, TypeError, "devices must be an integer in \\[1, 64\\], got '2'"),
        ({"devices": 3}, ValueError, "global_batch must be a multiple of devices \\(3\\), got 64"),
        ({"backend": "torch"}, ValueError, "backend must be one of 'tensorflow', 'jax'"),
        ({"optimizer": "rmsprop"}, ValueError, "optimizer must be one of 'sgd', 'adam'"),
        ({"learning_rate": 0.0}, ValueError, "learning_rate must be a number in \\(0, 1\\]"),
        ({"epochs": 0}, ValueError, "epochs must be a positive integer, got 0"),
        ({"warmup_steps": -1}, ValueError, "warmup_steps must be a non-negative integer"),
        ({"data_dir": None}, TypeError, "data_dir must be a path"),
    ],
)
def test_bad_arguments_are_refused_before_any_child_starts(tmp_path, arguments, error, message):
    with pytest.raises(error, match=message):
        distributed.compare_with_single_device(**{"data_dir": tmp_path, **arguments})


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--devices", "two"], "--devices must be an integer, got 'two'"),
        (["--devices", "0"], "devices must be an integer in [1, 64], got 0"),
        (["--global-batch", "10", "--devices", "4"], "global_batch must be a multiple of devices"),
        (["--learning-rate", "fast"], "--learning-rate must be a number, got 'fast'"),
        (["--backend", "torch"], "backend must be one of 'tensorflow', 'jax', got 'torch'"),
    ],
)
def test_the_child_command_line_refuses_bad_flags(tmp_path, capsys, flags, message):
    with pytest.raises(SystemExit) as exit_info:
        distributed.main(["--data-dir", str(tmp_path), "--output", str(tmp_path / "x"), *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_a_folder_without_gtsrb_is_refused_before_any_child_starts(tmp_path):
    with pytest.raises(ValueError, match=str(tmp_path)):
        distributed.compare_with_single_device(tmp_path, devices=2)


def test_a_failing_or_slow_child_raises_with_what_it_said(data_dir):
    settings = distributed._settings("jax", 2, data_dir, 16, 1, 0, 0.05, 0, "sgd")
    script = "import sys; print('the data was unreadable'); sys.exit(3)"
    failing = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    with pytest.raises(RuntimeError) as error:
        distributed._wait(failing, settings, timeout=60)
    assert str(error.value) == (
        "the jax run on 2 device(s) failed (exit status 3):\nthe data was unreadable"
    )
    with pytest.raises(RuntimeError, match="took longer than 0.5 s and was stopped"):
        distributed.run_child(data_dir, 1, epochs=1, timeout=0.5)


# --- python -m lrlab.train --strategy mirrored -------------------------------------------------


def test_train_command_trains_under_mirrored_strategy(data_dir, tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "lrlab.train", "-d", str(data_dir), "-e", "1"]
    command += ["--batch-size", "16", "--strategy", "mirrored", "--devices", "2", "--quiet"]
    command += ["--output-dir", str(out)]
    finished = subprocess.run(
        command,
        env=distributed.child_environment("tensorflow", 2),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "MirroredStrategy over 2 logical CPU devices: global batch 16 = 2 x 8 per replica" in (
        finished.stderr
    )
    with open(out / "results.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [(row["schedule"], row["seed"], row["epochs"]) for row in rows] == [
        ("constant", "0", "1")
    ]


def test_the_warm_up_counts_global_steps_from_a_rate_over_its_length(tmp_path):
    # learning_rate * min(step + 1, W) / W with W = 4 and rate 0.08 (Goyal et al.'s ramp)
    settings = distributed._settings("tensorflow", 2, tmp_path, 16, 1, 0, 0.08, 4, "sgd")
    schedule = distributed._rate(settings)
    rates = [float(schedule(step)) for step in range(6)]
    assert rates == pytest.approx([0.02, 0.04, 0.06, 0.08, 0.08, 0.08], rel=1e-6)
    for steps in (0, 1):  # no warm-up: the rate itself
        assert (
            distributed._rate(
                distributed._settings("jax", 2, tmp_path, 16, 1, 0, 0.08, steps, "sgd")
            )
            == 0.08
        )


def test_the_loss_scale_is_the_running_largest_floor_at_least_the_resolution():
    fields = {name: None for name in distributed.Comparison.__dataclass_fields__}
    fields.update(loss_difference=(0.0, 3e-6, 2e-5), loss_floor=(0.0, 5e-7, 4e-6))
    fields.update(divergence=(1e-6, 1e-3, 1e-3), divergence_floor=(2e-6, 1e-2, 1e-6))
    comparison = distributed.Comparison(**fields)
    # max(1e-6, running max of the floor): 1e-6, 1e-6, 4e-6
    assert comparison.loss_scale == pytest.approx((1e-6, 1e-6, 4e-6))
    assert comparison.loss_ratio == pytest.approx((0.0, 3.0, 5.0))
    # max(1e-4, running max): 1e-4, 1e-2, 1e-2
    assert comparison.divergence_ratio == pytest.approx((0.01, 0.1, 0.1))
