"""lrlab.explore: the sliders of lessons 02 and 04, and the static figure they degrade to.

Expected curves come from the schedules' formulas: ExponentialDecay η0 · d^(s/T) (Keras's
documentation), exp_range η_min + (η_max - η_min) · max(0, 1 - |s/S - 2c + 1|) · γ^s with
c = ⌊1 + s/(2S)⌋ (Smith 2017, the tensorflow-addons formula lesson 04 checks).
"""

from __future__ import annotations

import base64
import sys

import keras
import numpy as np
import pytest

from lrlab.explore import Explorer, Slider, explore
from lrlab.schedules import ExponentialCyclicalLearningRate


def exponential(initial_learning_rate, decay_steps, decay_rate):
    return keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate, decay_steps=decay_steps, decay_rate=decay_rate)


def sliders():
    return {"initial_learning_rate": Slider(1e-2, 1e-4, 1.0, log=True),
            "decay_steps": Slider(10, 1, 100, integer=True),
            "decay_rate": Slider(0.5, 0.05, 0.99)}


def formula(initial_learning_rate, decay_steps, decay_rate, steps=100):
    return initial_learning_rate * decay_rate ** (np.arange(steps) / decay_steps)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"value": 1, "low": 2, "high": 1}, "low must be below high, got low=2, high=1"),
     ({"value": 0.1, "low": 0.0, "high": 1.0, "log": True}, "needs low > 0"),
     ({"value": 2.0, "low": 0.0, "high": 1.0},
      r"Slider value must be a number in \[0, 1\], got 2.0"),
     ({"value": 5.5, "low": 1, "high": 10, "integer": True}, "Slider value must be an integer"),
     ({"value": 0.5, "low": 0.0, "high": float("nan")}, "Slider high must be a finite number"),
     ({"value": 0.5, "low": 0.0, "high": 1.0, "log": "yes"}, "Slider log must be True or False")],
)
def test_a_bad_slider_is_refused_with_the_value(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        Slider(**kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [((None, 100), {"title": "t", "x": Slider(0.5, 0, 1)}, "build must be a function"),
     ((exponential, 1), {"title": "t", **sliders()}, "steps must be an integer in"),
     ((exponential, 100), {"title": ""}, "title must not be empty"),
     ((exponential, 100), {"title": "t"}, "at least one slider"),
     ((exponential, 100), {"title": "t", "decay_rate": 0.5}, "decay_rate must be a Slider")],
)
def test_explore_refuses_bad_arguments(args, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        explore(*args, **kwargs)


def test_the_curve_is_the_schedule_and_moves_with_the_sliders():
    explorer = explore(exponential, 100, title="ExponentialDecay", **sliders())
    # Keras computes the schedule in float32: 1e-6 relative
    np.testing.assert_allclose(explorer.current_curve, formula(1e-2, 10, 0.5), rtol=1e-6)
    explorer.set(decay_rate=0.9, decay_steps=20)
    assert explorer.values == {"initial_learning_rate": 1e-2, "decay_steps": 20, "decay_rate": 0.9}
    np.testing.assert_allclose(explorer.current_curve, formula(1e-2, 20, 0.9), rtol=1e-6)
    np.testing.assert_allclose(explorer.start_curve, formula(1e-2, 10, 0.5), rtol=1e-6)
    with pytest.raises(ValueError, match="no slider named 'gamma'"):
        explorer.set(gamma=0.5)


def test_values_the_schedule_refuses_keep_the_last_curve_and_say_why():
    def exp_range(initial_learning_rate, maximal_learning_rate):
        return ExponentialCyclicalLearningRate(initial_learning_rate, maximal_learning_rate,
                                               step_size=50, gamma=0.99)

    explorer = explore(exp_range, 200, title="exp_range",
                       initial_learning_rate=Slider(1e-3, 1e-5, 1e-1, log=True),
                       maximal_learning_rate=Slider(1e-2, 1e-4, 1.0, log=True))
    steps = np.arange(200)
    cycle = np.floor(1 + steps / 100)
    height = np.maximum(0, 1 - np.abs(steps / 50 - 2 * cycle + 1)) * 0.99 ** steps
    # float32: γ = 0.99 is stored 1e-8 too high, and γ^s for s < 200 carries 200 times that
    # (2e-6), plus the float32 rounding of each operation
    np.testing.assert_allclose(explorer.current_curve, 1e-3 + (1e-2 - 1e-3) * height, rtol=5e-6)
    before = explorer.current_curve.copy()
    explorer.set(maximal_learning_rate=1e-4)
    assert explorer.values["maximal_learning_rate"] == 1e-2
    np.testing.assert_array_equal(explorer.current_curve, before)
    assert explorer.message.startswith("these values are refused (maximal_learning_rate must be")
    assert "got 0.0001" in explorer.message
    explorer.set(maximal_learning_rate=1e-1)
    assert explorer.message == ""


def test_where_no_widget_runs_it_is_one_line_of_text_and_the_starting_figure():
    explorer = explore(exponential, 100, title="ExponentialDecay", **sliders())
    text = ("ExponentialDecay: sliders for initial_learning_rate = 0.01, decay_steps = 10, "
            "decay_rate = 0.5 (a static figure where no widget front end runs)")
    assert repr(explorer) == text
    start = explorer._repr_mimebundle_()
    explorer.set(decay_rate=0.9)
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/plain"] == text  # the starting values, whatever the sliders say now
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert bundle["image/png"] == start["image/png"]  # the figure at the starting values


def test_with_ipywidgets_the_panel_redraws_when_a_slider_moves():
    pytest.importorskip("ipywidgets")
    explorer = explore(exponential, 100, title="ExponentialDecay", **sliders())
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    panel = explorer.panel()
    *controls, note, image = panel.children
    assert [c.description for c in controls] == list(sliders())
    assert [type(c).__name__ for c in controls] == ["FloatLogSlider", "IntSlider", "FloatSlider"]
    first = image.value
    controls[2].value = 0.9  # what a learner's drag does
    assert explorer.values["decay_rate"] == 0.9
    assert bytes(image.value) != bytes(first) and bytes(image.value).startswith(b"\x89PNG")
    np.testing.assert_allclose(explorer.current_curve, formula(1e-2, 10, 0.9), rtol=1e-6)
    assert note.value == ""


def test_without_ipywidgets_it_is_the_static_figure(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets fails
    explorer = Explorer(exponential, 100, "ExponentialDecay",
                        {name: s for name, s in sliders().items()})
    assert explorer.panel() is None
    assert sorted(explorer._repr_mimebundle_()) == ["image/png", "text/plain"]


def test_name_saves_the_starting_figure(tmp_path, monkeypatch):
    monkeypatch.setenv("LRLAB_FIGURES_DIR", str(tmp_path))
    explore(exponential, 100, title="ExponentialDecay", name="02_explore_test", **sliders())
    assert (tmp_path / "02_explore_test.png").read_bytes().startswith(b"\x89PNG")
