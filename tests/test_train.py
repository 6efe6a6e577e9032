"""Tests of lrlab.train: the schedule registry, the command line, and a run end to end."""

import csv
import logging
import re

import keras
import numpy as np
import pytest
from PIL import Image

from lrlab import train
from lrlab.callbacks import OneCycleMomentum

LEARNING_RATE = 1e-3


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A tiny GTSRB in the class-folder layout: <root>/{train,test}/<class:05d>/<track>_<frame>.png.

    Three classes (labels 0, 4 and 42: any label below the model's 43 outputs), each a colour
    with noise, 5 tracks x 2 frames for training (the default split by track sends one whole
    track of each class to validation) and 1 track x 2 frames for testing.
    """
    root = tmp_path_factory.mktemp("gtsrb")
    rng = np.random.default_rng(0)
    colours = {0: (220, 30, 30), 4: (30, 200, 40), 42: (40, 60, 210)}
    for split, tracks, frames in (("train", 5, 2), ("test", 1, 2)):
        for label, colour in colours.items():
            folder = root / split / f"{label:05d}"
            folder.mkdir(parents=True)
            for track in range(tracks):
                for frame in range(frames):
                    noise = rng.integers(-25, 26, size=(20, 20, 3))
                    pixels = np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)
                    Image.fromarray(pixels).save(folder / f"{track:05d}_{frame:05d}.png")
    return root


def read_csv(path):
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


# --- the registry --------------------------------------------------------------------------


def rates_at(schedule, steps):
    return np.array([float(schedule(step)) for step in steps])


def test_registry_names_the_course_schedules():
    assert set(train.SCHEDULES) == {
        "constant",
        "exponential",
        "step",
        "cosine",
        "warmup_cosine",
        "triangular2",
        "one_cycle",
        "plateau",
        "wsd",
    }


def test_constant_keeps_the_rate():
    assert train.SCHEDULES["constant"](LEARNING_RATE, 22, 30) == (LEARNING_RATE, [])


def test_exponential_halves_every_ten_epochs_of_steps():
    schedule, callbacks = train.SCHEDULES["exponential"](LEARNING_RATE, 22, 30)
    assert isinstance(schedule, keras.optimizers.schedules.ExponentialDecay)
    assert callbacks == []
    steps = np.array([0, 11, 22, 220, 440, 659])
    # learning_rate * 0.5 ** (step / (10 epochs * 22 steps per epoch))
    expected = LEARNING_RATE * 0.5 ** (steps / 220)
    np.testing.assert_allclose(rates_at(schedule, steps), expected, rtol=1e-6)


def test_step_halves_at_epochs_10_20_30():
    rate, callbacks = train.SCHEDULES["step"](LEARNING_RATE, 22, 40)
    assert rate == LEARNING_RATE
    (scheduler,) = callbacks
    assert isinstance(scheduler, keras.callbacks.LearningRateScheduler)
    epochs = range(40)
    expected = [LEARNING_RATE * 0.5 ** (epoch // 10) for epoch in epochs]  # 1e-3 ... 1.25e-4
    assert [scheduler.schedule(epoch) for epoch in epochs] == pytest.approx(expected, rel=1e-12)
    assert scheduler.schedule(9) == LEARNING_RATE and scheduler.schedule(10) == LEARNING_RATE / 2


def test_cosine_decays_to_zero_over_the_run():
    schedule, _ = train.SCHEDULES["cosine"](LEARNING_RATE, 5, 4)
    steps = np.arange(21)
    # learning_rate * (1 + cos(pi * step / 20)) / 2 for 20 = 5 steps x 4 epochs
    expected = LEARNING_RATE * (1 + np.cos(np.pi * steps / 20)) / 2
    np.testing.assert_allclose(rates_at(schedule, steps), expected, rtol=1e-5, atol=1e-9)


def test_warmup_cosine_warms_up_over_a_tenth_of_the_run():
    schedule, _ = train.SCHEDULES["warmup_cosine"](LEARNING_RATE, 10, 5)
    steps = np.arange(51)
    # 50 steps: linear warm-up 0 -> 1e-3 over 5 steps, then cosine decay over 45 steps.
    expected = np.where(
        steps < 5,
        LEARNING_RATE * steps / 5,
        LEARNING_RATE * (1 + np.cos(np.pi * np.minimum(steps - 5, 45) / 45)) / 2,
    )
    np.testing.assert_allclose(rates_at(schedule, steps), expected, rtol=1e-5, atol=1e-9)


def test_triangular2_cycles_every_ten_epochs_with_halving_height():
    schedule, _ = train.SCHEDULES["triangular2"](LEARNING_RATE, 4, 30)
    steps = np.arange(120)
    # Smith (2017) triangular2 with step_size = 5 epochs x 4 steps = 20, between 1e-4 and 1e-3:
    # cycle = floor(1 + step / 40), x = |step / 20 - 2 cycle + 1|,
    # rate = 1e-4 + (1e-3 - 1e-4) * max(0, 1 - x) / 2 ** (cycle - 1)
    cycle = np.floor(1 + steps / 40)
    x = np.abs(steps / 20 - 2 * cycle + 1)
    expected = 1e-4 + 9e-4 * np.maximum(0, 1 - x) / 2 ** (cycle - 1)
    np.testing.assert_allclose(rates_at(schedule, steps), expected, rtol=1e-5)
    assert rates_at(schedule, [20, 60, 100]) == pytest.approx([1e-3, 5.5e-4, 3.25e-4], rel=1e-5)


def test_one_cycle_rises_over_30_percent_then_anneals():
    schedule, (momentum,) = train.SCHEDULES["one_cycle"](LEARNING_RATE, 10, 10)
    # PyTorch OneCycleLR defaults over 100 steps: 1e-3 / 25 at step 0, the peak 1e-3 at
    # step 0.3 * 100 - 1 = 29, and 1e-3 / 25 / 1e4 at the last step 99.
    assert rates_at(schedule, [0, 29, 99]) == pytest.approx([4e-5, 1e-3, 4e-9], rel=1e-5)
    assert isinstance(momentum, OneCycleMomentum) and momentum.schedule is schedule
    assert (momentum.base_momentum, momentum.max_momentum) == (0.85, 0.95)  # torch's defaults


def test_wsd_warms_up_holds_and_decays_over_the_last_fifth():
    schedule, _ = train.SCHEDULES["wsd"](LEARNING_RATE, 10, 10)
    steps = np.arange(101)
    # 100 steps: warm-up 0 -> 1e-3 over 10 steps, 1e-3 until step 80, linear to 0 at step 100.
    expected = np.select(
        [steps < 10, steps <= 80], [1e-4 * steps, 1e-3], 1e-3 * (100 - steps) / 20
    )
    np.testing.assert_allclose(rates_at(schedule, steps), expected, rtol=1e-5, atol=1e-9)


def test_plateau_halves_on_a_validation_accuracy_plateau():
    rate, (reduce,) = train.SCHEDULES["plateau"](LEARNING_RATE, 22, 30)
    assert rate == LEARNING_RATE
    assert isinstance(reduce, keras.callbacks.ReduceLROnPlateau)
    assert (reduce.monitor, reduce.mode, reduce.factor, reduce.patience) == (
        "val_accuracy",
        "max",
        0.5,
        1,
    )


@pytest.mark.parametrize("name", sorted(train.SCHEDULES))
def test_learning_rate_flag_is_the_largest_rate_of_every_schedule(name):
    steps_per_epoch, epochs = 7, 12
    rate, callbacks = train.SCHEDULES[name](LEARNING_RATE, steps_per_epoch, epochs)
    if isinstance(rate, keras.optimizers.schedules.LearningRateSchedule):
        rates = rates_at(rate, range(steps_per_epoch * epochs))
    else:
        schedulers = [c for c in callbacks if isinstance(c, keras.callbacks.LearningRateScheduler)]
        by_epoch = [s.schedule(epoch) for s in schedulers for epoch in range(epochs)]
        rates = np.array(by_epoch or [rate])
    # one_cycle peaks at step 0.3 * 84 - 1 = 24.2, between two steps: its step 24 is 0.02% below.
    assert LEARNING_RATE * (1 - 1e-3) <= rates.max() <= LEARNING_RATE * (1 + 1e-6)


# --- the command line ----------------------------------------------------------------------


def test_unknown_schedule_lists_the_allowed_ones(data_dir, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.main(["-d", str(data_dir), "--schedule", "linear"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "invalid choice: 'linear'" in error
    assert all(name in error for name in train.SCHEDULES)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["-e", "0"], "epochs must be greater than 0, got 0"),
        (["--epochs", "ten"], "epochs must be an integer greater than 0, got 'ten'"),
        (["--learning-rate", "-0.1"], "learning rate must be greater than 0, got -0.1"),
        (["--batch-size", "0"], "batch size must be greater than 0, got 0"),
        (["--seed", "-1"], "--seed must be 0 or more, got -1"),
        (["--seed", "1", "--seeds", "3"], "not allowed with argument --seed"),
    ],
)
def test_bad_flags_are_argparse_errors(data_dir, capsys, flags, message):
    with pytest.raises(SystemExit) as exit_info:
        train.main(["-d", str(data_dir), *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--peak", "one_cycle"], "--peak takes NAME=RATE, got 'one_cycle'"),
        (["--peak", "linear=0.1"], "--peak names an unknown schedule 'linear'"),
        (["--peak", "constant=0"], "the peak of constant must be greater than 0, got 0"),
        (["--peak", "constant=fast"], "the peak of constant must be a number greater than 0"),
        (["--peak", "wsd=0.01"], "--peak names wsd, which --schedule does not run"),
        (
            ["--peak", "constant=0.01", "--peak", "constant=0.02"],
            "--peak gives one schedule more than one rate",
        ),
    ],
)
def test_bad_peaks_are_argparse_errors(data_dir, capsys, flags, message):
    with pytest.raises(SystemExit) as exit_info:
        train.main(["-d", str(data_dir), "--schedule", "constant", *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_data_dir_suggests_make_data(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.main(["-d", str(tmp_path / "nowhere"), "-e", "1"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "nowhere" in error and "does not exist" in error and "make data" in error


def test_a_folder_too_small_for_a_validation_split_is_refused(tmp_path):
    for label in (0, 1):  # one image per class: round(0.2 * 1) = 0 validation images
        folder = tmp_path / "train" / f"{label:05d}"
        folder.mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(folder / "00000_00000.png")
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="too few images per class for a validation split"):
        train.main(["-d", str(tmp_path), "-e", "1", "--output-dir", str(out)])
    assert list(out.iterdir()) == []


# --- end to end ----------------------------------------------------------------------------


def test_two_schedules_end_to_end(data_dir, tmp_path, caplog):
    out = tmp_path / "results"
    flags = ["-d", str(data_dir), "-e", "11", "--batch-size", "8", "--output-dir", str(out)]
    with caplog.at_level(logging.INFO, logger="lrlab.train"):
        status = train.main([*flags, "--schedule", "exponential", "step", "--seed", "3", "--quiet"])
    assert status == 0

    assert sorted(p.name for p in out.iterdir()) == [
        "exponential_seed3_history.csv",
        "exponential_seed3_metrics.png",
        "results.csv",
        "step_seed3_history.csv",
        "step_seed3_metrics.png",
    ]
    for figure in out.glob("*.png"):
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    with open(out / "results.csv", newline="") as stream:
        assert next(csv.reader(stream)) == list(train.RESULT_COLUMNS)
    rows = read_csv(out / "results.csv")
    assert [(row["schedule"], row["seed"], row["epochs"]) for row in rows] == [
        ("exponential", "3", "11"),
        ("step", "3", "11"),
    ]
    # Epoch e (from 0) runs at 1e-3 * 0.5 ** (e / 10) (exponential, per step: the rate at the
    # epoch's first step e * steps_per_epoch) or 1e-3 * 0.5 ** (e // 10) (step): epoch 11 at 5e-4.
    expected_rates = {
        "exponential": LEARNING_RATE * 0.5 ** (np.arange(11) / 10),
        "step": LEARNING_RATE * 0.5 ** (np.arange(11) // 10),
    }
    for row in rows:
        history = read_csv(out / f"{row['schedule']}_seed3_history.csv")
        assert list(history[0]) == list(train.HISTORY_COLUMNS)
        assert [int(epoch["epoch"]) for epoch in history] == list(range(1, 12))
        rates = [float(epoch["lr"]) for epoch in history]
        np.testing.assert_allclose(rates, expected_rates[row["schedule"]], rtol=1e-6)
        assert float(row["final_lr"]) == pytest.approx(LEARNING_RATE / 2, rel=1e-6)

        val_accuracy = [float(epoch["val_accuracy"]) for epoch in history]
        assert float(row["final_val_accuracy"]) == val_accuracy[-1]
        assert float(row["best_val_accuracy"]) == max(val_accuracy)
        assert int(row["best_epoch"]) == val_accuracy.index(max(val_accuracy)) + 1
        assert 0.0 <= float(row["test_accuracy"]) <= 1.0
        assert float(row["seconds"]) > 0

    epoch_lines = [r.getMessage() for r in caplog.records if " epoch " in r.getMessage()]
    assert len(epoch_lines) == 22  # 11 epochs x 2 runs
    pattern = (
        r"step_seed3 epoch 11/11: loss \d+\.\d{4} accuracy \d\.\d{4} "
        r"val_loss \d+\.\d{4} val_accuracy \d\.\d{4} lr 5\.0000e-04"
    )
    assert re.fullmatch(pattern, epoch_lines[-1]), epoch_lines[-1]


def test_peak_gives_one_schedule_its_own_largest_rate(data_dir, tmp_path):
    out = tmp_path / "peaks"
    flags = ["-d", str(data_dir), "-e", "2", "--batch-size", "8", "--output-dir", str(out)]
    schedules = ["--schedule", "constant", "step", "exponential", "--learning-rate", "0.002"]
    # --peak may be repeated and may list several schedules; the others keep --learning-rate.
    peaks = ["--peak", "step=0.004", "--peak", "exponential=0.0005", "--quiet"]
    assert train.main([*flags, *schedules, *peaks]) == 0
    rows = read_csv(out / "results.csv")
    expected = {"constant": 0.002, "step": 0.004, "exponential": 0.0005}
    assert {row["schedule"]: float(row["learning_rate"]) for row in rows} == expected
    for name, peak in expected.items():
        history = read_csv(out / f"{name}_seed0_history.csv")
        # the first epoch of all three runs at the schedule's largest rate (float32 in Keras)
        assert float(history[0]["lr"]) == pytest.approx(peak, rel=1e-6)


def test_seeds_repeat_each_run_reproducibly_with_progress_bars(data_dir, tmp_path, capsys):
    flags = ["-d", str(data_dir), "-e", "1", "--batch-size", "8", "--schedule", "constant"]
    assert train.main([*flags, "--seeds", "2", "--output-dir", str(tmp_path / "a")]) == 0
    assert "━" in capsys.readouterr().out  # Keras progress bars without --quiet
    rows = read_csv(tmp_path / "a" / "results.csv")
    assert [(row["schedule"], row["seed"]) for row in rows] == [
        ("constant", "0"),
        ("constant", "1"),
    ]
    assert (tmp_path / "a" / "constant_seed1_metrics.png").is_file()
    assert float(rows[0]["final_lr"]) == pytest.approx(LEARNING_RATE, rel=1e-6)

    # --seed 1 alone repeats the second run of --seeds 2 exactly.
    assert train.main([*flags, "--seed", "1", "--output-dir", str(tmp_path / "b"), "--quiet"]) == 0
    (alone,) = read_csv(tmp_path / "b" / "results.csv")
    assert alone["final_val_accuracy"] == rows[1]["final_val_accuracy"]
    history_a = read_csv(tmp_path / "a" / "constant_seed1_history.csv")
    history_b = read_csv(tmp_path / "b" / "constant_seed1_history.csv")
    assert history_a == history_b
