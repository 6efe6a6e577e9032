"""Tests of lrlab.train: the command line, the run settings, and a run end to end.

The schedule registry it trains with is tested in test_recipes.py."""

import csv
import dataclasses
import logging
import os
import re

import keras
import numpy as np
import pytest
from PIL import Image

from lrlab import train
from lrlab.recipes import SCHEDULES

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


def snapshot(folder):
    """Every path under ``folder`` with its size: what a probe must leave unchanged."""
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*"))


@pytest.fixture
def umask_027():
    """A known umask, 0o027, for the test; the previous one is put back after it."""
    previous = os.umask(0o027)
    yield 0o027
    os.umask(previous)


# --- the command line ----------------------------------------------------------------------


def test_unknown_schedule_lists_the_allowed_ones(data_dir, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.main(["-d", str(data_dir), "--schedule", "linear"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "invalid choice: 'linear'" in error
    assert all(name in error for name in SCHEDULES)


def assert_refused_before_training(data_dir, tmp_path, capsys, flags, message):
    """The CLI exits with status 2, says ``message`` on stderr and writes no output folder."""
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        train.main(["-d", str(data_dir), "-e", "1", "--output-dir", str(out), *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    "flags, message",
    [
        (["-e", "0"], "epochs must be greater than 0, got 0"),
        (["--epochs", "ten"], "epochs must be an integer greater than 0, got 'ten'"),
        (["--learning-rate", "-0.1"], "learning rate must be a number from 1e-08 to 1, got -0.1"),
        (["--batch-size", "0"], "batch size must be greater than 0, got 0"),
        (["--seed", "-1"], "--seed must be from 0 to 4294967295, got -1"),
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
        (["--peak", "constant=0"], "the peak of constant must be a number from 1e-08 to 1, got 0"),
        (["--peak", "constant=fast"], "the peak of constant must be a number from 1e-08 to 1"),
        (["--peak", "wsd=0.01"], "--peak names wsd, which --schedule does not run"),
        (
            ["--peak", "constant=0.01", "--peak", "constant=0.02"],
            "--peak gives constant more than one rate",
        ),
    ],
)
def test_bad_peaks_are_argparse_errors(data_dir, capsys, flags, message):
    with pytest.raises(SystemExit) as exit_info:
        train.main(["-d", str(data_dir), "--schedule", "constant", *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


# Round 2 (probes): input `--schedule constant one_cycle --peak cosine=0.01`; expected exit 2
# and an error that lists the schedules run and says --peak names one of them (before: only
# "which --schedule does not run", no hint). Input `--peak constant=0.1 constant=0.2` (one
# flag, two values); expected exit 2 naming `constant` (before: "one schedule").
@pytest.mark.parametrize(
    "flags, expected",
    [
        (
            ["--schedule", "constant", "one_cycle", "--peak", "cosine=0.01"],
            [
                "--peak names cosine",
                "the schedules run are constant, one_cycle",
                "--peak must name one of them",
            ],
        ),
        (
            ["--schedule", "constant", "--peak", "constant=0.1", "constant=0.2"],
            ["--peak gives constant more than one rate", "at most one NAME=RATE"],
        ),
    ],
)
def test_peak_errors_name_the_schedule_and_the_fix(data_dir, capsys, flags, expected):
    with pytest.raises(SystemExit) as exit_info:
        train.main(["-d", str(data_dir), *flags])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    for part in expected:
        assert part in error


def test_missing_data_dir_suggests_the_fetch_command(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.main(["-d", str(tmp_path / "nowhere"), "-e", "1"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "nowhere" in error and "does not exist" in error
    assert "python -m lrlab.data fetch --dest" in error and "make data" not in error


def test_a_folder_too_small_for_a_validation_split_is_refused(tmp_path, capsys):
    for label in (0, 1):  # one image per class: round(0.2 * 1) = 0 validation images
        folder = tmp_path / "train" / f"{label:05d}"
        folder.mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(folder / "00000_00000.png")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        train.main(["-d", str(tmp_path), "-e", "1", "--output-dir", str(out)])
    assert exit_info.value.code == 2
    assert "too few images per class for a validation split" in capsys.readouterr().err
    assert not out.exists()  # refused before anything was created


# Probes of the command line that must end in argparse's exit 2 with a message saying what is
# allowed, before anything trains (issue 11, items 6 and 8, and the adversarial probes). Each
# of these trained, crashed with a traceback or wrote a wrong result before the fix.
@pytest.mark.parametrize(
    "flags, message",
    [
        # trained to a NaN/inf rate and exited 0 with results written:
        (["--learning-rate", "inf"], "learning rate must be a number from 1e-08 to 1, got inf"),
        (["--learning-rate", "1e30"], "learning rate must be a number from 1e-08 to 1, got 1e30"),
        (["--learning-rate", "1e400"], "from 1e-08 to 1, got 1e400"),  # inf as a float
        (["--learning-rate", "1e-300"], "from 1e-08 to 1, got 1e-300"),  # 0 in float32
        (["--learning-rate", "nan"], "learning rate must be a number from 1e-08 to 1, got nan"),
        (["--peak", "constant=inf"], "the peak of constant must be a number from 1e-08 to 1"),
        (["--peak", "constant=1e30"], "the peak of constant must be a number from 1e-08 to 1"),
        # ValueError traceback from NumPy after the run had started:
        (["--seed", str(2**32)], "--seed must be from 0 to 4294967295, got 4294967296"),
        (["--seed", "seven"], "--seed must be an integer from 0 to 4294967295, got 'seven'"),
        (["--seeds", str(2**32 + 1)], "seeds must be at most 4294967296, got 4294967297"),
        # the same run twice, two identical rows and one history file overwritten:
        (["--schedule", "constant", "step", "constant"], "--schedule lists constant more than"),
        # an empty path is the working folder: results written into it, or it read as data
        (["--output-dir", ""], "--output-dir must name a folder, got ''"),
        (["-d", ""], "--data-dir must name a folder, got ''"),
    ],
)
def test_bad_rates_seeds_and_names_are_refused_before_training(
    data_dir, tmp_path, capsys, flags, message
):
    assert_refused_before_training(data_dir, tmp_path, capsys, flags, message)


@pytest.mark.parametrize(
    "flags, message",
    [
        # 24 training images (module fixture) / batch 100 = 1 step per epoch
        (
            ["--schedule", "one_cycle", "-e", "1"],
            "one_cycle needs epochs x steps per epoch >= 4, "
            "got 1 x 1 = 1: train more epochs (-e) or use a smaller --batch-size",
        ),
        (
            ["--schedule", "one_cycle", "-e", "3"],
            "one_cycle needs epochs x steps per epoch >= 4, got 3 x 1 = 3",
        ),
        # the second schedule is short: refused before the first one trains
        (
            ["--schedule", "constant", "warmup_cosine", "-e", "1"],
            "warmup_cosine needs epochs x steps per epoch >= 2, got 1 x 1 = 1",
        ),
    ],
)
def test_too_few_steps_for_a_schedule_is_refused_before_training(
    data_dir, tmp_path, capsys, flags, message
):
    # Before: one_cycle crashed with OneCycle's ValueError after the earlier runs had trained
    # (and their results were lost); warmup_cosine trained its only step at rate 0, silently.
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        train.main(["-d", str(data_dir), "--batch-size", "100", "--output-dir", str(out), *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_one_cycle_trains_at_exactly_four_steps(data_dir, tmp_path):
    # 4 epochs x 1 step (batch 100 > 24 training images): the smallest budget one_cycle takes.
    out = tmp_path / "out"
    flags = ["-d", str(data_dir), "-e", "4", "--batch-size", "100", "--output-dir", str(out)]
    assert train.main([*flags, "--schedule", "one_cycle", "--quiet"]) == 0
    (row,) = read_csv(out / "results.csv")
    assert (row["schedule"], row["epochs"]) == ("one_cycle", "4")


def test_bad_data_and_output_folders_are_refused_and_nothing_is_written(data_dir, tmp_path, capsys):
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("not a folder")
    empty = tmp_path / "empty"
    empty.mkdir()
    before = snapshot(data_dir)
    probes = [
        # (flags, message); before the fix: a wrong "does not exist", a ValueError traceback,
        # FileExistsError / NotADirectoryError tracebacks, results written into the data folder.
        (["-d", str(a_file)], "is a file, not a folder: pass -d DIR"),
        (["-d", str(empty)], "is not in a GTSRB layout lrlab reads"),
        (["--output-dir", str(a_file)], "is a file, not a folder: choose a folder"),
        (["--output-dir", str(a_file / "sub")], "cannot write in --output-dir"),
        (["--output-dir", str(data_dir)], "is inside the data folder"),
        (["--output-dir", str(data_dir / "train" / "00000")], "is inside the data folder"),
    ]
    for flags, message in probes:
        with pytest.raises(SystemExit) as exit_info:
            train.main(
                ["-d", str(data_dir), "-e", "1", "--output-dir", str(tmp_path / "o"), *flags]
            )
        assert exit_info.value.code == 2, flags
        assert message in capsys.readouterr().err, flags
    assert snapshot(data_dir) == before
    assert a_file.read_text() == "not a folder"
    assert not (tmp_path / "o").exists() and list(empty.iterdir()) == []


def test_write_csv_gives_the_usual_permissions(tmp_path, umask_027):
    # mkstemp's 0o600 was kept before; a new file gets 0o666 & ~umask = 0o640 here.
    path = tmp_path / "rows.csv"
    train.write_csv(path, ("a", "b"), [{"a": 1, "b": 2}])
    assert path.stat().st_mode & 0o777 == 0o640
    assert read_csv(path) == [{"a": "1", "b": "2"}]
    assert [p.name for p in tmp_path.iterdir()] == ["rows.csv"]  # no temporary file left


# --- end to end ----------------------------------------------------------------------------


def test_two_schedules_end_to_end(data_dir, tmp_path, caplog, umask_027):
    out = tmp_path / "results"
    flags = ["-d", str(data_dir), "-e", "11", "--batch-size", "8", "--output-dir", str(out)]
    with caplog.at_level(logging.INFO, logger="lrlab.train"):
        status = train.main([*flags, "--schedule", "exponential", "step", "--seed", "3", "--quiet"])
    assert status == 0

    assert sorted(p.name for p in out.iterdir()) == [
        "exponential_seed3_history.csv",
        "exponential_seed3_metrics.png",
        "failed.csv",
        "results.csv",
        "step_seed3_history.csv",
        "step_seed3_metrics.png",
    ]
    for figure in out.glob("*.png"):
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for path in out.iterdir():  # 0o666 & ~0o027, like any file the user writes
        assert path.stat().st_mode & 0o777 == 0o640, path.name
    assert read_csv(out / "failed.csv") == []  # every run finished
    with open(out / "failed.csv", newline="") as stream:
        assert next(csv.reader(stream)) == list(train.FAILED_COLUMNS)

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


# --- faults: a run that diverges or fails keeps the finished ones ---------------------------


def poison_runs(monkeypatch, poisons):
    """``poisons`` maps a run number (its data load, counted from 1) to ``("weight", k)``: the
    k-th training batch (from 1) gets a NaN sample weight, so the loss turns NaN at that step;
    or ``("images", None)``: every training image is multiplied by NaN, which leaves the loss
    finite (oneDNN's ReLU turns NaN into 0) but makes the first layer's weights NaN."""
    import tensorflow as tf

    loads = {"count": 0}
    real_load = train.load_gtsrb

    def load(*args, **kwargs):
        data = real_load(*args, **kwargs)
        loads["count"] += 1
        kind, bad_step = poisons.get(loads["count"], (None, None))
        if kind == "images":
            return dataclasses.replace(data, train=data.train.map(lambda x, y: (x * np.nan, y)))
        if kind != "weight":
            return data

        def poison(index, batch):
            images, labels = batch
            weight = tf.where(index == bad_step - 1, np.float32(np.nan), np.float32(1.0))
            return images, labels, tf.fill(tf.shape(labels), weight)

        return dataclasses.replace(data, train=data.train.enumerate().map(poison))

    monkeypatch.setattr(train, "load_gtsrb", load)


def test_a_nan_run_fails_alone_and_the_invocation_exits_1(
    data_dir, tmp_path, monkeypatch, caplog, umask_027
):
    # Four runs: the second (exponential) gets a NaN loss in step 2 of epoch 1 (24 training
    # images / batch 8 = 3 steps per epoch), the third (step) NaN images. Before the fix both
    # ran to the end and the invocation exited 0 with their numbers in results.csv as results.
    poison_runs(monkeypatch, {2: ("weight", 2), 3: ("images", None)})
    out = tmp_path / "out"
    flags = ["-d", str(data_dir), "-e", "2", "--batch-size", "8", "--output-dir", str(out)]
    schedules = ["--schedule", "constant", "exponential", "step", "cosine", "--quiet"]
    with caplog.at_level(logging.INFO, logger="lrlab.train"):
        status = train.main([*flags, *schedules])
    assert status == 1

    rows = read_csv(out / "results.csv")
    assert [row["schedule"] for row in rows] == ["constant", "cosine"]  # the finished runs
    assert all(np.isfinite(float(row["final_val_accuracy"])) for row in rows)
    failed = read_csv(out / "failed.csv")
    assert [(r["schedule"], r["seed"], r["epochs"]) for r in failed] == [
        ("exponential", "0", "2"),
        ("step", "0", "2"),
    ]
    nan_loss = (
        "run exponential_seed0 (schedule exponential, seed 0, largest rate 0.001) failed: "
        "the training loss became nan at epoch 1, step 2 of that epoch"
    )
    # NaN images: whether the loss turns NaN at once or only the weights do (oneDNN's ReLU
    # maps NaN to 0, so with TF_ENABLE_ONEDNN_OPTS=1 the loss stays finite) depends on the
    # build's kernels; either check must end the run, and its message says which one fired.
    nan_weights = re.compile(
        r"run step_seed0 \(schedule step, seed 0, largest rate 0\.001\) failed: (the weights "
        r"convnet/conv1/kernel were not finite at the end of epoch 1|the training loss became "
        r"nan at epoch 1, step 1 of that epoch)"
    )
    assert failed[0]["error"].startswith(nan_loss)
    assert nan_weights.match(failed[1]["error"]), failed[1]["error"]
    assert not list(out.glob("exponential_seed0_*")) and not list(out.glob("step_seed0_*"))
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors[0].startswith(nan_loss) and "smaller --learning-rate" in errors[0]
    assert nan_weights.match(errors[1]), errors[1]
    assert errors[-1].startswith("2 of 4 runs failed (exponential_seed0, step_seed0)")
    for path in out.iterdir():
        assert path.stat().st_mode & 0o777 == 0o640, path.name


def test_stop_on_non_finite_loss_names_the_validation_loss():
    # A finite training loss with an infinite val_loss (weights too large for validation).
    check = train.StopOnNonFinite()
    check.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    check.model.stop_training = False  # as Model.fit sets it
    check.on_train_begin()
    check.on_epoch_begin(2)
    check.on_train_batch_end(0, {"loss": 1.5})
    assert check.failure is None and not check.model.stop_training
    check.on_epoch_end(2, {"loss": 1.5, "val_loss": float("inf")})
    assert check.failure == "val_loss was inf at the end of epoch 3"
    assert check.model.stop_training


def test_an_error_in_a_later_run_keeps_the_finished_runs(data_dir, tmp_path, monkeypatch):
    # The second run's figure raises (a fault injected here). Before the fix results.csv was
    # written only after the last run, so the finished first run was lost too.
    calls = {"count": 0}
    real_display = train.display_metrics

    def display(*args, **kwargs):
        calls["count"] += 1
        if calls["count"] == 2:
            raise RuntimeError("injected fault")
        return real_display(*args, **kwargs)

    monkeypatch.setattr(train, "display_metrics", display)
    out = tmp_path / "out"
    flags = ["-d", str(data_dir), "-e", "1", "--batch-size", "8", "--output-dir", str(out)]
    with pytest.raises(RuntimeError, match="injected fault"):
        train.main([*flags, "--schedule", "constant", "--seeds", "3", "--quiet"])
    assert [row["seed"] for row in read_csv(out / "results.csv")] == ["0"]
    (failed,) = read_csv(out / "failed.csv")
    assert (failed["seed"], failed["error"]) == ("1", "injected fault")
    assert sorted(p.name for p in out.iterdir()) == [
        "constant_seed0_history.csv",
        "constant_seed0_metrics.png",
        "failed.csv",
        "results.csv",
    ]


# --- below the parser: plain values --------------------------------------------------------


def test_run_settings_hold_plain_checked_values(tmp_path):
    settings = train.RunSettings(data_dir=str(tmp_path), epochs=np.int64(3), group_by_track=True)
    assert settings.data_dir == tmp_path and type(settings.epochs) is int and settings.epochs == 3
    assert settings.batch_size == 32 and not settings.quiet
    assert settings.output_dir == train.Path("results")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.epochs = 4


@pytest.mark.parametrize(
    "fields, error, message",
    [
        ({"epochs": 0}, ValueError, "epochs must be a positive integer, got 0"),
        ({"epochs": 2.0}, TypeError, "epochs must be a positive integer, got 2.0"),
        ({"batch_size": -8}, ValueError, "batch_size must be a positive integer, got -8"),
        ({"group_by_track": "yes"}, TypeError, "group_by_track must be True or False, got 'yes'"),
        ({"quiet": 1}, TypeError, "quiet must be True or False, got 1"),
        ({"output_dir": ""}, ValueError, "output_dir must be a path, got an empty string"),
        ({"data_dir": None}, TypeError, "data_dir must be a path"),
    ],
)
def test_run_settings_refuse_bad_values(tmp_path, fields, error, message):
    with pytest.raises(error, match=message):
        train.RunSettings(**{"data_dir": tmp_path, "epochs": 1, **fields})


@pytest.mark.parametrize(
    "arguments, message",
    [
        (("linear", 0, 1, 1e-3), "schedule_name must be one of 'constant'"),
        (("constant", -1, 1, 1e-3), "seed must be an integer in \\[0, 4294967295\\], got -1"),
        (("constant", 0, 0, 1e-3), "epochs must be a positive integer, got 0"),
        (("constant", 0, 1, 0.0), "learning_rate must be a number in \\(0, inf\\), got 0.0"),
    ],
)
def test_fit_schedule_refuses_bad_values_before_loading_anything(tmp_path, arguments, message):
    name, seed, epochs, rate = arguments
    with pytest.raises(ValueError, match=message):
        train.fit_schedule(name, seed, tmp_path / "nowhere", epochs, rate)


def test_train_once_takes_run_settings(data_dir, tmp_path):
    settings = train.RunSettings(data_dir, epochs=1, batch_size=8, output_dir=tmp_path, quiet=True)
    row = train.train_once("constant", 0, 0.002, settings)
    assert (row["schedule"], row["seed"], row["epochs"], row["learning_rate"]) == (
        "constant",
        0,
        1,
        0.002,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "constant_seed0_history.csv",
        "constant_seed0_metrics.png",
    ]


# --- --strategy and --devices ----------------------------------------------------------------


@pytest.mark.parametrize(
    "flags, message",
    [
        # --devices without --strategy mirrored is an error, not ignored (module docstring)
        (["--devices", "2"], "--devices 2 needs --strategy mirrored"),
        (["--strategy", "none", "--devices", "1"], "--devices 1 needs --strategy mirrored"),
        # the batch is the global batch, split equally among the replicas
        (
            ["--strategy", "mirrored", "--devices", "3"],
            "--batch-size 32 is not a multiple of --devices 3",
        ),
        (["--strategy", "mirrored", "--devices", "0"], "--devices must be greater than 0, got 0"),
        (["--strategy", "mirrored", "--devices", "65"], "--devices must be at most 64, got 65"),
        (["--devices", "two"], "--devices must be an integer greater than 0, got 'two'"),
        (["--strategy", "ring"], "argument --strategy: invalid choice: 'ring'"),
    ],
)
def test_bad_strategy_flags_are_refused_before_training(data_dir, tmp_path, capsys, flags, message):
    assert_refused_before_training(data_dir, tmp_path, capsys, flags, message)


@pytest.mark.parametrize(
    "fields, error, message",
    [
        (
            {"strategy": "ring"},
            ValueError,
            "strategy must be one of 'none', 'mirrored', got 'ring'",
        ),
        ({"devices": 0}, ValueError, "devices must be an integer in \\[1, 64\\], got 0"),
        ({"devices": True}, TypeError, "devices must be an integer in \\[1, 64\\], got True"),
        ({"devices": 2}, ValueError, "devices must be 1 with strategy 'none', got 2"),
        (
            {"strategy": "mirrored", "devices": 3},
            ValueError,
            "batch_size must be a multiple of devices \\(3\\), got 32",
        ),
    ],
)
def test_run_settings_refuse_bad_strategies(tmp_path, fields, error, message):
    with pytest.raises(error, match=message):
        train.RunSettings(**{"data_dir": tmp_path, "epochs": 1, **fields})


def test_run_settings_default_to_one_device(tmp_path):
    settings = train.RunSettings(tmp_path, epochs=1)
    assert (settings.strategy, settings.devices) == ("none", 1)


def test_mirrored_on_one_device_trains_and_more_needs_a_fresh_process(
    data_dir, tmp_path, caplog, capsys
):
    import tensorflow as tf

    tf.constant(1.0) + 1  # TensorFlow has started in this process: its one CPU device stays
    flags = ["-d", str(data_dir), "-e", "1", "--batch-size", "8", "--quiet"]
    with caplog.at_level(logging.INFO, logger="lrlab.train"):
        code = train.main(
            [*flags, "--output-dir", str(tmp_path), "--strategy", "mirrored", "--devices", "1"]
        )
    assert code == 0
    assert "MirroredStrategy over 1 logical CPU devices: global batch 8 = 1 x 8 per replica" in (
        caplog.text
    )
    assert read_csv(tmp_path / "results.csv")[0]["schedule"] == "constant"
    with pytest.raises(SystemExit) as exit_info:
        train.main(
            [
                *flags,
                "--output-dir",
                str(tmp_path / "two"),
                "--strategy",
                "mirrored",
                "--devices",
                "2",
            ]
        )
    assert exit_info.value.code == 2
    assert "cannot split the CPU into 2 logical devices: TensorFlow has already started" in (
        capsys.readouterr().err
    )
