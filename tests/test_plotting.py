"""Tests of lrlab.plotting: display_metrics, plot_schedules, learning_rate_curve, savefig."""

import math

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from lrlab.plotting import display_metrics, learning_rate_curve, plot_schedules, savefig

HISTORY = {
    "loss": [2.0, 1.5, 1.2],
    "accuracy": [0.3, 0.5, 0.6],
    "val_loss": [2.1, 1.7, 1.6],
    "val_accuracy": [0.25, 0.45, 0.5],
    "lr": [1e-3, 5e-4, 2.5e-4],
}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def lines_by_label(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_display_metrics_draws_loss_accuracy_and_learning_rate_panels():
    fig = display_metrics(HISTORY, title="run")
    loss, accuracy, rate = fig.axes
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy", "learning rate"]
    for ax, key in ((loss, "loss"), (accuracy, "accuracy")):
        lines = lines_by_label(ax)
        assert set(lines) == {"train", "validation"}
        np.testing.assert_array_equal(lines["train"].get_xdata(), [1, 2, 3])
        np.testing.assert_array_equal(lines["train"].get_ydata(), HISTORY[key])
        np.testing.assert_array_equal(lines["validation"].get_ydata(), HISTORY[f"val_{key}"])
        assert ax.get_legend() is not None
        assert ax.get_xlabel() == "epoch"
    assert len(rate.get_lines()) == 1
    np.testing.assert_array_equal(rate.get_lines()[0].get_ydata(), HISTORY["lr"])
    assert rate.get_yscale() == "log"
    assert fig._suptitle.get_text() == "run"


def test_display_metrics_reads_a_keras_history_and_its_learning_rate_key():
    history = keras.callbacks.History()
    history.history = {"loss": [1.0, 0.5], "learning_rate": [0.1, 0.05]}
    fig = display_metrics(history)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "learning rate"]
    np.testing.assert_array_equal(fig.axes[1].get_lines()[0].get_ydata(), [0.1, 0.05])


def test_display_metrics_without_a_rate_has_no_rate_panel():
    fig = display_metrics({"loss": [1.0, 0.5], "accuracy": [0.4, 0.6]})
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]


@pytest.mark.parametrize("history", [{}, {"accuracy": [0.5]}, [1.0, 2.0]])
def test_display_metrics_needs_a_loss(history):
    with pytest.raises(ValueError, match="needs a Keras History"):
        display_metrics(history)


def test_plot_schedules_draws_every_schedule_on_a_linear_and_a_log_axis():
    exponential = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    fig = plot_schedules({"exponential": exponential, "constant": lambda step: 0.05}, 30)
    linear, log = fig.axes
    assert (linear.get_yscale(), log.get_yscale()) == ("linear", "log")
    for ax in (linear, log):
        lines = lines_by_label(ax)
        assert set(lines) == {"exponential", "constant"}
        np.testing.assert_array_equal(lines["exponential"].get_xdata(), np.arange(30))
        # ExponentialDecay: 0.1 * 0.5 ** (step / 10)
        expected = 0.1 * 0.5 ** (np.arange(30) / 10)
        np.testing.assert_allclose(lines["exponential"].get_ydata(), expected, rtol=1e-6)
        np.testing.assert_array_equal(lines["constant"].get_ydata(), [0.05] * 30)
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("step", "learning rate")
    assert [text.get_text() for text in linear.get_legend().get_texts()] == [
        "exponential",
        "constant",
    ]


def test_plot_schedules_needs_a_schedule():
    with pytest.raises(ValueError, match="at least one schedule"):
        plot_schedules({}, 10)


def test_learning_rate_curve_calls_a_vectorised_schedule_once():
    calls = []

    def halving(step):
        calls.append(np.shape(step))
        return 0.1 * 0.5**step

    np.testing.assert_allclose(learning_rate_curve(halving, 4), [0.1, 0.05, 0.025, 0.0125])
    assert calls == [(4,)]


