"""Explorers that work with a kernel (ipywidgets) and without one (pre-rendered images in the page).

A chapter writes one call::

    display(static_explorer(render, {"temperature": Control("temperature τ", [0.25, 0.5, 1, 2, 4], default=1)},
                            describe=lambda temperature: f"τ = {temperature}: predicted smoothing"))

``render(**setting)`` draws a matplotlib figure for one setting of the controls and returns it;
``describe(**setting)`` says in words what the setting is and what the theory predicts.

- **With a kernel** (Jupyter, Colab) the call returns live ipywidgets: a slider per numeric control (over its
  values), a menu per other control, the description and the figure, redrawn when a control moves.
- **In the book build** (the environment variable :data:`STATIC_ENV` is ``"1"``; the book's Sphinx extension
  sets it for the kernels it starts) the call renders the figure for every point of the grid of control values
  once, as PNG images sized for the page's column, and returns HTML: native, keyboard-operable controls (a range
  input or a select), a live text label of the setting and the prediction, and the image. The page's script
  ``book/_static/static-explorer.js`` swaps the image and the label when a control moves: no kernel, no
  network. The images are capped at ``max_bytes`` per explorer, so a grid too fine for a page fails the build.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

__all__ = ["STATIC_ENV", "Control", "static_explorer", "is_static"]

STATIC_ENV = "OVERSMOOTHING_STATIC_EXPLORERS"
"""``"1"`` makes :func:`static_explorer` write pre-rendered HTML instead of live widgets."""

MAX_BYTES = 2_000_000
"""Default cap on the images of one explorer (bytes of PNG, before base64)."""


@dataclass(frozen=True)
class Control:
    """One control of an explorer: its label, the values it offers (a grid point each) and its default.

    Numbers give a slider over ``values`` (in order); anything else gives a menu, shown with ``str``.
    ``default`` is one of ``values`` (the first one when omitted).
    """

    label: str
    values: Sequence[Any]
    default: Any = None
    fmt: Callable[[Any], str] = field(default=lambda value: f"{value:g}" if isinstance(value, float) else str(value))

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label:
            raise ValueError(f"label: expected a non-empty string, got {self.label!r}")
        values = tuple(self.values)
        if not values:
            raise ValueError(f"values: control {self.label!r} needs at least one value")
        if len(set(map(repr, values))) != len(values):
            raise ValueError(f"values: control {self.label!r} repeats a value: {values}")
        object.__setattr__(self, "values", values)
        default = values[0] if self.default is None else self.default
        if default not in values:
            raise ValueError(f"default: {default!r} is not one of the values of control {self.label!r}: {values}")
        object.__setattr__(self, "default", default)

    @property
    def numeric(self) -> bool:
        """Whether the control is a slider (every value a real number) rather than a menu."""
        return all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in self.values)


def is_static() -> bool:
    """Whether explorers are being written as pre-rendered HTML (the book build)."""
    return os.environ.get(STATIC_ENV) == "1"


def static_explorer(
    render: Callable[..., Figure],
    controls: Mapping[str, Control],
    *,
    describe: Callable[..., str],
    max_bytes: int = MAX_BYTES,
    dpi: float = 80,
    static: bool | None = None,
):
    """An explorer of ``render`` over the grid of ``controls``: live widgets, or pre-rendered HTML.

    Args:
        render: ``render(**setting) -> Figure``, one keyword per control; the figure is closed after use.
        controls: one or two controls by keyword name (the grid is their product).
        describe: ``describe(**setting) -> str``, the text label: the setting and the predicted outcome.
        max_bytes: the cap on the PNG bytes of all images together (static mode); more raises ``ValueError``.
        dpi: the resolution of the images (static mode).
        static: force a mode; by default :func:`is_static` decides.

    Returns:
        An ``IPython.display.HTML`` (static) or an ``ipywidgets.VBox`` (live); display it.
    """
    if not callable(render) or not callable(describe):
        raise TypeError("render and describe must be callables taking one keyword per control")
    if not isinstance(controls, Mapping) or not 1 <= len(controls) <= 2:
        raise ValueError(f"controls: expected a mapping of one or two controls, got {controls!r}")
    for name, control in controls.items():
        if not isinstance(control, Control):
            raise TypeError(f"controls[{name!r}]: expected a Control, got {type(control).__name__}")
    if not isinstance(max_bytes, int) or max_bytes <= 0:
        raise ValueError(f"max_bytes: expected a positive int, got {max_bytes!r}")
    if (is_static() if static is None else static):
        return _static_html(render, dict(controls), describe, max_bytes, dpi)
    return _live_widgets(render, dict(controls), describe)


def _png(figure: Figure, dpi: float) -> bytes:
    if not isinstance(figure, Figure):
        raise TypeError(f"render must return a matplotlib Figure, got {type(figure).__name__}")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    plt.close(figure)
    return buffer.getvalue()


def _static_html(render, controls: dict[str, Control], describe, max_bytes: int, dpi: float):
    from IPython.display import HTML

    names = list(controls)
    frames, total = {}, 0
    for indices in itertools.product(*(range(len(controls[name].values)) for name in names)):
        setting = {name: controls[name].values[index] for name, index in zip(names, indices)}
        image = _png(render(**setting), dpi)
        total += len(image)
        if total > max_bytes:
            raise ValueError(f"max_bytes: the images of this explorer pass {max_bytes} bytes; use fewer values, "
                             "a smaller figure or a lower dpi")
        frames[",".join(map(str, indices))] = {
            "src": "data:image/png;base64," + base64.b64encode(image).decode("ascii"),
            "label": describe(**setting),
        }
    start = ",".join(str(controls[name].values.index(controls[name].default)) for name in names)
    inputs = "".join(_control_html(name, controls[name]) for name in names)
    data = {"frames": frames, "values": {name: [controls[name].fmt(v) for v in controls[name].values] for name in names}}
    first = frames[start]
    return HTML(
        f'<div class="static-explorer" data-static-explorer data-bytes="{total}">'
        f'<div class="static-explorer-controls">{inputs}</div>'
        f'<output class="static-explorer-label" aria-live="polite">{html.escape(first["label"])}</output>'
        f'<img class="static-explorer-image" src="{first["src"]}" alt="{html.escape(first["label"])}">'
        f'<script type="application/json" class="static-explorer-frames">{json.dumps(data)}</script></div>'
    )


def _control_html(name: str, control: Control) -> str:
    index = control.values.index(control.default)
    label = html.escape(control.label)
    if control.numeric:
        text = html.escape(control.fmt(control.default))
        return (f'<label class="static-explorer-control">{label} <input type="range" min="0" '
                f'max="{len(control.values) - 1}" step="1" value="{index}" data-control="{name}" '
                f'aria-valuetext="{text}"> <span class="static-explorer-value">{text}</span></label>')
    options = "".join(f'<option value="{i}"{" selected" if i == index else ""}>{html.escape(control.fmt(v))}</option>'
                      for i, v in enumerate(control.values))
    return f'<label class="static-explorer-control">{label} <select data-control="{name}">{options}</select></label>'


def _live_widgets(render, controls: dict[str, Control], describe):
    import ipywidgets as widgets
    from IPython.display import display

    inputs = {}
    for name, control in controls.items():
        options = [(control.fmt(value), value) for value in control.values]
        kind = widgets.SelectionSlider if control.numeric else widgets.Dropdown
        inputs[name] = kind(options=options, value=control.default, description=control.label,
                            style={"description_width": "initial"})
    label = widgets.HTML()

    def show(**setting: Any) -> None:
        label.value = html.escape(describe(**setting))
        display(render(**setting))
        plt.close("all")

    output = widgets.interactive_output(show, inputs)
    return widgets.VBox([widgets.HBox(list(inputs.values())), label, output])
