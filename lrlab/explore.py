"""Sliders that redraw a schedule as its parameters move.

    explore(
        lambda initial, decay_steps, decay_rate: ExponentialDecay(initial, decay_steps, decay_rate),
        steps=3000,
        title="ExponentialDecay",
        initial=Slider(0.1, 1e-4, 1.0, log=True),
        decay_steps=Slider(500, 50, 3000, integer=True),
        decay_rate=Slider(0.5, 0.05, 0.99),
    )

``explore`` returns an :class:`Explorer`; shown as a cell's result in JupyterLab, Colab or
any front end that runs ipywidgets, it is a panel: a slider per parameter and the curve of
``build(**values)`` over ``steps``, redrawn when a slider is released, with the curve at the
starting values kept in grey for comparison. Values that ``build`` refuses (a decay rate the
schedule does not allow, say) leave the last curve and say why under the sliders.

Where no widget front end runs (nbval, nbconvert, the site, GitHub), the same result is a
static figure of the curve at the starting values, and its text is one line naming the
starting values, the same on every machine. ``name=`` also saves that figure as
``figures/<name>.png``. Without ipywidgets installed (``pip install ipywidgets``: Colab and
``make lab`` have it) the result is the static figure.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lrlab import _validate
from lrlab.plotting import learning_rate_curve, savefig

_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@dataclass(frozen=True)
class Slider:
    """One parameter: its starting ``value`` and the range ``[low, high]`` it slides over.

    ``log=True`` slides over powers of ten (rates: ``low`` must be above 0); ``integer=True``
    takes whole numbers only (steps: ``value``, ``low``, ``high`` must be integers).
    """

    value: float
    low: float
    high: float
    log: bool = False
    integer: bool = False

    def __post_init__(self):
        _validate.flag("Slider log", self.log)
        _validate.flag("Slider integer", self.integer)
        check = _validate.integer if self.integer else _validate.real
        low = check("Slider low", self.low)
        high = check("Slider high", self.high)
        if not low < high:
            raise ValueError(f"Slider low must be below high, got low={self.low!r}, "
                             f"high={self.high!r}")
        if self.log and low <= 0:
            raise ValueError(f"a log Slider needs low > 0 (it slides over powers of ten), "
                             f"got low={self.low!r}")
        if self.integer:
            _validate.integer("Slider value", self.value, low, high)
        else:
            _validate.real("Slider value", self.value, low, high)

    def widget(self, name: str):
        import ipywidgets

        common = {"description": name, "continuous_update": False,
                  "style": {"description_width": "initial"},
                  "layout": ipywidgets.Layout(width="460px")}
        if self.integer:
            step = max(1, (self.high - self.low) // 100)
            return ipywidgets.IntSlider(value=self.value, min=self.low, max=self.high,
                                        step=step, **common)
        if self.log:
            low, high = math.log10(self.low), math.log10(self.high)
            return ipywidgets.FloatLogSlider(value=self.value, base=10, min=low, max=high,
                                             step=(high - low) / 100, readout_format=".2e",
                                             **common)
        return ipywidgets.FloatSlider(value=self.value, min=self.low, max=self.high,
                                      step=(self.high - self.low) / 100, readout_format=".3g",
                                      **common)


def _text(value) -> str:
    return f"{value:d}" if isinstance(value, int) else f"{value:.4g}"


class Explorer:
    """A schedule's curve and the sliders that move its parameters (see :func:`explore`)."""

    def __init__(self, build: Callable, steps: int, title: str, sliders: dict[str, Slider]):
        self.build, self.steps, self.title, self.sliders = build, steps, title, sliders
        self.start = {name: slider.value for name, slider in sliders.items()}
        self.values = dict(self.start)
        self.message = ""
        self.start_curve = self.curve(self.start)
        self.current_curve = self.start_curve
        self._panel = None

    def curve(self, values: dict) -> np.ndarray:
        """The rates of ``build(**values)`` at steps 0 .. steps-1."""
        return learning_rate_curve(self.build(**values), self.steps)

    def figure(self, start: bool = False) -> Figure:
        """The curve at the current values, the starting curve in grey behind it; with
        ``start=True``, the curve at the starting values alone."""
        values, curve = (self.start, self.start_curve) if start else (
            self.values, self.current_curve)
        fig = Figure(figsize=(7.5, 3.4), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        steps = np.arange(self.steps)
        moved = values != self.start
        if moved:
            ax.plot(steps, self.start_curve, color="0.7", lw=1.5, label="starting values")
        ax.plot(steps, curve, color="C0", lw=2, label="these values")
        ax.set_xlabel("step")
        ax.set_ylabel("learning rate")
        ax.set_title(self.title + "\n" + ", ".join(
            f"{name} = {_text(value)}" for name, value in values.items()), fontsize=10)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        if moved:
            ax.legend(fontsize=8)
        return fig

    def png(self, start: bool = False) -> bytes:
        buffer = io.BytesIO()
        self.figure(start).savefig(buffer, format="png", dpi=100, metadata={"Software": None})
        return buffer.getvalue()

    def set(self, **values) -> None:
        """Move sliders (by name) and redraw; values ``build`` refuses keep the last curve."""
        unknown = sorted(set(values) - set(self.sliders))
        if unknown:
            raise ValueError(f"no slider named {', '.join(map(repr, unknown))}: the sliders "
                             f"are {', '.join(map(repr, self.sliders))}")
        wanted = {**self.values, **values}
        try:
            curve = self.curve(wanted)
            if not np.all(np.isfinite(curve)):
                raise ValueError("the schedule gives a rate that is not finite")
        except (ValueError, TypeError) as error:
            self.message = f"these values are refused ({error}); the curve is the last one"
        else:
            self.values, self.current_curve, self.message = wanted, curve, ""
        if self._panel is not None:
            self._image.value = self.png()
            self._note.value = self.message

    def panel(self):
        """The ipywidgets panel (sliders, a note, the figure); None without ipywidgets."""
        if self._panel is None:
            try:
                import ipywidgets
            except ImportError:
                return None
            controls = []
            for name, slider in self.sliders.items():
                control = slider.widget(name)
                control.observe(lambda change, name=name: self.set(**{name: change["new"]}),
                                names="value")
                controls.append(control)
            self._note = ipywidgets.Label(self.message)
            self._image = ipywidgets.Image(value=self.png(), format="png",
                                           layout=ipywidgets.Layout(max_width="760px"))
            self._panel = ipywidgets.VBox([*controls, self._note, self._image])
        return self._panel

    def __repr__(self) -> str:
        starting = ", ".join(f"{name} = {_text(value)}" for name, value in self.start.items())
        return (f"{self.title}: sliders for {starting} (a static figure where no widget "
                "front end runs)")

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": repr(self),
                  "image/png": base64.b64encode(self.png(start=True)).decode("ascii")}
        panel = self.panel()
        if panel is not None:
            view = panel._repr_mimebundle_()
            if view and _WIDGET_VIEW in view:
                bundle[_WIDGET_VIEW] = view[_WIDGET_VIEW]
        return bundle


def explore(build: Callable, steps: int, *, title: str, name: str | None = None,
            **sliders: Slider) -> Explorer:
    """Sliders for the parameters of ``build(**values)``, a schedule drawn over ``steps``.

    ``build`` takes one keyword per slider and returns a schedule (a Keras
    ``LearningRateSchedule``, an lrlab schedule, or any function of the step). ``name`` saves
    the figure at the starting values as ``figures/<name>.png``.
    """
    if not callable(build):
        raise TypeError(f"build must be a function of the sliders' values, got {build!r}")
    steps = _validate.integer("steps", steps, 2, 10_000_000)
    _validate.text("title", title)
    if not sliders:
        raise ValueError("explore needs at least one slider: name=Slider(value, low, high)")
    for key, slider in sliders.items():
        if not isinstance(slider, Slider):
            raise TypeError(f"{key} must be a Slider(value, low, high), got {slider!r}")
    explorer = Explorer(build, steps, title, dict(sliders))
    if name is not None:
        savefig(explorer.figure(), name)
    return explorer