def test_learning_rate_curve_falls_back_to_scalar_calls_for_keras_cosine_warmup():
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=10, warmup_target=0.1, warmup_steps=5
    )
    # Its warm-up branch cannot take an array of steps: ops.cond needs a scalar condition
    # (TensorFlow raises ValueError, JAX TypeError, PyTorch RuntimeError).
    with pytest.raises((ValueError, TypeError, RuntimeError)):
        schedule(np.arange(15))
    steps = np.arange(20)
    # Keras's documented formula: linear warm-up 0 -> 0.1 over 5 steps, then
    # 0.1 * (1 + cos(pi * min(step - 5, 10) / 10)) / 2.
    expected = [
        0.1 * step / 5 if step < 5 else 0.1 * (1 + math.cos(math.pi * min(step - 5, 10) / 10)) / 2
        for step in steps
    ]
    curve = learning_rate_curve(schedule, steps)
    assert curve.dtype == np.float64
    np.testing.assert_allclose(curve, expected, rtol=1e-6, atol=1e-9)


def test_learning_rate_curve_of_a_scalar_only_function_that_cannot_be_traced():
    # Input: a plain function of the step that only takes a scalar (np.shape check) and
    # branches in Python on its value (so jax.jit cannot trace it: on JAX, learning_rate_curve
    # tries jit first and must then call it eagerly). Expected: 0.1 for steps < 3, then 0.01,
    # on every backend, and the eager calls see Python ints.
    seen = []

    def step_function(step):
        if np.shape(step) != ():
            raise ValueError("scalar steps only")
        if step < 3:  # a Python branch on the value
            seen.append(type(step))
            return 0.1
        seen.append(type(step))
        return 0.01

    np.testing.assert_array_equal(learning_rate_curve(step_function, 5), [0.1] * 3 + [0.01] * 2)
    assert seen[-5:] == [int] * 5


def test_learning_rate_curve_compiles_scalar_calls_on_jax(monkeypatch):
    # Input: Keras's warm-up CosineDecay (scalar steps only). Expected on JAX: its per-step
    # calls go through jax.jit (an eager lax.cond compiles its branches at every call: about
    # 0.25 s a step measured on this 2-core machine), so the schedule's own __call__ runs
    # only while tracing, a few times, not once per step; on other backends once per step.
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=10, warmup_target=0.1, warmup_steps=5
    )
    calls = []
    original = type(schedule).__call__
    monkeypatch.setattr(type(schedule), "__call__",
                        lambda self, step: calls.append(1) or original(self, step))
    learning_rate_curve(schedule, 30)
    if keras.backend.backend() == "jax":
        assert len(calls) <= 3  # the vectorised try, the trace (and a retrace at most)
    else:
        assert len(calls) == 31  # the vectorised try, then one call per step


@pytest.mark.parametrize("steps", [0, [], [[0, 1]]])
def test_learning_rate_curve_rejects_empty_or_nested_steps(steps):
    with pytest.raises(ValueError, match="steps must be"):
        learning_rate_curve(lambda step: 0.1, steps)


def test_savefig_writes_only_the_final_png(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = savefig(fig, "07_metrics_constant", folder=tmp_path / "figures")
    assert path == tmp_path / "figures" / "07_metrics_constant.png"
    assert [p.name for p in path.parent.iterdir()] == ["07_metrics_constant.png"]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert savefig(fig, "07_metrics_constant.png", folder=path.parent) == path


def test_savefig_default_folder_is_the_figures_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LRLAB_FIGURES_DIR", str(tmp_path))
    fig, _ = plt.subplots()
    assert savefig(fig, "00_blank") == tmp_path / "00_blank.png"


class FailingFigure:
    """Writes half a file, then fails, like a figure interrupted while saving."""

    def savefig(self, stream, **kwargs):
        stream.write(b"\x89PNG half")  # the temporary file lrlab.plotting.savefig writes into
        raise RuntimeError("interrupted")


def test_savefig_leaves_nothing_behind_when_saving_fails(tmp_path):
    with pytest.raises(RuntimeError, match="interrupted"):
        savefig(FailingFigure(), "07_broken", folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name", ["", "Metrics", "../07_metrics", "07 metrics", "07_metrics.jpg", "_hidden", "a/b"]
)
def test_savefig_rejects_bad_names(tmp_path, name):
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="is not allowed"):
        savefig(fig, name, folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- names (issue 11) --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["abc\n", "07_metrics\n.png", "07_metrics\r", "abc\x00"])
def test_savefig_rejects_a_name_with_a_trailing_newline_or_control_character(tmp_path, name):
    # Input: names that end in "\n" (a regex "$" lets it through). Expected: ValueError that
    # lists the allowed characters, and no file (before: "abc\n.png" was written).
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match=r"is not allowed: use only lower-case letters a-z"):
        savefig(fig, name, folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", [5, None, b"abc"])
def test_savefig_rejects_a_name_that_is_not_a_str(tmp_path, name):
    # Input: an int, None, bytes. Expected: TypeError naming the value (before: AttributeError
    # "'int' object has no attribute 'endswith'").
    fig, _ = plt.subplots()
    with pytest.raises(TypeError, match=f"figure name must be a str.*got {name!r}"):
        savefig(fig, name, folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- round 2: learning_rate_curve's steps and savefig's name length and folder (tools/probes.py)


@pytest.mark.parametrize(
    ("steps", "error", "message"),
    [
        # failed before: 2.5 returned the rates of steps 0, 1, 2 (np.arange(2.5))
        (2.5, TypeError, r"steps must be a positive int .*got 2\.5 \(a float\)"),
        # a whole float is no int either (numpy 2 shows it as np.float64(3.0))
        (np.float64(3.0), TypeError, r"got (np\.float64\()?3\.0\)? \(a float64\)"),
        (True, TypeError, r"got True \(a bool\)"),
        # failed before: 0 and -3 said "got array([], dtype=int64)", not the value given
        (0, ValueError, r"steps must be a positive int or a 1-D sequence of steps, got 0$"),
        (-3, ValueError, r"got -3$"),
        # failed before: numpy's "arange() not supported for inputs with DType StrDType"
        ("10", TypeError, r"steps must be .*got the str '10': pass a number"),
        ([[1, 2]], ValueError, r"got \[\[1, 2\]\] \(shape \(1, 2\)\)"),
        ([], ValueError, r"got \[\] \(shape \(0,\)\)"),
    ],
)
def test_learning_rate_curve_names_a_bad_steps_value(steps, error, message):
    # Input: learning_rate_curve(a constant rate, steps). Expected: the error and message above.
    with pytest.raises(error, match=message):
        learning_rate_curve(lambda step: 0.1, steps)


def test_plot_schedules_checks_steps_like_learning_rate_curve():
    # Input: plot_schedules({...}, 2.5). Expected: the same TypeError (before: it drew steps 0-2).
    with pytest.raises(TypeError, match=r"got 2\.5 \(a float\)"):
        plot_schedules({"constant": lambda step: 0.1}, 2.5)


def test_learning_rate_curve_still_takes_an_int_and_a_sequence():
    # Input: int 3 and the list [0, 4]. Expected: rates of steps 0, 1, 2 and of steps 0, 4 of
    # the function 0.1 * step (values computed by hand).
    np.testing.assert_allclose(learning_rate_curve(lambda s: 0.1 * s, 3), [0.0, 0.1, 0.2])
    np.testing.assert_allclose(learning_rate_curve(lambda s: 0.1 * s, [0, 4]), [0.0, 0.4])
    np.testing.assert_allclose(learning_rate_curve(lambda s: 0.1 * s, np.int64(2)), [0.0, 0.1])


def test_savefig_limits_the_name_length_and_says_the_limit(tmp_path):
    # Input: a 300-character name. Expected: ValueError giving the length and the limit (200),
    # nothing written. Failed before: OSError [Errno 36] File name too long from mkstemp.
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="is 300 characters long: the limit is 200 characters"):
        savefig(fig, "x" * 300, folder=tmp_path)
    assert list(tmp_path.iterdir()) == []
    # the limit itself is allowed: 200 characters (plus ".png") makes a file
    assert savefig(fig, "x" * 200, folder=tmp_path).name == "x" * 200 + ".png"


@pytest.mark.parametrize("below", ["", "sub"])
def test_savefig_into_a_folder_that_is_a_file_says_so(tmp_path, below):
    # Input: folder= an existing file ("afile"), or a folder below it ("afile/sub"). Expected:
    # NotADirectoryError naming the folder, saying it is a file and what to pass; the file keeps
    # its contents. Failed before: a bare FileExistsError / NotADirectoryError from mkdir.
    afile = tmp_path / "afile"
    afile.write_text("user data")
    folder = afile / below if below else afile
    fig, _ = plt.subplots()
    with pytest.raises(NotADirectoryError, match=r"is not a folder: .*existing file; pass folder="):
        savefig(fig, "fig", folder=folder)
    assert afile.read_text() == "user data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]
